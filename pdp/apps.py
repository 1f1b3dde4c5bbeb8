from django.apps import AppConfig


class PdpConfig(AppConfig):
    name = "pdp"

    def ready(self):
        from . import personal_data

        personal_data.register_all()
