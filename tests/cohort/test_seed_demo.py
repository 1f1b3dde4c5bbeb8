"""seed_demo: the CEP's first cohort as published, a second programme, and idempotence."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django_scopes import scopes_disabled

from cohort.models import (
    AuditEvent,
    Cohort,
    Fellow,
    Invitation,
    Membership,
    Mentor,
    Organisation,
    Programme,
    Role,
    TrainingArrangement,
)
from notifications.models import Announcement, AnnouncementReceipt, Notification, OutboxMessage

pytestmark = pytest.mark.django_db
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
]


def _counts():
    with scopes_disabled():
        counts = {model.__name__: model.objects.count() for model in TENANT_MODELS}
    counts["User"] = get_user_model().objects.count()
    counts["Programme"] = Programme.objects.count()
    return counts


def test_seed_demo_builds_the_first_cep_cohort(capsys):
    call_command("seed_demo")
    output = capsys.readouterr().out
    for email in ("staff@cep.example", "mentor@cep.example", "fellow@cep.example"):
        assert email in output
    assert "pitwall-demo" in output
    assert set(Programme.objects.values_list("slug", flat=True)) == {"cep", "accel"}
    with scopes_disabled():
        cohort = Cohort.objects.get(programme__slug="cep")
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


def test_seed_demo_shows_notifications_to_the_demo_users():
    call_command("seed_demo")
    with scopes_disabled():
        assert Announcement.objects.filter(programme__slug="cep").count() == 3
        for email in ("fellow@cep.example", "mentor@cep.example", "staff@cep.example"):
            assert Notification.objects.filter(
                recipient__email=email, read_at__isnull=True
            ).exists(), email
        assert OutboxMessage.objects.filter(status="failed").count() == 1
        # The demo's past announcement emails are not sent again on every run.
        assert not OutboxMessage.objects.filter(status="pending", kind="announcement").exists()


def test_seed_demo_twice_changes_nothing():
    call_command("seed_demo")
    first = _counts()
    with scopes_disabled():
        fellow_rows = list(Fellow.objects.order_by("user__email").values())
    call_command("seed_demo")
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
    call_command("seed_demo")
    response = client.post(
        "/accounts/login/", {"login": email, "password": "pitwall-demo"}, follow=True
    )
    assert response.status_code == 200
    if email == "mentor@cep.example":
        assert "cohort/programme_picker.html" in [t.name for t in response.templates]
        response = client.get("/p/cep/")
    assert template in [t.name for t in response.templates]
