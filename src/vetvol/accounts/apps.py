from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "vetvol.accounts"
    label = "accounts"
    verbose_name = "账户"
