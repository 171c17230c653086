from django.apps import AppConfig


class DispatchConfig(AppConfig):
    name = "vetvol.dispatch"
    label = "dispatch"
    verbose_name = "应急调度"

    def ready(self) -> None:
        from vetvol.core import events
        from vetvol.dispatch import checks, live, locations  # noqa: F401  (checks registers itself)

        # Keep the location index in step with registrations and edits made elsewhere (after commit).
        for name in ("registry.volunteer.registered", "registry.volunteer.updated"):
            events.subscribe(name, locations.on_volunteer_changed)
        events.subscribe("registry.volunteers.imported", locations.on_volunteers_imported)
        # Volunteers on duty at an activity are found where they are (with their consent).
        events.subscribe("activities.checked_in", locations.on_checked_in)
        events.subscribe("activities.checked_out", locations.on_checked_out)
        # Dispatch events reach the live boards and the volunteers' phones (journal + channel layer).
        live.subscribe()
