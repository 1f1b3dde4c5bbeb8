"""The base Celery task for programme work: it loads the tenant and activates its scope.

Tasks take ids (JSON), never model instances, and run their body inside
`scope(programme=...)` so the scoped managers work exactly as they do in a web request.
"""

from celery.contrib.django.task import DjangoTask
from django_scopes import scope, scopes_disabled

from .models import Programme


class ProgrammeTask(DjangoTask):
    abstract = True
    acks_late = True
    reject_on_worker_lost = True
    autoretry_for = (ConnectionError, TimeoutError)
    retry_backoff = True
    retry_backoff_max = 600
    retry_jitter = True
    max_retries = 8

    def __call__(self, *args, **kwargs):
        programme_id = kwargs.get("programme_id")
        if programme_id is None:
            raise TypeError(f"{self.name} needs programme_id=<id> as a keyword argument.")
        with scopes_disabled():
            programme = Programme.objects.filter(pk=programme_id).first()
        if programme is None:
            # The programme was deleted after the task was queued: nothing left to do.
            return None
        with scope(programme=programme):
            return super().__call__(*args, **kwargs)
