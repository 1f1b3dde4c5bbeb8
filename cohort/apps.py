from django.apps import AppConfig


class CohortConfig(AppConfig):
    name = "cohort"
    verbose_name = "Programmes and people"

    def ready(self):
        from . import personal_data

        personal_data.register_all()
