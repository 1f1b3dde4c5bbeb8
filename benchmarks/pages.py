"""Benchmark: the busiest pages and API endpoints, server time and queries (issue #9).

    uv run python -m benchmarks.pages [--fellows N] [--small N] [--requests R]   # or: make bench

Builds `benchmarks.synthetic`'s programmes (13,000 fellows and a 200-fellow one) inside a
transaction that is rolled back, adds what the synthetic data lacks for these pages (published
opportunities, a fellow's notifications), computes the metric snapshots and gives each
programme a partner key. Then, for each programme, signs in as the people who use each page —
a fellow of the cohort under way who has a mentor, meetings and a PDP; her mentor; a member of
staff; a partner's API key — and requests each page through the whole middleware stack with
the Django test client (server time, no network): warm-up requests, then R measured rounds
of one request to each page in turn (so that the shared machine's slow minutes fall on every
page alike), giving p50, p95, the queries per request and the size of the answer. A trivial view
(`HttpResponse("ok")`, `benchmarks/urls.py`) is measured in the same run and signed in the
same way, and each page's p50 is shown as a multiple of it.

Targets: p95 under 150 ms on every page at 13,000 fellows, and the same number of queries at
both sizes. Results go to benchmarks/results/pages-<database>.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from .metrics import Rollback, machine, timed_get, timing_summary
from .synthetic import setup_django

TARGET_P95 = 0.150
TRIVIAL = "trivial view (`HttpResponse('ok')`)"


@dataclass
class Page:
    label: str
    role: str  # fellow, mentor, staff, partner
    path: str  # formatted with Persona.values: {slug}, {mentorship}, {meeting}, {event}...
    # Forget the fellow's kept figures (metrics.personal_figures) before each request: the
    # page as she first sees it after one of her records changed.
    cold: bool = False


# The pages people open most: a fellow's day (her home page, PDP, meetings, events, the
# directory, opportunities and notifications: fellows are 80% of the members), a mentor's home
# and mentees, the staff's home, lists and dashboard, and the partner API's lists that
# partners' systems poll.
PAGES = [
    Page("fellow home", "fellow", "/p/{slug}/"),
    Page("fellow home, her figures recomputed", "fellow", "/p/{slug}/", cold=True),
    Page("fellow's PDP", "fellow", "/p/{slug}/pdp/"),
    # /meetings/ redirects a fellow to her year's page: measured where she lands.
    Page("fellow's meetings (her year)", "fellow", "/p/{slug}/mentorships/{mentorship}/meetings/"),
    Page("a meeting (fellow)", "fellow", "/p/{slug}/meetings/{meeting}/"),
    Page("events list", "fellow", "/p/{slug}/events/"),
    Page("an event", "fellow", "/p/{slug}/events/{event}/"),
    Page("directory", "fellow", "/p/{slug}/directory/"),
    Page("opportunities", "fellow", "/p/{slug}/opportunities/"),
    Page("notifications centre", "fellow", "/p/{slug}/notifications/"),
    Page("mentor home", "mentor", "/p/{slug}/"),
    Page("mentor's mentees", "mentor", "/p/{slug}/meetings/mentees/"),
    Page("staff home", "staff", "/p/{slug}/"),
    Page("staff: people list", "staff", "/p/{slug}/people/"),
    Page("staff: applications", "staff", "/p/{slug}/recruitment/{cohort}/applications/"),
    Page("staff: metrics dashboard", "staff", "/p/{slug}/metrics/"),
    Page("staff: verification queue", "staff", "/p/{slug}/outcomes/verification/"),
    Page("API: fellows", "partner", "/api/v1/fellows/"),
    Page("API: events", "partner", "/api/v1/events/"),
    Page("API: metric snapshots", "partner", "/api/v1/metrics/snapshots/?metric=funding_raised"),
]


@dataclass
class Persona:
    """Who signs in for a programme's pages, and the records their pages are about."""

    fellow: object
    mentor: object
    staff: object
    api_key: str
    values: dict


def add_extras(programme, fellow_user, today: date, opportunities: int = 40) -> None:
    """What the synthetic data has none of and these pages show: published opportunities
    (some for the fellow's profession) and notifications for the fellow, half of them read."""
    from django.utils import timezone
    from django_scopes import scopes_disabled

    from cohort.models import Profession
    from events.models import Opportunity
    from notifications.models import Kind, Notification

    now = timezone.now()
    with scopes_disabled():
        Opportunity.objects.bulk_create(
            [
                Opportunity(
                    programme=programme,
                    kind=Opportunity.Kind.values[i % len(Opportunity.Kind.values)],
                    title=f"Opportunity {i}",
                    summary="A synthetic opportunity.",
                    url="https://example.org/opportunity",
                    deadline=today + timedelta(days=7 + i),
                    professions=[Profession.values[i % len(Profession.values)]] if i % 3 else [],
                    tags=["funding", "digital"],
                    status=Opportunity.Status.PUBLISHED,
                )
                for i in range(opportunities)
            ]
        )
        Notification.objects.bulk_create(
            [
                Notification(
                    programme=programme,
                    recipient=fellow_user,
                    kind=Kind.EVENT,
                    title=f"Notification {i}",
                    body="Synthetic.",
                    link=f"/p/{programme.slug}/events/",
                    created_at=now - timedelta(hours=i),
                    read_at=now if i % 2 else None,
                )
                for i in range(60)
            ]
        )


def persona(programme, staff, today: date) -> Persona:
    """The fellow of the cohort under way with the most meetings held, her first one signed
    (with a mentor and a PDP); her mentor, the programme's staff user and a partner key."""
    from django.db.models import Count, Exists, OuterRef, Q
    from django_scopes import scopes_disabled

    from cohort.models import Cohort
    from events.models import Event
    from mentoring.models import Meeting, Mentorship

    from .api import _key

    with scopes_disabled():
        cohort = Cohort.objects.filter(programme=programme).order_by("-starts_on").first()
        mentorship = (
            Mentorship.objects.filter(
                programme=programme,
                cohort=cohort,
                ended_on__isnull=True,
            )
            .filter(
                Exists(Meeting.objects.filter(mentorship=OuterRef("pk"), number=1, status="signed"))
            )
            .annotate(held=Count("meetings", filter=Q(meetings__held_on__isnull=False)))
            .select_related("fellow__user", "mentor__user")
            .order_by("-held", "pk")
            .first()
        )
        # Her first meeting's record, signed: every fellow of the year has one, so the page
        # is in the same state at both sizes (a draft shows its forms; a later meeting its
        # milestone reviews).
        meeting = Meeting.objects.filter(mentorship=mentorship, number=1).first()
        event = (
            Event.objects.filter(
                programme=programme, status="published", starts_at__date__gte=today
            )
            .order_by("starts_at")
            .first()
        )
        values = {
            "slug": programme.slug,
            "meeting": meeting.uuid,
            "mentorship": mentorship.uuid,
            "event": event.uuid,
            "cohort": cohort.uuid,
        }
    add_extras(programme, mentorship.fellow.user, today)
    return Persona(
        fellow=mentorship.fellow.user,
        mentor=mentorship.mentor.user,
        staff=staff,
        api_key=_key(programme),
        values=values,
    )


def unthrottle() -> None:
    """The benchmark must not be throttled by the API's own rate limit."""
    from django.conf import settings
    from rest_framework.throttling import SimpleRateThrottle

    settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["partner_key"] = "1000000/minute"
    SimpleRateThrottle.THROTTLE_RATES["partner_key"] = "1000000/minute"


def measure(who: Persona, requests: int, warmup: int = 2) -> list[dict]:
    """Every page of PAGES for one programme, and the trivial view first: a list of
    timing_summary results with a `label`. Call inside override_settings(ROOT_URLCONF=...).

    The requests go round the pages in turn (one request to each page per round), so that a
    slow minute of this shared machine falls on every page alike instead of on whichever page
    happened to be measured then."""
    from django.test import Client
    from django_scopes import scopes_disabled

    from cohort.models import Programme
    from cohort.selectors import fellow_for_user
    from metrics.personal_figures import forget_fellows

    from .urls import TRIVIAL_PATH

    with scopes_disabled():
        programme = Programme.objects.get(slug=who.values["slug"])
        her = fellow_for_user(programme=programme, user=who.fellow)  # as her home page does
    clients = {"partner": Client(HTTP_AUTHORIZATION=f"Api-Key {who.api_key}")}
    for role in ("fellow", "mentor", "staff"):
        clients[role] = Client()
        clients[role].force_login(getattr(who, role))
    targets = [(TRIVIAL, "fellow", TRIVIAL_PATH, False)] + [
        (page.label, page.role, page.path.format(**who.values), page.cold) for page in PAGES
    ]

    def timed(role, path, cold):
        if cold:
            forget_fellows(programme.uuid, [her.pk])
        return timed_get(clients[role], path)

    for _ in range(warmup):  # warm: templates and caches
        for _label, role, path, cold in targets:
            timed(role, path, cold)
    samples: list[list] = [[] for _ in targets]
    for _ in range(requests):
        for (_label, role, path, cold), seen in zip(targets, samples, strict=True):
            seen.append(timed(role, path, cold))
    return [
        {"label": label, "role": role, **timing_summary(path, seen)}
        for (label, role, path, _cold), seen in zip(targets, samples, strict=True)
    ]


def prepare(built, today: date) -> dict[str, Persona]:
    """The people of both programmes (and their extra records), and the metric snapshots the
    dashboard and the API read."""
    from django.db import connection
    from django_scopes import scope

    from metrics.services import metric_snapshots_compute

    people = {
        "big": persona(built.programme, built.staff, today),
        "small": persona(built.second, built.second_staff, today),
    }
    for programme in (built.programme, built.second):
        with scope(programme=programme):
            metric_snapshots_compute(programme=programme)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return people


def growing(out: dict) -> list[str]:
    """The pages whose query count differs between the two programmes."""
    return [
        big["label"]
        for big, small in zip(out["big"], out["small"], strict=True)
        if big["queries"] != small["queries"]
    ]


def run(fellows: int, small: int, requests: int, years: int = 5) -> dict:
    """Build both programmes, measure each, roll back: {"big": [...], "small": [...], ...}."""
    from django.db import connection, transaction
    from django.test.utils import override_settings
    from django.utils import timezone

    from .synthetic import build

    today = timezone.localdate()
    unthrottle()
    out: dict = {}
    try:
        with transaction.atomic():
            built = build(fellows=fellows, years=years, second_fellows=small, today=today)
            people = prepare(built, today)
            with override_settings(ROOT_URLCONF="benchmarks.urls"):
                for name in ("big", "small"):
                    out[name] = measure(people[name], requests)
            out["built"] = built
            out["machine"] = machine(connection)
            raise Rollback
    except Rollback:
        pass
    return out


def render(out: dict, args) -> tuple[str, bool]:
    from django.utils import timezone

    big, small = out["big"], out["small"]
    trivial = big[0]["p50"]
    load = os.getloadavg()
    lines = [
        "# The busiest pages and endpoints: server time and queries",
        "",
        f"Run on {timezone.now():%-d %B %Y %H:%M} UTC. " + " ".join(out["machine"]),
        f"Load average after the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
        "(the 2 CPUs are shared with other work; high figures mean noisy timings).",
        "",
        out["built"].summary(),
        "",
        f"Each page: {args.requests} requests after 2 unmeasured ones, taken in rounds of one "
        "request to each page in turn (a slow minute of the machine falls on every page alike), "
        "through the whole "
        "middleware stack with the Django test client (server time, no network), signed in as "
        "the person who uses it (the fellow of the cohort under way with the most meetings, her "
        "mentor, a member of staff, or a partner's API key). Queries are per request (every "
        "count seen); bytes are the body's size. x trivial is the page's p50 divided by the "
        "trivial view's p50 in the same run. Targets: p95 under "
        f"{TARGET_P95 * 1000:.0f} ms at {args.fellows:,} fellows, and the same queries at "
        f"{args.small:,} fellows.",
        "",
        f"| Page | Who | p50 (ms) | p95 (ms) | x trivial | Queries ({args.fellows:,}) | "
        f"Queries ({args.small:,}) | p50 (ms, {args.small:,}) | Bytes | Target |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    met = True
    for one, other in zip(big, small, strict=True):
        same = one["queries"] == other["queries"]
        fast = one["p95"] < TARGET_P95
        met &= same and fast
        verdict = (
            "met"
            if same and fast
            else ("SLOW " if not fast else "") + ("" if same else "QUERIES GROW")
        )
        lines.append(
            f"| {one['label']} | {one.get('role', 'fellow')} | {one['p50'] * 1000:.1f} | "
            f"{one['p95'] * 1000:.1f} | {one['p50'] / trivial:.1f} | "
            f"{', '.join(map(str, one['queries']))} | {', '.join(map(str, other['queries']))} | "
            f"{other['p50'] * 1000:.1f} | {one['bytes']:,} | {verdict.strip()} |"
        )
    lines += [
        "",
        f"Every page under {TARGET_P95 * 1000:.0f} ms at p95 with the same queries at both "
        f"sizes: {'yes' if met else 'NO'}.",
        "",
        f"Python {platform.python_version()}; command: `python -m benchmarks.pages "
        f"--fellows {args.fellows} --small {args.small} --requests {args.requests}`.",
        "",
    ]
    return "\n".join(lines), met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The busiest pages: p50/p95 and queries")
    parser.add_argument("--fellows", type=int, default=13_000)
    parser.add_argument("--small", type=int, default=200)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args(argv)

    setup_django()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client's host, as in the tests
    out = run(args.fellows, args.small, args.requests)
    text, met = render(out, args)
    print(text)
    database = "postgresql" if connection.vendor == "postgresql" else "sqlite"
    path = Path(__file__).resolve().parent / "results" / f"pages-{database}.md"
    path.write_text(text)
    print(f"Written to {path}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
