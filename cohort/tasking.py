"""The base Celery task for programme work: it loads the tenant and activates its scope.

Tasks take ids (JSON), never model instances, and run their body inside
`scope(programme=...)` so the scoped managers work exactly as they do in a web request.
`job_lock` tells a task whether it may (re)run a job that a worker died in the middle of.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from celery.contrib.django.task import DjangoTask
from django.db import DatabaseError, connection
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


def job_lock_name(kind: str, pk: int) -> str:
    """The advisory lock's name for background job (kind, pk); other sessions (tests, an
    operator in psql) take the same lock with pg_advisory_lock(hashtextextended(name, 0))."""
    return f"pitwall.job:{kind}:{pk}"


@contextmanager
def job_lock(kind: str, pk: int) -> Iterator[bool | None]:
    """Who may run background job (kind, pk) now.

    On PostgreSQL this takes a session advisory lock and yields True while it is held, or
    False when another live session holds it (that worker is running the job). The server
    drops the lock when the session ends, so a worker killed mid-job (SIGKILL, the machine
    lost) leaves nothing held: when the broker hands the task out again, the new worker takes
    the lock and knows that a job still marked "running" was left by a dead worker, and may run
    it again at once instead of waiting for a lease to expire.

    Elsewhere (SQLite, tasks run in-process) there is no such lock: it yields None and the
    caller falls back on its lease."""
    if connection.vendor != "postgresql":
        yield None
        return
    name = job_lock_name(kind, pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", [name])
        held = bool(cursor.fetchone()[0])
    try:
        yield held
    finally:
        if held:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [name])
            except DatabaseError:
                # The session is broken, and with it the lock: close it so nothing reuses it.
                connection.close()
