"""The programme's educational life: events and who comes to them, the calendar feeds that
carry them into people's own calendars, the resource library, and the funding, internship,
education and networking opportunities that staff and partners signpost.

Events depend on the mentoring and PDP apps (attending an event becomes PDP evidence; meetings
due appear in the calendar feed), never the other way round (DESIGN §3).
"""

import secrets
import uuid
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from cohort.models import Cohort, NHSRegion, Organisation, Profession, Programme, VentureStage
from cohort.scoping import ScopedManager
from pdp.models import CompetencyDomain, Objective

UK_TIME_ZONE = "Europe/London"


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            "Choose a time zone from the list, such as Europe/London.", code="time_zone"
        )


# --- events -------------------------------------------------------------------------------------


class Event(models.Model):
    """A Pit Stop, webinar, networking evening, course or conference of the programme."""

    class Kind(models.TextChoices):
        PIT_STOP = "pit_stop", "Pit Stop"
        WEBINAR = "webinar", "Webinar"
        NETWORKING = "networking", "Networking event"
        COURSE = "course", "Course"
        CONFERENCE = "conference", "Conference"

    class Audience(models.TextChoices):
        PROGRAMME = "programme", "The whole programme"
        FELLOWS = "fellows", "Fellows only"
        FELLOWS_AND_MENTORS = "fellows_mentors", "Fellows and mentors"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        CANCELLED = "cancelled", "Cancelled"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(max_length=5000, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    time_zone = models.CharField(
        max_length=64,
        default=UK_TIME_ZONE,
        validators=[validate_time_zone],
        help_text="Times are entered and shown in this zone.",
    )
    is_online = models.BooleanField("online", default=False)
    online_url = models.URLField("joining link", max_length=500, blank=True)
    venue_name = models.CharField("venue", max_length=200, blank=True)
    venue_address = models.TextField("venue address", max_length=500, blank=True)
    region = models.CharField(
        "NHS England region", max_length=20, choices=NHSRegion.choices, blank=True
    )
    capacity = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100_000)],
        help_text="Places available. Leave empty for no limit.",
    )
    audience = models.CharField(max_length=16, choices=Audience.choices, default=Audience.PROGRAMME)
    cohort = models.ForeignKey(
        Cohort,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Only fellows of this cohort (leave empty for every cohort).",
    )
    organiser = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="events",
        verbose_name="organising organisation",
    )
    domains = models.ManyToManyField(
        CompetencyDomain,
        blank=True,
        through="EventDomain",
        related_name="events",
        verbose_name="competency domains",
        help_text="Attending counts as evidence for objectives in these domains.",
    )
    resources = models.ManyToManyField(
        "Resource", blank=True, through="EventResource", related_name="events"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    cancelled_reason = models.TextField(blank=True)
    # A secret mixed into the event's check-in codes; replacing it voids every code shown.
    checkin_key = models.CharField(max_length=32, editable=False)
    # Bumped on every edit: the edit form names the version it started from, so two people
    # editing at once never silently overwrite each other; also the SEQUENCE of the .ics entry.
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["programme", "status", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="event_ends_after"
            )
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        if not self.checkin_key:
            self.checkin_key = secrets.token_hex(16)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse(
            "events:event", kwargs={"programme_slug": self.programme.slug, "event_uuid": self.uuid}
        )

    def clean(self):
        errors = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = "The event must end after it starts."
        if self.is_online and not self.online_url:
            errors["online_url"] = "Give the joining link of an online event."
        if not self.is_online and not self.venue_name:
            errors["venue_name"] = "Give the venue of an event held in person."
        if self.cohort_id and self.programme_id and self.cohort.programme_id != self.programme_id:
            errors["cohort"] = "Choose a cohort of this programme."
        if self.cohort_id and self.audience == self.Audience.PROGRAMME:
            errors["audience"] = (
                "An event for one cohort is for its fellows (and their mentors, if you choose "
                "so): choose 'Fellows only' or 'Fellows and mentors'."
            )
        if errors:
            raise ValidationError(errors)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def local_starts_at(self):
        return timezone.localtime(self.starts_at, self.zone)

    @property
    def local_ends_at(self):
        return timezone.localtime(self.ends_at, self.zone)

    @property
    def is_past(self) -> bool:
        return self.ends_at <= timezone.now()

    @property
    def has_started(self) -> bool:
        return self.starts_at <= timezone.now()

    @property
    def is_cancelled(self) -> bool:
        return self.status == self.Status.CANCELLED

    @property
    def where(self) -> str:
        """One line for lists and calendars."""
        if self.is_online:
            return "Online"
        return ", ".join(p for p in [self.venue_name, self.venue_address.replace("\n", ", ")] if p)


class Registration(models.Model):
    """A person's place at an event: registered, on the waiting list, cancelled, attended or
    absent. One row per person and event; registering again after cancelling reuses it."""

    class Status(models.TextChoices):
        REGISTERED = "registered", "Registered"
        WAITLISTED = "waitlisted", "On the waiting list"
        CANCELLED = "cancelled", "Cancelled"
        ATTENDED = "attended", "Attended"
        NO_SHOW = "no_show", "Did not attend"

    class CheckIn(models.TextChoices):
        STAFF = "staff", "Marked by staff"
        QR = "qr", "Scanned the QR code"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="registrations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="event_registrations"
    )
    status = models.CharField(max_length=12, choices=Status.choices)
    registered_at = models.DateTimeField(default=timezone.now)
    # The waiting list is served in the order people joined it.
    waitlisted_at = models.DateTimeField(null=True, blank=True)
    promoted_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    attended_at = models.DateTimeField(null=True, blank=True)
    check_in = models.CharField(max_length=8, choices=CheckIn.choices, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The start time the day-before reminder was sent for: a moved event is reminded again.
    reminded_for = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["registered_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "user"], name="registration_once_per_event")
        ]
        indexes = [models.Index(fields=["event", "status"])]

    def __str__(self):
        return f"{self.user} — {self.event} ({self.get_status_display()})"

    # Who holds a place (counts against the capacity).
    HOLDS_PLACE = (Status.REGISTERED, Status.ATTENDED, Status.NO_SHOW)
    # Who is coming, or may come: reminded and told of changes.
    EXPECTED = (Status.REGISTERED, Status.WAITLISTED)

    @property
    def holds_place(self) -> bool:
        return self.status in self.HOLDS_PLACE


class CalendarFeed(models.Model):
    """A person's private calendar address: the events they are registered for and their
    meetings due, for Outlook, Google or Apple Calendar to subscribe to. The token in the
    address is the credential; turning the feed off or making a new one voids it at once."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    token = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_read_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "user"],
                condition=models.Q(revoked_at__isnull=True),
                name="calendar_feed_one_live_per_person",
            )
        ]

    def __str__(self):
        return f"Calendar feed of {self.user}"

    def save(self, *args, **kwargs):
        if not self.token:
            self.token = secrets.token_urlsafe(32)
        super().save(*args, **kwargs)

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None

    def get_feed_url(self) -> str:
        return settings.SITE_URL + reverse("calendar_feed", kwargs={"token": self.token})


# --- the resource library -----------------------------------------------------------------------


class Resource(models.Model):
    """A video, e-learning course, document or accredited module in the programme's library."""

    class Kind(models.TextChoices):
        VIDEO = "video", "Video"
        E_LEARNING = "e_learning", "E-learning"
        DOCUMENT = "document", "Document"
        MODULE = "module", "Accredited module"

    class CreditLevel(models.TextChoices):
        PGCERT = "pgcert", "Postgraduate Certificate (PGCert)"
        PGDIP = "pgdip", "Postgraduate Diploma (PGDip)"
        MASTERS = "masters", "Master's degree"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="resources")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    title = models.CharField(max_length=200)
    summary = models.TextField(max_length=3000, blank=True)
    url = models.URLField("link", max_length=500)
    provider = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="resources"
    )
    duration_minutes = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(100_000)]
    )
    credits = models.PositiveSmallIntegerField(
        "academic credits",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(180)],
        help_text="Credits toward a postgraduate award, where the module carries them.",
    )
    credit_level = models.CharField(
        "credits count toward", max_length=8, choices=CreditLevel.choices, blank=True
    )
    domains = models.ManyToManyField(
        CompetencyDomain,
        blank=True,
        through="ResourceDomain",
        related_name="resources",
        verbose_name="competency domains",
    )
    objectives = models.ManyToManyField(
        Objective,
        blank=True,
        through="ResourceObjective",
        related_name="resources",
        help_text="PDP objectives this resource supports (linked by the fellow or staff).",
    )
    is_published = models.BooleanField("published", default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["title", "id"]

    def __str__(self):
        return self.title

    def clean(self):
        if self.credits and not self.credit_level:
            raise ValidationError(
                {"credit_level": "Say which award the credits count toward."}, code="level"
            )
        if self.credit_level and not self.credits:
            raise ValidationError({"credits": "Give the number of credits."}, code="credits")


# --- signposted opportunities -------------------------------------------------------------------


class Opportunity(models.Model):
    """A funding call, internship or placement, course or networking opening that staff or a
    partner signposts to fellows."""

    class Kind(models.TextChoices):
        FUNDING = "funding", "Funding call"
        INTERNSHIP = "internship", "Internship or placement"
        EDUCATION = "education", "Education"
        NETWORKING = "networking", "Networking"

    class Funding(models.TextChoices):
        PARTNER = "partner", "Partner-funded"
        SELF = "self", "Self-funding"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        CLOSED = "closed", "Closed"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="opportunities")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    title = models.CharField(max_length=200)
    summary = models.TextField(max_length=5000)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="opportunities"
    )
    funding = models.CharField(
        "placement funding",
        max_length=8,
        choices=Funding.choices,
        blank=True,
        help_text="For internships and placements: who pays.",
    )
    amount = models.CharField(
        "value", max_length=120, blank=True, help_text="For example 'Up to £50,000'."
    )
    url = models.URLField("link", max_length=500)
    opens_on = models.DateField(null=True, blank=True)
    deadline = models.DateField(
        null=True, blank=True, help_text="The last day to apply. Leave empty for a rolling call."
    )
    eligibility = models.TextField(max_length=3000, blank=True)
    tags = models.JSONField(default=list, blank=True)
    # Who it is meant for: empty means anyone. A fellow outside a non-empty list of
    # professions is not eligible; the other lists only make it a better match.
    professions = models.JSONField(default=list, blank=True)
    sectors = models.JSONField(default=list, blank=True)
    stages = models.JSONField(default=list, blank=True)
    regions = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["deadline", "title", "id"]
        verbose_name_plural = "opportunities"
        indexes = [models.Index(fields=["programme", "status", "deadline"])]

    def __str__(self):
        return self.title

    def clean(self):
        errors = {}
        if self.opens_on and self.deadline and self.deadline < self.opens_on:
            errors["deadline"] = "The deadline must be on or after the day it opens."
        if self.funding and self.kind != self.Kind.INTERNSHIP:
            errors["funding"] = (
                "Only internships and placements are partner-funded or self-funding."
            )
        for field, choices in [
            ("professions", Profession.values),
            ("sectors", None),
            ("stages", VentureStage.values),
            ("regions", NHSRegion.values),
        ]:
            values = getattr(self, field) or []
            if not isinstance(values, list) or (
                choices is not None and any(v not in choices for v in values)
            ):
                errors[field] = "Choose from the list."
        if errors:
            raise ValidationError(errors)

    @staticmethod
    def open_q(today=None):
        """The database form of is_open (keep the two in step): published, opened, and its
        deadline not yet passed — a closed call drops out by itself the day after."""
        today = today or timezone.localdate()
        return (
            models.Q(status=Opportunity.Status.PUBLISHED)
            & (models.Q(opens_on__isnull=True) | models.Q(opens_on__lte=today))
            & (models.Q(deadline__isnull=True) | models.Q(deadline__gte=today))
        )

    @property
    def is_open(self) -> bool:
        today = timezone.localdate()
        return (
            self.status == self.Status.PUBLISHED
            and (self.opens_on is None or self.opens_on <= today)
            and (self.deadline is None or self.deadline >= today)
        )


class OpportunityInterest(models.Model):
    """A fellow's bookmark of an opportunity and whether they have applied."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="interests")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="opportunity_interests"
    )
    bookmarked_at = models.DateTimeField(null=True, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["-bookmarked_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["opportunity", "user"], name="opportunity_interest_once"
            )
        ]

    def __str__(self):
        return f"{self.user} — {self.opportunity}"


# --- links between records (each row carries its programme, as every tenant-owned row does) ---


class EventDomain(models.Model):
    """A competency domain an event serves."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
    domain = models.ForeignKey(CompetencyDomain, on_delete=models.CASCADE, related_name="+")

    objects = ScopedManager(programme="programme")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "domain"], name="event_domain_once")
        ]

    def __str__(self):
        return f"{self.event} — {self.domain}"


class EventResource(models.Model):
    """A library resource linked from an event (pre-reading, slides, the recording)."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="+")

    objects = ScopedManager(programme="programme")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "resource"], name="event_resource_once")
        ]

    def __str__(self):
        return f"{self.event} — {self.resource}"


class ResourceDomain(models.Model):
    """A competency domain a resource is tagged with."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="+")
    domain = models.ForeignKey(CompetencyDomain, on_delete=models.CASCADE, related_name="+")

    objects = ScopedManager(programme="programme")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["resource", "domain"], name="resource_domain_once")
        ]

    def __str__(self):
        return f"{self.resource} — {self.domain}"


class ResourceObjective(models.Model):
    """A resource linked to a PDP objective it supports."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="+")
    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="+")
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    linked_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(programme="programme")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["resource", "objective"], name="resource_objective_once"
            )
        ]

    def __str__(self):
        return f"{self.resource} — {self.objective}"
