from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "happydesk.accounts"
    label = "accounts"

    def ready(self) -> None:
        from happydesk.accounts import signin

        signin.connect()  # sign-in successes, failures and lockouts into accounts.signin's one event
