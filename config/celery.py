"""The Celery app. Broker and eager mode come from settings (REDIS_URL set or not)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# DjangoTask adds delay_on_commit(), so tasks are sent only after the transaction commits.
app = Celery("pitwall", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
