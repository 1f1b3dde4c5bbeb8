"""Outcome records (issue #7, item 1): fellows report, staff verify or return with a reason,
nothing counts until verified, every step is audited; the quarterly update; each bad input
refused at its field with what was typed kept."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from cohort.models import AuditEvent, Fellow, Role
from metrics.models import FundingRecord, OutcomeStatus, OutcomeUpdate, PatientReachRecord
from metrics.services import (
    StaleOutcome,
    outcome_change,
    outcome_reject,
    outcome_report,
    outcome_update_complete,
    outcome_update_due,
    outcome_verify,
    quarter_label,
    quarter_start,
)
from notifications.models import Kind, Notification

from ..factories import FellowFactory, MembershipFactory, VentureFactory

pytestmark = pytest.mark.django_db

LAST_MONTH = timezone.localdate() - timedelta(days=30)


@pytest.fixture
def fellow(programme_a, fellow_a):
    with scopes_disabled():
        return Fellow.objects.select_related("user", "programme").get(user=fellow_a)


@pytest.fixture
def venture(fellow):
    return VentureFactory(programme=fellow.programme, fellow=fellow, name="TriageFlow")


def _funding(fellow, actor, **extra):
    data = {
        "kind": "grant",
        "amount": Decimal("50000"),
        "source": "SBRI Healthcare",
        "received_on": LAST_MONTH,
        "evidence": "Award letter ref. SBRI-123",
        **extra,
    }
    with scope(programme=fellow.programme):
        return outcome_report(fellow=fellow, kind="funding", data=data, actor=actor)


def _url(name, programme="alpha", **kwargs):
    return reverse(name, kwargs={"programme_slug": programme, **kwargs})


# --- services ---------------------------------------------------------------------------------


def test_a_reported_outcome_waits_and_verifying_it_is_audited_and_told(
    programme_a, fellow, fellow_a, staff_a, venture
):
    record = _funding(fellow, fellow_a, venture=venture)
    assert record.status == OutcomeStatus.REPORTED
    with scope(programme=programme_a):
        outcome_verify(record=record, actor=staff_a)
        record.refresh_from_db()
        actions = list(
            AuditEvent.objects.filter(target_id=str(record.uuid)).values_list("action", flat=True)
        )
        told = Notification.objects.get(recipient=fellow_a, kind=Kind.OUTCOME)
        with pytest.raises(ValidationError, match="already verified"):
            outcome_verify(record=record, actor=staff_a)
    assert record.status == OutcomeStatus.VERIFIED and record.verified_by == staff_a
    assert actions.count("outcome.funding.reported") == 1
    assert actions.count("outcome.funding.verified") == 1
    assert told.title.startswith("Verified: £50,000 grant")


def test_returning_needs_a_reason_and_a_change_sends_it_back_for_verification(
    programme_a, fellow, fellow_a, staff_a
):
    record = _funding(fellow, fellow_a)
    with scope(programme=programme_a):
        with pytest.raises(ValidationError):
            outcome_reject(record=record, actor=staff_a, reason="  ")
        outcome_reject(record=record, actor=staff_a, reason="Attach the award letter.")
        record.refresh_from_db()
        assert record.status == OutcomeStatus.REJECTED
        changed = outcome_change(
            record=record,
            actor=fellow_a,
            data={"evidence": "https://example.org/award.pdf"},
            version=record.version,
            by_staff=False,
        )
    assert changed.status == OutcomeStatus.REPORTED and changed.rejection_reason == ""


def test_a_verified_record_is_locked_for_the_fellow_but_staff_can_correct_it(
    programme_a, fellow, fellow_a, staff_a
):
    record = _funding(fellow, fellow_a)
    with scope(programme=programme_a):
        outcome_verify(record=record, actor=staff_a)
        record.refresh_from_db()
        with pytest.raises(ValidationError, match="verified"):
            outcome_change(
                record=record, actor=fellow_a, data={"amount": Decimal("1")}, by_staff=False
            )
        corrected = outcome_change(
            record=record, actor=staff_a, data={"amount": Decimal("45000")}, by_staff=True
        )
    assert corrected.amount == Decimal("45000") and corrected.status == OutcomeStatus.VERIFIED


def test_a_stale_change_is_refused_and_writes_nothing(programme_a, fellow, fellow_a, staff_a):
    record = _funding(fellow, fellow_a)
    opened = record.version
    with scope(programme=programme_a):
        outcome_change(record=record, actor=staff_a, data={"source": "Innovate UK"}, by_staff=True)
        with pytest.raises(StaleOutcome):
            outcome_change(
                record=record,
                actor=fellow_a,
                data={"source": "Mine"},
                version=opened,
                by_staff=False,
            )
        record.refresh_from_db()
    assert record.source == "Innovate UK"


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"amount": Decimal("-5")}, "amount", "Ensure this value is greater than or equal"),
        ({"amount": Decimal("900000000")}, "amount", "less than or equal"),
        ({"received_on": timezone.localdate() + timedelta(days=3)}, "received_on", "future"),
        ({"received_on": date(1990, 1, 1)}, "received_on", "from 2000"),
    ],
)
def test_bad_funding_is_refused_at_its_field(programme_a, fellow, fellow_a, extra, field, message):
    with pytest.raises(ValidationError) as refused:
        _funding(fellow, fellow_a, **extra)
    assert field in refused.value.message_dict
    assert message in " ".join(refused.value.message_dict[field])
    with scopes_disabled():
        assert not FundingRecord.objects.exists()


def test_a_period_ending_before_it_starts_and_another_fellows_venture_are_refused(
    programme_a, fellow, fellow_a
):
    others = VentureFactory(programme=programme_a, fellow=FellowFactory(programme=programme_a))
    with scope(programme=programme_a), pytest.raises(ValidationError) as refused:
        outcome_report(
            fellow=fellow,
            kind="patients",
            data={
                "patients": 120,
                "period_start": LAST_MONTH,
                "period_end": LAST_MONTH - timedelta(days=10),
                "venture": others,
            },
            actor=fellow_a,
        )
    assert {"period_end", "venture"} <= set(refused.value.message_dict)
    with scopes_disabled():
        assert not PatientReachRecord.objects.exists()


def test_the_quarterly_update_is_asked_until_done_and_done_once(programme_a, fellow, fellow_a):
    today = date(2026, 11, 20)
    assert quarter_start(today) == date(2026, 10, 1)
    assert quarter_label(date(2026, 10, 1)) == "October to December 2026"
    with scope(programme=programme_a):
        assert outcome_update_due(fellow=fellow, today=today) == date(2026, 10, 1)
        outcome_update_complete(fellow=fellow, actor=fellow_a, nothing_new=True, today=today)
        outcome_update_complete(fellow=fellow, actor=fellow_a, nothing_new=False, today=today)
        assert outcome_update_due(fellow=fellow, today=today) is None
        assert outcome_update_due(fellow=fellow, today=date(2027, 1, 2)) == date(2027, 1, 1)
        assert OutcomeUpdate.objects.filter(fellow=fellow).count() == 1


# --- pages ------------------------------------------------------------------------------------


def test_a_fellow_reports_funding_through_the_page_and_sees_it_waiting(
    client_for, programme_a, fellow, fellow_a, venture
):
    client = client_for(fellow_a)
    page = client.get(_url("metrics:outcomes"))
    assert page.status_code == 200 and "Bring your outcomes up to date" in page.content.decode()
    response = client.post(
        _url("metrics:outcome_report", kind="funding"),
        {
            "venture": venture.pk,
            "kind": "equity",
            "amount": "250000",
            "source": "Angel round",
            "received_on": LAST_MONTH.isoformat(),
            "evidence": "Share certificate",
        },
        follow=True,
    )
    body = response.content.decode()
    assert "Reported: £250,000 equity investment from Angel round" in body
    assert "Waiting for verification" in body


def test_bad_input_on_the_page_is_shown_at_the_field_with_the_text_kept(
    client_for, programme_a, fellow, fellow_a
):
    response = client_for(fellow_a).post(
        _url("metrics:outcome_report", kind="funding"),
        {
            "kind": "grant",
            "amount": "-100",
            "source": "Keep this source",
            "received_on": (timezone.localdate() + timedelta(days=5)).isoformat(),
        },
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "Give an amount of at least £0.01." in body
    assert "The date cannot be in the future." in body
    assert "Keep this source" in body


def test_staff_verify_and_return_from_the_queue(client_for, programme_a, fellow, fellow_a, staff_a):
    first, second = _funding(fellow, fellow_a), _funding(fellow, fellow_a, source="Prize fund")
    client = client_for(staff_a)
    queue = client.get(_url("metrics:queue"))
    assert queue.status_code == 200 and "2 waiting" in queue.content.decode()
    client.post(_url("metrics:outcome_verify", kind="funding", record_uuid=first.uuid))
    empty = client.post(
        _url("metrics:outcome_reject", kind="funding", record_uuid=second.uuid), {"reason": ""}
    )
    assert empty.status_code == 400 and "Say why" in empty.content.decode()
    client.post(
        _url("metrics:outcome_reject", kind="funding", record_uuid=second.uuid),
        {"reason": "Which prize?"},
    )
    with scopes_disabled():
        assert FundingRecord.objects.get(pk=first.pk).status == OutcomeStatus.VERIFIED
        assert FundingRecord.objects.get(pk=second.pk).rejection_reason == "Which prize?"


def test_nobody_else_reaches_a_fellows_records(
    client_for, programme_a, programme_b, fellow, fellow_a, mentor_a, staff_b
):
    record = _funding(fellow, fellow_a)
    other = MembershipFactory(programme=programme_a, role=Role.FELLOW).user
    FellowFactory(programme=programme_a, user=other)
    edit = _url("metrics:outcome_edit", kind="funding", record_uuid=record.uuid)
    assert client_for(other).get(edit).status_code == 404
    assert client_for(mentor_a).get(edit).status_code == 404
    # A mentor is told that fellows report outcomes (a redirect), and nothing is written.
    refused = client_for(mentor_a).post(
        _url("metrics:outcome_report", kind="funding"), {"kind": "grant", "amount": "5"}
    )
    assert refused.status_code == 302
    assert (
        client_for(other)
        .post(_url("metrics:outcome_verify", kind="funding", record_uuid=record.uuid))
        .status_code
        == 403
    )
    b_url = reverse(
        "metrics:outcome_edit",
        kwargs={"programme_slug": "bravo", "kind": "funding", "record_uuid": record.uuid},
    )
    assert client_for(staff_b).get(b_url).status_code == 404
    assert (
        client_for(fellow_a).get(_url("metrics:outcome_report", kind="nothing")).status_code == 404
    )


def test_the_queue_reads_the_same_queries_whatever_the_number_of_records(
    client_for, programme_a, fellow, fellow_a, staff_a
):
    client = client_for(staff_a)

    def report_patients(n):
        with scope(programme=programme_a):
            outcome_report(
                fellow=fellow,
                kind="patients",
                data={"patients": 10 + n, "period_start": LAST_MONTH, "period_end": LAST_MONTH},
                actor=fellow_a,
            )

    # One record of each kind on the page reads it (a query per kind), more records no more.
    _funding(fellow, fellow_a)
    report_patients(0)
    client.get(_url("metrics:queue"))
    with CaptureQueriesContext(connection) as few:
        client.get(_url("metrics:queue"))
    for n in range(1, 40):
        _funding(fellow, fellow_a, source=f"Source {n}")
        report_patients(n)
    with CaptureQueriesContext(connection) as many:
        client.get(_url("metrics:queue"))
    assert len(many) == len(few)


def test_every_waiting_record_can_be_paged_to_newest_first_across_kinds(
    client_for, programme_a, fellow, staff_a
):
    """However many wait, the last page holds the oldest: the queue is sorted and sliced by
    the database, not cut at a few hundred rows per kind before paging."""
    now = timezone.now()
    with scopes_disabled():
        FundingRecord.objects.bulk_create(
            FundingRecord(
                programme=programme_a,
                fellow=fellow,
                kind="grant",
                amount=Decimal(1000 + n),
                source=f"Funder {n}",
                received_on=LAST_MONTH,
                evidence="Award letter",
                reported_at=now - timedelta(hours=n),
            )
            for n in range(520)
        )
        PatientReachRecord.objects.create(
            programme=programme_a,
            fellow=fellow,
            patients=12,
            period_start=LAST_MONTH,
            period_end=LAST_MONTH,
            evidence="Clinic audit",
            reported_at=now - timedelta(minutes=30),
        )
    client = client_for(staff_a)
    first = client.get(_url("metrics:queue")).content.decode()
    assert first.index("from Funder 0<") < first.index("12 patients") < first.index("Funder 1<")
    last = client.get(_url("metrics:queue") + "?page=21").content.decode()
    assert "from Funder 519<" in last and "Page 20 of 21" in last
    assert "from Funder 494<" not in last  # the page before's


def test_home_pages_show_the_task_and_the_waiting_count(
    client_for, programme_a, fellow, fellow_a, staff_a
):
    _funding(fellow, fellow_a)
    home = client_for(fellow_a).get(_url("cohort:home")).content.decode()
    assert "Bring your outcomes up to date" in home
    client_for(fellow_a).post(_url("metrics:outcome_quarter"), {"nothing_new": "yes"})
    assert (
        "Bring your outcomes up to date"
        not in client_for(fellow_a).get(_url("cohort:home")).content.decode()
    )
    staff_home = client_for(staff_a).get(_url("cohort:home")).content.decode()
    assert "1 outcome record waiting for verification" in staff_home
