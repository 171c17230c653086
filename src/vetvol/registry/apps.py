from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "vetvol.registry"
    label = "registry"
    verbose_name = "志愿者与队伍"
