from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "metrics"

    def ready(self):
        from . import personal_data, personal_figures

        personal_data.register_all()
        personal_figures.connect()
