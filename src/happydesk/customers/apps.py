from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "happydesk.customers"
    label = "customers"
