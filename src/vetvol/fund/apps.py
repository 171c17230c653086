from django.apps import AppConfig


class FundConfig(AppConfig):
    name = "vetvol.fund"
    label = "fund"
    verbose_name = "专项基金"
