"""Reads of the events app that more than one page needs. Each takes the tenant explicitly."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django_scopes import scopes_disabled

from cohort.models import Fellow, NHSRegion, Profession, Programme, Role, Sector, VentureStage
from mentoring.matching import TOPICS, topics_in
from mentoring.models import Mentorship
from pdp.models import CompetencyDomain, Objective

from .models import (
    CalendarFeed,
    Event,
    Opportunity,
    OpportunityInterest,
    Registration,
    Resource,
    ResourceObjective,
)

# --- events and registration ---------------------------------------------------------------------


def audience_q(*, programme: Programme, user, roles) -> Q:
    """Which published events a member's role lets them see (staff see every event)."""
    allowed = Q(audience=Event.Audience.PROGRAMME)
    if Role.FELLOW in roles:
        cohort_ids = Fellow.objects.filter(programme=programme, user=user).values("cohort_id")
        allowed |= Q(audience__in=[Event.Audience.FELLOWS, Event.Audience.FELLOWS_AND_MENTORS]) & (
            Q(cohort__isnull=True) | Q(cohort_id__in=cohort_ids)
        )
    if Role.MENTOR in roles:
        allowed |= Q(audience=Event.Audience.FELLOWS_AND_MENTORS)
    return allowed


def visible_events(*, programme: Programme, user, roles) -> QuerySet[Event]:
    """The events this member may open. Staff see every event, drafts included; everyone else
    sees published (and cancelled) events meant for them, and any event they registered for."""
    events = Event.objects.filter(programme=programme)
    if Role.STAFF in roles:
        return events
    registered = Registration.objects.filter(event=OuterRef("pk"), user=user)
    return events.exclude(status=Event.Status.DRAFT).filter(
        audience_q(programme=programme, user=user, roles=roles) | Q(Exists(registered))
    )


def event_counts(events: QuerySet[Event]) -> QuerySet[Event]:
    """Each event with how many hold a place, wait, and attended (one query for a list)."""
    return events.annotate(
        places_taken=Count(
            "registrations", filter=Q(registrations__status__in=Registration.HOLDS_PLACE)
        ),
        waiting=Count(
            "registrations", filter=Q(registrations__status=Registration.Status.WAITLISTED)
        ),
        attended=Count(
            "registrations", filter=Q(registrations__status=Registration.Status.ATTENDED)
        ),
    )


def registrations_of(*, programme: Programme, user) -> QuerySet[Registration]:
    """A person's registrations in the programme, with their events."""
    return Registration.objects.filter(programme=programme, user=user).select_related("event")


# --- calendars -----------------------------------------------------------------------------------
# (Imports are local to this section's functions: the module's head belongs to the events part.)

# The feed carries events from this many days back (and everything ahead): a year of history is
# what people look back on, and an old programme's feed does not grow without end.
FEED_HISTORY_DAYS = 365


def live_calendar_feed(*, programme: Programme, user):
    """The person's calendar feed in the programme (a CalendarFeed), if one is switched on."""
    return CalendarFeed.objects.filter(
        programme=programme, user=user, revoked_at__isnull=True
    ).first()


def calendar_feed_by_token(token: str):
    """The feed a secret address names, live or revoked, with its programme and person. Called
    from outside any programme: the token itself says which programme it is."""
    with scopes_disabled():
        return CalendarFeed.objects.select_related("programme", "user").filter(token=token).first()


def feed_registrations(*, programme: Programme, user, now=None) -> list[Registration]:
    """The person's events for their feed: those they hold a place at or wait for, cancelled
    events included (so calendars remove them); places they cancelled, and drafts, left out."""
    now = now or timezone.now()
    return list(
        registrations_of(programme=programme, user=user)
        .exclude(status=Registration.Status.CANCELLED)
        .exclude(event__status=Event.Status.DRAFT)
        .filter(event__ends_at__gte=now - timedelta(days=FEED_HISTORY_DAYS))
        .select_related("event__programme")
        .order_by("event__starts_at", "event__pk")
    )


def feed_mentorships(*, programme: Programme, user) -> list:
    """The person's active mentorships, as fellow (their own) and as mentor (each mentee's),
    with what mentoring.selectors.mentorship_rows needs loaded."""
    return list(
        Mentorship.objects.filter(programme=programme, ended_on__isnull=True)
        .filter(Q(fellow__user=user) | Q(mentor__user=user))
        # The cohort's programme holds the number of meetings a year (its windows).
        .select_related("cohort__programme", "fellow__user", "mentor__user")
        .order_by("started_on", "pk")
    )


# --- resources and opportunities -----------------------------------------------------------------


RESOURCE_QUERY_WORDS = 8


def visible_resources(*, programme: Programme, roles) -> QuerySet[Resource]:
    """The library as this member sees it: staff every resource, everyone else the published."""
    resources = Resource.objects.filter(programme=programme)
    if Role.STAFF not in roles:
        resources = resources.filter(is_published=True)
    return resources


def resource_library(
    *,
    programme: Programme,
    roles,
    query: str = "",
    kind: str = "",
    domain: CompetencyDomain | None = None,
    accredited: bool = False,
) -> QuerySet[Resource]:
    """The library page: every word of the search must appear in the title or the summary;
    with its provider and domains read for the whole page at once."""
    resources = visible_resources(programme=programme, roles=roles)
    for word in query.split()[:RESOURCE_QUERY_WORDS]:
        resources = resources.filter(Q(title__icontains=word) | Q(summary__icontains=word))
    if kind:
        resources = resources.filter(kind=kind)
    if domain is not None:
        resources = resources.filter(domains=domain)
    if accredited:
        resources = resources.filter(Q(kind=Resource.Kind.MODULE) | Q(credits__isnull=False))
    return resources.select_related("provider").prefetch_related("domains")


def live_objectives_of(*, programme: Programme, user) -> list[Objective]:
    """The objectives a fellow may link a resource to: those of their own plan not dropped."""
    return list(
        Objective.objects.filter(programme=programme, pdp__fellow__user=user)
        .exclude(status=Objective.Status.DROPPED)
        .select_related("domain")
        .order_by("pdp__fellow__cohort__starts_on", "position", "id")
    )


def objective_resource_map(*, programme: Programme, pdp_id: int, roles) -> dict[int, list]:
    """The resources linked to each objective of a plan, read once for the whole plan."""
    links = ResourceObjective.objects.filter(
        programme=programme, objective__pdp_id=pdp_id
    ).select_related("resource", "resource__provider")
    if Role.STAFF not in roles:
        links = links.filter(resource__is_published=True)
    found: dict[int, list] = {}
    for link in links.order_by("resource__title", "id"):
        found.setdefault(link.objective_id, []).append(link.resource)
    return found


# --- opportunities ---


def _interest(user, field_name: str):
    return Subquery(
        OpportunityInterest.objects.filter(opportunity=OuterRef("pk"), user=user).values(
            field_name
        )[:1]
    )


def with_interest(opportunities: QuerySet[Opportunity], *, user) -> QuerySet[Opportunity]:
    """Each opportunity with when this person bookmarked it and recorded applying (or None),
    in the same query."""
    return opportunities.annotate(
        my_bookmarked_at=_interest(user, "bookmarked_at"),
        my_applied_at=_interest(user, "applied_at"),
        my_note=_interest(user, "note"),
    )


def visible_opportunities(*, programme: Programme, roles) -> QuerySet[Opportunity]:
    """What this member may open: staff every opportunity, drafts included; everyone else the
    published and the closed (a bookmark or an application stays readable after it closes)."""
    opportunities = Opportunity.objects.filter(programme=programme)
    if Role.STAFF not in roles:
        opportunities = opportunities.exclude(status=Opportunity.Status.DRAFT)
    return opportunities


def normal_tag(tag: str) -> str:
    return " ".join(tag.split()).casefold()


def opportunity_list(
    *,
    programme: Programme,
    user,
    roles,
    kind: str = "",
    tag: str = "",
    bookmarked: bool = False,
    applied: bool = False,
    status: str = "",
    today: date | None = None,
) -> tuple[QuerySet[Opportunity], list[str]]:
    """The opportunities page and the tags to filter it by.

    Members see the open ones, and a closed or past-deadline one drops out by itself
    (Opportunity.open_q). A person's own bookmarks and applications stay in their
    "bookmarked" and "applied" lists after they close. Staff, who keep the list, see every
    status unless they ask for one ("open" is what fellows see). The tag filter is applied
    over the tags read in one query, the same way on PostgreSQL and SQLite (a JSON list has
    no portable "contains"). The soonest deadline first, rolling calls last."""
    base = with_interest(visible_opportunities(programme=programme, roles=roles), user=user)
    staff = Role.STAFF in roles
    if staff and not status:
        pass
    elif staff and status in Opportunity.Status.values:
        base = base.filter(status=status)
    elif bookmarked or applied:
        pass  # the person's own list, open or not
    else:
        base = base.filter(Opportunity.open_q(today))
    if bookmarked:
        base = base.filter(my_bookmarked_at__isnull=False)
    if applied:
        base = base.filter(my_applied_at__isnull=False)
    if kind:
        base = base.filter(kind=kind)
    rows = list(base.values_list("pk", "tags"))
    tags = sorted({normal_tag(t) for _, ts in rows for t in (ts or [])})
    if tag:
        wanted = normal_tag(tag)
        base = base.filter(pk__in=[pk for pk, ts in rows if wanted in map(normal_tag, ts or [])])
    ordered = base.order_by(F("deadline").asc(nulls_last=True), "title", "id")
    return ordered.select_related("organisation"), tags


def days_left(opportunity: Opportunity, today: date | None = None) -> int | None:
    """Days until the deadline (0 on the day itself); None for a rolling call."""
    if opportunity.deadline is None:
        return None
    return (opportunity.deadline - (today or timezone.localdate())).days


# --- recommendations ---

# How much each kind of match counts. A fellow's venture stage and sector say most about
# whether a call suits them; what they ask help with and their plan come next; the region
# and the fellow's profession (when the call names professions) confirm it.
STAGE_POINTS = 3
SECTOR_POINTS = 3
NEED_POINTS = 2
PLAN_POINTS = 2
PROFESSION_POINTS = 1
REGION_POINTS = 1
INTEREST_POINTS = 1
# A call closing within this many days gets a nudge up, and says so.
SOON_DAYS = 14
SOON_POINTS = 1
# What each kind of opportunity answers among the needs fellows write (mentoring.matching).
KIND_TOPICS = {
    Opportunity.Kind.FUNDING: {"investment"},
    Opportunity.Kind.NETWORKING: {"partnerships"},
}
PROFESSION_PLURALS = {
    Profession.DOCTOR: "doctors",
    Profession.NURSE: "nurses",
    Profession.MIDWIFE: "midwives",
    Profession.AHP: "allied health professionals",
    Profession.PHARMACIST: "pharmacists",
    Profession.SCIENTIST: "healthcare scientists",
    Profession.OTHER: "your profession",
}


@dataclass(frozen=True)
class VentureFacts:
    name: str
    stage: str
    sector: str


@dataclass(frozen=True)
class FellowFacts:
    """What recommendations read about a fellow, gathered once (no database below this)."""

    profession: str
    region: str = ""
    needs: frozenset[str] = frozenset()
    interests: str = ""
    ventures: tuple[VentureFacts, ...] = ()
    # (topic, objective title) for each live objective of their plan.
    plan_topics: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Recommendation:
    opportunity: Opportunity
    score: int
    reasons: tuple[str, ...] = field(default_factory=tuple)
    days_left: int | None = None


def is_eligible(opportunity: Opportunity, facts: FellowFacts) -> bool:
    """A call that names professions is only for them; every other list only ranks."""
    return not opportunity.professions or facts.profession in opportunity.professions


def _closes_in(days: int) -> str:
    if days == 0:
        return "Closes today"
    if days == 1:
        return "Closes tomorrow"
    return f"Closes in {days} days"


def opportunity_topics(opportunity: Opportunity) -> set[str]:
    text = " ".join([opportunity.title, opportunity.summary, *(opportunity.tags or [])])
    return topics_in(text) | KIND_TOPICS.get(opportunity.kind, set())


def score_opportunity(
    opportunity: Opportunity, facts: FellowFacts, *, today: date
) -> Recommendation | None:
    """How well an open opportunity suits a fellow, with the reasons in their words; None
    when they are not eligible or nothing about it matches them. Pure: reads no database."""
    if not is_eligible(opportunity, facts):
        return None
    score, reasons = 0, []
    stages = set(opportunity.stages or [])
    for venture in facts.ventures:
        if venture.stage in stages:
            score += STAGE_POINTS
            label = VentureStage(venture.stage).label.lower()
            reasons.append(f"For ventures at the {label} stage — {venture.name} is")
            break
    sectors = set(opportunity.sectors or [])
    for venture in facts.ventures:
        if venture.sector in sectors and venture.sector != Sector.OTHER:
            score += SECTOR_POINTS
            label = Sector(venture.sector).label
            reasons.append(f"For ventures in {label[0].lower() + label[1:]} — like {venture.name}")
            break
    topics = opportunity_topics(opportunity)
    needs = sorted(facts.needs & topics)
    if needs:
        score += NEED_POINTS
        reasons.append(f"Matches what you need help with: {TOPICS[needs[0]][0]}")
    for topic, title in facts.plan_topics:
        if topic in topics:
            score += PLAN_POINTS
            reasons.append(f"Supports your plan's objective “{title}”")
            break
    if opportunity.professions:
        score += PROFESSION_POINTS
        reasons.append(f"Open to {PROFESSION_PLURALS.get(facts.profession, 'your profession')}")
    if facts.region and facts.region in (opportunity.regions or []):
        score += REGION_POINTS
        reasons.append(f"In your region: {NHSRegion(facts.region).label}")
    interests = facts.interests.casefold()
    shared = sorted(
        t for t in {normal_tag(t) for t in opportunity.tags or []} if t and t in interests
    )
    if shared:
        score += INTEREST_POINTS
        reasons.append(f"Matches your interests: {shared[0]}")
    if score == 0:
        return None
    left = days_left(opportunity, today)
    if left is not None and 0 <= left <= SOON_DAYS:
        score += SOON_POINTS
        reasons.append(_closes_in(left))
    return Recommendation(
        opportunity=opportunity, score=score, reasons=tuple(reasons), days_left=left
    )


def rank(recommendations: list[Recommendation]) -> list[Recommendation]:
    """Best first; then the sooner deadline (rolling calls last), the title, the row: the
    same order every time."""
    return sorted(
        recommendations,
        key=lambda r: (
            -r.score,
            r.opportunity.deadline or date.max,
            r.opportunity.title.casefold(),
            r.opportunity.pk,
        ),
    )


def _prefetched_plan(fellow: Fellow) -> list[Objective] | None:
    """Her plan's objectives with their domains when they were prefetched on her (the plan
    card of her home page does), else None. A fellow without a plan has none: []."""
    if not Fellow.pdp.is_cached(fellow):
        return None
    pdp = getattr(fellow, "pdp", None)
    if pdp is None:
        return []
    if "objectives" not in getattr(pdp, "_prefetched_objects_cache", {}):
        return None
    objectives = list(pdp.objectives.all())
    if not all(type(o).domain.is_cached(o) for o in objectives):
        return None
    return objectives


def fellow_facts(fellow: Fellow) -> FellowFacts:
    """Everything a recommendation needs about a fellow: two queries (ventures, plan), none
    when her ventures and her plan's objectives with their domains were prefetched."""
    ventures = tuple(
        VentureFacts(name=v.name, stage=v.stage, sector=v.sector)
        for v in sorted(fellow.ventures.all(), key=lambda v: (v.created_at, v.pk))
    )
    plan_topics = []
    finished = [Objective.Status.DROPPED, Objective.Status.ACHIEVED]
    plan = _prefetched_plan(fellow)
    if plan is not None:  # her home page's plan card read them already
        objectives = sorted(
            (o for o in plan if o.status not in finished), key=lambda o: (o.position, o.pk)
        )
    else:
        objectives = (
            Objective.objects.filter(programme=fellow.programme_id, pdp__fellow=fellow)
            .exclude(status__in=finished)
            .select_related("domain")
            .order_by("position", "id")
        )
    for objective in objectives:
        text = f"{objective.title} {objective.domain.name} {objective.domain.descriptor}"
        plan_topics += [(topic, objective.title) for topic in sorted(topics_in(text))]
    return FellowFacts(
        profession=fellow.profession,
        region=fellow.region,
        needs=frozenset(topics_in(fellow.help_needed)),
        interests=fellow.interests or "",
        ventures=ventures,
        plan_topics=tuple(plan_topics),
    )


def recommended_opportunities(
    *, programme: Programme, fellow: Fellow, limit: int | None = None, today: date | None = None
) -> list[Recommendation]:
    """The open opportunities a fellow is eligible for and has not applied to, best match
    first, each with why. A fixed number of queries however many opportunities there are."""
    today = today or timezone.localdate()
    facts = fellow_facts(fellow)
    # The person's own bookmarks and applications (a handful) in one plain query, matched
    # here: on the home page this is cheaper than with_interest's three subqueries per row.
    mine = {
        i.opportunity_id: i
        for i in OpportunityInterest.objects.filter(programme=programme, user_id=fellow.user_id)
    }
    candidates = []
    open_now = Opportunity.objects.filter(programme=programme).filter(Opportunity.open_q(today))
    for opportunity in open_now.select_related("organisation"):
        interest = mine.get(opportunity.pk)
        if interest is not None and interest.applied_at is not None:
            continue
        opportunity.my_bookmarked_at = interest.bookmarked_at if interest else None
        opportunity.my_applied_at = None
        opportunity.my_note = interest.note if interest else None
        candidates.append(opportunity)
    found = [score_opportunity(o, facts, today=today) for o in candidates]
    ranked = rank([r for r in found if r is not None])
    return ranked[:limit] if limit else ranked
