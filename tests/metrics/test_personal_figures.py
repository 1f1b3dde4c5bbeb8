"""A fellow's own figures, and the counts of her outcome records, are kept in the cache between
visits (metrics.personal_figures): the second visit to her home page reads none of her records,
and every change to a record they are made of — whoever makes it — shows at her next visit.
Each test warms the cache, makes one change that moves a figure or a count, and asserts that
the kept values are the freshly computed ones."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from cohort.models import Fellow
from events.models import Registration
from mentoring.models import Connection
from metrics.models import CompanyRecord, OutcomeStatus
from metrics.personal_figures import cached_outcome_counts, cached_people_figures
from metrics.selectors import outcome_counts, people_figures
from metrics.services import outcome_reject, outcome_report, outcome_verify
from pdp.models import PDP, CompetencyDomain, Objective

from ..factories import (
    EventFactory,
    FellowFactory,
    FundingRecordFactory,
    RegistrationFactory,
    VentureFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def fellow(programme_a, fellow_a):
    with scopes_disabled():
        return Fellow.objects.select_related("user", "programme", "cohort").get(user=fellow_a)


def _sums(figures):
    return {key: (f.numerator, f.denominator) for key, f in figures.items()}


def kept_and_fresh(fellow):
    """Her figures as the pages read them (kept), and computed afresh from the database."""
    programme, today = fellow.programme, timezone.localdate()
    with scope(programme=programme):
        kept = cached_people_figures(programme, [fellow], today)[fellow.pk]
        fresh = people_figures(programme, [fellow], today)[fellow.pk]
    return _sums(kept), _sums(fresh)


def assert_seen_at_once(fellow, change, key):
    """`change` moves her `key` figure, and the kept figures show it at once."""
    before, _ = kept_and_fresh(fellow)  # warms the cache
    change()
    kept, fresh = kept_and_fresh(fellow)
    assert fresh[key] != before[key], "the change should move the figure"
    assert kept == fresh


def _past_event(programme, days_ago=3):
    starts = timezone.now() - timedelta(days=days_ago)
    return EventFactory(programme=programme, starts_at=starts, ends_at=starts + timedelta(hours=1))


def test_a_verified_outcome_shows_at_once(fellow, staff_a):
    data = {
        "kind": "grant",
        "amount": Decimal("25000"),
        "source": "SBRI Healthcare",
        "received_on": timezone.localdate() - timedelta(days=10),
        "evidence": "Award letter",
    }
    with scope(programme=fellow.programme):
        record = outcome_report(fellow=fellow, kind="funding", data=data, actor=fellow.user)

    def verify():
        with scope(programme=fellow.programme):
            outcome_verify(record=record, actor=staff_a)

    assert_seen_at_once(fellow, verify, "funding_raised")


def test_a_record_deleted_in_the_admin_shows_at_once(fellow):
    record = FundingRecordFactory(
        programme=fellow.programme, fellow=fellow, status=OutcomeStatus.VERIFIED
    )
    assert_seen_at_once(fellow, record.delete, "funding_raised")


def test_attendance_shows_at_once(fellow):
    registration = RegistrationFactory(
        event=_past_event(fellow.programme), user=fellow.user, status="registered"
    )

    def attended():
        registration.status = Registration.Status.ATTENDED
        registration.save()

    assert_seen_at_once(fellow, attended, "events_attended")


def test_an_event_moved_to_next_week_shows_for_everyone_registered(fellow):
    event = _past_event(fellow.programme)
    RegistrationFactory(event=event, user=fellow.user, status="attended")

    def moved():
        event.starts_at = timezone.now() + timedelta(days=7)
        event.ends_at = event.starts_at + timedelta(hours=1)
        event.save()

    assert_seen_at_once(fellow, moved, "events_attended")


def test_an_accepted_connection_shows_at_once_for_both(fellow):
    other = FellowFactory(programme=fellow.programme, cohort=fellow.cohort)
    with scopes_disabled():
        request = Connection.objects.create(
            programme=fellow.programme, requester=other.user, addressee=fellow.user
        )

    def accepted():
        request.status = Connection.Status.ACCEPTED
        request.responded_at = timezone.now()
        request.save()

    kept_and_fresh(other)  # she asked: her figures are kept too
    assert_seen_at_once(fellow, accepted, "new_connections")
    kept, fresh = kept_and_fresh(other)
    assert kept == fresh and fresh["new_connections"] == (1, 0)


def test_an_objective_achieved_shows_at_once(fellow):
    with scopes_disabled():
        pdp = PDP.objects.create(programme=fellow.programme, fellow=fellow)
        objective = Objective.objects.create(
            programme=fellow.programme,
            pdp=pdp,
            domain=CompetencyDomain.objects.create(programme=fellow.programme, name="Leading"),
            title="Lead a team",
            measure="A team of three",
            target_date=timezone.localdate() - timedelta(days=1),
        )

    def achieved():
        objective.status = Objective.Status.ACHIEVED
        objective.save()

    assert_seen_at_once(fellow, achieved, "pdp_fulfilment")


def test_the_next_day_computes_afresh(fellow):
    """The figures count what had happened by today: tomorrow's visit must not reuse today's."""
    programme, today = fellow.programme, timezone.localdate()
    noon = timezone.make_aware(datetime.combine(today + timedelta(days=1), time(12)))
    tomorrow_event = EventFactory(
        programme=programme, starts_at=noon, ends_at=noon + timedelta(hours=1)
    )
    RegistrationFactory(event=tomorrow_event, user=fellow.user, status="attended")
    with scope(programme=programme):
        now = cached_people_figures(programme, [fellow], today)[fellow.pk]
        then = cached_people_figures(programme, [fellow], today + timedelta(days=1))[fellow.pk]
    assert now["events_attended"].denominator + 1 == then["events_attended"].denominator


def test_the_second_visit_reads_none_of_her_records_and_shows_the_same(client, fellow):
    client.force_login(fellow.user)
    url = reverse("cohort:home", kwargs={"programme_slug": fellow.programme.slug})

    def visit():
        with CaptureQueriesContext(connection) as queries:
            page = client.get(url)
        assert page.status_code == 200
        return page.content.decode(), [q["sql"] for q in queries.captured_queries]

    def figures_card(page):
        start = page.index("Your figures")
        return page[start : page.index("</table>", start)]

    first, first_queries = visit()
    second, second_queries = visit()
    assert figures_card(second) == figures_card(first)
    assert any("metrics_fundingrecord" in sql and "SUM" in sql for sql in first_queries)
    assert not any("metrics_fundingrecord" in sql and "SUM" in sql for sql in second_queries)
    assert len(second_queries) < len(first_queries)


# --- her outcome records by kind and status (the home page's outcomes card) --------------------


def counts_kept_and_fresh(fellow):
    programme = fellow.programme
    with scope(programme=programme):
        kept = cached_outcome_counts(programme, fellow)
        fresh = outcome_counts(programme=programme, fellows=[fellow])[fellow.pk]
    return kept, fresh


def test_a_company_reported_returned_and_deleted_shows_at_once_in_her_counts(fellow, staff_a):
    """Companies count in no figure, only on her outcomes card: their changes must still reach
    the kept counts."""
    venture = VentureFactory(programme=fellow.programme, fellow=fellow)
    before, _ = counts_kept_and_fresh(fellow)  # warms the cache
    assert before["companies"] == {"verified": 0, "waiting": 0, "returned": 0, "verified_total": 0}
    data = {
        "venture": venture,
        "company_name": "Ward Flow Ltd",
        "company_number": "12345678",
        "incorporated_on": timezone.localdate() - timedelta(days=20),
        "evidence": "Certificate of incorporation",
    }
    with scope(programme=fellow.programme):
        record = outcome_report(fellow=fellow, kind="companies", data=data, actor=fellow.user)
    kept, fresh = counts_kept_and_fresh(fellow)
    assert kept == fresh and fresh["companies"]["waiting"] == 1

    with scope(programme=fellow.programme):
        outcome_reject(record=record, actor=staff_a, reason="The number is not on the register.")
    kept, fresh = counts_kept_and_fresh(fellow)
    assert kept == fresh
    assert fresh["companies"] == {"verified": 0, "waiting": 0, "returned": 1, "verified_total": 0}

    with scopes_disabled():
        CompanyRecord.objects.get(pk=record.pk).delete()  # as the admin does
    kept, fresh = counts_kept_and_fresh(fellow)
    assert kept == fresh == before


def test_the_second_visit_reads_none_of_her_outcome_records(client, fellow):
    client.force_login(fellow.user)
    url = reverse("cohort:home", kwargs={"programme_slug": fellow.programme.slug})
    FundingRecordFactory(programme=fellow.programme, fellow=fellow)

    def visit():
        with CaptureQueriesContext(connection) as queries:
            page = client.get(url)
        assert page.status_code == 200
        return page.content.decode(), [q["sql"] for q in queries.captured_queries]

    first, first_queries = visit()
    second, second_queries = visit()
    assert "Funding raised: 0 verified, 1 waiting" in first
    assert "Funding raised: 0 verified, 1 waiting" in second
    assert any("metrics_companyrecord" in sql for sql in first_queries)
    assert not any("metrics_companyrecord" in sql for sql in second_queries)


def test_her_first_visit_reads_each_kind_of_outcome_record_once(client, fellow):
    """Her verified sums (her figures) and her counts by status (the outcomes card) come from
    the same query per kind, and her meeting slots read her mentorship with its cohort: the
    page she sees after one of her records changed costs no more than it must."""
    client.force_login(fellow.user)
    url = reverse("cohort:home", kwargs={"programme_slug": fellow.programme.slug})
    FundingRecordFactory(programme=fellow.programme, fellow=fellow, status="verified")
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url)
    assert page.status_code == 200
    reads = [q["sql"].split(" FROM ")[1].split()[0] for q in queries.captured_queries]
    for table in ("fundingrecord", "partnershiprecord", "patientreachrecord", "companyrecord"):
        assert reads.count(f'"metrics_{table}"') == 1, table
    assert '"cohort_cohort"' not in reads  # her cohort comes with her mentorship
    assert "Funding raised: 1 verified</li>" in page.content.decode()


def test_her_outcome_sums_and_counts_are_those_of_her_verified_records(fellow):
    FundingRecordFactory(programme=fellow.programme, fellow=fellow, status="verified", amount=700)
    FundingRecordFactory(programme=fellow.programme, fellow=fellow, status="verified", amount=300)
    FundingRecordFactory(programme=fellow.programme, fellow=fellow, amount=5000)  # waiting
    kept, fresh = kept_and_fresh(fellow)
    assert kept == fresh and fresh["funding_raised"] == (Decimal("1000"), 0)
    counts, _ = counts_kept_and_fresh(fellow)
    assert counts["funding"] == {
        "verified": 2,
        "waiting": 1,
        "returned": 0,
        "verified_total": Decimal("1000"),
    }
