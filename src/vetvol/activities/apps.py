from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "vetvol.activities"
    label = "activities"
    verbose_name = "志愿服务活动"
