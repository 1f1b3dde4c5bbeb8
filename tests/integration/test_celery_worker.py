"""A task goes through Redis to a real Celery worker and writes to the database."""

import pytest
from django_scopes import scope, scopes_disabled

from cohort.models import Invitation, Role
from cohort.services import invitation_create
from notifications.models import OutboxMessage

from .conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_invitation_email_is_sent_by_a_real_worker(celery_worker_process, programme_a, staff_a):
    _queue, mail_dir = celery_worker_process
    with scope(programme=programme_a):
        # The service queues the task on commit; nothing is sent if the transaction fails.
        invitation = invitation_create(
            programme=programme_a,
            email="worker.test@example.org",
            role=Role.FELLOW,
            invited_by=staff_a,
        )

    def sent():
        with scopes_disabled():
            return OutboxMessage.objects.filter(
                to_email="worker.test@example.org", status=OutboxMessage.Status.SENT
            ).exists()

    wait_for(sent, timeout=60, message="the worker to send the invitation from the outbox")
    messages = [p.read_text() for p in mail_dir.iterdir()]
    assert len(messages) == 1
    assert "worker.test@example.org" in messages[0]
    assert invitation.get_accept_url() in messages[0]


def test_a_rolled_back_change_queues_nothing(celery_worker_process, programme_a, staff_a):
    from django.db import transaction

    _queue, mail_dir = celery_worker_process

    class Abort(Exception):
        pass

    with scope(programme=programme_a), pytest.raises(Abort), transaction.atomic():
        invitation_create(
            programme=programme_a,
            email="never@example.org",
            role=Role.FELLOW,
            invited_by=staff_a,
        )
        raise Abort
    with scope(programme=programme_a):
        # A committed invitation afterwards proves the worker was listening all along.
        later = invitation_create(
            programme=programme_a, email="later@example.org", role=Role.FELLOW, invited_by=staff_a
        )

    def sent():
        with scopes_disabled():
            return OutboxMessage.objects.filter(
                to_email=later.email, status=OutboxMessage.Status.SENT
            ).exists()

    wait_for(sent, message="the later invitation to be sent")
    texts = [p.read_text() for p in mail_dir.iterdir()]
    assert not any("never@example.org" in text for text in texts)
    with scopes_disabled():
        assert not Invitation.objects.filter(email="never@example.org").exists()
        assert not OutboxMessage.objects.filter(to_email="never@example.org").exists()


def test_a_large_import_is_saved_by_a_real_worker(
    celery_worker_process, programme_a, staff_a, monkeypatch
):
    """A confirmed import over the inline limit goes through Redis to the worker, which
    saves every row and sends each new fellow their invitation."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile

    from cohort.importing import COLUMNS, import_preview, people_import_queue
    from cohort.models import Fellow, PeopleImport

    from ..factories import CohortFactory

    monkeypatch.setattr("cohort.importing.INLINE_IMPORT_ROWS", 1)
    cohort = CohortFactory(programme=programme_a)
    rows = [",".join(COLUMNS["fellows"])] + [
        f"worker.import{i}@nhs.example,Person {i},Doctor,,,,London,In programme,,no,yes,,"
        for i in range(3)
    ]
    upload = SimpleUploadedFile("big.csv", io.BytesIO("\n".join(rows).encode()).read())
    with scope(programme=programme_a):
        preview = import_preview(
            programme=programme_a, kind="fellows", cohort=cohort, uploaded_file=upload
        )
        assert preview.is_valid
        job = people_import_queue(programme=programme_a, state=preview.state(), actor=staff_a)
    assert job.status == PeopleImport.Status.QUEUED

    def done():
        with scopes_disabled():
            return PeopleImport.objects.get(pk=job.pk).is_finished

    wait_for(done, timeout=60, message="the worker to run the import")
    with scopes_disabled():
        job.refresh_from_db()
        assert job.status == PeopleImport.Status.DONE, job.problem
        assert Fellow.objects.filter(cohort=cohort).count() == 3

    def invited():
        with scopes_disabled():
            return (
                OutboxMessage.objects.filter(
                    to_email__startswith="worker.import", status=OutboxMessage.Status.SENT
                ).count()
                == 3
            )

    wait_for(invited, timeout=60, message="the three invitations to be sent")
