"""What the cohort app holds about a person, for subject access and erasure
(accounts.personal_data).

Called under scopes_disabled(): every query below filters to the one person it is given.
"""

from __future__ import annotations

from django.db.models import Q

from accounts.personal_data import Erasure, keep, not_personal, register, row

from .models import (
    FELLOW_PROFILE_FIELDS,
    Application,
    AuditEvent,
    EqualityData,
    Fellow,
    Invitation,
    Membership,
    Mentor,
    PartnerKey,
    PeopleImport,
    Review,
    Venture,
)
from .services import APPLICANT_FIELDS


def _programme(obj) -> str:
    return obj.programme.name


def export_memberships(user):
    qs = Membership.objects.filter(user=user).select_related("programme").order_by("created_at")
    return [row(m, [("programme", _programme), "role", "created_at"]) for m in qs]


def _invitations_to(user):
    return Invitation.objects.filter(Q(accepted_by=user) | Q(email__iexact=user.email))


def export_invitations(user):
    qs = _invitations_to(user).select_related("programme", "invited_by").order_by("created_at")
    return [
        row(
            i,
            [
                ("programme", _programme),
                "email",
                "role",
                "status",
                ("invited_by", lambda i: i.invited_by.display_name if i.invited_by else None),
                "message",
                "created_at",
                "expires_at",
                "accepted_at",
            ],
        )
        for i in qs
    ]


def erase_invitations(erasure: Erasure):
    changed = _invitations_to(erasure.user).update(email=erasure.pseudonymous_email, message="")
    erasure.tally("invitations", changed)


# What the fellow maintains, plus what staff set (cohort, profession).
FELLOW_FIELDS = [
    ("programme", _programme),
    ("cohort", lambda f: f.cohort.name),
    "profession",
    *FELLOW_PROFILE_FIELDS,
]


def export_fellows(user):
    qs = Fellow.objects.filter(user=user).select_related("programme", "cohort").order_by("id")
    return [row(f, FELLOW_FIELDS) for f in qs]


def erase_fellows(erasure: Erasure):
    # The categorical fields that programme metrics count (profession, region, arrangement,
    # returner) stay, so the programme's published figures still add up; the free text and
    # anything that narrows the person down (grade, specialty, employer, dates) goes, and
    # consent to share with partners is withdrawn.
    changed = Fellow.objects.filter(user=erasure.user).update(
        grade="",
        specialty="",
        employer="",
        interests="",
        help_needed="",
        arrangement_starts_on=None,
        arrangement_ends_on=None,
        consent_to_share=False,
    )
    erasure.tally("fellow profiles", changed)


def export_ventures(user):
    qs = Venture.objects.filter(fellow__user=user).select_related("programme").order_by("id")
    return [
        row(
            v,
            [("programme", _programme), "name", "summary", "stage", "sector", "company_number"],
        )
        for v in qs
    ]


def erase_ventures(erasure: Erasure):
    # Stage and sector stay for the programme's metrics and forecasts; the name, summary and
    # company number would identify the founder.
    changed = Venture.objects.filter(fellow__user=erasure.user).update(
        name="Venture of an erased person", summary="", company_number=""
    )
    erasure.tally("ventures", changed)


def export_equality(user):
    qs = EqualityData.objects.filter(fellow__user=user).select_related("programme")
    return [
        row(e, [("programme", _programme), "gender", "ethnic_group", "disability", "age_band"])
        for e in qs
    ]


def erase_equality(erasure: Erasure):
    # Special category data: deleted, not blanked. EDI reports then count the person as
    # "not answered", so totals still add up.
    erasure.tally(
        "equality answers", EqualityData.objects.filter(fellow__user=erasure.user).delete()[0]
    )


def export_mentors(user):
    qs = Mentor.objects.filter(user=user).select_related("programme", "organisation")
    return [
        row(
            m,
            [
                ("programme", _programme),
                ("organisation", lambda m: m.organisation.name if m.organisation else None),
                "job_title",
                "expertise",
                ("sectors", lambda m: m.sector_labels),
                "region",
                "capacity",
            ],
        )
        for m in qs.order_by("id")
    ]


def erase_mentors(erasure: Erasure):
    # Capacity 0: an erased mentor is never proposed in matching again.
    changed = Mentor.objects.filter(user=erasure.user).update(
        job_title="", expertise="", capacity=0
    )
    erasure.tally("mentor profiles", changed)


def _applications_of(user):
    return Application.objects.filter(Q(fellow__user=user) | Q(email__iexact=user.email))


def export_applications(user):
    qs = _applications_of(user).select_related("programme", "call__cohort").order_by("id")
    # Staff's interview notes and reviewers' scores are staff's assessment, not shown to the
    # applicant in the site (DESIGN §5); they are left to a formal request to the programme.
    return [
        row(
            a,
            [
                ("programme", _programme),
                ("cohort", lambda a: a.call.cohort.name),
                *APPLICANT_FIELDS,
                "answers",
                "status",
                "expressed_at",
                "submitted_at",
                "decided_at",
            ],
        )
        for a in qs
    ]


def erase_applications(erasure: Erasure):
    # The row stays with its status and dates: the recruitment funnel counts it.
    changed = _applications_of(erasure.user).update(
        email=erasure.pseudonymous_email,
        full_name=erasure.pseudonym,
        grade="",
        specialty="",
        employer="",
        idea="",
        answers={},
        interview_notes="",
        decision_reason="",
    )
    erasure.tally("applications", changed)


def register_all():
    register(
        Membership,
        section="programme_roles",
        title="Your roles in programmes",
        description="Each programme you belong to, your role in it and since when.",
        export=export_memberships,
        kept="The role a person held is the programme's record of who took part; it holds "
        "nothing but the role and a date, and the person is pseudonymised through the account.",
    )
    register(
        Invitation,
        section="invitations",
        title="Invitations to you",
        description="Invitations sent to your email address (without their secret links).",
        export=export_invitations,
        erase=erase_invitations,
    )
    register(
        Fellow,
        section="fellow_profiles",
        title="Your fellow profile",
        description="Your profession, grade, training arrangement and what you told the "
        "directory, in each programme where you are a fellow.",
        export=export_fellows,
        erase=erase_fellows,
    )
    register(
        Venture,
        section="ventures",
        title="Your ventures",
        description="The ventures you are building, as on your profile.",
        export=export_ventures,
        erase=erase_ventures,
    )
    register(
        EqualityData,
        section="equality_answers",
        title="Your equality monitoring answers",
        description="The optional answers you gave for equality monitoring.",
        export=export_equality,
        erase=erase_equality,
    )
    register(
        Mentor,
        section="mentor_profiles",
        title="Your mentor profile",
        description="Your organisation, job title, expertise and capacity as a mentor.",
        export=export_mentors,
        erase=erase_mentors,
    )
    register(
        Application,
        section="applications",
        title="Your applications",
        description="What you wrote when you applied to a programme, and where it stands.",
        export=export_applications,
        erase=erase_applications,
    )
    keep(
        AuditEvent,
        reason="The audit log is the programme's accountability record (DESIGN §11): who "
        "did what, and when. It is kept as written, including the address an actor had at "
        "the time; the erasure itself is logged with the pseudonym only.",
    )
    keep(
        Review,
        reason="A reviewer's scores decided a recruitment round and are kept as the "
        "programme's record of it; the reviewer is pseudonymised through their account, and "
        "an applicant's reviews are staff's assessment (not part of the self-service export).",
    )
    not_personal(
        PeopleImport,
        reason="A staff member's bulk-import job: it names them only as who ran it.",
    )
    not_personal(
        PartnerKey,
        reason="A partner API key: it names staff only as who created or revoked it.",
    )
