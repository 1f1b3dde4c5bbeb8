from django.apps import AppConfig


class PdpConfig(AppConfig):
    name = "pdp"
