from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "happydesk.feedback"
    label = "feedback"
