from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "vetvol.core"
    label = "core"
    verbose_name = "核心"
