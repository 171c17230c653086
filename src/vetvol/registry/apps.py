from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "vetvol.registry"
    label = "registry"
    verbose_name = "志愿者与队伍"

    def ready(self) -> None:
        from vetvol.registry.actions import imports  # noqa: F401  (registers the volunteer and team lists)
