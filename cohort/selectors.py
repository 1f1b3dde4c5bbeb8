"""Reads used by more than one view. Each takes the tenant (or the person) explicitly."""

from django.db.models import Count, Q, QuerySet
from django_scopes import scopes_disabled

from .models import ROLE_PRECEDENCE, AuditEvent, Fellow, Invitation, Membership, Programme, Role


def user_programmes(*, user) -> list[dict]:
    """The programmes a person belongs to, with their roles there, for the switcher (1 query)."""
    if not user.is_authenticated:
        return []
    with scopes_disabled():
        rows = (
            Membership.objects.filter(user=user)
            .select_related("programme")
            .order_by("programme__name")
        )
        programmes: dict[int, dict] = {}
        for m in rows:
            entry = programmes.setdefault(m.programme_id, {"programme": m.programme, "roles": []})
            entry["roles"].append(m.role)
    for entry in programmes.values():
        entry["roles"].sort(key=ROLE_PRECEDENCE.index)
        entry["role_labels"] = [Role(r).label for r in entry["roles"]]
    return list(programmes.values())


def member_roles(*, programme: Programme, user) -> set[str]:
    if not user.is_authenticated:
        return set()
    return set(
        Membership.objects.filter(programme=programme, user=user).values_list("role", flat=True)
    )


def membership_list(
    *, programme: Programme, role: str = "", query: str = ""
) -> QuerySet[Membership]:
    qs = Membership.objects.filter(programme=programme).select_related("user")
    if role:
        qs = qs.filter(role=role)
    if query:
        qs = qs.filter(Q(user__email__icontains=query) | Q(user__full_name__icontains=query))
    return qs.order_by("user__full_name", "user__email", "role")


def membership_counts(*, programme: Programme) -> dict[str, int]:
    counts = dict(
        Membership.objects.filter(programme=programme)
        .order_by()  # the default ordering would join programme and user to 16,000 rows
        .values_list("role")
        .annotate(n=Count("id"))
        .values_list("role", "n")
    )
    return {role: counts.get(role, 0) for role in Role.values}


def invitation_list(*, programme: Programme) -> QuerySet[Invitation]:
    return Invitation.objects.filter(programme=programme).select_related("invited_by")


def open_invitation_count(*, programme: Programme) -> int:
    return Invitation.objects.filter(Invitation.open_q(), programme=programme).count()


def audit_list(*, programme: Programme, action_prefix: str = "") -> QuerySet[AuditEvent]:
    qs = AuditEvent.objects.filter(programme=programme).select_related("actor", "target_type")
    if action_prefix:
        qs = qs.filter(action__startswith=action_prefix)
    return qs


def fellow_for_user(*, programme: Programme, user) -> Fellow | None:
    """The person's most recent fellowship in this programme."""
    return (
        Fellow.objects.filter(programme=programme, user=user)
        .select_related("cohort")
        .order_by("-cohort__starts_on")
        .first()
    )


def fellow_directory(
    *,
    programme: Programme,
    viewer_roles,
    query: str = "",
    profession: str = "",
    region: str = "",
    sector: str = "",
    stage: str = "",
    cohort=None,
) -> QuerySet[Fellow]:
    """Fellows for the directory: a fixed number of queries however many there are.
    Partners see only fellows who consented to share their profile (DESIGN §5)."""
    from django.db.models import Prefetch

    from .models import Venture

    # Erased people leave the directory: it is for finding people, and they are no one now.
    qs = Fellow.objects.filter(programme=programme, user__erased_at__isnull=True).select_related(
        "user", "cohort"
    )
    if Role.PARTNER in viewer_roles and not viewer_roles & {Role.STAFF, Role.MENTOR, Role.FELLOW}:
        qs = qs.filter(consent_to_share=True)
    # Only a filter on ventures joins a fellow to several rows; DISTINCT over every column
    # of 13,000 fellows is otherwise most of the page's time (issue #9's benchmark).
    joins_ventures = bool(query or sector or stage)
    if query:
        qs = qs.filter(
            Q(user__full_name__icontains=query)
            | Q(specialty__icontains=query)
            | Q(interests__icontains=query)
            | Q(ventures__name__icontains=query)
        )
    if profession:
        qs = qs.filter(profession=profession)
    if region:
        qs = qs.filter(region=region)
    if cohort is not None:
        qs = qs.filter(cohort=cohort)
    if sector or stage:
        venture_filter = Q()
        if sector:
            venture_filter &= Q(ventures__sector=sector)
        if stage:
            venture_filter &= Q(ventures__stage=stage)
        qs = qs.filter(venture_filter)
    if joins_ventures:
        qs = qs.distinct()
    return qs.order_by("user__full_name", "pk").prefetch_related(
        Prefetch("ventures", queryset=Venture.objects.order_by("name"))
    )


def mentor_directory(
    *, programme: Programme, query: str = "", sector: str = "", organisation=None
) -> QuerySet:
    from .models import Mentor

    qs = Mentor.objects.filter(programme=programme, user__erased_at__isnull=True).select_related(
        "user", "organisation"
    )
    if query:
        qs = qs.filter(
            Q(user__full_name__icontains=query)
            | Q(expertise__icontains=query)
            | Q(job_title__icontains=query)
            | Q(organisation__name__icontains=query)
        )
    if organisation is not None:
        qs = qs.filter(organisation=organisation)
    if sector:
        # JSON containment is not portable to SQLite; the sector code is a plain word.
        qs = qs.filter(sectors__icontains=f'"{sector}"')
    return qs.order_by("user__full_name", "pk")


# --- recruitment ------------------------------------------------------------------------------

FUNNEL_STAGES = [
    ("expressed", "Expressed interest"),
    ("applied", "Applied"),
    ("shortlisted", "Shortlisted"),
    ("interviewed", "Interviewed"),
    ("appointed", "Appointed"),
]


def recruitment_funnel(*, programme: Programme, cohort=None) -> list[dict]:
    """Per cohort with a call (or only `cohort`): how many reached each stage and the
    conversion from the stage before. A stage counts everyone who reached it, even if
    declined later."""
    from .models import Application, Cohort

    applications = Application.objects.filter(programme=programme)
    cohorts = Cohort.objects.filter(programme=programme, call__isnull=False)
    if cohort is not None:
        applications = applications.filter(call__cohort=cohort)
        cohorts = cohorts.filter(pk=cohort.pk)
    counts = {
        row["call__cohort"]: row
        for row in applications.values("call__cohort").annotate(
            expressed=Count("id"),
            applied=Count("id", filter=Q(submitted_at__isnull=False)),
            shortlisted=Count("id", filter=Q(shortlisted_at__isnull=False)),
            interviewed=Count("id", filter=Q(interviewed_at__isnull=False)),
            appointed=Count("id", filter=Q(status=Application.Status.APPOINTED)),
            declined=Count("id", filter=Q(status=Application.Status.DECLINED)),
            withdrawn=Count("id", filter=Q(status=Application.Status.WITHDRAWN)),
        )
    }
    funnel = []
    for each in cohorts:
        row = counts.get(each.pk, {})
        stages, previous = [], None
        for key, label in FUNNEL_STAGES:
            value = row.get(key, 0)
            conversion = round(100 * value / previous) if previous else None
            stages.append({"key": key, "label": label, "count": value, "conversion": conversion})
            previous = value
        first = stages[0]["count"]
        funnel.append(
            {
                "cohort": each,
                "stages": stages,
                "declined": row.get("declined", 0),
                "withdrawn": row.get("withdrawn", 0),
                "overall": round(100 * stages[-1]["count"] / first) if first else None,
            }
        )
    return funnel


def application_list(*, call, viewer, query: str = "", status: str = ""):
    """A call's applications with their review figures and whether `viewer` has scored each
    (the page hides other reviewers' scores until the viewer has scored)."""
    from django.db.models import Avg, Exists, Max, Min, OuterRef

    from .models import Application, Review

    qs = (
        Application.objects.filter(call=call)
        .annotate(
            review_count=Count("reviews"),
            mean_score=Avg("reviews__score"),
            spread=Max("reviews__score") - Min("reviews__score"),
            reviewed_by_me=Exists(
                Review.objects.filter(application=OuterRef("pk"), reviewer=viewer)
            ),
        )
        .order_by("full_name", "id")
    )
    if query:
        qs = qs.filter(Q(full_name__icontains=query) | Q(email__icontains=query))
    if status:
        qs = qs.filter(status=status)
    return qs
