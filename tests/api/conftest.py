"""Programmes, partners, keys and data of the partner API suite (DESIGN §9).

Programme A is the one under test: two partner organisations (`a1` the partner whose key is
used, `a2` another partner in the same programme), fellows with and without consent to
share their profile, mentors of each organisation with mentorships, meetings and milestones,
published and draft events, opportunities of each organisation, metric snapshots and forecast
runs. Programme B has one partner and a little of everything, so that its key has something of
its own to see and A's records to aim at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from rest_framework.test import APIClient

from cohort.models import ApiScope, PartnerKey
from cohort.partner_api import KeyRateThrottle
from cohort.services import partner_key_create

from ..factories import (
    CohortFactory,
    EventFactory,
    FellowFactory,
    MentorFactory,
    MentorshipFactory,
    OpportunityFactory,
    OrganisationFactory,
    PartnerKeyFactory,
    UserFactory,
    VentureFactory,
    WebhookDeliveryFactory,
    WebhookEndpointFactory,
)

ALL_SCOPES = tuple(ApiScope.values)


# Throttling counts requests per key in the cache (Redis in CI, shared by both test workers
# and the Celery broker): every test makes its own keys, whose random prefixes name their
# own counters, so nothing is cleared here (a flush would wipe the other worker's counters
# and the broker's queues).


@pytest.fixture(autouse=True)
def _generous_rate(monkeypatch):
    """DRF reads DEFAULT_THROTTLE_RATES once, into the class attribute; tests that are about
    throttling set a tiny rate themselves with `throttle_rate`."""
    monkeypatch.setattr(KeyRateThrottle, "THROTTLE_RATES", {"partner_key": "100000/minute"})


@pytest.fixture
def throttle_rate(monkeypatch):
    def set_rate(rate: str):
        monkeypatch.setattr(KeyRateThrottle, "THROTTLE_RATES", {"partner_key": rate})

    return set_rate


@dataclass
class ProgrammeData:
    """What a programme of the suite holds, by role in the tests."""

    programme: object
    partner: object  # the organisation whose key the tests use
    other_partner: object | None = None
    cohort: object = None
    fellow: object = None  # consented, with `venture`
    venture: object = None
    private_fellow: object = None  # no consent to share, with `private_venture`
    private_venture: object = None
    mentor: object = None  # of `partner`, mentoring `fellow` and `private_fellow`
    mentorship: object = None
    private_mentorship: object = None
    other_mentor: object = None  # of `other_partner`
    event: object = None
    draft_event: object = None
    opportunity: object = None  # published, of `partner`
    draft_opportunity: object = None  # of `partner`
    other_opportunity: object = None  # published, of `other_partner`
    other_draft_opportunity: object = None  # of `other_partner`
    forecast_runs: list = field(default_factory=list)
    webhook: object = None  # an endpoint of `partner`, with one delivery

    def uuids(self) -> set[str]:
        """Every public identifier of the programme's rows (nothing of them may reach a key
        of another programme)."""
        from cohort.models import Cohort, Fellow, Mentor, Organisation, Venture
        from events.models import Event, Opportunity
        from mentoring.models import Mentorship
        from metrics.models import ForecastRun, MetricSnapshot
        from notifications.models import WebhookEndpoint

        found = {str(self.programme.uuid)}
        with scopes_disabled():
            for model in (
                Cohort,
                Fellow,
                Venture,
                Mentor,
                Organisation,
                Mentorship,
                Event,
                Opportunity,
                ForecastRun,
                MetricSnapshot,
                WebhookEndpoint,
            ):
                found |= {
                    str(u)
                    for u in model.objects.filter(programme=self.programme).values_list(
                        "uuid", flat=True
                    )
                }
        return found


def _forecast_outputs(scale: int) -> dict:
    years = [1, 2, 3]
    return {
        "years": years,
        "draws": 200,
        "patients": {
            "mean": [10.0 * scale, 20.0 * scale, 30.0 * scale],
            "p10": [1.0 * scale, 2.0 * scale, 3.0 * scale],
            "p50": [9.0 * scale, 19.0 * scale, 29.0 * scale],
            "p90": [20.0 * scale, 40.0 * scale, 60.0 * scale],
        },
    }


def forecast_run(programme, *, scope_name, venture=None, cohort=None, scale=1):
    """A stored forecast run with outputs of the engine's shape (the engine itself is tested
    in tests/metrics; here only what the API reads of a run matters)."""
    from metrics.models import ForecastRun

    return ForecastRun.objects.create(
        programme=programme,
        scope=scope_name,
        venture=venture,
        cohort=cohort,
        trigger=ForecastRun.Trigger.ON_DEMAND,
        input_status="reviewed",
        seed=42,
        outputs=_forecast_outputs(scale),
        ventures_count=1,
        fingerprint=f"{scope_name}-{scale}",
    )


def add_mentorship_records(mentorship):
    """A held meeting, a signed-off meeting's worth of status, and a confirmed milestone."""
    from mentoring.models import Meeting, Milestone

    meeting = Meeting.objects.create(
        programme=mentorship.programme,
        mentorship=mentorship,
        number=1,
        status=Meeting.Status.SUBMITTED,
        held_on=date(2026, 10, 1),
        discussion="PRIVATE MEETING NOTES: never in the API.",
    )
    Milestone.objects.create(
        programme=mentorship.programme,
        mentorship=mentorship,
        agreed_at=meeting,
        title="Run a pilot on two wards",
        measure="Two wards using it",
        due_on=date(2027, 1, 31),
        status=Milestone.Status.ACHIEVED,
        confirmed_at=timezone.now(),
    )


def _fill(programme, *, partner, other_partner=None, rich=True) -> ProgrammeData:
    from metrics.models import ForecastRun
    from metrics.services import metric_snapshots_compute

    data = ProgrammeData(programme=programme, partner=partner, other_partner=other_partner)
    with scope(programme=programme):
        data.cohort = CohortFactory(programme=programme, starts_on=date(2026, 9, 1))
        data.fellow = FellowFactory(
            programme=programme,
            cohort=data.cohort,
            consent_to_share=True,
            user=UserFactory(full_name=f"Consenting Fellow {programme.slug}"),
        )
        data.venture = VentureFactory(programme=programme, fellow=data.fellow)
        data.mentor = MentorFactory(
            programme=programme,
            organisation=partner,
            user=UserFactory(full_name=f"Mentor of {partner.name}"),
        )
        data.mentorship = MentorshipFactory(fellow=data.fellow, mentor=data.mentor)
        add_mentorship_records(data.mentorship)
        data.event = EventFactory(programme=programme)
        data.opportunity = OpportunityFactory(programme=programme, organisation=partner)
        if rich:
            data.private_fellow = FellowFactory(
                programme=programme,
                cohort=data.cohort,
                consent_to_share=False,
                user=UserFactory(full_name=f"Private Fellow {programme.slug}"),
            )
            data.private_venture = VentureFactory(
                programme=programme, fellow=data.private_fellow, name="Private Venture Ltd"
            )
            data.private_mentorship = MentorshipFactory(
                fellow=data.private_fellow, mentor=data.mentor
            )
            add_mentorship_records(data.private_mentorship)
            data.draft_event = EventFactory(
                programme=programme, status="draft", title="Draft Event Not Public"
            )
            data.draft_opportunity = OpportunityFactory(
                programme=programme, organisation=partner, status="draft", title="Own draft"
            )
            OpportunityFactory(programme=programme, organisation=None, title="Staff's call")
        if other_partner is not None:
            other_fellow = FellowFactory(
                programme=programme, cohort=data.cohort, consent_to_share=True
            )
            data.other_mentor = MentorFactory(
                programme=programme,
                organisation=other_partner,
                user=UserFactory(full_name=f"Mentor of {other_partner.name}"),
            )
            MentorshipFactory(fellow=other_fellow, mentor=data.other_mentor)
            data.other_opportunity = OpportunityFactory(
                programme=programme, organisation=other_partner, title="Other's call"
            )
            data.other_draft_opportunity = OpportunityFactory(
                programme=programme,
                organisation=other_partner,
                status="draft",
                title="Other partner's secret draft",
            )
        data.webhook = WebhookEndpointFactory(
            programme=programme, key=PartnerKeyFactory(programme=programme, organisation=partner)
        )
        WebhookDeliveryFactory(programme=programme, endpoint=data.webhook)
        metric_snapshots_compute(programme=programme, today=date(2027, 3, 31))
        data.forecast_runs = [
            forecast_run(programme, scope_name=ForecastRun.Scope.PROGRAMME, scale=3),
            forecast_run(
                programme, scope_name=ForecastRun.Scope.COHORT, cohort=data.cohort, scale=2
            ),
            forecast_run(programme, scope_name=ForecastRun.Scope.VENTURE, venture=data.venture),
        ]
        if rich:
            data.forecast_runs.append(
                forecast_run(
                    programme,
                    scope_name=ForecastRun.Scope.VENTURE,
                    venture=data.private_venture,
                )
            )
    return data


@pytest.fixture
def partner_a1(programme_a):
    return OrganisationFactory(programme=programme_a, name="Alpha Pharma")


@pytest.fixture
def partner_a2(programme_a):
    return OrganisationFactory(programme=programme_a, name="Alpha Devices")


@pytest.fixture
def partner_b(programme_b):
    return OrganisationFactory(programme=programme_b, name="Bravo Insights")


@pytest.fixture
def data_a(programme_a, partner_a1, partner_a2) -> ProgrammeData:
    return _fill(programme_a, partner=partner_a1, other_partner=partner_a2)


@pytest.fixture
def data_b(programme_b, partner_b) -> ProgrammeData:
    return _fill(programme_b, partner=partner_b, rich=False)


@pytest.fixture
def make_key():
    """make_key(organisation, scopes=ALL_SCOPES) -> (PartnerKey, secret), made as staff make
    them (partner_key_create)."""

    def make(organisation, scopes=ALL_SCOPES, name="Test key"):
        programme = organisation.programme
        with scope(programme=programme):
            return partner_key_create(
                programme=programme,
                organisation=organisation,
                name=name,
                scopes=list(scopes),
                expires_on=timezone.localdate() + timedelta(days=90),
                actor=None,
            )

    return make


def client_with(secret: str | None) -> APIClient:
    client = APIClient()
    if secret is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    return client


@pytest.fixture
def key_a1(make_key, partner_a1) -> tuple[PartnerKey, str]:
    return make_key(partner_a1)


@pytest.fixture
def api_a1(key_a1) -> APIClient:
    """The first partner of programme A, with every scope."""
    return client_with(key_a1[1])


@pytest.fixture
def api_a2(make_key, partner_a2) -> APIClient:
    """Another partner of programme A, with every scope."""
    return client_with(make_key(partner_a2)[1])


@pytest.fixture
def api_b(make_key, partner_b) -> APIClient:
    """The partner of programme B, with every scope."""
    return client_with(make_key(partner_b)[1])


def assert_error_shape(response, status: int, *, field_named: str | None = None) -> dict:
    """The one error shape of the API: {"error": {"code", "message", "fields"}}."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "fields"}, error
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["fields"], dict)
    if field_named is not None:
        assert field_named in error["fields"], error
        assert all(isinstance(m, str) for m in error["fields"][field_named])
    return error
