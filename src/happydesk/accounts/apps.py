from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "happydesk.accounts"
    label = "accounts"
