from django.apps import AppConfig


class StatsConfig(AppConfig):
    name = "vetvol.stats"
    label = "stats"
    verbose_name = "统计"

    def ready(self) -> None:
        from vetvol.stats import writers

        writers.install()
