from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "happydesk.mail"
    label = "mail"
