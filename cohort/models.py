"""The tenant (Programme), who belongs to it and in which role, and the people of a cohort.

Every tenant-owned model carries a direct `programme` foreign key and a django-scopes
`ScopedManager`, so a query made outside an active scope raises instead of leaking rows of
another programme (DESIGN §4).
"""

import secrets
import uuid
from datetime import date, timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from .scoping import ScopedManager

slug_validator = RegexValidator(
    r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
    "Use lower-case letters, digits and single hyphens, such as 'cep' or 'nhs-accelerator'.",
)


class Programme(models.Model):
    """A programme that runs on Pitwall, such as the NHS Clinical Entrepreneur Programme."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    slug = models.SlugField(
        max_length=40,
        unique=True,
        validators=[slug_validator],
        help_text="Appears in every address of the programme: /p/<slug>/.",
    )
    name = models.CharField(max_length=200)
    short_name = models.CharField(max_length=40, blank=True, help_text="Used in email subjects.")
    description = models.TextField(blank=True)
    contact_email = models.EmailField(blank=True)
    meetings_per_year = models.PositiveSmallIntegerField(
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
        help_text="Mentor meetings each fellow holds in a programme year.",
    )
    meeting_alert_days = models.PositiveSmallIntegerField(
        default=21,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="Staff are alerted to a mentorship with no meeting this many days after "
        "a meeting window closed.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("cohort:home", kwargs={"programme_slug": self.slug})

    @property
    def display_short_name(self) -> str:
        return self.short_name or self.name


class Role(models.TextChoices):
    FELLOW = "fellow", "Fellow"
    MENTOR = "mentor", "Mentor"
    STAFF = "staff", "Programme staff"
    PARTNER = "partner", "Partner"


# When a person holds several roles in one programme, the home page shows the first of these.
ROLE_PRECEDENCE = [Role.STAFF, Role.MENTOR, Role.FELLOW, Role.PARTNER]


class Membership(models.Model):
    """A person's role in one programme; a person may hold roles in several programmes."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["programme__name", "user__full_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "user", "role"], name="membership_unique_role"
            )
        ]

    def __str__(self):
        return f"{self.user} — {self.get_role_display()} in {self.programme}"


class Invitation(models.Model):
    """An invitation to join a programme in a role, sent to one email address."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a reply"
        ACCEPTED = "accepted", "Accepted"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Withdrawn"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices)
    # The secret in the link; never shown in lists, only in the email.
    token = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.TextField(blank=True, help_text="A personal note added to the email.")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(Lower("email"), "programme", name="invitation_email_idx")]

    def __str__(self):
        return f"{self.email} as {self.get_role_display()} ({self.programme})"

    def save(self, *args, **kwargs):
        if not self.token:
            self.token = secrets.token_urlsafe(32)
        if not self.expires_at:
            self.expires_at = self.created_at + timedelta(days=settings.INVITATION_VALID_DAYS)
        super().save(*args, **kwargs)

    @staticmethod
    def open_q():
        """The database form of status == PENDING (keep the two in step)."""
        return models.Q(
            accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )

    @property
    def status(self) -> str:
        if self.accepted_at:
            return self.Status.ACCEPTED
        if self.revoked_at:
            return self.Status.REVOKED
        if self.expires_at <= timezone.now():
            return self.Status.EXPIRED
        return self.Status.PENDING

    def get_status_display(self) -> str:
        return self.Status(self.status).label

    @property
    def is_usable(self) -> bool:
        return self.status == self.Status.PENDING

    def get_accept_url(self) -> str:
        return reverse("invitation_accept", kwargs={"token": self.token})


class Cohort(models.Model):
    """One year's intake of fellows, such as "Cohort 1 — 2016/17"."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="cohorts")
    name = models.CharField(max_length=120)
    starts_on = models.DateField()
    ends_on = models.DateField()

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["-starts_on"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "name"], name="cohort_unique_name"),
            models.CheckConstraint(
                condition=models.Q(ends_on__gt=models.F("starts_on")), name="cohort_ends_after"
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.starts_on and self.ends_on and self.ends_on <= self.starts_on:
            raise ValidationError({"ends_on": "The cohort must end after it starts."})

    def meeting_windows(self, meetings: int | None = None) -> list[tuple[int, date, date]]:
        """The year's mentor-meeting windows, derived from the dates: the first meeting in the
        first month, then one in each later part of the year (quarters for four meetings)."""
        meetings = meetings or self.programme.meetings_per_year
        length = (self.ends_on - self.starts_on).days + 1
        part = length / meetings
        windows = []
        for number in range(1, meetings + 1):
            opens = self.starts_on + timedelta(days=round((number - 1) * part))
            closes = self.starts_on + timedelta(days=round(number * part) - 1)
            if number == 1:
                closes = min(closes, self.starts_on + timedelta(days=30))
            windows.append((number, opens, min(closes, self.ends_on)))
        return windows


class Organisation(models.Model):
    """A partner company, NHS trust, university, investor or charity the programme works with."""

    class Kind(models.TextChoices):
        INDUSTRY = "industry", "Industry partner"
        NHS_TRUST = "nhs_trust", "NHS trust"
        UNIVERSITY = "university", "University"
        INVESTOR = "investor", "Investor"
        CHARITY = "charity", "Charity or foundation"
        GOVERNMENT = "government", "Government body"
        OTHER = "other", "Other"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="organisations")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.INDUSTRY)
    website = models.URLField(blank=True)
    is_partner = models.BooleanField(
        default=False, help_text="A partner of the programme (provides mentors, reads metrics)."
    )

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "name"], name="organisation_unique_name")
        ]

    def __str__(self):
        return self.name


class Profession(models.TextChoices):
    DOCTOR = "doctor", "Doctor"
    NURSE = "nurse", "Nurse"
    MIDWIFE = "midwife", "Midwife"
    AHP = "ahp", "Allied health professional"
    PHARMACIST = "pharmacist", "Pharmacist"
    SCIENTIST = "scientist", "Healthcare scientist"
    OTHER = "other", "Other"


class NHSRegion(models.TextChoices):
    EAST = "east", "East of England"
    LONDON = "london", "London"
    MIDLANDS = "midlands", "Midlands"
    NORTH_EAST_YORKSHIRE = "ne_yorks", "North East and Yorkshire"
    NORTH_WEST = "north_west", "North West"
    SOUTH_EAST = "south_east", "South East"
    SOUTH_WEST = "south_west", "South West"


class Sector(models.TextChoices):
    DIGITAL = "digital", "Digital health and apps"
    AI_DATA = "ai_data", "AI and data"
    MEDTECH = "medtech", "Medical devices"
    DIAGNOSTICS = "diagnostics", "Diagnostics"
    PHARMA = "pharma", "Pharmaceuticals and biotech"
    MENTAL_HEALTH = "mental_health", "Mental health"
    SERVICE = "service", "Service redesign"
    EDUCATION = "education", "Education and training"
    SOCIAL = "social", "Social enterprise"
    OTHER = "other", "Other"


class VentureStage(models.TextChoices):
    IDEA = "idea", "Idea"
    PROTOTYPE = "prototype", "Prototype"
    PILOT = "pilot", "Pilot"
    EVIDENCE = "evidence", "Evidence"
    SCALING = "scaling", "Scaling"


class TrainingArrangement(models.TextChoices):
    IN_PROGRAMME = "in_programme", "In programme"
    OOPE = "oope", "Out Of Programme Experience (OOPE)"
    LTFT = "ltft", "Less Than Full Time (LTFT)"


class Fellow(models.Model):
    """A clinician appointed to a cohort of the programme (a "clinical entrepreneur")."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="fellows")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="fellowships"
    )
    cohort = models.ForeignKey(Cohort, on_delete=models.PROTECT, related_name="fellows")
    profession = models.CharField(max_length=20, choices=Profession.choices)
    grade = models.CharField(max_length=80, blank=True, help_text="For example ST4, Band 7.")
    specialty = models.CharField(max_length=120, blank=True)
    employer = models.CharField("employing NHS organisation", max_length=200, blank=True)
    region = models.CharField(
        "NHS England region", max_length=20, choices=NHSRegion.choices, blank=True
    )
    training_arrangement = models.CharField(
        max_length=20, choices=TrainingArrangement.choices, default=TrainingArrangement.IN_PROGRAMME
    )
    ltft_percent = models.PositiveSmallIntegerField(
        "less than full time percentage",
        null=True,
        blank=True,
        validators=[MinValueValidator(20), MaxValueValidator(99)],
    )
    is_returner = models.BooleanField(
        "returner to the NHS", default=False, help_text="Returning from the commercial sector."
    )
    consent_to_share = models.BooleanField("consents to share profile with partners", default=False)
    arrangement_starts_on = models.DateField("arrangement starts", null=True, blank=True)
    arrangement_ends_on = models.DateField("arrangement ends", null=True, blank=True)
    interests = models.TextField(
        blank=True, help_text="What you are working on or curious about, for the directory."
    )
    help_needed = models.TextField(
        "what I need help with",
        blank=True,
        help_text="Shown to programme staff and your mentor; used to match you with a mentor.",
    )

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["user__full_name"]
        constraints = [
            models.UniqueConstraint(fields=["cohort", "user"], name="fellow_once_per_cohort"),
            models.CheckConstraint(
                condition=~models.Q(training_arrangement="ltft")
                | models.Q(ltft_percent__isnull=False),
                name="fellow_ltft_needs_percent",
            ),
        ]

    def __str__(self):
        return str(self.user)

    def clean(self):
        if self.training_arrangement == TrainingArrangement.LTFT and not self.ltft_percent:
            raise ValidationError(
                {"ltft_percent": "Give the percentage of full time for a less than full time post."}
            )
        if self.cohort_id and self.programme_id and self.cohort.programme_id != self.programme_id:
            raise ValidationError({"cohort": "Choose a cohort of this programme."})
        if (
            self.arrangement_starts_on
            and self.arrangement_ends_on
            and self.arrangement_ends_on < self.arrangement_starts_on
        ):
            raise ValidationError(
                {"arrangement_ends_on": "The arrangement must end after it starts."}
            )


# What a fellow maintains on their own profile page (the rest is set by staff).
FELLOW_PROFILE_FIELDS = [
    "grade",
    "specialty",
    "employer",
    "region",
    "training_arrangement",
    "ltft_percent",
    "arrangement_starts_on",
    "arrangement_ends_on",
    "is_returner",
    "interests",
    "help_needed",
    "consent_to_share",
]
# What a mentor maintains on theirs.
MENTOR_PROFILE_FIELDS = ["job_title", "expertise", "sectors", "region", "capacity"]


company_number_validator = RegexValidator(
    r"^(?:[0-9]{8}|[A-Z]{2}[0-9]{6})$",
    "A Companies House number is 8 characters: 8 digits, or 2 letters and 6 digits "
    "(such as 01234567 or SC123456).",
)


class Venture(models.Model):
    """A venture a fellow is building: a company, a social enterprise or an NHS project."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="ventures")
    fellow = models.ForeignKey(Fellow, on_delete=models.CASCADE, related_name="ventures")
    name = models.CharField(max_length=160)
    summary = models.TextField(max_length=1000, help_text="Two or three sentences.")
    stage = models.CharField(max_length=12, choices=VentureStage.choices)
    sector = models.CharField(max_length=20, choices=Sector.choices)
    company_number = models.CharField(
        max_length=8, blank=True, validators=[company_number_validator]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class EqualityData(models.Model):
    """A fellow's optional, self-declared equality monitoring answers. Never shown one by one
    to anyone but the fellow: programme reports use them only in aggregate, with small
    numbers suppressed (DESIGN §7)."""

    class Gender(models.TextChoices):
        WOMAN = "woman", "Woman"
        MAN = "man", "Man"
        NON_BINARY = "non_binary", "Non-binary"
        OTHER = "other", "Another way"
        UNSAID = "prefer_not", "Prefer not to say"

    class EthnicGroup(models.TextChoices):
        ASIAN = "asian", "Asian or Asian British"
        BLACK = "black", "Black, Black British, Caribbean or African"
        MIXED = "mixed", "Mixed or multiple ethnic groups"
        WHITE = "white", "White"
        OTHER = "other", "Other ethnic group"
        UNSAID = "prefer_not", "Prefer not to say"

    class Disability(models.TextChoices):
        YES = "yes", "Yes"
        NO = "no", "No"
        UNSAID = "prefer_not", "Prefer not to say"

    class AgeBand(models.TextChoices):
        UNDER_30 = "under_30", "Under 30"
        THIRTIES = "30_39", "30 to 39"
        FORTIES = "40_49", "40 to 49"
        FIFTY_PLUS = "50_plus", "50 or over"
        UNSAID = "prefer_not", "Prefer not to say"

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    fellow = models.OneToOneField(Fellow, on_delete=models.CASCADE, related_name="equality")
    gender = models.CharField(max_length=12, choices=Gender.choices, blank=True)
    ethnic_group = models.CharField(max_length=12, choices=EthnicGroup.choices, blank=True)
    disability = models.CharField(
        "disability or long-term condition", max_length=12, choices=Disability.choices, blank=True
    )
    age_band = models.CharField(max_length=12, choices=AgeBand.choices, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(programme="programme")

    class Meta:
        verbose_name_plural = "equality data"

    def __str__(self):
        return f"Equality data of {self.fellow}"


class Mentor(models.Model):
    """An industry mentor who supports fellows through their programme year."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="mentors")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mentor_profiles"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="mentors", null=True, blank=True
    )
    job_title = models.CharField(max_length=160, blank=True)
    expertise = models.TextField(blank=True)
    capacity = models.PositiveSmallIntegerField(
        default=2, validators=[MaxValueValidator(20)], help_text="How many mentees at once."
    )
    sectors = models.JSONField(
        default=list, blank=True, help_text="Sectors the mentor knows (Sector values)."
    )
    region = models.CharField(
        "NHS England region",
        max_length=20,
        choices=NHSRegion.choices,
        blank=True,
        help_text="Where the mentor is based; matching prefers mentees nearby.",
    )

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["user__full_name"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "user"], name="mentor_once_per_programme")
        ]

    def __str__(self):
        return str(self.user)

    def clean(self):
        if (
            self.organisation_id
            and self.programme_id
            and self.organisation.programme_id != self.programme_id
        ):
            raise ValidationError({"organisation": "Choose an organisation of this programme."})
        unknown = set(self.sectors or []) - set(Sector.values)
        if unknown:
            raise ValidationError({"sectors": f"Unknown sectors: {', '.join(sorted(unknown))}."})

    @property
    def sector_labels(self) -> list[str]:
        return [Sector(s).label for s in self.sectors or [] if s in Sector.values]


class AuditEvent(models.Model):
    """Who did what to which record of the programme, and when (kept for accountability)."""

    class Via(models.TextChoices):
        WEB = "web", "Website"
        ADMIN = "admin", "Admin"
        API = "api", "API"
        TASK = "task", "Background job"
        COMMAND = "command", "Command"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="audit_events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text too, so the log still says who acted after an account is erased.
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=80, db_index=True)
    target_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=255, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    via = models.CharField(max_length=10, choices=Via.choices, default=Via.WEB)
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["-occurred_at", "-id"]

    def __str__(self):
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"


# --- recruitment ------------------------------------------------------------------------------


class RecruitmentCall(models.Model):
    """A cohort's call for applications: open between two dates, with its own questions and
    the rule that shortlists (a threshold score and agreement between the reviewers)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="calls")
    cohort = models.OneToOneField(Cohort, on_delete=models.CASCADE, related_name="call")
    opens_on = models.DateField()
    closes_on = models.DateField(help_text="The last day expressions of interest are taken.")
    introduction = models.TextField(
        blank=True, help_text="Shown at the top of the public expression-of-interest page."
    )
    reviews_required = models.PositiveSmallIntegerField(
        default=2,
        validators=[MinValueValidator(2), MaxValueValidator(5)],
        help_text="How many reviewers score each application (at least two).",
    )
    shortlist_threshold = models.DecimalField(
        max_digits=3,
        decimal_places=2,
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text="The average score (1 to 5) an application needs to be shortlisted.",
    )
    max_score_spread = models.DecimalField(
        "largest disagreement",
        max_digits=3,
        decimal_places=2,
        default=1,
        validators=[MinValueValidator(0), MaxValueValidator(4)],
        help_text="Reviewers agree when their scores differ by no more than this; an "
        "application they disagree on goes to the team to decide.",
    )

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["-opens_on"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes_on__gte=models.F("opens_on")), name="call_closes_after"
            )
        ]

    def __str__(self):
        return f"Call for {self.cohort}"

    def clean(self):
        if self.opens_on and self.closes_on and self.closes_on < self.opens_on:
            raise ValidationError(
                {"closes_on": "The call must close on or after the day it opens."}
            )

    def is_open(self, today: date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.opens_on <= today <= self.closes_on

    @property
    def status_label(self) -> str:
        today = timezone.localdate()
        if today < self.opens_on:
            return "Not open yet"
        return "Open" if today <= self.closes_on else "Closed"


class ApplicationQuestion(models.Model):
    """A question of a cohort's formal application form, written by staff."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    call = models.ForeignKey(RecruitmentCall, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(default=0)
    text = models.CharField("question", max_length=300)
    help_text = models.CharField("hint", max_length=300, blank=True)
    required = models.BooleanField(default=True)
    max_words = models.PositiveSmallIntegerField(
        default=300, validators=[MinValueValidator(10), MaxValueValidator(2000)]
    )

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.text


class ReviewCriterion(models.Model):
    """A criterion of the programme against which reviewers score every application, 1 to 5."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="criteria")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=120)
    description = models.CharField(max_length=400, blank=True)

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["position", "id"]
        verbose_name_plural = "review criteria"
        constraints = [
            models.UniqueConstraint(fields=["programme", "name"], name="criterion_unique_name")
        ]

    def __str__(self):
        return self.name


class Application(models.Model):
    """One person's way through a cohort's recruitment: expression of interest, application,
    shortlist, interview and decision. Each stage keeps its date, so the funnel counts how
    many reached it even when they were declined later."""

    class Status(models.TextChoices):
        INTEREST = "interest", "Expressed interest"
        APPLIED = "applied", "Applied"
        SHORTLISTED = "shortlisted", "Shortlisted"
        INTERVIEWED = "interviewed", "Interviewed"
        APPOINTED = "appointed", "Appointed"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class Interview(models.TextChoices):
        NONE = "", "Not interviewed"
        RECOMMENDED = "recommended", "Recommended for appointment"
        NOT_RECOMMENDED = "not_recommended", "Not recommended"

    FINAL = (Status.APPOINTED, Status.DECLINED, Status.WITHDRAWN)

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="applications")
    call = models.ForeignKey(RecruitmentCall, on_delete=models.PROTECT, related_name="applications")
    # The secret in the link that lets the applicant complete their application.
    token = models.CharField(max_length=64, unique=True, editable=False)
    email = models.EmailField()
    full_name = models.CharField(max_length=150)
    profession = models.CharField(max_length=20, choices=Profession.choices)
    grade = models.CharField(max_length=80, blank=True)
    specialty = models.CharField(max_length=120, blank=True)
    employer = models.CharField("employing NHS organisation", max_length=200, blank=True)
    region = models.CharField(
        "NHS England region", max_length=20, choices=NHSRegion.choices, blank=True
    )
    idea = models.TextField(
        "your idea", max_length=2000, help_text="The problem you want to solve, in a few lines."
    )
    answers = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.INTEREST)
    expressed_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    shortlisted_at = models.DateTimeField(null=True, blank=True)
    interviewed_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    interview_outcome = models.CharField(
        max_length=16, choices=Interview.choices, blank=True, default=Interview.NONE
    )
    interview_notes = models.TextField(blank=True)
    decision_reason = models.TextField(blank=True)
    fellow = models.OneToOneField(
        Fellow, null=True, blank=True, on_delete=models.SET_NULL, related_name="application"
    )

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["-expressed_at", "-id"]
        constraints = [
            models.UniqueConstraint(Lower("email"), "call", name="application_once_per_call")
        ]
        indexes = [models.Index(fields=["call", "status"], name="application_call_status")]

    def __str__(self):
        return f"{self.full_name} ({self.call.cohort})"

    def save(self, *args, **kwargs):
        if not self.token:
            self.token = secrets.token_urlsafe(32)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse(
            "cohort:application",
            kwargs={"programme_slug": self.programme.slug, "application_uuid": self.uuid},
        )

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL


class Review(models.Model):
    """One reviewer's scores of one application against the programme's criteria."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews"
    )
    # {criterion uuid: score 1..5}; the mean is kept beside it for sorting and the funnel.
    scores = models.JSONField(default=dict)
    score = models.DecimalField(max_digits=3, decimal_places=2)
    comment = models.TextField(blank=True)
    submitted_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["submitted_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "reviewer"], name="review_once_per_reviewer"
            )
        ]

    def __str__(self):
        return f"Review of {self.application.full_name} by {self.reviewer}"


class PeopleImport(models.Model):
    """A confirmed spreadsheet import. Large files are saved by a background job; every import
    stays listed (who, when, how many) once its rows have been saved or refused."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Importing"
        DONE = "done", "Imported"
        FAILED = "failed", "Nothing imported"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12)
    cohort = models.ForeignKey(
        Cohort, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    filename = models.CharField(max_length=255, blank=True)
    row_count = models.PositiveIntegerField(default=0)
    # The checked rows, kept only until the job has run (they hold personal data).
    state = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    imported_count = models.PositiveIntegerField(default=0)
    invitations_sent = models.PositiveIntegerField(default=0)
    problem = models.TextField(blank=True)
    # [{"row": 7, "column": "email", "message": "..."}] when the rows were refused.
    row_problems = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Import of {self.row_count} {self.kind} ({self.get_status_display().lower()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


# --- The partner API (DESIGN §9) ----------------------------------------------------------------


class ApiScope(models.TextChoices):
    METRICS_READ = "metrics:read", "Read the programme's metrics and Patient Impact forecast"
    PEOPLE_READ = "people:read", "Read its own mentors and consented fellows and ventures"
    EVENTS_READ = "events:read", "Read published events and opportunities"
    OPPORTUNITIES_WRITE = "opportunities:write", "Post, change and close its own opportunities"


MAX_KEY_DAYS = 366


class PartnerKey(models.Model):
    """An API key for a partner organisation in one programme: the programme is the tenant of
    every request made with it. Only a hash of the key is kept (the partner sees the key once,
    when staff create it); `prefix` finds the row, the hash proves the rest."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(
        max_length=80, help_text="What the key is for, such as 'AstraZeneca metrics dashboard'."
    )
    prefix = models.CharField(max_length=12, unique=True, editable=False)
    hashed_key = models.CharField(max_length=200, editable=False)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)

    # Authentication finds a key before any tenant is known (the key names the tenant), so it
    # reads with scopes disabled (cohort.partner_api).
    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "partner API key"

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_usable(self) -> bool:
        return not self.is_revoked and not self.is_expired

    def scope_labels(self) -> list[str]:
        return [ApiScope(s).label for s in self.scopes if s in ApiScope.values]


class PartnerKeyUse(models.Model):
    """One request made with a partner key: when, what, and how it was answered."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    key = models.ForeignKey(PartnerKey, on_delete=models.CASCADE, related_name="uses")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300)
    status = models.PositiveSmallIntegerField()

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "partner API key use"

    def __str__(self):
        return f"{self.method} {self.path} → {self.status}"


class IdempotentRequest(models.Model):
    """A POST made with an Idempotency-Key header, and the answer it got: the same key and
    body again get the same answer without doing the work twice."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    key = models.ForeignKey(PartnerKey, on_delete=models.CASCADE, related_name="+")
    idempotency_key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    body = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(programme="programme")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["key", "idempotency_key"], name="idempotency_key_once_per_api_key"
            )
        ]

    def __str__(self):
        return f"{self.idempotency_key} → {self.status}"
