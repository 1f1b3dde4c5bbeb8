"""A synthetic programme for benchmarks: every kind of record the metrics read, at the size
issue #7 and #9 ask for (13,000 fellows, five years of meetings, events and outcomes), plus a
second, small programme so that a query missing its tenant filter would show in the figures.

    from benchmarks.synthetic import build
    sizes = build(programme_slug="bench", fellows=13_000, years=5, seed=1)

    uv run python -m benchmarks.synthetic --fellows 2000    # build, print sizes, roll back

Rows are written with `bulk_create` in batches: no services, no signals, no audit events, so
13,000 fellows take about a minute on PostgreSQL. The rows still respect every database
constraint (a less-than-full-time fellow has a percentage, a signed meeting has its signature,
milestones are agreed at meetings before those are signed, because a PostgreSQL trigger
refuses milestones added to a signed meeting). The same seed gives the same figures; UUIDs and
creation timestamps differ between runs, and no metric reads them.

The caller owns the transaction: the benchmarks build inside `transaction.atomic()` and roll
it back, so nothing is left in the database.
"""

from __future__ import annotations

import hashlib
import os
import random
import secrets
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from pathlib import Path

BATCH = 2000
DOMAINS = [
    "Business planning",
    "Finance and investment",
    "Regulation and governance",
    "Leadership",
    "Evidence and evaluation",
    "Commercial and procurement",
]


@dataclass
class Built:
    """What `build` made: the programmes, a staff user of each, and how many rows of each kind."""

    programme: object
    staff: object
    second: object | None = None
    second_staff: object | None = None
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    second_counts: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        rows = ", ".join(f"{name} {n:,}" for name, n in self.counts.items())
        small = self.second_counts.get("fellows")
        return f"Built in {self.seconds:.1f} s: {rows}" + (
            f"; and a second programme of {small:,} fellows." if small else "."
        )


def setup_django():
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _bulk(model, rows: list, counts: dict, name: str | None = None) -> list:
    created = model.objects.bulk_create(rows, batch_size=BATCH)
    key = name or model._meta.verbose_name_plural
    counts[key] = counts.get(key, 0) + len(created)
    return created


def _cohort_starts(today: date, years: int) -> list[date]:
    """One intake a year, each starting on 1 September; the last is the one under way."""
    last = today.year if today >= date(today.year, 9, 1) else today.year - 1
    return [date(last - years + 1 + i, 9, 1) for i in range(years)]


def _aware(day: date, hour: int = 10):
    from django.utils import timezone

    return timezone.make_aware(datetime.combine(day, clock(hour, 0)))


def _programme(slug: str, fellows: int, years: int, rng: random.Random, today: date, counts):
    from django.contrib.auth import get_user_model

    from cohort.models import (
        Application,
        Cohort,
        EqualityData,
        Fellow,
        Membership,
        Mentor,
        NHSRegion,
        Organisation,
        Profession,
        Programme,
        RecruitmentCall,
        Role,
        Sector,
        TrainingArrangement,
        Venture,
        VentureStage,
    )
    from events.models import Event, Registration
    from mentoring.models import Connection, Meeting, Mentorship, Milestone
    from metrics.models import (
        CompanyRecord,
        FundingRecord,
        JobsRecord,
        OutcomeStatus,
        PartnershipRecord,
        PatientReachRecord,
    )
    from pdp.models import PDP, CompetencyDomain, Objective

    user_model = get_user_model()
    programme = Programme.objects.create(slug=slug, name=f"Benchmark {slug}")
    counts["programmes"] = counts.get("programmes", 0) + 1

    # --- cohorts, fellows, mentors ---------------------------------------------------------
    starts = _cohort_starts(today, years)
    cohorts = _bulk(
        Cohort,
        [
            Cohort(
                programme=programme,
                name=f"Cohort {i + 1} — {s.year}/{str(s.year + 1)[-2:]}",
                starts_on=s,
                ends_on=date(s.year + 1, 8, 31),
            )
            for i, s in enumerate(starts)
        ],
        counts,
    )
    for each in cohorts:
        each.programme = programme  # meeting_windows reads programme.meetings_per_year
    organisations = _bulk(
        Organisation,
        [
            Organisation(
                programme=programme,
                name=f"{slug} partner {i}",
                kind=rng.choice(Organisation.Kind.values),
                is_partner=i < 20,
            )
            for i in range(max(5, fellows // 100))
        ],
        counts,
    )
    mentor_count = max(2, fellows // 4)
    staff_user = user_model(email=f"staff@{slug}.bench.example", full_name="Bench Staff")
    users = [staff_user] + [
        user_model(email=f"u{i}@{slug}.bench.example", full_name=f"Person {i}")
        for i in range(fellows + mentor_count)
    ]
    for user in users:
        user.password = "!"  # unusable: nobody signs in to a benchmark
    users = _bulk(user_model, users, counts, "users")
    staff_user, fellow_users, mentor_users = users[0], users[1 : fellows + 1], users[fellows + 1 :]

    # A few fellows of later cohorts come back for another year: the same person in two
    # cohorts, so "the fellow's cohort" must pick their latest.
    per_cohort = [fellows // years + (1 if i < fellows % years else 0) for i in range(years)]
    assignment: list[tuple] = []  # (user, cohort)
    taken = 0
    for index, (cohort, size) in enumerate(zip(cohorts, per_cohort, strict=True)):
        for j in range(size):
            user = fellow_users[taken + j]
            if index and j % 50 == 0:
                user = fellow_users[rng.randrange(0, sum(per_cohort[:index]))]
            assignment.append((user, cohort))
        taken += size
    distinct_fellow_users = {u.pk: u for u, _ in assignment}
    memberships = [
        Membership(programme=programme, user=u, role=Role.FELLOW)
        for u in distinct_fellow_users.values()
    ]
    memberships += [Membership(programme=programme, user=u, role=Role.MENTOR) for u in mentor_users]
    memberships.append(Membership(programme=programme, user=staff_user, role=Role.STAFF))
    _bulk(Membership, memberships, counts, "memberships")

    professions, regions = Profession.values, NHSRegion.values
    fellow_rows = []
    for user, cohort in assignment:
        roll = rng.random()
        arrangement = (
            TrainingArrangement.OOPE
            if roll < 0.12
            else TrainingArrangement.LTFT
            if roll < 0.20
            else TrainingArrangement.IN_PROGRAMME
        )
        fellow_rows.append(
            Fellow(
                programme=programme,
                user=user,
                cohort=cohort,
                profession=rng.choices(professions, weights=[50, 15, 3, 12, 10, 5, 5])[0],
                grade=rng.choice(["ST3", "ST4", "ST5", "Band 6", "Band 7", "Consultant"]),
                region=rng.choice(regions),
                training_arrangement=arrangement,
                ltft_percent=rng.choice([50, 60, 80]) if arrangement == "ltft" else None,
                is_returner=rng.random() < 0.15,
                consent_to_share=rng.random() < 0.6,
            )
        )
    fellow_rows = _bulk(Fellow, fellow_rows, counts, "fellows")
    mentors = _bulk(
        Mentor,
        [
            Mentor(
                programme=programme,
                user=u,
                organisation=rng.choice(organisations),
                expertise="finance, regulation",
                capacity=rng.randint(2, 8),
                sectors=rng.sample(Sector.values, 2),
                region=rng.choice(regions),
            )
            for u in mentor_users
        ],
        counts,
    )
    ventures = _bulk(
        Venture,
        [
            Venture(
                programme=programme,
                fellow=f,
                name=f"Venture {i}",
                summary="A synthetic venture.",
                stage=rng.choice(VentureStage.values),
                sector=rng.choice(Sector.values),
            )
            for i, f in enumerate(fellow_rows)
        ],
        counts,
    )
    answers = {
        "gender": [*EqualityData.Gender.values, ""],
        "ethnic_group": [*EqualityData.EthnicGroup.values, ""],
        "disability": [*EqualityData.Disability.values, ""],
        "age_band": [*EqualityData.AgeBand.values, ""],
    }
    _bulk(
        EqualityData,
        [
            EqualityData(
                programme=programme,
                fellow=f,
                **{name: rng.choice(options) for name, options in answers.items()},
            )
            for f in fellow_rows
            if rng.random() < 0.85
        ],
        counts,
        "equality data",
    )

    # --- recruitment: a call per cohort and its funnel ---------------------------------------
    calls = _bulk(
        RecruitmentCall,
        [
            RecruitmentCall(
                programme=programme,
                cohort=c,
                opens_on=c.starts_on - timedelta(days=240),
                closes_on=c.starts_on - timedelta(days=180),
            )
            for c in cohorts
        ],
        counts,
    )
    applications = []
    for call, size in zip(calls, per_cohort, strict=True):
        opened = _aware(call.opens_on)
        for k in range(size * 3):
            stage = rng.random()
            status, submitted, shortlisted, interviewed, decided = (
                "interest",
                None,
                None,
                None,
                None,
            )
            if k < size:  # the appointed: every stage
                status = "appointed"
                submitted = opened + timedelta(days=20)
                shortlisted = opened + timedelta(days=70)
                interviewed = opened + timedelta(days=100)
                decided = opened + timedelta(days=110)
            elif stage < 0.45:
                status = rng.choice(["applied", "withdrawn"])
                submitted = opened + timedelta(days=20)
            elif stage < 0.70:
                status = rng.choice(["shortlisted", "declined"])
                submitted, shortlisted = opened + timedelta(days=20), opened + timedelta(days=70)
            elif stage < 0.80:
                status = "declined"
                submitted, shortlisted = opened + timedelta(days=20), opened + timedelta(days=70)
                interviewed, decided = opened + timedelta(days=100), opened + timedelta(days=110)
            applications.append(
                Application(
                    programme=programme,
                    call=call,
                    token=secrets.token_urlsafe(32),
                    email=f"a{k}@c{call.cohort_id}.{slug}.bench.example",
                    full_name=f"Applicant {k}",
                    profession=rng.choice(professions),
                    idea="A synthetic idea.",
                    status=status,
                    expressed_at=opened + timedelta(days=rng.randrange(0, 60)),
                    submitted_at=submitted,
                    shortlisted_at=shortlisted,
                    interviewed_at=interviewed,
                    decided_at=decided,
                )
            )
    _bulk(Application, applications, counts, "applications")

    # --- mentorships and the year's meetings --------------------------------------------------
    mentorships = []
    for f in fellow_rows:
        cohort = f.cohort
        started = cohort.starts_on + timedelta(days=rng.randrange(0, 20))
        if rng.random() < 0.03:  # matched late, after the first window had closed
            started = cohort.starts_on + timedelta(days=60)
        ended = None
        if cohort.ends_on < today:
            ended = cohort.ends_on
        if rng.random() < 0.04:  # ended early
            ended = min(cohort.starts_on + timedelta(days=rng.randrange(120, 300)), today)
        mentorships.append(
            Mentorship(
                programme=programme,
                cohort=cohort,
                fellow=f,
                mentor=rng.choice(mentors),
                started_on=started,
                ended_on=ended,
            )
        )
    mentorships = _bulk(Mentorship, mentorships, counts)
    mentor_user = {m.pk: m.user_id for m in mentors}

    windows = {c.pk: c.meeting_windows() for c in cohorts}
    meetings, to_sign = [], []
    for ms in mentorships:
        for number, opens, closes in windows[ms.cohort_id]:
            if opens > today or opens < ms.started_on - timedelta(days=60):
                continue
            roll = rng.random()
            if roll < 0.05 and closes < today:
                continue  # never held
            late = roll > 0.90
            held = closes + timedelta(days=rng.randrange(1, 40)) if late else None
            if held is None:
                held = opens + timedelta(days=rng.randrange(0, max(1, (closes - opens).days + 1)))
            if held > today:
                held = None if closes >= today else today  # due, not yet held; or held late
            status = (
                "draft"
                if held is None
                else rng.choices(["signed", "submitted", "returned"], weights=[88, 8, 4])[0]
            )
            meeting = Meeting(
                programme=programme,
                mentorship=ms,
                number=number,
                status="submitted" if status == "signed" else status,
                held_on=held,
                format=rng.choice(Meeting.Format.values),
                discussion="Synthetic.",
                pdp_agreed=number == 1,
                submitted_at=_aware(held, 17) if held else None,
                submitted_by_id=ms.fellow.user_id if held else None,
            )
            if status == "signed":
                signed = held + timedelta(
                    days=rng.choices([0, 1, 3, 7, 14, 30], [3, 5, 5, 4, 2, 1])[0]
                )
                meeting.signed_at = _aware(signed, 18)
                meeting.signed_by_id = mentor_user[ms.mentor_id]
                meeting.digest = hashlib.sha256(f"{ms.pk}:{number}".encode()).hexdigest()
                to_sign.append(meeting)
            meetings.append(meeting)
    meetings = _bulk(Meeting, meetings, counts)

    # Milestones are agreed at meetings before they are signed (a trigger guards that).
    first_meetings = {m.mentorship_id: m for m in meetings if m.number == 1 and m.held_on}
    milestones = []
    for ms in mentorships:
        agreed = first_meetings.get(ms.pk)
        if agreed is None:
            continue
        for k in range(3):
            due = agreed.held_on + timedelta(days=60 * (k + 1))
            if due < today:
                status = rng.choices(
                    ["achieved", "partly", "missed", "deferred", "open"], [55, 15, 12, 8, 10]
                )[0]
            else:
                status = "open"
            milestones.append(
                Milestone(
                    programme=programme,
                    mentorship=ms,
                    agreed_at=agreed,
                    title=f"Milestone {k + 1}",
                    measure="Synthetic.",
                    due_on=due,
                    status=status,
                    current_due_on=due + timedelta(days=45)
                    if status == "deferred" or (status != "open" and k == 2 and rng.random() < 0.3)
                    else None,
                )
            )
    _bulk(Milestone, milestones, counts)
    # Now sign: one UPDATE per batch (the lock trigger only guards rows already signed).
    signed_ids = [m.pk for m in to_sign]
    for i in range(0, len(signed_ids), BATCH):
        Meeting.objects.filter(pk__in=signed_ids[i : i + BATCH]).update(status="signed")
    counts["signed meetings"] = counts.get("signed meetings", 0) + len(signed_ids)

    # --- PDPs and objectives ----------------------------------------------------------------
    domains = _bulk(
        CompetencyDomain,
        [CompetencyDomain(programme=programme, position=i, name=n) for i, n in enumerate(DOMAINS)],
        counts,
    )
    pdps = _bulk(
        PDP,
        [
            PDP(
                programme=programme,
                fellow=f,
                status="agreed",
                agreed_at=_aware(f.cohort.starts_on + timedelta(days=30)),
            )
            for f in fellow_rows
        ],
        counts,
        "PDPs",
    )
    objectives = []
    for index, (pdp, f) in enumerate(zip(pdps, fellow_rows, strict=True)):
        for k in range(4):
            target = f.cohort.starts_on + timedelta(days=rng.randrange(60, 365))
            if target <= today:
                status = rng.choices(
                    ["achieved", "in_progress", "not_started", "dropped"], [55, 20, 15, 10]
                )[0]
            else:
                status = rng.choice(["in_progress", "not_started"])
            objectives.append(
                Objective(
                    programme=programme,
                    pdp=pdp,
                    domain=domains[(k + index) % len(domains)],
                    title=f"Objective {k + 1}",
                    target_date=target,
                    status=status,
                    position=k,
                )
            )
    _bulk(Objective, objectives, counts)

    # --- events and registrations -------------------------------------------------------------
    # A few events a month; fellows of cohorts that have started come, and some mentors.
    first, events = starts[0], []
    month = first
    while month <= today.replace(day=1) + timedelta(days=62):
        for k in range(4):
            day = month + timedelta(days=rng.randrange(0, 27))
            kind = rng.choice(Event.Kind.values)
            events.append(
                Event(
                    programme=programme,
                    kind=kind,
                    title=f"{kind} {day:%Y-%m} {k}",
                    starts_at=_aware(day),
                    ends_at=_aware(day, 16),
                    is_online=kind == "webinar",
                    status="cancelled" if rng.random() < 0.03 else "published",
                    checkin_key=secrets.token_hex(16),
                )
            )
        month = (month + timedelta(days=32)).replace(day=1)
    events = _bulk(Event, events, counts)
    started_by: list[tuple[date, list[int]]] = []
    for cohort in cohorts:
        started_by.append(
            (cohort.starts_on, [f.user_id for f in fellow_rows if f.cohort_id == cohort.pk])
        )
    mentor_user_ids = [m.user_id for m in mentors]
    registrations = []
    per_event = max(5, fellows // 60)
    for event in events:
        pool = [u for s, ids in started_by if s <= event.starts_at.date() for u in ids]
        if not pool:
            continue
        people = set(rng.sample(pool, min(len(pool), per_event)))
        people |= set(rng.sample(mentor_user_ids, min(len(mentor_user_ids), per_event // 10)))
        past = event.starts_at.date() <= today
        for user_id in sorted(people):
            roll = rng.random()
            if roll < 0.08:
                status = "cancelled"
            elif roll < 0.11:
                status = "waitlisted"
            elif not past:
                status = "registered"
            else:
                status = "attended" if roll < 0.85 else "no_show"
            registrations.append(
                Registration(
                    programme=programme,
                    event=event,
                    user_id=user_id,
                    status=status,
                    registered_at=event.starts_at - timedelta(days=14),
                    attended_at=event.starts_at if status == "attended" else None,
                )
            )
    _bulk(Registration, registrations, counts)

    # --- connections ------------------------------------------------------------------------
    everyone = [f.user_id for f in fellow_rows] + mentor_user_ids
    joined = {f.user_id: f.cohort.starts_on for f in fellow_rows}
    pairs, connections = set(), []
    for _ in range(fellows * 3):
        a, b = rng.choice(everyone), rng.choice(everyone)
        if a == b or (a, b) in pairs:
            continue
        pairs.add((a, b))
        since = max(joined.get(a, first), joined.get(b, first))
        if since >= today:
            continue
        asked = since + timedelta(days=rng.randrange(0, max(1, (today - since).days)))
        roll = rng.random()
        status = "accepted" if roll < 0.75 else "declined" if roll < 0.85 else "pending"
        replied = min(asked + timedelta(days=rng.randrange(0, 10)), today)
        connections.append(
            Connection(
                programme=programme,
                requester_id=a,
                addressee_id=b,
                status=status,
                created_at=_aware(asked, 9),
                responded_at=_aware(replied, 12) if status != "pending" else None,
            )
        )
    _bulk(Connection, connections, counts)

    # --- outcomes: verified (most), waiting, returned -----------------------------------------
    def outcome_status():
        roll = rng.random()
        return (
            OutcomeStatus.VERIFIED
            if roll < 0.80
            else OutcomeStatus.REPORTED
            if roll < 0.95
            else OutcomeStatus.REJECTED
        )

    def outcome_day(fellow):
        span = (today - fellow.cohort.starts_on).days
        return fellow.cohort.starts_on + timedelta(days=rng.randrange(0, max(1, span)))

    def common(fellow, venture):
        status = outcome_status()
        return {
            "programme": programme,
            "fellow": fellow,
            "venture": venture,
            "status": status,
            "evidence": "Synthetic.",
            "reported_by_id": fellow.user_id,
            "verified_by": staff_user if status == OutcomeStatus.VERIFIED else None,
            "rejection_reason": "Not shown." if status == OutcomeStatus.REJECTED else "",
        }

    pairs_fv = list(zip(fellow_rows, ventures, strict=True))
    funding, partnerships, patients, companies, jobs = [], [], [], [], []
    for fellow, venture in pairs_fv:
        if fellow.cohort.starts_on >= today:
            continue
        for _ in range(rng.choice([0, 0, 1, 1, 2])):
            kind = rng.choice(FundingRecord.Kind.values)
            funding.append(
                FundingRecord(
                    **common(fellow, venture),
                    kind=kind,
                    amount=Decimal(rng.randrange(1_000, 500_000_00)) / 100,
                    source="Synthetic funder",
                    received_on=outcome_day(fellow),
                )
            )
        if rng.random() < 0.25:
            partnerships.append(
                PartnershipRecord(
                    **common(fellow, venture),
                    kind=rng.choice(PartnershipRecord.Kind.values),
                    organisation=rng.choice(organisations),
                    started_on=outcome_day(fellow),
                )
            )
        if rng.random() < 0.15:
            end = outcome_day(fellow)
            patients.append(
                PatientReachRecord(
                    **common(fellow, venture),
                    patients=rng.randrange(1, 20_000),
                    period_start=end - timedelta(days=90),
                    period_end=end,
                )
            )
        if rng.random() < 0.2:
            companies.append(
                CompanyRecord(
                    **common(fellow, venture),
                    company_name=f"{venture.name} Ltd",
                    company_number=f"{rng.randrange(10**7, 10**8)}",
                    incorporated_on=outcome_day(fellow),
                )
            )
        if rng.random() < 0.2:
            jobs.append(
                JobsRecord(
                    **common(fellow, venture),
                    jobs=Decimal(rng.randrange(1, 200)) / 10,
                    counted_on=outcome_day(fellow),
                )
            )
    _bulk(FundingRecord, funding, counts)
    _bulk(PartnershipRecord, partnerships, counts)
    _bulk(PatientReachRecord, patients, counts)
    _bulk(CompanyRecord, companies, counts)
    _bulk(JobsRecord, jobs, counts)
    return programme, staff_user


def build(
    programme_slug: str = "bench",
    fellows: int = 13_000,
    years: int = 5,
    seed: int = 1,
    second_programme: bool = True,
    second_fellows: int = 200,
    today: date | None = None,
    verbose: bool = True,
) -> Built:
    """Build the synthetic programme (and a small second one, `<slug>-small`, unless told not
    to) in the current transaction. Returns the programmes, their staff users and row counts."""
    from django.utils import timezone
    from django_scopes import scopes_disabled

    today = today or timezone.localdate()
    started = time.perf_counter()
    counts: dict[str, int] = {}
    second_counts: dict[str, int] = {}
    with scopes_disabled():
        programme, staff = _programme(
            programme_slug, fellows, years, random.Random(seed), today, counts
        )
        built = Built(programme=programme, staff=staff)
        if second_programme:
            built.second, built.second_staff = _programme(
                f"{programme_slug}-small",
                second_fellows,
                years,
                random.Random(seed + 1),
                today,
                second_counts,
            )
    built.seconds = time.perf_counter() - started
    built.counts, built.second_counts = counts, second_counts
    if verbose:
        print(built.summary(), flush=True)
    return built


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fellows", type=int, default=13_000)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    setup_django()
    from django.db import transaction

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            build(fellows=args.fellows, years=args.years, seed=args.seed)
            raise Rollback
    except Rollback:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
