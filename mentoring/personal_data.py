"""What the mentoring app holds about a person (accounts.personal_data).

Called under scopes_disabled(): every query below filters to the one person it is given.
Signed records are kept exactly as they are: a mentor's signature covers their content
(mentoring.records), and erasure pseudonymises people through their account, which the
signatures name by permanent id only, so they still verify afterwards.
"""

from __future__ import annotations

from django.db.models import Prefetch, Q

from accounts.personal_data import Erasure, keep, register, row

from .models import (
    Connection,
    MatchPair,
    Meeting,
    MeetingReminder,
    Mentorship,
    Milestone,
    MilestoneReview,
    SignOff,
)


def _programme(obj) -> str:
    return obj.programme.name


def _mentorships_of(user):
    return Q(mentorship__fellow__user=user) | Q(mentorship__mentor__user=user)


def export_mentorships(user):
    qs = (
        Mentorship.objects.filter(Q(fellow__user=user) | Q(mentor__user=user))
        .select_related("programme", "cohort", "fellow__user", "mentor__user")
        .order_by("started_on", "id")
    )
    return [
        row(
            m,
            [
                ("programme", _programme),
                ("cohort", lambda m: m.cohort.name),
                ("your_role", lambda m: "Fellow" if m.fellow.user_id == user.pk else "Mentor"),
                ("fellow", lambda m: m.fellow.user.display_name),
                ("mentor", lambda m: m.mentor.user.display_name),
                "started_on",
                "ended_on",
                "fit_reasons",
            ],
        )
        for m in qs
    ]


def erase_mentorships(erasure: Erasure):
    # The pairing stays (meetings hang off it and metrics count it); staff's reason for
    # ending it and the matching's reasons (read from the profile) go.
    qs = Mentorship.objects.filter(Q(fellow__user=erasure.user) | Q(mentor__user=erasure.user))
    erasure.tally("mentorships", qs.update(end_reason="", fit_reasons=[]))


def export_meetings(user):
    qs = (
        Meeting.objects.filter(_mentorships_of(user))
        .select_related(
            "programme", "mentorship__fellow__user", "mentorship__mentor__user", "signed_by"
        )
        .prefetch_related(
            Prefetch("milestones_agreed", queryset=Milestone.objects.order_by("due_on", "id")),
            Prefetch("reviews", queryset=MilestoneReview.objects.select_related("milestone")),
            Prefetch("sign_offs", queryset=SignOff.objects.select_related("milestone")),
        )
        .order_by("mentorship_id", "number")
    )
    return [
        {
            **row(
                m,
                [
                    ("programme", _programme),
                    ("fellow", lambda m: m.mentorship.fellow.user.display_name),
                    ("mentor", lambda m: m.mentorship.mentor.user.display_name),
                    "uuid",
                    "number",
                    "status",
                    "held_on",
                    "format",
                    "discussion",
                    "fellow_reflection",
                    "mentor_advice",
                    "pdp_agreed",
                    "submitted_at",
                    "return_comments",
                    "signed_at",
                    ("signed_by", lambda m: m.signed_by.display_name if m.signed_by else None),
                ],
            ),
            "milestones_agreed": [
                row(
                    ms,
                    [
                        "uuid",
                        "title",
                        "measure",
                        "due_on",
                        "current_due_on",
                        "status",
                        "confirmed_at",
                    ],
                )
                for ms in m.milestones_agreed.all()
            ],
            "milestone_reviews": [
                row(
                    r,
                    [
                        ("milestone", lambda r: r.milestone.title),
                        "outcome",
                        "comment",
                        "new_due_on",
                        "evidence",
                    ],
                )
                for r in m.reviews.all()
            ],
            "sign_offs": [
                row(
                    s,
                    [
                        "kind",
                        ("milestone", lambda s: s.milestone.title if s.milestone else None),
                        "signed_at",
                        "method",
                        "digest",
                        "reopened_at",
                        "reopen_reason",
                    ],
                )
                for s in m.sign_offs.all()
            ],
        }
        for m in qs
    ]


def erase_meetings(erasure: Erasure):
    # Only records that are not signed: a signed record is sealed (and PostgreSQL refuses
    # changes to it). What goes is what the person wrote alone: the fellow's reflection, or
    # the mentor's advice and comments. The discussion is both people's record of the meeting.
    user = erasure.user
    unsigned = Meeting.objects.exclude(status=Meeting.Status.SIGNED)
    changed = unsigned.filter(mentorship__fellow__user=user).update(fellow_reflection="")
    changed += unsigned.filter(mentorship__mentor__user=user).update(
        mentor_advice="", return_comments=""
    )
    erasure.tally("unsigned meeting records", changed)


def export_connections(user):
    qs = (
        Connection.objects.filter(Q(requester=user) | Q(addressee=user))
        .select_related("programme", "requester", "addressee")
        .order_by("created_at", "id")
    )
    return [
        row(
            c,
            [
                ("programme", _programme),
                ("direction", lambda c: "sent" if c.requester_id == user.pk else "received"),
                (
                    "with",
                    lambda c: (
                        (c.addressee if c.requester_id == user.pk else c.requester).display_name
                    ),
                ),
                "status",
                "message",
                "created_at",
                "responded_at",
            ],
        )
        for c in qs
    ]


def erase_connections(erasure: Erasure):
    user = erasure.user
    mine = Connection.objects.filter(Q(requester=user) | Q(addressee=user))
    # Accepted connections stay, without their message, so the programme's "new connections"
    # figure for past periods still adds up; requests never accepted go.
    removed = mine.exclude(status=Connection.Status.ACCEPTED).delete()[0]
    kept = mine.filter(status=Connection.Status.ACCEPTED).update(message="")
    erasure.tally("connections", removed + kept)


def erase_match_pairs(erasure: Erasure):
    user = erasure.user
    erasure.tally(
        "matching proposals",
        MatchPair.objects.filter(Q(fellow__user=user) | Q(mentor__user=user)).delete()[0],
    )


SIGNED = (
    "A signed record is sealed by the mentor's signature (mentoring.records) and kept as it "
    "is; people in it are named by permanent id and pseudonymised through their account, so it "
    "still verifies after erasure. Exported with the meeting it belongs to (mentor_meetings)."
)


def register_all():
    register(
        Mentorship,
        section="mentorships",
        title="Your mentorships",
        description="Who mentored you, or whom you mentored, and when.",
        export=export_mentorships,
        erase=erase_mentorships,
    )
    register(
        Meeting,
        section="mentor_meetings",
        title="Your mentor meetings",
        description="The records of your mentor meetings, with the milestones agreed and "
        "reviewed at each and the mentor's sign-offs.",
        export=export_meetings,
        erase=erase_meetings,
        kept="Signed records are kept as they are: " + SIGNED,
    )
    keep(Milestone, reason=SIGNED)
    keep(MilestoneReview, reason=SIGNED)
    keep(SignOff, reason=SIGNED)
    register(
        Connection,
        section="connections",
        title="Your connections",
        description="Networking requests you sent and received, and who you are connected to.",
        export=export_connections,
        erase=erase_connections,
    )
    register(
        MatchPair,
        section="",
        title="",
        description="",
        erase=erase_match_pairs,
        not_exported="Not exported: staff's matching workspace, not shown to fellows or "
        "mentors (DESIGN §5); the mentorship it led to is exported.",
    )
    keep(
        MeetingReminder,
        reason="A note that a reminder was sent, so the daily job sends it once; it holds a "
        "kind and a date, nothing the person wrote or told us.",
    )
