"""Mentorships and the matching that proposes them.

Matching lives here rather than in `cohort` because it reads and creates mentorships, and
dependencies point one way (`cohort` ← `notifications` ← … ← `mentoring`, DESIGN §3).
The year's meetings, milestones and sign-offs join this module in the mentoring issue.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from cohort.models import Cohort, Fellow, Mentor, Programme
from cohort.scoping import ScopedManager


class Mentorship(models.Model):
    """A fellow and their industry mentor for a cohort's year. Ending one keeps the record
    (with who ended it and why) so the fellow can be matched again."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    cohort = models.ForeignKey(Cohort, on_delete=models.PROTECT, related_name="mentorships")
    fellow = models.ForeignKey(Fellow, on_delete=models.CASCADE, related_name="mentorships")
    mentor = models.ForeignKey(Mentor, on_delete=models.PROTECT, related_name="mentorships")
    started_on = models.DateField(default=timezone.localdate)
    ended_on = models.DateField(null=True, blank=True)
    end_reason = models.TextField(blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Why the platform proposed this pair, kept for the people who meet because of it.
    fit_reasons = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["-started_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["fellow"],
                condition=models.Q(ended_on__isnull=True),
                name="mentorship_one_active_per_fellow",
            )
        ]

    def __str__(self):
        return f"{self.fellow} with {self.mentor}"

    @property
    def is_active(self) -> bool:
        return self.ended_on is None


class MatchPair(models.Model):
    """A pair in a cohort's matching while staff prepare it: proposed by the platform, locked
    by staff (kept on every re-run) or excluded (never proposed again). Publishing turns the
    proposed and locked pairs into mentorships."""

    class State(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        LOCKED = "locked", "Locked"
        EXCLUDED = "excluded", "Excluded"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="match_pairs")
    fellow = models.ForeignKey(Fellow, on_delete=models.CASCADE, related_name="match_pairs")
    mentor = models.ForeignKey(Mentor, on_delete=models.CASCADE, related_name="match_pairs")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PROPOSED)
    score = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    reasons = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["fellow__user__full_name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["fellow", "mentor"], name="match_pair_unique"),
            # A fellow has at most one proposed or locked mentor at a time.
            models.UniqueConstraint(
                fields=["fellow"],
                condition=~models.Q(state="excluded"),
                name="match_pair_one_per_fellow",
            ),
        ]

    def __str__(self):
        return f"{self.fellow} ↔ {self.mentor} ({self.get_state_display()})"


class Connection(models.Model):
    """A networking connection between two members of a programme (a fellow with a fellow or
    with a mentor): requested, then accepted or declined. Accepted connections are dated so the
    programme's metrics can count new ones."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a reply"
        ACCEPTED = "accepted", "Connected"
        DECLINED = "declined", "Declined"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="connections_requested"
    )
    addressee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="connections_received"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    responded_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "requester", "addressee"], name="connection_unique_pair"
            ),
            models.CheckConstraint(
                condition=~models.Q(requester=models.F("addressee")), name="connection_not_self"
            ),
        ]

    def __str__(self):
        return f"{self.requester} → {self.addressee} ({self.get_status_display().lower()})"
