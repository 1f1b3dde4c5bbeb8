"""The events app's part of `seed_demo`: a year of events for the CEP's first cohort, the
resource library and the opportunities partners signposted. Idempotent, like all the demo."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.text import slugify
from django_scopes import scope

from cohort.demo import FELLOW_EMAIL, MENTOR_EMAIL, STAFF_EMAIL, register_seeder
from cohort.models import Fellow, Membership, Organisation, Role
from pdp.models import CompetencyDomain, Objective

from . import services
from .models import Event, Opportunity, Registration, Resource

# --- events, registrations and attendance --------------------------------------------------------

UK = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class DemoEvent:
    title: str
    kind: str
    when: date
    starts: time
    hours: float
    where: tuple[str, str, str] | None  # (venue, address, region); None for online
    domains: tuple[str, ...] = ()
    organiser: str = ""
    capacity: int | None = None
    audience: str = Event.Audience.PROGRAMME
    description: str = ""
    zone: str = "Europe/London"


PIT_STOPS = [
    ("Wellcome Collection", "183 Euston Road, London NW1 2BE", "london"),
    ("Manchester Science Park", "Pencroft Way, Manchester M15 6JJ", "north_west"),
    ("The Studio, Birmingham", "7 Cannon Street, Birmingham B2 5EP", "midlands"),
    ("Leeds Beckett University", "City Campus, Leeds LS1 3HE", "ne_yorks"),
    ("Bristol and Bath Science Park", "Dirac Crescent, Bristol BS16 7FR", "south_west"),
]

# The first cohort's year, as the programme ran it: quarterly Pit Stops, monthly webinars and
# regional networking evenings. Every one took place, with attendance recorded.
FIRST_YEAR = [
    DemoEvent(
        "Pit Stop 1: welcome and induction",
        Event.Kind.PIT_STOP,
        date(2016, 9, 23),
        time(10, 0),
        6.5,
        PIT_STOPS[0],
        ("Business planning", "Leadership"),
        description="The first cohort meets: the year ahead, your mentor, and a first go at "
        "pitching your idea in two minutes.",
    ),
    DemoEvent(
        "Webinar: from idea to business model",
        Event.Kind.WEBINAR,
        date(2016, 10, 12),
        time(19, 0),
        1,
        None,
        ("Business planning",),
    ),
    DemoEvent(
        "North West networking evening",
        Event.Kind.NETWORKING,
        date(2016, 10, 27),
        time(18, 0),
        2.5,
        PIT_STOPS[1],
        ("Networking and partnership",),
        audience=Event.Audience.FELLOWS_AND_MENTORS,
    ),
    DemoEvent(
        "Webinar: medical device regulation for clinicians",
        Event.Kind.WEBINAR,
        date(2016, 11, 16),
        time(19, 0),
        1,
        None,
        ("Regulation and governance",),
        organiser="Medtronic",
    ),
    DemoEvent(
        "Pit Stop 2: finance and investment",
        Event.Kind.PIT_STOP,
        date(2016, 12, 2),
        time(10, 0),
        6.5,
        PIT_STOPS[1],
        ("Finance and investment",),
        capacity=60,
        description="Angels, grants and venture capital: how each works, with an investor "
        "panel and one-to-one clinics on your financial model.",
    ),
    DemoEvent(
        "Webinar: intellectual property and your employer",
        Event.Kind.WEBINAR,
        date(2017, 1, 18),
        time(19, 0),
        1,
        None,
        ("Business planning",),
    ),
    DemoEvent(
        "Midlands networking evening",
        Event.Kind.NETWORKING,
        date(2017, 2, 9),
        time(18, 0),
        2.5,
        PIT_STOPS[2],
        ("Networking and partnership",),
        audience=Event.Audience.FELLOWS_AND_MENTORS,
    ),
    DemoEvent(
        "Pit Stop 3: evidence and evaluation",
        Event.Kind.PIT_STOP,
        date(2017, 3, 10),
        time(10, 0),
        6.5,
        PIT_STOPS[2],
        ("Evidence and evaluation",),
        capacity=60,
    ),
    DemoEvent(
        "Webinar: how the NHS buys",
        Event.Kind.WEBINAR,
        date(2017, 4, 19),
        time(19, 0),
        1,
        None,
        ("Commercial and procurement",),
        organiser="Optum",
    ),
    DemoEvent(
        "Course: leading while you train",
        Event.Kind.COURSE,
        date(2017, 5, 11),
        time(9, 30),
        7,
        PIT_STOPS[3],
        ("Leadership",),
        capacity=30,
        audience=Event.Audience.FELLOWS,
    ),
    DemoEvent(
        "Pit Stop 4: pitching to partners",
        Event.Kind.PIT_STOP,
        date(2017, 6, 16),
        time(10, 0),
        6.5,
        PIT_STOPS[0],
        ("Finance and investment", "Networking and partnership"),
        capacity=80,
    ),
    DemoEvent(
        "Clinical Entrepreneur conference 2017",
        Event.Kind.CONFERENCE,
        date(2017, 7, 6),
        time(9, 0),
        8,
        ("ExCeL London", "Royal Victoria Dock, London E16 1XL", "london"),
        ("Networking and partnership", "Leadership"),
        audience=Event.Audience.PROGRAMME,
    ),
]


def _working_day(day: date) -> date:
    """The day itself, or the next weekday that is not a bank holiday around Christmas."""
    while day.weekday() >= 5 or (day.month, day.day) in {(12, 25), (12, 26), (1, 1)}:
        day += timedelta(days=1)
    return day


def upcoming_events(today: date) -> list[DemoEvent]:
    """What is coming up whenever the demo is loaded: one under way today (to try the QR
    check-in), one full with a waiting list, and the rest of the season."""
    return [
        DemoEvent(
            "Pit Stop: pitch clinic",
            Event.Kind.PIT_STOP,
            today,
            time(0, 0),  # replaced below: it began an hour ago
            0,
            PIT_STOPS[0],
            ("Finance and investment",),
            capacity=40,
            description="Five-minute pitches to a panel of partners and alumni, with written "
            "feedback. Scan the QR code on the screen to check in.",
        ),
        DemoEvent(
            "Webinar: software as a medical device and the MHRA",
            Event.Kind.WEBINAR,
            _working_day(today + timedelta(days=6)),
            time(19, 0),
            1,
            None,
            ("Regulation and governance", "Digital and technology"),
            capacity=150,
        ),
        DemoEvent(
            "Pit Stop: investor readiness",
            Event.Kind.PIT_STOP,
            _working_day(today + timedelta(days=13)),
            time(10, 0),
            6,
            ("Manchester Science Park", "Pencroft Way, Manchester M15 6JJ", "north_west"),
            ("Finance and investment",),
            capacity=12,
            description="A small-group day with investors from the programme's partners: your "
            "deck, your numbers and your ask. Twelve places.",
        ),
        DemoEvent(
            "Building evidence for digital health (hosted from California)",
            Event.Kind.WEBINAR,
            _working_day(today + timedelta(days=17)),
            time(9, 0),
            1.5,
            None,
            ("Evidence and evaluation", "Digital and technology"),
            organiser="Verily",
            zone="America/Los_Angeles",
        ),
        DemoEvent(
            "South West networking evening",
            Event.Kind.NETWORKING,
            _working_day(today + timedelta(days=24)),
            time(18, 0),
            2.5,
            PIT_STOPS[4],
            ("Networking and partnership",),
            audience=Event.Audience.FELLOWS_AND_MENTORS,
            capacity=50,
        ),
        DemoEvent(
            "Course: health economics for innovators",
            Event.Kind.COURSE,
            _working_day(today + timedelta(days=38)),
            time(9, 30),
            31,  # two days: 09:30 on the first to 16:30 on the second
            ("The Studio, Birmingham", "7 Cannon Street, Birmingham B2 5EP", "midlands"),
            ("Evidence and evaluation", "Commercial and procurement"),
            organiser="MSD",
            capacity=30,
            audience=Event.Audience.FELLOWS,
        ),
    ]


def _save(cep, staff, spec: DemoEvent, domains, organisations, *, starts_at=None) -> Event:
    zone = ZoneInfo(spec.zone)
    starts_at = starts_at or datetime.combine(spec.when, spec.starts, tzinfo=zone)
    ends_at = starts_at + timedelta(hours=spec.hours or 3)
    online = spec.where is None
    data = {
        "kind": spec.kind,
        "title": spec.title,
        "description": spec.description
        or f"{Event.Kind(spec.kind).label} of the NHS Clinical Entrepreneur Programme.",
        "starts_at": starts_at,
        "ends_at": ends_at,
        "time_zone": spec.zone,
        "is_online": online,
        "online_url": f"https://meet.example.org/cep/{slugify(spec.title)[:40]}" if online else "",
        "venue_name": "" if online else spec.where[0],
        "venue_address": "" if online else spec.where[1],
        "region": "" if online else spec.where[2],
        "capacity": spec.capacity,
        "audience": spec.audience,
        "organiser": organisations.get(spec.organiser),
        "domains": [domains[name] for name in spec.domains if name in domains],
    }
    event = Event.objects.filter(programme=cep, title=spec.title).first()
    if event is None:
        event = services.event_save(programme=cep, actor=staff, data=data, publish=True)
    elif event.starts_at != starts_at and event.starts_at > timezone.now():
        # Loaded again on a later day: keep what is "coming up" ahead of today.
        Event.objects.filter(pk=event.pk).update(starts_at=starts_at, ends_at=ends_at)
        event.refresh_from_db()
    return event


def _register_many(event: Event, users, *, attended_share: float, rng) -> None:
    """Registrations of people other than the demo logins, written in bulk (their individual
    steps add nothing to see), with attendance as the register recorded it."""
    have = set(Registration.objects.filter(event=event).values_list("user_id", flat=True))
    rows = []
    for n, user in enumerate(users):
        if user.pk in have:
            continue
        if event.capacity is not None and n >= event.capacity:
            status = Registration.Status.WAITLISTED
        elif event.is_past:
            status = (
                Registration.Status.ATTENDED
                if rng.random() < attended_share
                else Registration.Status.NO_SHOW
            )
        else:
            status = Registration.Status.REGISTERED
        registered_at = event.starts_at - timedelta(days=20 - n % 15, hours=n % 7)
        rows.append(
            Registration(
                programme=event.programme,
                event=event,
                user=user,
                status=status,
                registered_at=registered_at,
                waitlisted_at=registered_at if status == Registration.Status.WAITLISTED else None,
                attended_at=event.starts_at + timedelta(minutes=n % 25)
                if status == Registration.Status.ATTENDED
                else None,
                check_in=(Registration.CheckIn.QR if n % 3 else Registration.CheckIn.STAFF)
                if status == Registration.Status.ATTENDED
                else "",
            )
        )
    Registration.objects.bulk_create(rows)


@register_seeder(order=55)
def seed_events(seeder) -> None:
    cep = seeder.programmes["cep"]
    rng = random.Random(2017)
    with scope(programme=cep):
        staff = Membership.objects.get(programme=cep, user__email=STAFF_EMAIL).user
        domains = {d.name: d for d in CompetencyDomain.objects.filter(programme=cep)}
        organisations = {o.name: o for o in Organisation.objects.filter(programme=cep)}
        fellows = list(
            Fellow.objects.filter(programme=cep, cohort__name="Cohort 1 — 2016/17")
            .select_related("user")
            .order_by("pk")
        )
        demo_fellow = next(f for f in fellows if f.user.email == FELLOW_EMAIL)
        others = [f.user for f in fellows if f.pk != demo_fellow.pk]
        mentors = [
            m.user
            for m in Membership.objects.filter(programme=cep, role=Role.MENTOR)
            .exclude(user__email=MENTOR_EMAIL)
            .select_related("user")
            .order_by("pk")
        ]
        mentor = Membership.objects.get(
            programme=cep, role=Role.MENTOR, user__email=MENTOR_EMAIL
        ).user

        # The first cohort's year: the demo fellow came to most, checked in by QR or by staff.
        for n, spec in enumerate(FIRST_YEAR):
            event = _save(cep, staff, spec, domains, organisations)
            if event.registrations.exists():
                continue
            if n != 5:  # she missed one webinar
                registration = Registration.objects.create(
                    programme=cep,
                    event=event,
                    user=demo_fellow.user,
                    status=Registration.Status.REGISTERED,
                    registered_at=event.starts_at - timedelta(days=21),
                )
                services.attendance_mark(
                    registration=registration,
                    actor=staff,
                    attended=True,
                    now=event.starts_at + timedelta(minutes=12),
                )
            people = rng.sample(others, k=min(len(others), 30 + rng.randrange(45)))
            if event.audience == Event.Audience.FELLOWS_AND_MENTORS:
                people += rng.sample(mentors, k=min(len(mentors), 12))
            if event.capacity:
                # A few more than the places: the waiting list of a popular day.
                people = people[: event.capacity - 1 + rng.randrange(6)]
            _register_many(event, people, attended_share=0.82, rng=rng)

        # Coming up, whenever the demo is loaded.
        today = timezone.localdate()
        for spec in upcoming_events(today):
            starts_at = None
            if spec.title == "Pit Stop: pitch clinic":
                starts_at = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=1)
                spec = DemoEvent(**{**spec.__dict__, "hours": 4})
            event = _save(cep, staff, spec, domains, organisations, starts_at=starts_at)
            if event.registrations.exists():
                continue
            _seed_upcoming(event, demo_fellow.user, mentor, others, mentors, rng)

        # A draft only staff see, waiting to be published.
        if not Event.objects.filter(programme=cep, title="Pit Stop: spring showcase").exists():
            services.event_save(
                programme=cep,
                actor=staff,
                data={
                    "kind": Event.Kind.PIT_STOP,
                    "title": "Pit Stop: spring showcase",
                    "description": "Fellows show what they built this year to partners.",
                    "starts_at": datetime.combine(
                        today + timedelta(days=90), time(10, 0), tzinfo=UK
                    ),
                    "ends_at": datetime.combine(today + timedelta(days=90), time(16, 0), tzinfo=UK),
                    "time_zone": "Europe/London",
                    "is_online": False,
                    "venue_name": "Wellcome Collection",
                    "venue_address": "183 Euston Road, London NW1 2BE",
                    "region": "london",
                    "capacity": 120,
                    "audience": Event.Audience.PROGRAMME,
                },
            )
    _seed_accel_event(seeder)


def _seed_upcoming(event, fellow_user, mentor_user, others, mentors, rng) -> None:
    """Registrations for what is coming up, through the services (so the waiting list is a
    real one): the investor-readiness Pit Stop fills up and the demo fellow waits for a place."""
    title = event.title
    if title == "Pit Stop: investor readiness":
        for user in rng.sample(others[:-2], k=event.capacity):
            services.registration_create(event=event, user=user)
        for user in [others[-1], fellow_user, others[-2]]:
            services.registration_create(event=event, user=user)
        return
    if title == "Pit Stop: pitch clinic":
        # Under way: registered before it began, a few already checked in at the door.
        people = rng.sample(others, k=22)
        _register_many(event, [fellow_user, *people], attended_share=0, rng=rng)
        for registration in event.registrations.exclude(user=fellow_user)[:9]:
            services.checkin_with_code(
                event=event, user=registration.user, code=services.checkin_code(event)
            )
        return
    if not title.startswith("Course:"):  # left for the demo fellow to find and register for
        services.registration_create(event=event, user=fellow_user)
    if event.audience == Event.Audience.FELLOWS_AND_MENTORS:
        services.registration_create(event=event, user=mentor_user)
        extra = rng.sample(mentors, k=5)
    else:
        extra = []
    for user in rng.sample(others, k=min(len(others), 8 + rng.randrange(15))) + extra:
        services.registration_create(event=event, user=user)


def _seed_accel_event(seeder) -> None:
    accel = seeder.programmes.get("accel")
    if accel is None:
        return
    with scope(programme=accel):
        if Event.objects.filter(programme=accel).exists():
            return
        staff = (
            Membership.objects.filter(programme=accel, role=Role.STAFF)
            .select_related("user")
            .first()
        )
        day = timezone.localdate() + timedelta(days=9)
        services.event_save(
            programme=accel,
            actor=staff.user if staff else None,
            publish=True,
            data={
                "kind": Event.Kind.WEBINAR,
                "title": "Accelerator demo day rehearsal",
                "description": "Practise your demo-day pitch with the accelerator's mentors.",
                "starts_at": datetime.combine(day, time(16, 0), tzinfo=UK),
                "ends_at": datetime.combine(day, time(17, 30), tzinfo=UK),
                "time_zone": "Europe/London",
                "is_online": True,
                "online_url": "https://meet.example.org/accel/demo-day",
                "audience": Event.Audience.FELLOWS_AND_MENTORS,
            },
        )


# --- calendars -----------------------------------------------------------------------------------


@register_seeder(order=58)
def seed_calendar_feeds(seeder) -> None:
    """The demo fellow and mentor have their calendar feed switched on, so their calendar page
    shows an address to subscribe to. Running again keeps the same address."""
    cep = seeder.programmes["cep"]
    users = get_user_model().objects.filter(email__in=[FELLOW_EMAIL, MENTOR_EMAIL]).order_by("pk")
    with scope(programme=cep):
        for user in users:
            services.calendar_feed_create(programme=cep, user=user)


# --- resources and opportunities -----------------------------------------------------------------

# The library is today's (the cohort is 2016/17, but fellows of any year would use these), and
# opportunities are dated from the day the demo is loaded so that some close soon, some roll,
# one waits to open, and two have already closed, whatever day that is.

RESOURCE_PROVIDERS = {
    "NHS Innovation Accelerator": "charity",
    "Medicines and Healthcare products Regulatory Agency": "government",
    "National Institute for Health and Care Excellence": "government",
    "York Health Economics Consortium": "university",
    "Anglia Ruskin University": "university",
    "Health Innovation Network": "other",
}

# (kind, title, provider, minutes, credits, level, domains, url, summary)
RESOURCES = [
    (
        "video",
        "Understanding the NHS innovation landscape",
        "NHS Innovation Accelerator",
        25,
        None,
        "",
        ["Networking and partnership", "Commercial and procurement"],
        "https://example.org/nhsia/innovation-landscape",
        "Who does what: NHS England, the Health Innovation Networks, NICE, the MHRA and "
        "integrated care boards, and where an innovator fits in.",
    ),
    (
        "video",
        "Pitching to NHS buyers: what a value proposition looks like",
        "NHS Innovation Accelerator",
        18,
        None,
        "",
        ["Commercial and procurement"],
        "https://example.org/nhsia/value-proposition",
        "Fellows of the NHS Innovation Accelerator show the one-page value propositions that "
        "won their first NHS contracts, and a procurement lead explains what she looks for.",
    ),
    (
        "video",
        "From ward idea to spin-out: clinical entrepreneurs' stories",
        "NHS Innovation Accelerator",
        30,
        None,
        "",
        ["Business planning", "Leadership"],
        "https://example.org/nhsia/ward-to-spin-out",
        "Four clinicians on building a company while still working shifts: the first "
        "customer, the first hire and the first mistake.",
    ),
    (
        "video",
        "Raising your first round: a term sheet walk-through",
        "Microsoft",
        40,
        None,
        "",
        ["Finance and investment"],
        "https://example.org/microsoft-for-startups/term-sheets",
        "Valuation, dilution, liquidation preferences and the SEIS and EIS tax reliefs, "
        "explained line by line on a real seed term sheet.",
    ),
    (
        "e_learning",
        "UKCA marking for medical devices: the essentials",
        "Medicines and Healthcare products Regulatory Agency",
        90,
        None,
        "",
        ["Regulation and governance"],
        "https://www.gov.uk/guidance/medical-devices-conformity-assessment-and-the-ukca-mark",
        "Classifying a device, conformity assessment, approved bodies and the technical file: "
        "what a medical device needs before it can be placed on the UK market.",
    ),
    (
        "e_learning",
        "Software and AI as a medical device",
        "Medicines and Healthcare products Regulatory Agency",
        60,
        None,
        "",
        ["Regulation and governance", "Digital and technology"],
        "https://www.gov.uk/government/publications/software-and-artificial-intelligence-ai-as-a-medical-device",
        "When an app or an algorithm becomes a medical device, and what the MHRA's change "
        "programme means for software that learns.",
    ),
    (
        "e_learning",
        "Clinical safety: DCB0129 and DCB0160 explained",
        "NHS England",
        120,
        None,
        "",
        ["Regulation and governance", "Digital and technology"],
        "https://example.org/nhse/clinical-safety-dcb0129",
        "The clinical risk management standards for health IT: hazard logs, safety cases and "
        "the clinical safety officer, for those who make software and those who deploy it.",
    ),
    (
        "e_learning",
        "Data protection and information governance for digital health",
        "NHS England",
        45,
        None,
        "",
        ["Regulation and governance"],
        "https://example.org/nhse/information-governance",
        "UK GDPR, the data security and protection toolkit and data protection impact "
        "assessments, for a product that handles patient data.",
    ),
    (
        "e_learning",
        "Introduction to health economics for innovators",
        "York Health Economics Consortium",
        150,
        None,
        "",
        ["Evidence and evaluation", "Commercial and procurement"],
        "https://example.org/yhec/health-economics-for-innovators",
        "Cost-effectiveness, QALYs, budget impact and building a simple economic model that an "
        "NHS commissioner will trust.",
    ),
    (
        "document",
        "Evidence standards framework for digital health technologies",
        "National Institute for Health and Care Excellence",
        None,
        None,
        "",
        ["Evidence and evaluation", "Digital and technology"],
        "https://www.nice.org.uk/corporate/ecd7",
        "NICE's framework of the evidence a digital health technology should show, tiered by "
        "what it does and the risk it carries.",
    ),
    (
        "document",
        "Digital Technology Assessment Criteria (DTAC): a guide for suppliers",
        "NHS England",
        None,
        None,
        "",
        ["Regulation and governance", "Digital and technology"],
        "https://example.org/nhse/dtac-guide",
        "The baseline NHS buyers check before they take on a digital tool: clinical safety, "
        "data protection, technical security, interoperability and usability.",
    ),
    (
        "document",
        "Writing a business case an NHS trust will fund",
        "Health Innovation Network",
        None,
        None,
        "",
        ["Business planning", "Commercial and procurement"],
        "https://example.org/hin/business-case",
        "The five-case model in plain words, with a worked example for a digital triage tool "
        "in an emergency department.",
    ),
    (
        "document",
        "Investment readiness checklist: grants, angels and seed",
        "Health Innovation Network",
        None,
        None,
        "",
        ["Finance and investment", "Business planning"],
        "https://example.org/hin/investment-readiness",
        "Twenty questions investors and grant panels ask, from the size of the problem to the "
        "cap table, with where to find the answers.",
    ),
    (
        "module",
        "Clinical Entrepreneurship: Venture Creation",
        "Anglia Ruskin University",
        None,
        20,
        "pgcert",
        ["Business planning", "Finance and investment"],
        "https://example.org/aru/venture-creation",
        "A 20-credit master's-level module: from opportunity to business model and first "
        "funding, assessed by a pitch and an investment paper.",
    ),
    (
        "module",
        "Leading Innovation in Health and Care",
        "Anglia Ruskin University",
        None,
        30,
        "pgdip",
        ["Leadership", "Networking and partnership"],
        "https://example.org/aru/leading-innovation",
        "A 30-credit module on leading change across organisations, assessed by a reflective "
        "portfolio and a stakeholder plan for the fellow's own venture.",
    ),
    (
        "module",
        "Research Methods for Health Innovation",
        "Anglia Ruskin University",
        None,
        60,
        "masters",
        ["Evidence and evaluation"],
        "https://example.org/aru/research-methods",
        "A 60-credit module that prepares the dissertation: study design, service evaluation "
        "and ethics, applied to a pilot of the fellow's innovation.",
    ),
]

# The demo fellow's plan: objective title -> the resource she linked to it.
DEMO_LINKS = {
    "Raise a £50,000 pre-seed round": "Investment readiness checklist: grants, angels and seed",
    "Run a three-month pilot on two wards": (
        "Evidence standards framework for digital health technologies"
    ),
}

# (kind, title, organisation, funding, amount, opens in days, deadline in days (None:
#  rolling), status, tags, professions, sectors, stages, regions, eligibility, summary)
OPPORTUNITIES = [
    (
        "funding",
        "Microsoft for Startups: Founders Hub for health",
        "Microsoft",
        "",
        "Up to £120,000 in Azure credits",
        None,
        None,
        "published",
        ["cloud", "digital", "funding"],
        [],
        ["digital", "ai_data"],
        ["idea", "prototype"],
        [],
        "Founders of an early-stage company building software; no need to have raised money.",
        "Cloud credits, technical advice and a route to Microsoft's health partners for "
        "early-stage digital health ventures. Applications are reviewed as they come in.",
    ),
    (
        "funding",
        "Johnson & Johnson Innovation QuickFire Challenge: the future of acute care",
        "Johnson & Johnson",
        "",
        "Up to £75,000 and a year at JLABS",
        -30,
        5,
        "published",
        ["acute care", "funding", "medtech"],
        [],
        ["medtech", "digital", "diagnostics"],
        ["prototype", "pilot"],
        ["london"],
        "UK-based teams with a working prototype; clinical founders are encouraged.",
        "A grant and a year's residency at JLABS @ London for solutions that help acute "
        "hospitals treat patients sooner and send them home safely.",
    ),
    (
        "networking",
        "MSD Digital Innovation Hub: London pitch day",
        "MSD",
        "",
        "",
        -14,
        10,
        "published",
        ["pitch", "digital", "networking"],
        [],
        ["digital"],
        ["idea", "prototype"],
        ["london"],
        "Clinical entrepreneurs with a digital venture at the idea or prototype stage.",
        "Ten founders pitch to MSD's digital team and invited investors, then spend the "
        "afternoon in one-to-one clinics on product, data and market access.",
    ),
    (
        "networking",
        "Pitch@Palace: applications for the next cohort",
        "Pitch@Palace",
        "",
        "",
        None,
        None,
        "published",
        ["pitch", "investors", "networking"],
        [],
        [],
        ["idea", "prototype"],
        [],
        "Early-stage founders in the UK.",
        "Pitch to investors, mentors and potential customers; the best go on to the "
        "Pitch@Palace event at St James's Palace. Applications are taken on a rolling basis.",
    ),
    (
        "education",
        "The Prince's Trust Enterprise programme: business planning",
        "The Prince's Trust",
        "",
        "Free",
        None,
        45,
        "published",
        ["business planning", "course"],
        [],
        ["social", "education", "service"],
        ["idea"],
        [],
        "Founders at the idea stage who want to test it and write a business plan.",
        "A four-day course on testing an idea, writing a business plan and a financial model, "
        "with a mentor for the months after.",
    ),
    (
        "internship",
        "Verily: clinical data science placement",
        "Verily",
        "partner",
        "Salary matched to your NHS grade",
        -7,
        21,
        "published",
        ["AI", "data", "placement"],
        ["doctor", "nurse", "scientist"],
        ["ai_data"],
        [],
        [],
        "Doctors, nurses and healthcare scientists able to take six months out of programme "
        "(OOPE) with their deanery's agreement.",
        "Six months with Verily's clinical team working on machine-learning models for "
        "retinal and cardiovascular screening.",
    ),
    (
        "internship",
        "Medtronic: medical device engineering placement",
        "Medtronic",
        "self",
        "Self-funded; travel costs met",
        -10,
        30,
        "published",
        ["medtech", "placement"],
        ["ahp", "nurse", "scientist"],
        ["medtech"],
        ["prototype", "pilot"],
        [],
        "Allied health professionals, nurses and healthcare scientists.",
        "Three months alongside Medtronic's engineers, from user research to design "
        "verification, on a device for patients at home.",
    ),
    (
        "funding",
        "AstraZeneca BioVentureHub: open innovation call",
        "AstraZeneca",
        "",
        "Up to £250,000",
        -20,
        40,
        "published",
        ["pharma", "AI", "funding"],
        [],
        ["pharma", "ai_data"],
        ["pilot", "evidence"],
        [],
        "Ventures with pilot data in respiratory, cardiovascular or renal care.",
        "Funding and access to AstraZeneca's labs and data scientists for ventures that "
        "could change how chronic disease is found or treated.",
    ),
    (
        "education",
        "Janssen: mental health innovation fellowship",
        "Janssen",
        "",
        "Bursary of £5,000",
        -5,
        60,
        "published",
        ["mental health", "fellowship"],
        ["doctor", "nurse", "ahp", "pharmacist"],
        ["mental_health"],
        [],
        [],
        "Clinicians working in or with mental health services.",
        "A year of masterclasses, site visits and a small bursary for clinicians developing "
        "new services for people with severe mental illness.",
    ),
    (
        "internship",
        "Optum: NHS service redesign placement",
        "Optum",
        "partner",
        "Paid placement",
        -3,
        35,
        "published",
        ["service redesign", "placement"],
        [],
        ["service"],
        [],
        ["north_west", "midlands"],
        "Fellows working in the North West or the Midlands.",
        "Twelve weeks with Optum's population health team redesigning an outpatient pathway "
        "with an integrated care board.",
    ),
    (
        "networking",
        "McLaren Applied: human performance data sprint",
        "McLaren",
        "",
        "",
        -2,
        60,
        "published",
        ["data", "networking"],
        [],
        ["ai_data", "service"],
        ["pilot", "evidence"],
        [],
        "Ventures with real-world data from a pilot.",
        "Two days with McLaren's data engineers applying motorsport telemetry methods to "
        "patient monitoring data.",
    ),
    (
        "funding",
        "Microsoft AI for Health: grant round 2",
        "Microsoft",
        "",
        "Up to £40,000 and Azure credits",
        20,
        80,
        "published",
        ["AI", "funding"],
        [],
        ["ai_data"],
        ["prototype", "pilot"],
        [],
        "Teams applying AI to a health problem with a named NHS partner.",
        "Grants and cloud credits for AI projects with an NHS partner. The round opens later "
        "this year.",
    ),
    (
        "funding",
        "Olympus: endoscopy innovation challenge",
        "Olympus",
        "",
        "£30,000 prize",
        -60,
        20,
        "closed",
        ["medtech", "endoscopy"],
        [],
        ["medtech", "diagnostics"],
        [],
        [],
        "Clinicians working in endoscopy.",
        "A prize for ideas that make endoscopy faster or kinder to patients.",
    ),
    (
        "funding",
        "LEO Pharma Open Innovation: dermatology challenge",
        "Leo Pharma",
        "",
        "Up to £50,000",
        -90,
        -3,
        "published",
        ["dermatology", "funding"],
        [],
        ["pharma", "digital"],
        [],
        [],
        "Teams with a solution for people living with skin disease.",
        "Funding and development support for digital and pharmaceutical ideas in dermatology.",
    ),
    (
        "education",
        "AstraZeneca: health economics summer school",
        "AstraZeneca",
        "",
        "Free",
        10,
        50,
        "draft",
        ["health economics", "course"],
        [],
        [],
        [],
        [],
        "Fellows preparing a value proposition for NHS buyers.",
        "Three days on cost-effectiveness and budget impact with AstraZeneca's market access team.",
    ),
]
OLYMPUS_CLOSED_REASON = "All places taken: the partner had more entries than it could judge."
DEMO_BOOKMARK = "MSD Digital Innovation Hub: London pitch day"
DEMO_APPLIED = ("Pitch@Palace: applications for the next cohort", "Applied 3 March; ref PP-1142.")


@register_seeder(order=60)
def seed_library(seeder) -> None:
    """The CEP's resource library, the opportunities its partners signposted, and the demo
    fellow's links, bookmark and application."""
    cep = seeder.programmes["cep"]
    today = timezone.localdate()
    with scope(programme=cep):
        staff = seeder.User.objects.get(email=STAFF_EMAIL)
        organisations = {o.name: o for o in Organisation.objects.filter(programme=cep)}
        for name, kind in RESOURCE_PROVIDERS.items():
            if name not in organisations:
                organisations[name] = Organisation.objects.create(
                    programme=cep, name=name, kind=kind, is_partner=False
                )
        domains = {d.name: d for d in CompetencyDomain.objects.filter(programme=cep)}
        resources = {r.title: r for r in Resource.objects.filter(programme=cep)}
        for kind, title, provider, mins, credits, level, tags, url, summary in RESOURCES:
            if title in resources:
                continue
            resources[title] = services.resource_save(
                programme=cep,
                actor=staff,
                data={
                    "kind": kind,
                    "title": title,
                    "summary": summary,
                    "url": url,
                    "provider": organisations[provider],
                    "duration_minutes": mins,
                    "credits": credits,
                    "credit_level": level,
                    "domains": [domains[d] for d in tags if d in domains],
                },
            )

        opportunities = {o.title: o for o in Opportunity.objects.filter(programme=cep)}
        for row in OPPORTUNITIES:
            (kind, title, organisation, funding, amount, opens, deadline, status, tags) = row[:9]
            professions, sectors, stages, regions, eligibility, summary = row[9:]
            dates = {
                "opens_on": today + timedelta(days=opens) if opens is not None else None,
                "deadline": today + timedelta(days=deadline) if deadline is not None else None,
            }
            existing = opportunities.get(title)
            if existing is not None:
                # Dated from today on every run, so a demo loaded last month still has calls
                # closing this week (a plain update: this is fixture upkeep, not a change).
                Opportunity.objects.filter(pk=existing.pk).update(**dates)
                continue
            opportunity = services.opportunity_save(
                programme=cep,
                actor=staff,
                data={
                    "kind": kind,
                    "title": title,
                    "summary": summary,
                    "organisation": organisations.get(organisation),
                    "funding": funding,
                    "amount": amount,
                    "url": "https://example.org/opportunities/"
                    + "".join(c if c.isalnum() else "-" for c in title.lower()).strip("-"),
                    "eligibility": eligibility,
                    "tags": tags,
                    "professions": professions,
                    "sectors": sectors,
                    "stages": stages,
                    "regions": regions,
                    **dates,
                },
            )
            if status == "draft":
                continue
            if dates["deadline"] and dates["deadline"] < today:
                # Published while it was open; its deadline has passed since.
                Opportunity.objects.filter(pk=opportunity.pk).update(status=status)
                continue
            services.opportunity_publish(opportunity=opportunity, actor=staff)
            if status == "closed":
                services.opportunity_close(
                    opportunity=opportunity, actor=staff, reason=OLYMPUS_CLOSED_REASON
                )

        fellow = Fellow.objects.select_related("user").get(programme=cep, user__email=FELLOW_EMAIL)
        objectives = {
            o.title: o
            for o in Objective.objects.filter(programme=cep, pdp__fellow=fellow).exclude(
                status=Objective.Status.DROPPED
            )
        }
        for objective_title, resource_title in DEMO_LINKS.items():
            if objective_title in objectives and resource_title in resources:
                services.resource_link_objective(
                    resource=resources[resource_title],
                    objective=objectives[objective_title],
                    actor=fellow.user,
                )
        bookmark = Opportunity.objects.get(programme=cep, title=DEMO_BOOKMARK)
        services.opportunity_bookmark(opportunity=bookmark, user=fellow.user)
        applied_title, note = DEMO_APPLIED
        services.opportunity_record_applied(
            opportunity=Opportunity.objects.get(programme=cep, title=applied_title),
            user=fellow.user,
            note=note,
        )
