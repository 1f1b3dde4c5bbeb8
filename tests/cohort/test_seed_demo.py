"""seed_demo: the CEP's first cohort as published, a second programme, and idempotence."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.db.models import Q
from django.test import override_settings
from django_scopes import scopes_disabled

from cohort.models import (
    Application,
    AuditEvent,
    Cohort,
    Fellow,
    Invitation,
    Membership,
    Mentor,
    Organisation,
    Programme,
    RecruitmentCall,
    Review,
    Role,
    TrainingArrangement,
)
from cohort.selectors import recruitment_funnel
from events.models import Event, Registration
from mentoring.models import Connection, Meeting, Mentorship, Milestone, MilestoneReview, SignOff
from metrics.models import (
    ForecastInput,
    ForecastRun,
    FundingRecord,
    OutcomeStatus,
    PartnershipRecord,
)
from notifications.models import Announcement, AnnouncementReceipt, Notification, OutboxMessage
from pdp.models import PDP, CompetencyDomain, Objective, PDPChange

# One demo for the whole module (seeding takes seconds), on one xdist worker.
pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("seed-demo")]


@pytest.fixture(scope="module", autouse=True)
def demo_output(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo, seeded once; what the command printed. The tests only read it, except the
    idempotence test, which seeds again inside the same rolled-back transaction."""
    output = io.StringIO()
    with (
        django_db_blocker.unblock(),
        override_settings(
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            MEDIA_ROOT=tmp_path_factory.mktemp("media"),
            PITWALL_DEMO_MEETING_YEARS=0,
        ),
        transaction.atomic(),
    ):
        call_command("seed_demo", stdout=output)
        yield output.getvalue()
        transaction.set_rollback(True)


TENANT_MODELS = [
    Membership,
    Cohort,
    Organisation,
    Fellow,
    Mentor,
    Invitation,
    AuditEvent,
    Notification,
    OutboxMessage,
    Announcement,
    AnnouncementReceipt,
    Application,
    Review,
    RecruitmentCall,
    Mentorship,
    Connection,
    Meeting,
    Milestone,
    MilestoneReview,
    SignOff,
    CompetencyDomain,
    PDP,
    Objective,
    PDPChange,
    Event,
    Registration,
    FundingRecord,
    PartnershipRecord,
    ForecastInput,
    ForecastRun,
]


def _counts():
    with scopes_disabled():
        counts = {model.__name__: model.objects.count() for model in TENANT_MODELS}
    counts["User"] = get_user_model().objects.count()
    counts["Programme"] = Programme.objects.count()
    return counts


def test_seed_demo_builds_the_first_cep_cohort(demo_output):
    output = demo_output
    for email in ("staff@cep.example", "mentor@cep.example", "fellow@cep.example"):
        assert email in output
    assert "pitwall-demo" in output
    assert set(Programme.objects.values_list("slug", flat=True)) == {"cep", "accel"}
    with scopes_disabled():
        cohort = Cohort.objects.get(programme__slug="cep", name="Cohort 1 — 2016/17")
        fellows = Fellow.objects.filter(cohort=cohort)
        assert cohort.name == "Cohort 1 — 2016/17"
        assert fellows.count() == 104
        returners = fellows.filter(is_returner=True).count()
        assert round(100 * returners / 104) == 15
        flexible = fellows.filter(
            training_arrangement__in=[TrainingArrangement.OOPE, TrainingArrangement.LTFT]
        ).count()
        assert flexible == 21  # one in five
        assert not fellows.filter(
            training_arrangement=TrainingArrangement.LTFT, ltft_percent__isnull=True
        ).exists()
        partners = set(
            Mentor.objects.filter(programme__slug="cep").values_list(
                "organisation__name", flat=True
            )
        )
        for name in ("AstraZeneca", "Verily", "Microsoft", "McLaren", "The Prince's Trust"):
            assert name in partners
        capacity = sum(
            Mentor.objects.filter(programme__slug="cep").values_list("capacity", flat=True)
        )
        assert capacity >= 104  # enough mentor places for every fellow
        # The demo mentor holds roles in both programmes (the switcher shows).
        mentor_programmes = set(
            Membership.objects.filter(user__email="mentor@cep.example").values_list(
                "programme__slug", flat=True
            )
        )
        assert mentor_programmes == {"cep", "accel"}
        assert Membership.objects.get(user__email="staff@cep.example").role == Role.STAFF


def test_seed_demo_reproduces_the_first_intake_and_matches_every_fellow():
    with scopes_disabled():
        cep = Programme.objects.get(slug="cep")
        funnel = {row["cohort"].name: row for row in recruitment_funnel(programme=cep)}
        first = [s["count"] for s in funnel["Cohort 1 — 2016/17"]["stages"]]
        assert first[0] > 160 and first[1] == 130 and first[-1] == 104
        assert first == sorted(first, reverse=True)
        appointed = Application.objects.filter(call__cohort__name="Cohort 1 — 2016/17")
        assert appointed.filter(status="appointed", fellow__isnull=False).count() == 104
        # Every application sent was scored by both staff reviewers.
        sent = appointed.filter(submitted_at__isnull=False)
        assert Review.objects.filter(application__in=sent).count() == 2 * sent.count()
        # This year's call is open, with applications waiting at every stage.
        open_call = RecruitmentCall.objects.get(cohort__name="Cohort 12 — 2027/28")
        assert open_call.is_open()
        assert set(open_call.applications.values_list("status", flat=True)) >= {
            "interest",
            "applied",
            "shortlisted",
            "interviewed",
            "withdrawn",
        }
        # Every fellow of the first cohort has an industry mentor; nobody's mentor is over
        # capacity; one mentorship ended with a reason and that fellow was matched again.
        fellows = Fellow.objects.filter(cohort__name="Cohort 1 — 2016/17", programme=cep)
        active = Mentorship.objects.filter(fellow__in=fellows, ended_on__isnull=True)
        assert active.count() == 104 == active.values("fellow").distinct().count()
        assert all(
            m.mentor.organisation.is_partner for m in active.select_related("mentor__organisation")
        )
        for mentor in Mentor.objects.filter(programme=cep):
            assert active.filter(mentor=mentor).count() <= mentor.capacity
        ended = Mentorship.objects.get(programme=cep, ended_on__isnull=False)
        assert ended.end_reason and active.filter(fellow=ended.fellow).exists()
        priya = Connection.objects.filter(
            Q(requester__email="fellow@cep.example") | Q(addressee__email="fellow@cep.example")
        )
        assert set(priya.values_list("status", flat=True)) == {"accepted", "pending"}
        demo = active.get(fellow__user__email="fellow@cep.example")
        assert demo.mentor.user.email == "mentor@cep.example"
        assert any("Shared sector" in r for r in demo.fit_reasons)


def test_seed_demo_has_plans_at_every_stage_of_the_year():
    with scopes_disabled():
        cep = Programme.objects.get(slug="cep")
        assert CompetencyDomain.objects.filter(programme=cep).count() == 8
        stages = set(PDP.objects.filter(programme=cep).values_list("status", flat=True))
        assert stages == {"draft", "submitted", "returned", "agreed"}
        demo = PDP.objects.get(fellow__user__email="fellow@cep.example")
        assert demo.status == "agreed" and demo.agreed_by.email == "mentor@cep.example"
        assert demo.objectives.filter(status="achieved").exists()
        assert demo.objectives.filter(evidence__isnull=False).exists()
        assert PDPChange.objects.filter(pdp=demo, action="objective.changed").exists()


def test_seed_demo_shows_notifications_to_the_demo_users():
    with scopes_disabled():
        assert Announcement.objects.filter(programme__slug="cep").count() == 3
        # Paragraphs are real line breaks, not a backslash and an n printed on the page.
        assert not Announcement.objects.filter(body__contains="\\").exists()
        for email in ("fellow@cep.example", "mentor@cep.example", "staff@cep.example"):
            assert Notification.objects.filter(
                recipient__email=email, read_at__isnull=True
            ).exists(), email
        assert OutboxMessage.objects.filter(status="failed").count() == 1
        # The demo's past announcement emails are not sent again on every run.
        assert not OutboxMessage.objects.filter(status="pending", kind="announcement").exists()


def test_seed_demo_twice_changes_nothing():
    first = _counts()
    with scopes_disabled():
        fellow_rows = list(Fellow.objects.order_by("user__email").values())
    call_command("seed_demo", stdout=io.StringIO())
    assert _counts() == first
    with scopes_disabled():
        assert list(Fellow.objects.order_by("user__email").values()) == fellow_rows


@pytest.mark.parametrize(
    ("email", "template"),
    [
        ("fellow@cep.example", "cohort/home_fellow.html"),
        ("staff@cep.example", "cohort/home_staff.html"),
        ("mentor@cep.example", "cohort/home_mentor.html"),
    ],
)
def test_demo_logins_reach_their_home_page(client, email, template):
    response = client.post(
        "/accounts/login/", {"login": email, "password": "pitwall-demo"}, follow=True
    )
    assert response.status_code == 200
    if email == "mentor@cep.example":
        assert "cohort/programme_picker.html" in [t.name for t in response.templates]
        response = client.get("/p/cep/")
    assert template in [t.name for t in response.templates]


def test_seed_demo_has_outcomes_verified_waiting_and_returned():
    with scopes_disabled():
        funding = FundingRecord.objects.filter(programme__slug="cep")
        assert funding.filter(status=OutcomeStatus.VERIFIED).count() > 50
        assert funding.filter(status=OutcomeStatus.REPORTED).exists()
        hers = funding.filter(fellow__user__email="fellow@cep.example")
        assert set(hers.values_list("status", flat=True)) == {
            OutcomeStatus.VERIFIED,
            OutcomeStatus.REPORTED,
            OutcomeStatus.REJECTED,
        }
        assert PartnershipRecord.objects.filter(
            fellow__user__email="fellow@cep.example", status=OutcomeStatus.VERIFIED
        ).exists()


def test_seed_demo_has_a_forecast_at_every_stage():
    with scopes_disabled():
        inputs = ForecastInput.objects.filter(programme__slug="cep")
        statuses = set(inputs.values_list("status", flat=True))
        assert statuses == {"draft", "submitted", "reviewed", "returned"}
        assert inputs.filter(status="reviewed").count() > 80
        hers = inputs.get(venture__fellow__user__email="fellow@cep.example")
        assert hers.status == "draft" and hers.missing() == ["patients per adopting site per year"]
        assert inputs.filter(qalys_per_patient_likely__isnull=False, status="reviewed").exists()
        runs = ForecastRun.objects.filter(programme__slug="cep")
        assert runs.filter(scope="programme").exists() and runs.filter(scope="cohort").exists()
        latest = runs.filter(scope="programme").order_by("-created_at").first()
        assert latest.ventures_count == inputs.filter(status="reviewed").count()
        assert latest.seed and latest.outputs["patients"]["p90"]


def test_the_demo_fellow_downloads_their_data(client):
    import json
    import zipfile

    client.post("/accounts/login/", {"login": "fellow@cep.example", "password": "pitwall-demo"})
    page = client.get("/accounts/data/")
    assert page.status_code == 200 and b"Download your data" in page.content
    response = client.post("/accounts/data/")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    data = json.loads(archive.read("data.json"))
    assert data["sections"]["account"]["rows"][0]["email"] == "fellow@cep.example"
    assert data["sections"]["mentor_meetings"]["rows"]
    assert data["sections"]["development_plans"]["rows"][0]["objectives"]


def test_the_demo_shows_a_former_fellow_erased_at_their_request(client):
    from cohort.demo import ERASED_DEMO_UUID
    from cohort.models import EqualityData

    person = get_user_model().objects.get(uuid=ERASED_DEMO_UUID)
    assert person.full_name == f"Erased person {ERASED_DEMO_UUID.hex[:8]}"
    assert person.erased_at is not None and not person.is_active
    with scopes_disabled():
        event = AuditEvent.objects.get(programme__slug="accel", action="person.erased")
        assert event.actor.email == "staff@accel.example"
        assert event.target_label == person.full_name and event.changes["reason"]
        fellow = Fellow.objects.get(user=person)
        assert fellow.help_needed == ""
        assert not EqualityData.objects.filter(fellow=fellow).exists()
    client.post("/accounts/login/", {"login": "staff@accel.example", "password": "pitwall-demo"})
    audit = client.get("/p/accel/audit/")
    assert person.full_name.encode() in audit.content
