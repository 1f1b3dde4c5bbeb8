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


# --- The year's meetings -----------------------------------------------------------------


class MeetingWindow(models.Model):
    """Staff's own dates for one meeting of a cohort's year, replacing the window derived from
    the cohort's dates (Cohort.meeting_windows) for that meeting number."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="meeting_windows_set")
    number = models.PositiveSmallIntegerField()
    opens_on = models.DateField()
    closes_on = models.DateField()

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["cohort", "number"]
        constraints = [
            models.UniqueConstraint(fields=["cohort", "number"], name="meeting_window_unique"),
            models.CheckConstraint(
                condition=models.Q(closes_on__gte=models.F("opens_on")),
                name="meeting_window_closes_after_opening",
            ),
        ]

    def __str__(self):
        return f"{self.cohort}: meeting {self.number}, {self.opens_on} to {self.closes_on}"


class Meeting(models.Model):
    """The record of one of the year's mentor meetings. Either party drafts it, the fellow
    submits it, the mentor signs it off (or returns it with comments). A signed record is
    locked: its content is hashed into a SignOff, and only staff can reopen it."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Waiting for the mentor's sign-off"
        RETURNED = "returned", "Returned with comments"
        SIGNED = "signed", "Signed off"

    class Format(models.TextChoices):
        IN_PERSON = "in_person", "In person"
        VIDEO = "video", "Video call"
        PHONE = "phone", "Phone call"

    # What a signature covers is records.meeting_content; migration 0004 has the PostgreSQL
    # triggers that refuse changes to it while the record is signed.

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    mentorship = models.ForeignKey(Mentorship, on_delete=models.PROTECT, related_name="meetings")
    number = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    held_on = models.DateField("date held", null=True, blank=True)
    format = models.CharField(max_length=10, choices=Format.choices, blank=True)
    discussion = models.TextField(
        "what you discussed", blank=True, help_text="The main points of the conversation."
    )
    fellow_reflection = models.TextField(
        "the fellow's reflection", blank=True, help_text="What the fellow takes from it."
    )
    mentor_advice = models.TextField(
        "the mentor's advice", blank=True, help_text="What the mentor suggests next."
    )
    # Meeting 1 is where the mentor agrees the PDP; the record says whether it was.
    pdp_agreed = models.BooleanField(default=False)
    # Optimistic concurrency: every save must name the version it started from.
    version = models.PositiveIntegerField(default=1)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    returned_at = models.DateTimeField(null=True, blank=True)
    return_comments = models.TextField(blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    digest = models.CharField(max_length=64, blank=True)
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopen_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["mentorship", "number"]
        constraints = [
            models.UniqueConstraint(fields=["mentorship", "number"], name="meeting_one_per_number"),
            models.CheckConstraint(condition=models.Q(number__gte=1), name="meeting_number_from_1"),
            # A signed record always carries its digest and signer.
            models.CheckConstraint(
                condition=~models.Q(status="signed")
                | (
                    models.Q(signed_at__isnull=False, signed_by__isnull=False)
                    & ~models.Q(digest="")
                ),
                name="meeting_signed_has_digest",
            ),
        ]
        indexes = [
            # The staff home page counts the records waiting (submitted, returned) across the
            # programme: without it, a scan of every meeting (issue #9's benchmark).
            models.Index(fields=["programme", "status"], name="meeting_programme_status"),
        ]

    def __str__(self):
        return f"Meeting {self.number}: {self.mentorship}"

    @property
    def is_editable(self) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.RETURNED)

    @property
    def is_signed(self) -> bool:
        return self.status == self.Status.SIGNED


class Milestone(models.Model):
    """Something the fellow will do by a date, agreed at a meeting (optionally toward a PDP
    objective) and reviewed at later meetings until it is achieved or missed."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACHIEVED = "achieved", "Achieved"
        PARTLY = "partly", "Partly achieved"
        MISSED = "missed", "Missed"
        DEFERRED = "deferred", "Deferred"

    # Reviewed at every later meeting until one of these.
    CLOSED = (Status.ACHIEVED, Status.MISSED)

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    mentorship = models.ForeignKey(Mentorship, on_delete=models.PROTECT, related_name="milestones")
    agreed_at = models.ForeignKey(
        Meeting, on_delete=models.PROTECT, related_name="milestones_agreed"
    )
    title = models.CharField("what", max_length=200)
    measure = models.CharField("how we will know", max_length=500)
    due_on = models.DateField("by when")
    objective = models.ForeignKey(
        "pdp.Objective",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="milestones",
        verbose_name="PDP objective",
    )
    # Derived from the reviews of signed meetings (services.milestone_refresh), kept here so
    # lists and metrics read it without replaying reviews.
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    current_due_on = models.DateField(null=True, blank=True)
    # The mentor's separate sign-off of an achieved milestone (the SignOff row holds the digest).
    confirmed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["due_on", "id"]

    def __str__(self):
        return self.title

    @property
    def is_closed(self) -> bool:
        return self.status in self.CLOSED

    @property
    def next_due_on(self):
        return self.current_due_on or self.due_on


class MilestoneReview(models.Model):
    """How a milestone stood at a meeting: achieved, partly, missed or deferred to a new date."""

    class Outcome(models.TextChoices):
        ACHIEVED = "achieved", "Achieved"
        PARTLY = "partly", "Partly achieved"
        MISSED = "missed", "Missed"
        DEFERRED = "deferred", "Deferred to a new date"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="reviews")
    milestone = models.ForeignKey(Milestone, on_delete=models.PROTECT, related_name="reviews")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    comment = models.TextField(max_length=2000)
    new_due_on = models.DateField("new date", null=True, blank=True)
    evidence = models.CharField(
        max_length=500,
        blank=True,
        help_text="Optional: a link to, or a short description of, what shows it.",
    )
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["meeting", "milestone__due_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "milestone"], name="review_one_per_meeting"),
            models.CheckConstraint(
                condition=~models.Q(outcome="deferred") | models.Q(new_due_on__isnull=False),
                name="review_deferred_has_date",
            ),
        ]

    def __str__(self):
        return f"{self.milestone}: {self.get_outcome_display()} at meeting {self.meeting.number}"


class SignOff(models.Model):
    """The mentor's signature of a meeting record, or of one achieved milestone: the canonical
    content as signed, and its SHA-256 digest. Rows are never changed, except to mark them
    reopened by staff; the earlier version stays readable from `content`."""

    class Kind(models.TextChoices):
        MEETING = "meeting", "Meeting record"
        MILESTONE = "milestone", "Achieved milestone"

    class Method(models.TextChoices):
        PASSWORD = "password", "Password"
        MFA = "mfa", "Authenticator code"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="sign_offs")
    milestone = models.ForeignKey(
        Milestone, null=True, blank=True, on_delete=models.PROTECT, related_name="sign_offs"
    )
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField()
    method = models.CharField(max_length=10, choices=Method.choices)
    content = models.JSONField()
    digest = models.CharField(max_length=64)
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reopen_reason = models.TextField(blank=True)

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["signed_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="meeting", milestone__isnull=True)
                | models.Q(kind="milestone", milestone__isnull=False),
                name="sign_off_kind_matches_target",
            ),
            # One live signature per meeting record and per milestone.
            models.UniqueConstraint(
                fields=["meeting"],
                condition=models.Q(kind="meeting", reopened_at__isnull=True),
                name="sign_off_one_live_per_meeting",
            ),
            models.UniqueConstraint(
                fields=["milestone"],
                condition=models.Q(kind="milestone", reopened_at__isnull=True),
                name="sign_off_one_live_per_milestone",
            ),
            models.CheckConstraint(
                condition=models.Q(reopened_at__isnull=True) | ~models.Q(reopen_reason=""),
                name="sign_off_reopen_has_reason",
            ),
        ]

    def __str__(self):
        what = self.milestone if self.milestone_id else self.meeting
        return f"Sign-off of {what} by {self.signed_by} ({self.digest[:12]}…)"

    @property
    def is_live(self) -> bool:
        return self.reopened_at is None


class MeetingReminder(models.Model):
    """A reminder or alert already sent, so the daily job sends each one once however often
    it runs (kind + key, e.g. "due_soon" + "3" for meeting 3)."""

    class Kind(models.TextChoices):
        DUE_SOON = "due_soon", "Meeting due soon"
        OVERDUE = "overdue", "Meeting overdue"
        SIGN_OFF_WAITING = "sign_off_waiting", "Record waiting for sign-off"
        STAFF_ALERT = "staff_alert", "No meeting: staff alerted"

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    mentorship = models.ForeignKey(Mentorship, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    key = models.CharField(max_length=60)
    sent_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(programme="programme")

    class Meta:
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["mentorship", "kind", "key"], name="meeting_reminder_once"
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.key}) for {self.mentorship}"
