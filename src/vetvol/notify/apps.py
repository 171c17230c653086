from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "vetvol.notify"
    label = "notify"
    verbose_name = "通知"

    def ready(self) -> None:
        from vetvol.notify import writers

        writers.register()
