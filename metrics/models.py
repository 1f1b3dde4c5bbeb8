"""Outcome records, metric snapshots and the Patient Impact forecast (DESIGN §6 to §8).

Fellows report their outcomes (funding raised, partnerships, patients reached, companies
formed, jobs created); staff verify them, and nothing counts in programme totals until it is
verified. Each quarter a fellow is asked to bring their outcomes up to date.

Nothing outside this app imports it (DESIGN §3): it reads the other apps, never the reverse.
"""

import uuid
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from cohort.models import Fellow, Organisation, Programme, Venture, company_number_validator
from cohort.scoping import ScopedManager

# A single amount above this is refused as a typing mistake (the largest rounds raised by UK
# health start-ups are in the tens of millions).
MAX_AMOUNT = Decimal("500000000")
MAX_PATIENTS = 100_000_000
MAX_JOBS = 100_000


class OutcomeStatus(models.TextChoices):
    REPORTED = "reported", "Waiting for verification"
    VERIFIED = "verified", "Verified"
    REJECTED = "rejected", "Not verified"


class OutcomeRecord(models.Model):
    """What every outcome record has: whose it is, and where its verification stands."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    fellow = models.ForeignKey(Fellow, on_delete=models.CASCADE, related_name="+")
    venture = models.ForeignKey(
        Venture, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=OutcomeStatus.choices, default=OutcomeStatus.REPORTED
    )
    evidence = models.TextField(
        "how it can be checked",
        max_length=2000,
        blank=True,
        help_text="A link, a reference or who can confirm it: staff use it to verify.",
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reported_at = models.DateTimeField(default=timezone.now)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True)
    # Bumped on every change: a save names the version it started from (no silent overwrite).
    version = models.PositiveIntegerField(default=1)

    objects = ScopedManager(programme="programme")

    class Meta:
        abstract = True
        ordering = ["-reported_at", "-id"]

    def clean(self):
        errors = {}
        if self.venture_id and self.fellow_id and self.venture.fellow_id != self.fellow_id:
            errors["venture"] = "Choose one of your own ventures."
        when = self.occurred_on()
        if when is not None and when > timezone.localdate():
            errors[self.DATE_FIELD] = "The date cannot be in the future."
        if when is not None and when < date(2000, 1, 1):
            errors[self.DATE_FIELD] = "Give a date from 2000 onwards."
        self.check_together(errors)
        if errors:
            raise ValidationError(errors)

    def check_together(self, errors: dict) -> None:
        """Rules across this kind's own fields; add to `errors` (all are shown at once)."""

    DATE_FIELD = ""

    def occurred_on(self):
        return getattr(self, self.DATE_FIELD, None) if self.DATE_FIELD else None


class FundingRecord(OutcomeRecord):
    """Money a fellow's venture raised: a grant, equity, a loan, a prize or contract revenue."""

    class Kind(models.TextChoices):
        GRANT = "grant", "Grant"
        EQUITY = "equity", "Equity investment"
        DEBT = "debt", "Loan or other debt"
        PRIZE = "prize", "Prize"
        CONTRACT = "contract", "Contract revenue"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount = models.DecimalField(
        "amount (£)",
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(MAX_AMOUNT)],
    )
    source = models.CharField(
        max_length=200, help_text="Who it came from, such as 'SBRI Healthcare' or 'Angel round'."
    )
    received_on = models.DateField("date received")

    DATE_FIELD = "received_on"

    class Meta(OutcomeRecord.Meta):
        verbose_name = "funding record"

    def __str__(self):
        return f"£{self.amount:,.0f} {self.get_kind_display().lower()} from {self.source}"


class PartnershipRecord(OutcomeRecord):
    """A partnership between a fellow's venture and an organisation."""

    class Kind(models.TextChoices):
        NHS_PILOT = "nhs_pilot", "NHS pilot"
        COMMERCIAL = "commercial", "Commercial"
        ACADEMIC = "academic", "Academic"
        INVESTOR = "investor", "Investor"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="One of the programme's organisations, if it is listed.",
    )
    partner_name = models.CharField(
        "partner", max_length=200, help_text="The organisation you partnered with."
    )
    started_on = models.DateField("date it started")
    description = models.TextField(max_length=2000, blank=True)

    DATE_FIELD = "started_on"

    class Meta(OutcomeRecord.Meta):
        verbose_name = "partnership"

    def __str__(self):
        return f"{self.get_kind_display()} partnership with {self.partner_name}"


class PatientReachRecord(OutcomeRecord):
    """Patients a venture actually reached in a period (not a forecast)."""

    patients = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_PATIENTS)]
    )
    period_start = models.DateField("from")
    period_end = models.DateField("to")
    how_counted = models.CharField(
        max_length=300,
        blank=True,
        help_text="For example 'unique users of the app' or 'patients triaged on the pathway'.",
    )

    DATE_FIELD = "period_end"

    class Meta(OutcomeRecord.Meta):
        verbose_name = "patients reached"
        verbose_name_plural = "patients reached"

    def __str__(self):
        return (
            f"{self.patients:,} patients, "
            f"{self.period_start:%d %b %Y} to {self.period_end:%d %b %Y}"
        )

    def check_together(self, errors: dict) -> None:
        if self.period_start and self.period_end and self.period_end < self.period_start:
            errors.setdefault("period_end", "The period must end on or after it starts.")


class CompanyRecord(OutcomeRecord):
    """A company a fellow formed for their venture."""

    company_name = models.CharField(max_length=200)
    company_number = models.CharField(
        "Companies House number", max_length=8, blank=True, validators=[company_number_validator]
    )
    incorporated_on = models.DateField("date incorporated")

    DATE_FIELD = "incorporated_on"

    class Meta(OutcomeRecord.Meta):
        verbose_name = "company formed"
        verbose_name_plural = "companies formed"

    def __str__(self):
        return self.company_name


class JobsRecord(OutcomeRecord):
    """Jobs a venture created, as counted on a date (full-time equivalent)."""

    jobs = models.DecimalField(
        "jobs created (full-time equivalent)",
        max_digits=8,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(MAX_JOBS)],
    )
    counted_on = models.DateField("as at")

    DATE_FIELD = "counted_on"

    class Meta(OutcomeRecord.Meta):
        verbose_name = "jobs created"
        verbose_name_plural = "jobs created"

    def __str__(self):
        return f"{self.jobs} jobs as at {self.counted_on:%d %b %Y}"


class OutcomeUpdate(models.Model):
    """A fellow's quarterly update of their outcomes: asked for each quarter, and shown as a
    task on their home page until they have done it (even if there is nothing new)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    fellow = models.ForeignKey(Fellow, on_delete=models.CASCADE, related_name="+")
    quarter_start = models.DateField(help_text="The first day of the quarter it covers.")
    completed_at = models.DateTimeField(default=timezone.now)
    nothing_new = models.BooleanField(default=False)

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["-quarter_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["fellow", "quarter_start"], name="outcome_update_once_a_quarter"
            )
        ]

    def __str__(self):
        return f"{self.fellow} — outcomes to {self.quarter_start:%B %Y}"


class MetricRun(models.Model):
    """One computation of every metric of a programme (nightly by beat, or asked for by staff).

    It records its progress so the page that asked for it can show a progress bar, and the
    snapshots it wrote point back to it."""

    class Trigger(models.TextChoices):
        NIGHTLY = "nightly", "Nightly"
        ON_DEMAND = "on_demand", "Asked for by staff"
        DEMO = "demo", "Demo data"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Computing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    steps_total = models.PositiveSmallIntegerField(default=0)
    steps_done = models.PositiveSmallIntegerField(default=0)
    current_step = models.CharField(max_length=120, blank=True)
    snapshot_count = models.PositiveIntegerField(default=0)
    problem = models.TextField(blank=True)

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["-created_at", "-id"]
        get_latest_by = "created_at"

    def __str__(self):
        return f"Metrics computed {self.created_at:%d %b %Y %H:%M} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent_done(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return round(100 * self.steps_done / self.steps_total) if self.steps_total else 0


class MetricSnapshot(models.Model):
    """The value of one metric for the programme (cohort empty) or one cohort, over one period.

    Period metrics have one snapshot per calendar month, so any span (a quarter, a programme
    year) is the sum of its months; a rate keeps its numerator and denominator for that reason.
    Cohort metrics (the funnel, returners, arrangements, EDI) have one per cohort, over the
    cohort's year. `breakdown` holds the figure split by kind or category; EDI counts are kept
    whole here and suppressed wherever they are shown (metrics.suppression)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    cohort = models.ForeignKey(
        "cohort.Cohort", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    run = models.ForeignKey(
        MetricRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="snapshots"
    )
    key = models.CharField(max_length=40, db_index=True)
    period_start = models.DateField()
    period_end = models.DateField()
    value = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    numerator = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    denominator = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    breakdown = models.JSONField(default=dict, blank=True)
    computed_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["key", "period_start", "cohort_id"]
        constraints = [
            # One figure per metric, cohort (or the programme) and period: a re-run replaces.
            models.UniqueConstraint(
                fields=["programme", "cohort", "key", "period_start"],
                name="metric_snapshot_once_per_cohort",
                condition=models.Q(cohort__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["programme", "key", "period_start"],
                name="metric_snapshot_once_per_programme",
                condition=models.Q(cohort__isnull=True),
            ),
        ]
        indexes = [models.Index(fields=["programme", "key", "period_start"])]

    def __str__(self):
        who = self.cohort.name if self.cohort_id else "programme"
        return f"{self.key} ({who}, {self.period_start:%b %Y})"


class MetricTarget(models.Model):
    """What staff aim for on one metric over one cohort's year, for the prospective check."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    cohort = models.ForeignKey(
        "cohort.Cohort",
        on_delete=models.CASCADE,
        related_name="+",
        help_text="The programme year the target is for (the cohort's year).",
    )
    key = models.CharField("metric", max_length=40)
    value = models.DecimalField(
        "target",
        max_digits=16,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    note = models.CharField(max_length=300, blank=True)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["cohort__starts_on", "key"]
        constraints = [
            models.UniqueConstraint(fields=["cohort", "key"], name="metric_target_once_per_year")
        ]

    def __str__(self):
        return f"Target for {self.key} in {self.cohort}"
