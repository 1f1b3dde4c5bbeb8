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


# --- Patient Impact forecast (DESIGN §8) ------------------------------------------------------

# Sanity limits at the field: beyond them a number is almost certainly a typing mistake.
MAX_LAUNCH_DELAY_YEARS = 10
MAX_SITES = 10_000
MAX_PATIENTS_PER_SITE = 10_000_000
MAX_QALYS_PER_PATIENT = 50
MAX_SAVING_PER_PATIENT = 10_000_000


def _probability_field(label: str, default: float):
    return models.DecimalField(
        label,
        max_digits=4,
        decimal_places=3,
        default=Decimal(str(default)),
        validators=[
            MinValueValidator(Decimal("0"), "Give a probability from 0 to 1, such as 0.35."),
            MaxValueValidator(Decimal("1"), "Give a probability from 0 to 1, such as 0.35."),
        ],
    )


def _rate_field(label: str, default: str, help_text: str):
    return models.DecimalField(
        label,
        max_digits=5,
        decimal_places=2,
        default=Decimal(default),
        help_text=help_text,
        validators=[
            MinValueValidator(Decimal("0"), "Give a yearly rate from 0% to 20%."),
            MaxValueValidator(Decimal("20"), "Give a yearly rate from 0% to 20%."),
        ],
    )


def _pounds_field(label: str, default: int, help_text: str = ""):
    return models.DecimalField(
        label,
        max_digits=12,
        decimal_places=2,
        default=Decimal(default),
        help_text=help_text,
        validators=[
            MinValueValidator(Decimal("1"), "Give an amount of at least £1."),
            MaxValueValidator(Decimal("10000000"), "That amount is too large: check it."),
        ],
    )


class ForecastSettings(models.Model):
    """A programme's Patient Impact forecast settings: how likely a venture at each stage is to
    reach adoption, the adoption curve, the number of draws and years, and the Green Book's
    discount rates and value of a QALY. Created with the design's defaults on first use."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.OneToOneField(Programme, on_delete=models.CASCADE, related_name="+")
    probability_idea = _probability_field("idea", 0.10)
    probability_prototype = _probability_field("prototype", 0.20)
    probability_pilot = _probability_field("pilot", 0.35)
    probability_evidence = _probability_field("evidence", 0.60)
    probability_scaling = _probability_field("scaling", 0.85)
    bass_p = models.DecimalField(
        "Bass p (innovation)",
        max_digits=5,
        decimal_places=4,
        default=Decimal("0.03"),
        help_text="How readily sites adopt on their own. Published values are about 0.01 to 0.05.",
        validators=[
            MinValueValidator(Decimal("0.0001"), "Give a number above 0, such as 0.03."),
            MaxValueValidator(Decimal("1"), "Give a number no more than 1, such as 0.03."),
        ],
    )
    bass_q = models.DecimalField(
        "Bass q (imitation)",
        max_digits=5,
        decimal_places=4,
        default=Decimal("0.38"),
        help_text="How readily sites follow those that adopted. Published values are about "
        "0.3 to 0.5.",
        validators=[
            MinValueValidator(Decimal("0.0001"), "Give a number above 0, such as 0.38."),
            MaxValueValidator(Decimal("1"), "Give a number no more than 1, such as 0.38."),
        ],
    )
    draws = models.PositiveIntegerField(
        "number of draws",
        default=10_000,
        help_text="Monte Carlo draws per forecast, from 1,000 to 100,000.",
        validators=[
            MinValueValidator(1_000, "Use at least 1,000 draws."),
            MaxValueValidator(100_000, "Use at most 100,000 draws."),
        ],
    )
    horizon_years = models.PositiveSmallIntegerField(
        "years forecast",
        default=5,
        validators=[
            MinValueValidator(1, "Forecast at least 1 year."),
            MaxValueValidator(20, "Forecast at most 20 years."),
        ],
    )
    cost_discount_rate = _rate_field(
        "cost discount rate (% a year)", "3.5", "HM Treasury Green Book: 3.5% for costs."
    )
    health_discount_rate = _rate_field(
        "health discount rate (% a year)", "1.5", "Green Book: 1.5% for health effects."
    )
    qaly_value = _pounds_field("value of a QALY (£)", 70_000, "Green Book: £70,000.")
    nice_threshold_low = _pounds_field("NICE threshold, low (£ per QALY)", 20_000)
    nice_threshold_high = _pounds_field("NICE threshold, high (£ per QALY)", 30_000)
    # The run's seed: fixed per programme, so the same inputs give the same forecast and a
    # venture's numbers move only when its inputs move (each venture has its own stream).
    seed = models.BigIntegerField(default=0, editable=False)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ScopedManager(programme="programme")

    class Meta:
        verbose_name = "forecast settings"
        verbose_name_plural = "forecast settings"

    def __str__(self):
        return f"Forecast settings of {self.programme}"

    STAGE_FIELDS = {
        "idea": "probability_idea",
        "prototype": "probability_prototype",
        "pilot": "probability_pilot",
        "evidence": "probability_evidence",
        "scaling": "probability_scaling",
    }

    def clean(self):
        if (
            self.nice_threshold_low is not None
            and self.nice_threshold_high is not None
            and self.nice_threshold_low > self.nice_threshold_high
        ):
            raise ValidationError(
                {
                    "nice_threshold_low": "NICE threshold: the low cannot be above the high "
                    f"(£{self.nice_threshold_high:,.0f})."
                }
            )

    def stage_probabilities(self) -> dict[str, float]:
        return {stage: float(getattr(self, name)) for stage, name in self.STAGE_FIELDS.items()}

    def to_engine(self):
        """The engine's settings (rates as fractions: 3.5% is 0.035)."""
        from . import forecast as engine

        return engine.ForecastSettings(
            bass_p=float(self.bass_p),
            bass_q=float(self.bass_q),
            horizon_years=int(self.horizon_years),
            draws=int(self.draws),
            stage_probabilities=self.stage_probabilities(),
            cost_discount_rate=float(self.cost_discount_rate) / 100,
            health_discount_rate=float(self.health_discount_rate) / 100,
            qaly_value=float(self.qaly_value),
            nice_threshold_low=float(self.nice_threshold_low),
            nice_threshold_high=float(self.nice_threshold_high),
        )


class ForecastInputStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Waiting for review"
    REVIEWED = "reviewed", "Reviewed"
    RETURNED = "returned", "Returned with a reason"


# (field prefix, label used to start a message, what it is in a list of what is missing,
#  decimal places, maximum, required to forecast)
FORECAST_ESTIMATES = (
    ("launch_delay", "Launch delay", "launch delay (years)", 1, MAX_LAUNCH_DELAY_YEARS, True),
    (
        "market_potential",
        "Market potential",
        "market potential (NHS sites that could adopt)",
        0,
        MAX_SITES,
        True,
    ),
    (
        "patients_per_site",
        "Patients per site per year",
        "patients per adopting site per year",
        0,
        MAX_PATIENTS_PER_SITE,
        True,
    ),
    (
        "qalys_per_patient",
        "QALYs per patient",
        "QALYs per patient",
        3,
        MAX_QALYS_PER_PATIENT,
        False,
    ),
    (
        "savings_per_patient",
        "£ saved per patient",
        "£ saved per patient",
        2,
        MAX_SAVING_PER_PATIENT,
        False,
    ),
)
ESTIMATE_PARTS = ("low", "likely", "high")


def _estimate_field(places: int):
    return models.DecimalField(max_digits=14, decimal_places=places, null=True, blank=True)


class ForecastInput(models.Model):
    """A venture's forecast inputs, each a (low, likely, high) estimate, with the fellow's
    reasons for them: entered by the fellow, reviewed by programme staff. Only reviewed inputs
    count in the programme's and cohorts' forecasts."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    venture = models.OneToOneField(Venture, on_delete=models.CASCADE, related_name="+")
    launch_delay_low = _estimate_field(1)
    launch_delay_likely = _estimate_field(1)
    launch_delay_high = _estimate_field(1)
    market_potential_low = _estimate_field(0)
    market_potential_likely = _estimate_field(0)
    market_potential_high = _estimate_field(0)
    patients_per_site_low = _estimate_field(0)
    patients_per_site_likely = _estimate_field(0)
    patients_per_site_high = _estimate_field(0)
    qalys_per_patient_low = _estimate_field(3)
    qalys_per_patient_likely = _estimate_field(3)
    qalys_per_patient_high = _estimate_field(3)
    savings_per_patient_low = _estimate_field(2)
    savings_per_patient_likely = _estimate_field(2)
    savings_per_patient_high = _estimate_field(2)
    assumptions = models.TextField(
        "why these numbers",
        max_length=4000,
        blank=True,
        help_text="Where each estimate comes from: a pilot's figures, a market study, a "
        "published trial. Staff read it when they review the inputs.",
    )
    status = models.CharField(
        max_length=10, choices=ForecastInputStatus.choices, default=ForecastInputStatus.DRAFT
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Bumped on every change: a save names the version it started from (no silent overwrite).
    version = models.PositiveIntegerField(default=1)

    objects = ScopedManager(programme="programme")

    class Meta:
        verbose_name = "forecast inputs"
        verbose_name_plural = "forecast inputs"
        ordering = ["-updated_at", "-id"]

    def __str__(self):
        return f"Forecast inputs of {self.venture}"

    def estimate(self, prefix: str):
        """(low, likely, high) as floats, or None when none of the three is given."""
        values = [getattr(self, f"{prefix}_{part}") for part in ESTIMATE_PARTS]
        if all(v is None for v in values):
            return None
        return tuple(None if v is None else float(v) for v in values)

    def clean(self):
        errors: dict[str, str] = {}
        for prefix, label, _, _, maximum, _ in FORECAST_ESTIMATES:
            self._check_estimate(prefix, label, maximum, errors)
        if errors:
            raise ValidationError(errors)

    def _check_estimate(self, prefix, label, maximum, errors):
        values = {part: getattr(self, f"{prefix}_{part}") for part in ESTIMATE_PARTS}
        given = [part for part, v in values.items() if v is not None]
        if not given:
            return
        if len(given) < 3:
            for part in ESTIMATE_PARTS:
                if values[part] is None:
                    errors[f"{prefix}_{part}"] = (
                        f"{label}: give the {part} estimate too, or leave all three empty "
                        "until you know."
                    )
            return
        low, likely, high = (values[p] for p in ESTIMATE_PARTS)
        for part in ESTIMATE_PARTS:
            if values[part] < 0:
                errors[f"{prefix}_{part}"] = f"{label}: the {part} estimate cannot be negative."
        if any(f"{prefix}_{p}" in errors for p in ESTIMATE_PARTS):
            return
        if low > high:
            errors[f"{prefix}_low"] = (
                f"{label}: the low estimate cannot be above the high estimate."
            )
        elif likely < low:
            errors[f"{prefix}_likely"] = (
                f"{label}: the likely estimate cannot be below the low estimate."
            )
        elif likely > high:
            errors[f"{prefix}_likely"] = (
                f"{label}: the likely estimate cannot be above the high estimate."
            )
        elif high > maximum:
            errors[f"{prefix}_high"] = (
                f"{label}: the high estimate cannot be more than {maximum:,}: check it."
            )

    def missing(self) -> list[str]:
        """What must still be given before the venture can be forecast, in words."""
        return [
            missing
            for prefix, _, missing, _, _, required in FORECAST_ESTIMATES
            if required and self.estimate(prefix) is None
        ]

    def to_engine(self, venture=None):
        """The engine's VentureInputs (keyed by the venture's UUID, its stage from the venture)."""
        from . import forecast as engine

        venture = venture or self.venture
        return engine.VentureInputs(
            key=str(venture.uuid),
            name=venture.name,
            stage=venture.stage,
            **{prefix: self.estimate(prefix) for prefix, *_ in FORECAST_ESTIMATES},
        )


class ForecastRun(models.Model):
    """One stored forecast: of a venture, a cohort or the whole programme, with the inputs,
    settings and seed it was made from and what it gave. Runs are never changed; pages show
    the latest of each."""

    class Scope(models.TextChoices):
        VENTURE = "venture", "Venture"
        COHORT = "cohort", "Cohort"
        PROGRAMME = "programme", "Programme"

    class Trigger(models.TextChoices):
        INPUTS_CHANGED = "inputs_changed", "Inputs changed"
        REVIEWED = "reviewed", "Inputs reviewed"
        SETTINGS_CHANGED = "settings_changed", "Settings changed"
        NIGHTLY = "nightly", "Nightly check"
        ON_DEMAND = "on_demand", "On demand"
        DEMO = "demo", "Demo data"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=10, choices=Scope.choices)
    venture = models.ForeignKey(
        Venture, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    cohort = models.ForeignKey(
        "cohort.Cohort", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    created_at = models.DateTimeField(default=timezone.now)
    # Declared before `settings` below, which shadows django.conf.settings in this class body.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The status of a venture's inputs when it ran: a fellow's preview of a draft says so.
    input_status = models.CharField(max_length=10, blank=True)
    inputs = models.JSONField(default=dict, help_text="The engine's inputs, by venture UUID.")
    settings = models.JSONField(default=dict)
    seed = models.BigIntegerField()
    outputs = models.JSONField(default=dict)
    ventures_count = models.PositiveIntegerField(default=0)
    missing = models.JSONField(default=list, blank=True)
    # SHA-256 of (scope, inputs, settings, seed): a second run of the same is not stored again.
    fingerprint = models.CharField(max_length=64)

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["programme", "scope", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(scope="venture", venture__isnull=False, cohort__isnull=True)
                    | models.Q(scope="cohort", venture__isnull=True, cohort__isnull=False)
                    | models.Q(scope="programme", venture__isnull=True, cohort__isnull=True)
                ),
                name="forecast_run_scope_matches_its_target",
            )
        ]

    def __str__(self):
        target = self.venture or self.cohort or self.programme
        return f"Forecast of {target}, {timezone.localtime(self.created_at):%d %b %Y %H:%M}"

    def summary_dict(self) -> dict:
        """The engine's ForecastSummary.to_dict() shape, for prospective_check and from_dict."""
        return {
            "version": 1,
            "seed": self.seed,
            "settings": self.settings,
            "inputs": [],
            "outputs": self.outputs,
        }


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


class ProgrammeReport(models.Model):
    """The annual programme report (PDF), built in the background: its progress while it is
    made, then the document itself, kept in the database so the web and the worker need no
    shared disk."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Being written"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    cohort = models.ForeignKey(
        "cohort.Cohort",
        on_delete=models.CASCADE,
        related_name="+",
        help_text="The programme year the report covers (the cohort's year).",
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    steps_total = models.PositiveSmallIntegerField(default=3)
    steps_done = models.PositiveSmallIntegerField(default=0)
    current_step = models.CharField(max_length=120, blank=True)
    pdf = models.BinaryField(null=True, blank=True, editable=False)
    size = models.PositiveIntegerField(default=0)
    problem = models.TextField(blank=True)

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Programme report for {self.cohort} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent_done(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return round(100 * self.steps_done / self.steps_total) if self.steps_total else 0
