"""Demo announcements, unread notifications and one bounced email (seed_demo step)."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone
from django_scopes import scope

from cohort.demo import FELLOW_EMAIL, MENTOR_EMAIL, STAFF_EMAIL, register_seeder
from cohort.models import Cohort, Role

from .models import Announcement, Kind, Notification, OutboxMessage
from .services import announcement_publish, notify

ANNOUNCEMENTS = [
    {
        "title": "Welcome to the NHS Clinical Entrepreneur Programme",
        "body": (
            "Welcome to the first cohort of clinical entrepreneurs. Over the coming year you "
            "will meet your industry mentor four times, build your Personal Development Plan "
            "and join Pit Stop events across the country.\n\nYour first mentor meeting is "
            "due in the first month: look out for your mentor's email."
        ),
        "audience": Announcement.Audience.PROGRAMME,
        "days_ago": 20,
    },
    {
        "title": "Mentor briefing: agreeing the PDP at your first meeting",
        "body": (
            "Thank you for mentoring with us. At your first meeting please agree your mentee's "
            "Personal Development Plan and the milestones for the next quarter. A 30-minute "
            "briefing webinar runs on Thursday at 12:30."
        ),
        "audience": Announcement.Audience.ROLE,
        "role": Role.MENTOR,
        "days_ago": 12,
    },
    {
        "title": "Pit Stop in Manchester: registration is open",
        "body": (
            "Our next Pit Stop is a day of workshops on regulation, NHS procurement and "
            "investment readiness, with time to meet partners. Places are limited."
        ),
        "audience": Announcement.Audience.COHORT,
        "days_ago": 3,
    },
]


@register_seeder(order=10)
def seed_notifications(seeder):
    cep = seeder.programmes["cep"]
    User = get_user_model()
    staff = User.objects.get(email=STAFF_EMAIL)
    with scope(programme=cep):
        cohort = Cohort.objects.filter(programme=cep).order_by("starts_on").first()
        for spec in ANNOUNCEMENTS:
            if Announcement.objects.filter(programme=cep, title=spec["title"]).exists():
                continue
            announcement = announcement_publish(
                programme=cep,
                author=staff,
                title=spec["title"],
                body=spec["body"],
                audience=spec["audience"],
                cohort=cohort if spec["audience"] == Announcement.Audience.COHORT else None,
                role=spec.get("role", ""),
            )
            when = timezone.now() - timedelta(days=spec["days_ago"])
            Announcement.objects.filter(pk=announcement.pk).update(published_at=when)
            Notification.objects.filter(link__contains=str(announcement.uuid)).update(
                created_at=when
            )
            # The demo's announcement emails went out when it was published: mark them
            # sent, so the delivery queued on commit finds nothing to send again.
            OutboxMessage.objects.filter(
                programme=cep,
                kind=Kind.ANNOUNCEMENT,
                status=OutboxMessage.Status.PENDING,
                notification__link__contains=str(announcement.uuid),
            ).update(status=OutboxMessage.Status.SENT, sent_at=when, created_at=when)
        _seed_staff_updates(cep, staff)
        _seed_bounced_email(cep, staff)
        # Most fellows have read the welcome; the demo users keep theirs unread.
        welcome = Announcement.objects.get(programme=cep, title=ANNOUNCEMENTS[0]["title"])
        Notification.objects.filter(
            programme=cep, link__contains=str(welcome.uuid), read_at__isnull=True
        ).exclude(recipient__email__in=[FELLOW_EMAIL, MENTOR_EMAIL]).update(read_at=timezone.now())


def _seed_staff_updates(cep, staff):
    title = "Dr Priya Shah joined as fellow"
    if Notification.objects.filter(programme=cep, recipient=staff, title=title).exists():
        return
    notify(
        programme=cep,
        recipients=[staff],
        kind=Kind.MEMBERSHIP,
        title=title,
        body="fellow@cep.example accepted your invitation to NHS Clinical Entrepreneur Programme.",
        link=f"/p/{cep.slug}/people/?q=fellow@cep.example",
    )


def _seed_bounced_email(cep, staff):
    """One email the mail server refused, so staff see how failures are reported."""
    if OutboxMessage.objects.filter(programme=cep, to_email="old.address@nhs.example").exists():
        return
    OutboxMessage.objects.create(
        programme=cep,
        to_email="old.address@nhs.example",
        kind=Kind.INVITATION,
        subject="[CEP] You are invited to join NHS Clinical Entrepreneur Programme",
        body_text="(invitation email)",
        status=OutboxMessage.Status.FAILED,
        attempts=6,
        last_error=(
            "SMTPRecipientsRefused: 550 5.1.1 <old.address@nhs.example>: mailbox unavailable"
        ),
    )
