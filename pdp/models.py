"""Personal Development Plans: the programme's competency framework, each fellow's plan for
their cohort year, its SMART objectives with actions and evidence, the mentor's agreement and
the history of every change.

Progress is derived, never typed: an objective's progress comes from its actions and status,
and a plan's fulfilment from its objectives (`PDP.fulfilment`)."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from cohort.models import Fellow, Programme
from cohort.scoping import ScopedManager


class CompetencyDomain(models.Model):
    """A domain of the programme's competency framework, such as "Finance and investment"."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=120)
    descriptor = models.TextField(
        max_length=1000, blank=True, help_text="What being competent in this domain looks like."
    )

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "name"], name="domain_unique_name")
        ]

    def __str__(self):
        return self.name


class PDP(models.Model):
    """One fellow's plan for their cohort year."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Waiting for the mentor"
        RETURNED = "returned", "Returned with comments"
        AGREED = "agreed", "Agreed"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    fellow = models.OneToOneField(Fellow, on_delete=models.CASCADE, related_name="pdp")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    submitted_at = models.DateTimeField(null=True, blank=True)
    agreed_at = models.DateTimeField(null=True, blank=True)
    agreed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The objectives as the mentor agreed them, to show what changed since.
    agreed_snapshot = models.JSONField(default=dict, blank=True)
    mentor_comments = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(programme="programme")

    class Meta:
        verbose_name = "PDP"
        verbose_name_plural = "PDPs"
        ordering = ["fellow__user__full_name"]

    def __str__(self):
        return f"PDP of {self.fellow}"


class Objective(models.Model):
    """A SMART objective: what, why, how success is measured, by when, in which domain."""

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", "Not started"
        IN_PROGRESS = "in_progress", "In progress"
        ACHIEVED = "achieved", "Achieved"
        DROPPED = "dropped", "Dropped"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    pdp = models.ForeignKey(PDP, on_delete=models.CASCADE, related_name="objectives")
    domain = models.ForeignKey(
        CompetencyDomain, on_delete=models.PROTECT, related_name="objectives"
    )
    title = models.CharField("what", max_length=200, help_text="What you will achieve.")
    rationale = models.TextField("why", max_length=2000, blank=True)
    measure = models.TextField(
        "how success is measured",
        max_length=1000,
        help_text="How you, your mentor and the programme will know it is done.",
    )
    target_date = models.DateField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NOT_STARTED)
    dropped_reason = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.title

    @property
    def progress(self) -> int:
        """0 to 100, derived: achieved is 100; otherwise the share of its actions done."""
        if self.status == self.Status.ACHIEVED:
            return 100
        actions = list(self.actions.all())
        if not actions:
            return 0
        return round(100 * sum(a.done for a in actions) / len(actions))


class Action(models.Model):
    """A step towards an objective; ticking actions off is what moves its progress."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="actions")
    text = models.CharField(max_length=300)
    done = models.BooleanField(default=False)
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.text


def evidence_upload_path(evidence, filename: str) -> str:
    """Where an evidence file is kept: under the programme and a random name, never the name
    the person gave it (that is kept in `original_name` and used only on download)."""
    return f"evidence/{evidence.programme_id}/{uuid.uuid4().hex}"


class Evidence(models.Model):
    """Evidence for an objective: a note, a link or an uploaded file."""

    class Kind(models.TextChoices):
        NOTE = "note", "Note"
        LINK = "link", "Link"
        FILE = "file", "File"
        EVENT = "event", "Event attended"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="evidence")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    title = models.CharField(max_length=200)
    note = models.TextField(max_length=5000, blank=True)
    url = models.URLField(max_length=500, blank=True)
    file = models.FileField(upload_to=evidence_upload_path, max_length=200, blank=True)
    original_name = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=120, blank=True)
    size = models.PositiveIntegerField(default=0)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)
    # Set on evidence that attaches itself (an event attended: "registration:<uuid>"), so it is
    # added once per objective and taken away again if the attendance is corrected.
    source_key = models.CharField(max_length=80, blank=True, editable=False)

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["added_at", "id"]
        verbose_name_plural = "evidence"
        constraints = [
            models.UniqueConstraint(
                fields=["objective", "source_key"],
                condition=~models.Q(source_key=""),
                name="evidence_source_once_per_objective",
            )
        ]

    def __str__(self):
        return self.title


class PDPChange(models.Model):
    """One change to a plan: who, when, what, and the values before and after."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    pdp = models.ForeignKey(PDP, on_delete=models.CASCADE, related_name="changes")
    objective = models.ForeignKey(
        Objective, null=True, blank=True, on_delete=models.SET_NULL, related_name="changes"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=40)
    summary = models.CharField(max_length=300)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return self.summary
