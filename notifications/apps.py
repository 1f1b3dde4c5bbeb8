from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self):
        from . import (
            personal_data,
            receivers,  # noqa: F401 - connects the domain-event receivers
        )

        personal_data.register_all()
