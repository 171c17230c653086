from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "vetvol.care"
    label = "care"
    verbose_name = "关爱帮扶"

    def ready(self) -> None:
        from vetvol.care.actions.imports import register

        register()  # service recipients become an Excel import kind
