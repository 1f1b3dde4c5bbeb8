"""Notifications that are never lost (DESIGN §10).

A change that concerns someone calls `notify()` inside its own transaction. That writes the
in-app `Notification` and, for email, an `OutboxMessage` in the same transaction: a rolled-back
change sends nothing, and a committed one is delivered by a task after commit or, if the broker
was down, by the sweep that runs every minute.
"""

import ipaddress
import secrets
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.utils import timezone

from cohort.models import Cohort, PartnerKey, Programme, Role
from cohort.scoping import ScopedManager


class Kind(models.TextChoices):
    """What a notification is about; each kind has a default delivery and may be mandatory."""

    ANNOUNCEMENT = "announcement", "Announcements from the programme team"
    MEMBERSHIP = "membership", "People joining through your invitations"
    INVITATION = "invitation", "Invitations to join a programme"
    SECURITY = "security", "Security notices about your account"
    SIGN_OFF_REQUEST = "sign_off_request", "Requests to sign off a record"
    REMINDER = "reminder", "Reminders of meetings and events"
    MENTORSHIP = "mentorship", "Mentor matches and changes to them"
    APPLICATION = "application", "Your application to a programme"
    CONNECTION = "connection", "Networking connection requests"
    EVENT = "event", "Your events: places from the waiting list, changes and cancellations"
    OUTCOME = "outcome", "Your outcomes: verified, or returned with a reason"
    DIGEST = "digest", "Your daily digest"


class Delivery(models.TextChoices):
    IMMEDIATELY = "immediately", "Email me straight away"
    DIGEST = "digest", "Include in my daily digest email"
    IN_APP = "in_app", "Only show it in Pitwall"


# Kinds people cannot switch off: they always arrive by email straight away.
MANDATORY_KINDS = frozenset(
    {Kind.SIGN_OFF_REQUEST, Kind.INVITATION, Kind.SECURITY, Kind.APPLICATION}
)
# Kinds a person may choose how to receive (shown on the preferences page).
CONFIGURABLE_KINDS = [
    Kind.ANNOUNCEMENT,
    Kind.MEMBERSHIP,
    Kind.MENTORSHIP,
    Kind.CONNECTION,
    Kind.REMINDER,
    Kind.EVENT,
    Kind.OUTCOME,
]
DEFAULT_DELIVERY = {
    Kind.ANNOUNCEMENT: Delivery.IMMEDIATELY,
    Kind.MEMBERSHIP: Delivery.DIGEST,
    Kind.REMINDER: Delivery.IMMEDIATELY,
    Kind.MENTORSHIP: Delivery.IMMEDIATELY,
    Kind.CONNECTION: Delivery.DIGEST,
    Kind.EVENT: Delivery.IMMEDIATELY,
    Kind.OUTCOME: Delivery.DIGEST,
}


class Notification(models.Model):
    """Something that happened that concerns one person, shown in their notification centre."""

    class DigestState(models.TextChoices):
        NONE = "", "Not in a digest"
        PENDING = "pending", "Waiting for the next digest"
        SENT = "sent", "Sent in a digest"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    # Where the notification leads: a path inside the programme; that page checks access.
    link = models.CharField(max_length=500, blank=True)
    actor_label = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    digest_state = models.CharField(
        max_length=10, choices=DigestState.choices, default=DigestState.NONE, blank=True
    )

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["programme", "recipient"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
            models.Index(
                fields=["digest_state", "programme", "recipient"], name="notification_digest_idx"
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class OutboxMessage(models.Model):
    """One email waiting to go, written in the same transaction as the change behind it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Being sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed after every retry"

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    # Invitations go to people who have no account yet, so the address is what counts.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    to_email = models.EmailField()
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    notification = models.ForeignKey(
        Notification, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    subject = models.CharField(max_length=255)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx")]

    def __str__(self):
        return f"{self.subject} → {self.to_email} ({self.get_status_display()})"


class Preference(models.Model):
    """How one person wants one kind of notification delivered in one programme."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_prefs"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    delivery = models.CharField(max_length=12, choices=Delivery.choices)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(programme="programme")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "user", "kind"], name="preference_one_per_kind"
            )
        ]

    def __str__(self):
        return f"{self.user} · {self.get_kind_display()}: {self.get_delivery_display()}"


class Announcement(models.Model):
    """A message from programme staff to the whole programme, one cohort, or one role."""

    class Audience(models.TextChoices):
        PROGRAMME = "programme", "Everyone in the programme"
        COHORT = "cohort", "The fellows of one cohort"
        ROLE = "role", "Everyone with one role"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(max_length=200)
    body = models.TextField()
    audience = models.CharField(max_length=12, choices=Audience.choices)
    cohort = models.ForeignKey(
        Cohort, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(max_length=16, choices=Role.choices, blank=True)
    published_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["-published_at", "-id"]

    def __str__(self):
        return self.title

    @property
    def audience_label(self) -> str:
        if self.audience == self.Audience.COHORT and self.cohort_id:
            return f"Fellows of {self.cohort.name}"
        if self.audience == self.Audience.ROLE and self.role:
            return f"Everyone with the {Role(self.role).label.lower()} role"
        return self.get_audience_display()


class AnnouncementReceipt(models.Model):
    """Who an announcement went to, and whether they have read or dismissed it."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    announcement = models.ForeignKey(
        Announcement, on_delete=models.CASCADE, related_name="receipts"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="announcement_receipts"
    )
    read_at = models.DateTimeField(null=True, blank=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["user__full_name", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["announcement", "user"], name="receipt_one_per_person")
        ]

    def __str__(self):
        return f"{self.announcement} → {self.user}"


# --- Webhooks for partners ----------------------------------------------------------------------


class WebhookEvent(models.TextChoices):
    """What a partner's endpoint may be told about (the fixed set partners subscribe to)."""

    OPPORTUNITY_CREATED = "opportunity.created", "An opportunity was published by the programme"
    OPPORTUNITY_CLOSED = "opportunity.closed", "A published opportunity was closed"
    METRICS_PUBLISHED = "metrics.published", "New metric snapshots were published"
    MILESTONE_SIGNED_OFF = "milestone.signed_off", "One of your mentors signed off a milestone"


LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def validate_webhook_url(value: str) -> None:
    """HTTPS only: the body carries programme data and the signature proves only who sent it,
    not that nobody read it. Plain http is allowed to this machine when the
    PITWALL_WEBHOOKS_ALLOW_HTTP_LOCALHOST setting is on (tests and local development)."""
    URLValidator(schemes=["http", "https"], message="Enter a full web address.")(value)
    parts = urlsplit(value)
    if parts.username or parts.password:
        raise ValidationError("Do not put a user name or password in the address.")
    host = (parts.hostname or "").lower()
    local_allowed = getattr(settings, "PITWALL_WEBHOOKS_ALLOW_HTTP_LOCALHOST", False)
    if local_allowed and host in LOCAL_HOSTS:
        return
    # Pitwall's own network is not a partner's: an address written as a private, loopback or
    # link-local IP (or localhost) would make the server POST into it.
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if host in LOCAL_HOSTS or (address is not None and not address.is_global):
        raise ValidationError("Use a public address of your organisation's server.")
    if parts.scheme != "https":
        raise ValidationError("Use an https:// address.")


def webhook_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    """An HTTPS address a partner organisation registered with its API key, to be told when
    something it may see happens in the programme."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    # The key that registered it: its scopes decide which events the endpoint receives, and a
    # revoked or expired key receives nothing.
    key = models.ForeignKey(PartnerKey, on_delete=models.CASCADE, related_name="webhooks")
    # The key's organisation, kept on the row: the endpoint belongs to the organisation, and a
    # milestone sign-off goes only to the endpoints of the mentor's organisation.
    organisation = models.ForeignKey(
        "cohort.Organisation", on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.URLField(max_length=500, validators=[validate_webhook_url])
    events = models.JSONField(default=list)
    # Shown to the partner once, when the endpoint is created; kept to sign each delivery.
    secret = models.CharField(max_length=100, default=webhook_secret, editable=False)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    disabled_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "partner webhook endpoint"

    def __str__(self):
        return self.url

    def clean(self):
        events = self.events if isinstance(self.events, list) else None
        if not events:
            raise ValidationError({"events": "Choose at least one event."})
        unknown = sorted(set(map(str, events)) - set(WebhookEvent.values))
        if unknown:
            raise ValidationError({"events": f"Unknown events: {', '.join(unknown)}."})
        if (
            self.key_id
            and self.organisation_id
            and self.key.organisation_id != self.organisation_id
        ):
            raise ValidationError(
                {"organisation": "The endpoint belongs to its key's organisation."}
            )


class WebhookDelivery(models.Model):
    """One event sent (or still to be sent) to one partner endpoint, with its history of tries."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed, will try again"
        GIVEN_UP = "given_up", "Given up after every try"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=40, choices=WebhookEvent.choices)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # Set by the conditional UPDATE that claims the delivery for one worker (see
    # notifications.webhooks._claim); cleared when the try is recorded.
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "partner webhook delivery"
        verbose_name_plural = "partner webhook deliveries"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due_idx")
        ]

    def __str__(self):
        return f"{self.event} → {self.endpoint_id} ({self.get_status_display()})"

    @property
    def can_send_again(self) -> bool:
        return self.status in (self.Status.FAILED, self.Status.GIVEN_UP)
