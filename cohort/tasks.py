"""Background jobs of the cohort app: thin, they call the services."""

from celery import shared_task

from .tasking import ProgrammeTask


@shared_task(base=ProgrammeTask, bind=True, time_limit=1800, soft_time_limit=1700)
def people_import_run_task(self, *, import_id: int, programme_id: int) -> str:
    """Save a confirmed spreadsheet import. Safe to run twice: the job is claimed first, and
    its rows are saved in one transaction (a killed worker leaves nothing half-done)."""
    from .importing import people_import_run

    job, _ = people_import_run(import_id=import_id)
    return job.status if job else "not-claimed"
