"""Demo data: the NHS Clinical Entrepreneur Programme's first cohort (2016/17) and a second
programme, so a newcomer sees a realistic platform. Idempotent: every row is keyed on a natural
key and written with get-or-create or update-or-create, and random choices come from a fixed
seed, so a second run changes nothing.

Published figures for the first year (DESIGN §13): 104 clinical entrepreneurs appointed, 15% of
them returning to the NHS from the commercial sector, one in five on Out Of Programme
Experience or Less Than Full Time Training, every fellow matched to an industry mentor.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django_scopes import scope, scopes_disabled

from .models import (
    MAX_KEY_DAYS,
    ApiScope,
    Application,
    ApplicationQuestion,
    AuditEvent,
    Cohort,
    EqualityData,
    Fellow,
    Invitation,
    Mentor,
    NHSRegion,
    Organisation,
    PartnerKey,
    Profession,
    Programme,
    RecruitmentCall,
    Review,
    ReviewCriterion,
    Role,
    Sector,
    TrainingArrangement,
    Venture,
    VentureStage,
)
from .services import audit_log, membership_grant

DEMO_PASSWORD = "pitwall-demo"
# A fixed salt makes the stored hash identical on every run (demo accounts only).
DEMO_PASSWORD_SALT = "pitwalldemo2016"

STAFF_EMAIL = "staff@cep.example"
MENTOR_EMAIL = "mentor@cep.example"
FELLOW_EMAIL = "fellow@cep.example"
OPERATOR_EMAIL = "operator@pitwall.example"

CEP_FELLOWS = 104
CEP_RETURNERS = 16  # 15% of 104
CEP_OOPE = 12
CEP_LTFT = 9  # with OOPE: 21 of 104, one in five

# The rest of the published funnel: 166 expressions of interest, 130 applications, 104 appointed.
CEP_INTEREST_ONLY = 36
CEP_BELOW_RULE = 14
CEP_WITHDREW = 6
CEP_NOT_RECOMMENDED = 6

REVIEW_CRITERIA = [
    ("Clinical need and patient benefit", "Is the problem real, and who would be better off?"),
    ("Innovation", "Is the idea new, or a clear improvement on what exists?"),
    ("Feasibility and plan", "Can it be built and tested in the year, with this team?"),
    ("Commitment and development", "Does the applicant know what they need to learn?"),
]
APPLICATION_QUESTIONS = [
    (
        "What problem in the NHS do you want to solve, and for whom?",
        "Describe the patients or staff affected and how you know.",
    ),
    (
        "What have you done so far?",
        "For example research, a prototype, a pilot, a company formed or funding applied for.",
    ),
    (
        "What do you want from the programme and a mentor?",
        "Tell us what you need to learn and the help you are looking for.",
    ),
]
CEP_CALL_INTRODUCTION = (
    "The NHS Clinical Entrepreneur Programme supports doctors, nurses, midwives, pharmacists, "
    "allied health professionals and healthcare scientists who want to build a venture while "
    "they keep working in the NHS. Fellows get an industry mentor, Pit Stop events and a "
    "Personal Development Plan for the year."
)
CEP_SAMPLE_ANSWERS = [
    "Patients wait hours in the emergency department while staff re-enter the same "
    "observations into three systems. I have timed it on my own shifts.",
    "I have built a paper prototype, tested it with twelve colleagues and registered a company.",
    "I need to learn how the NHS buys new products and how to raise a first round.",
    "A mentor who has taken a medical device through regulation would save me a year.",
    "We ran a four-week pilot on one ward and halved the time to escalate a deteriorating patient.",
]
OPEN_COHORT_NAME = "Cohort 12 — 2027/28"
# The demo partner's API key (every scope), printed by seed_demo and used in the README.
DEMO_PARTNER = "AstraZeneca"
DEMO_API_KEY = "cepdemo1.pitwall-demo-partner-key-0000000"
# (stage, who has scored it, decision reason): this year's applications, one per situation a
# staff member meets in a live call.
OPEN_CALL_APPLICANTS = [
    ("interest", "none", ""),
    ("interest", "none", ""),
    ("interest", "none", ""),
    ("interest", "none", ""),
    ("interest", "none", ""),
    ("applied", "both", ""),  # meets the rule: ready to shortlist
    ("applied", "both", ""),  # reviewers disagree: the team decides
    ("applied", "tony", ""),  # waiting for Sarah's blind score
    ("applied", "tony", ""),
    ("applied", "none", ""),
    ("shortlisted", "both", ""),
    ("interviewed", "both", ""),  # recommended: ready to appoint
    ("withdrawn", "none", "Withdrew: has taken up a fellowship abroad."),
    ("declined", "both", "Below the shortlisting threshold of 3.5."),
]
OPEN_CALL_SCORES = {
    (5, 0): [4, 4, 4, 5],
    (5, 1): [4, 5, 4, 4],
    (6, 0): [5, 5, 5, 4],
    (6, 1): [2, 3, 2, 3],
    (13, 0): [2, 3, 2, 2],
    (13, 1): [3, 2, 2, 3],
}

CEP_PARTNERS = [
    "AstraZeneca",
    "Verily",
    "Microsoft",
    "Medtronic",
    "Johnson & Johnson",
    "McLaren",
    "Janssen",
    "Optum",
    "Olympus",
    "MSD",
    "Leo Pharma",
    "Pitch@Palace",
    "The Prince's Trust",
]

FIRST_NAMES = [
    "Amelia",
    "Oliver",
    "Priya",
    "James",
    "Aisha",
    "Thomas",
    "Sophie",
    "Mohammed",
    "Grace",
    "Daniel",
    "Chloe",
    "Samuel",
    "Hannah",
    "Joseph",
    "Emily",
    "Rahul",
    "Lucy",
    "Benjamin",
    "Zara",
    "Harry",
    "Olivia",
    "Adebayo",
    "Isla",
    "William",
    "Ella",
    "Kwame",
    "Freya",
    "George",
    "Mei",
    "Alexander",
    "Ruby",
    "Arjun",
    "Jessica",
    "Matthew",
    "Fatima",
    "Jack",
    "Niamh",
    "Ethan",
    "Aoife",
    "Luke",
    "Imogen",
    "Chidi",
    "Charlotte",
    "Owen",
    "Leah",
    "Rhys",
    "Anika",
    "Callum",
    "Megan",
    "Yusuf",
]
LAST_NAMES = [
    "Shah",
    "Smith",
    "Okafor",
    "Jones",
    "Patel",
    "Williams",
    "Brown",
    "Khan",
    "Taylor",
    "Davies",
    "Evans",
    "Wilson",
    "Thomas",
    "Roberts",
    "Johnson",
    "Ahmed",
    "Walker",
    "Wright",
    "Robinson",
    "Thompson",
    "Hughes",
    "Green",
    "Edwards",
    "Hall",
    "Wood",
    "Clarke",
    "Chen",
    "Lewis",
    "Harris",
    "Martin",
    "Jackson",
    "Clark",
    "Begum",
    "Mensah",
    "Murphy",
    "O'Brien",
    "Campbell",
    "Kaur",
    "Singh",
    "Nguyen",
    "Kowalski",
    "Hussain",
    "Lee",
    "Morgan",
    "Price",
]
SPECIALTIES = {
    Profession.DOCTOR: [
        "Emergency medicine",
        "General practice",
        "Anaesthetics",
        "Cardiology",
        "Psychiatry",
        "Paediatrics",
        "Radiology",
        "General surgery",
        "Dermatology",
        "Ophthalmology",
        "Respiratory medicine",
        "Oncology",
        "Obstetrics and gynaecology",
        "Public health",
    ],
    Profession.NURSE: [
        "Adult nursing",
        "Mental health nursing",
        "Children's nursing",
        "District nursing",
        "Critical care",
    ],
    Profession.MIDWIFE: ["Community midwifery", "Labour ward"],
    Profession.AHP: [
        "Physiotherapy",
        "Occupational therapy",
        "Radiography",
        "Paramedicine",
        "Speech and language therapy",
        "Dietetics",
    ],
    Profession.PHARMACIST: ["Hospital pharmacy", "Community pharmacy", "Clinical pharmacology"],
    Profession.SCIENTIST: ["Clinical bioinformatics", "Medical physics", "Genomics"],
    Profession.OTHER: ["Dentistry", "Optometry"],
}
GRADES = {
    Profession.DOCTOR: [
        "FY2",
        "CT1",
        "CT2",
        "ST3",
        "ST4",
        "ST5",
        "ST6",
        "GP trainee",
        "Consultant",
    ],
    Profession.NURSE: ["Band 5", "Band 6", "Band 7"],
    Profession.MIDWIFE: ["Band 6", "Band 7"],
    Profession.AHP: ["Band 5", "Band 6", "Band 7"],
    Profession.PHARMACIST: ["Band 6", "Band 7", "Band 8a"],
    Profession.SCIENTIST: ["Band 6", "Band 7", "Trainee (STP)"],
    Profession.OTHER: ["Specialty registrar", "Band 7"],
}
# Roughly the mix of the first cohort: mostly doctors, with every profession represented.
PROFESSION_MIX = (
    [Profession.DOCTOR] * 62
    + [Profession.NURSE] * 14
    + [Profession.PHARMACIST] * 9
    + [Profession.AHP] * 10
    + [Profession.MIDWIFE] * 3
    + [Profession.SCIENTIST] * 4
    + [Profession.OTHER] * 2
)
EMPLOYERS = {
    NHSRegion.LONDON: [
        "Guy's and St Thomas' NHS Foundation Trust",
        "Barts Health NHS Trust",
        "Imperial College Healthcare NHS Trust",
    ],
    NHSRegion.SOUTH_EAST: [
        "Oxford University Hospitals NHS Foundation Trust",
        "Brighton and Sussex University Hospitals NHS Trust",
    ],
    NHSRegion.SOUTH_WEST: [
        "University Hospitals Bristol NHS Foundation Trust",
        "Royal Devon and Exeter NHS Foundation Trust",
    ],
    NHSRegion.MIDLANDS: [
        "University Hospitals Birmingham NHS Foundation Trust",
        "Nottingham University Hospitals NHS Trust",
    ],
    NHSRegion.EAST: [
        "Cambridge University Hospitals NHS Foundation Trust",
        "Norfolk and Norwich University Hospitals NHS Foundation Trust",
    ],
    NHSRegion.NORTH_WEST: [
        "Manchester University NHS Foundation Trust",
        "Liverpool University Hospitals NHS Foundation Trust",
    ],
    NHSRegion.NORTH_EAST_YORKSHIRE: [
        "Leeds Teaching Hospitals NHS Trust",
        "Newcastle upon Tyne Hospitals NHS Foundation Trust",
    ],
}
VENTURE_PREFIXES = [
    "Triage",
    "Ward",
    "Clinic",
    "Care",
    "Pulse",
    "Rota",
    "Dose",
    "Scan",
    "Path",
    "Bed",
    "Discharge",
    "Referral",
    "Vital",
    "Theatre",
    "Remote",
]
VENTURE_SUFFIXES = ["Flow", "Link", "Sense", "Assist", "Check", "Hub", "Track", "Mate", "Loop"]
VENTURE_IDEAS = [
    ("an app that helps {who} {what}", "digital"),
    ("a machine-learning tool that helps {who} {what}", "ai_data"),
    ("a device that helps {who} {what}", "medtech"),
    ("a point-of-care test that helps {who} {what}", "diagnostics"),
    ("a service model that helps {who} {what}", "service"),
    ("a peer-support platform that helps {who} {what}", "mental_health"),
    ("a training programme that helps {who} {what}", "education"),
]
VENTURE_PROBLEMS = [
    ("emergency departments", "prioritise patients safely at busy times"),
    ("ward teams", "spot deteriorating patients earlier"),
    ("GP practices", "cut unnecessary referrals"),
    ("community nurses", "plan home visits around patients"),
    ("pharmacists", "catch prescribing errors before they reach patients"),
    ("midwives", "keep in touch with women after discharge"),
    ("clinics", "reduce missed appointments"),
]
HELP_NEEDED = [
    "Raising a first round of investment and talking to investors.",
    "Getting through medical device regulation (UKCA) and clinical safety standards.",
    "Running an NHS pilot and building the evidence base.",
    "NHS procurement and how trusts buy new products.",
    "Building a team and leading it while still in training.",
    "Writing a business plan and a financial model.",
]
ORG_SECTORS = {
    "AstraZeneca": ["pharma", "ai_data"],
    "Verily": ["ai_data", "digital"],
    "Microsoft": ["digital", "ai_data"],
    "Medtronic": ["medtech", "diagnostics"],
    "Johnson & Johnson": ["medtech", "pharma"],
    "McLaren": ["service", "ai_data"],
    "Janssen": ["pharma", "mental_health"],
    "Optum": ["service", "digital"],
    "Olympus": ["medtech", "diagnostics"],
    "MSD": ["pharma"],
    "Leo Pharma": ["pharma"],
    "Pitch@Palace": ["social", "education"],
    "The Prince's Trust": ["social", "education"],
}
MENTOR_ROLES = [
    ("Head of Digital Health", "digital health, product strategy"),
    ("Director of Market Access", "NHS procurement, market access, health economics"),
    ("Venture Partner", "fundraising, investment readiness"),
    ("Regulatory Affairs Lead", "medical device regulation, UKCA and CE marking"),
    ("Head of Innovation", "innovation partnerships, clinical pilots"),
    ("Chief Medical Officer", "clinical evidence, leadership"),
]


# (order, name, function(seeder)) registered by other apps' demo modules.
EXTRA_SEEDERS: list[tuple[int, str, object]] = []


def register_seeder(order: int):
    """Decorator for another app's demo step; it receives the DemoSeeder (its programmes,
    users and stdout). Steps must be idempotent, like everything here."""

    def decorator(function):
        key = f"{function.__module__}.{function.__name__}"
        if key not in {name for _, name, _ in EXTRA_SEEDERS}:
            EXTRA_SEEDERS.append((order, key, function))
        return function

    return decorator


@dataclass
class DemoSummary:
    programmes: int = 0
    fellows: int = 0
    mentors: int = 0
    created_users: int = 0


class DemoSeeder:
    def __init__(self, *, stdout=None):
        self.stdout = stdout
        self.password_hash = make_password(DEMO_PASSWORD, salt=DEMO_PASSWORD_SALT)
        self.summary = DemoSummary()
        self.User = get_user_model()

    # --- building blocks -------------------------------------------------------------------
    def user(self, email: str, full_name: str, **extra):
        user, created = self.User.objects.get_or_create(
            email=email,
            defaults={"full_name": full_name, "password": self.password_hash, **extra},
        )
        if not created:
            changed = []
            for field, value in {
                "full_name": full_name,
                "password": self.password_hash,
                **extra,
            }.items():
                if getattr(user, field) != value:
                    setattr(user, field, value)
                    changed.append(field)
            if changed:
                user.save(update_fields=changed)
        else:
            self.summary.created_users += 1
        EmailAddress.objects.update_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        return user

    def programme(self, slug: str, **fields) -> Programme:
        programme, _ = Programme.objects.update_or_create(slug=slug, defaults=fields)
        self.summary.programmes += 1
        return programme

    # --- the CEP ---------------------------------------------------------------------------
    def seed_cep(self) -> Programme:
        cep = self.programme(
            "cep",
            name="NHS Clinical Entrepreneur Programme",
            short_name="CEP",
            description=(
                "A programme for clinicians who build ventures while they train, each matched "
                "with an industry mentor."
            ),
            contact_email="cep-team@cep.example",
            meetings_per_year=4,
        )
        rng = random.Random(2016)
        with scope(programme=cep):
            staff = self.user(STAFF_EMAIL, "Sarah Whitfield", preferred_name="Sarah")
            membership_grant(programme=cep, user=staff, role=Role.STAFF, via=AuditEvent.Via.COMMAND)
            second_staff = self.user("tony.young@cep.example", "Tony Young")
            membership_grant(
                programme=cep, user=second_staff, role=Role.STAFF, via=AuditEvent.Via.COMMAND
            )
            cohort, _ = Cohort.objects.get_or_create(
                programme=cep,
                name="Cohort 1 — 2016/17",
                defaults={"starts_on": date(2016, 9, 1), "ends_on": date(2017, 8, 31)},
            )
            organisations = {
                name: Organisation.objects.update_or_create(
                    programme=cep,
                    name=name,
                    defaults={"kind": Organisation.Kind.INDUSTRY, "is_partner": True},
                )[0]
                for name in CEP_PARTNERS
            }
            Organisation.objects.update_or_create(
                programme=cep,
                name="NHS England",
                defaults={"kind": Organisation.Kind.GOVERNMENT, "is_partner": False},
            )
            self._seed_cep_mentors(cep, organisations, rng)
            self._seed_cep_fellows(cep, cohort, rng)
            self._seed_invitations(cep, staff)
            self._seed_cep_recruitment(cep, cohort, [staff, second_staff])
            self._seed_open_call(cep, [staff, second_staff])
        return cep

    def _seed_cep_mentors(self, cep, organisations, rng) -> None:
        # Three mentors from each partner, capacity 3: 39 mentors for 104 fellows.
        people = self._names(rng, 3 * len(CEP_PARTNERS), offset=7)
        index = 0
        for org_name, organisation in organisations.items():
            for slot in range(3):
                full_name = people[index]
                index += 1
                if org_name == "AstraZeneca" and slot == 0:
                    email, full_name = MENTOR_EMAIL, "Dr Michael Harding"
                else:
                    email = self._email(full_name, org_name)
                title, expertise = MENTOR_ROLES[(index + slot) % len(MENTOR_ROLES)]
                sectors = ORG_SECTORS.get(org_name, ["other"])
                if email == MENTOR_EMAIL:
                    # The demo mentor suits the demo fellow's digital venture and her need.
                    title = "Head of Digital Health Ventures"
                    expertise = "fundraising and investment readiness, digital product strategy"
                    sectors = ["digital", "ai_data", "pharma"]
                user = self.user(email, full_name)
                membership_grant(
                    programme=cep, user=user, role=Role.MENTOR, via=AuditEvent.Via.COMMAND
                )
                Mentor.objects.update_or_create(
                    programme=cep,
                    user=user,
                    defaults={
                        "organisation": organisation,
                        "job_title": title,
                        "expertise": expertise,
                        "capacity": 3,
                        "sectors": sectors,
                        "region": NHSRegion.LONDON
                        if email == MENTOR_EMAIL
                        else list(NHSRegion)[index % len(NHSRegion)],
                    },
                )
                self.summary.mentors += 1

    def _seed_cep_fellows(self, cep, cohort, rng) -> None:
        names = self._names(rng, CEP_FELLOWS, offset=0)
        professions = PROFESSION_MIX[:]
        rng.shuffle(professions)
        # Which fellows are returners, OOPE or LTFT is drawn once from the seeded generator.
        order = list(range(1, CEP_FELLOWS))
        rng.shuffle(order)
        returners = set(order[:CEP_RETURNERS])
        oope = set(order[CEP_RETURNERS : CEP_RETURNERS + CEP_OOPE])
        ltft = set(order[CEP_RETURNERS + CEP_OOPE : CEP_RETURNERS + CEP_OOPE + CEP_LTFT])
        regions = list(NHSRegion)
        stages = list(VentureStage)
        equality_rng = random.Random(1617)
        for i in range(CEP_FELLOWS):
            profession = Profession.DOCTOR if i == 0 else professions[i]
            full_name = names[i]
            title = "Dr " if profession == Profession.DOCTOR else ""
            if i == 0:
                email, full_name = FELLOW_EMAIL, "Priya Shah"
                title = "Dr "
            else:
                email = self._email(full_name, "cep")
            region = NHSRegion.LONDON if i == 0 else regions[i % len(regions)]
            arrangement = TrainingArrangement.IN_PROGRAMME
            ltft_percent = None
            if i in oope:
                arrangement = TrainingArrangement.OOPE
            elif i in ltft:
                arrangement = TrainingArrangement.LTFT
                ltft_percent = rng.choice([50, 60, 70, 80])
            user = self.user(email, f"{title}{full_name}")
            membership_grant(programme=cep, user=user, role=Role.FELLOW, via=AuditEvent.Via.COMMAND)
            idea, sector = VENTURE_IDEAS[i % len(VENTURE_IDEAS)]
            who, what = VENTURE_PROBLEMS[(i * 3) % len(VENTURE_PROBLEMS)]
            venture_name = (
                f"{VENTURE_PREFIXES[i % len(VENTURE_PREFIXES)]}"
                f"{VENTURE_SUFFIXES[(i // len(VENTURE_PREFIXES)) % len(VENTURE_SUFFIXES)]}"
            )
            fellow, _ = Fellow.objects.update_or_create(
                programme=cep,
                cohort=cohort,
                user=user,
                defaults={
                    "profession": profession,
                    "grade": "ST4" if i == 0 else rng.choice(GRADES[profession]),
                    "specialty": "Emergency medicine"
                    if i == 0
                    else rng.choice(SPECIALTIES[profession]),
                    "employer": rng.choice(EMPLOYERS[region]),
                    "region": region,
                    "training_arrangement": arrangement,
                    "ltft_percent": ltft_percent,
                    "is_returner": i in returners,
                    "consent_to_share": i % 3 != 0,
                    "interests": f"Building {idea.split(' that ')[0]} for {who}.",
                    "help_needed": HELP_NEEDED[i % len(HELP_NEEDED)],
                    "arrangement_starts_on": cohort.starts_on
                    if arrangement != "in_programme"
                    else None,
                    "arrangement_ends_on": cohort.ends_on
                    if arrangement != "in_programme"
                    else None,
                },
            )
            # Four in five answered the optional equality questions (from their own rng, so
            # adding them changed none of the other demo values).
            if i % 5 != 4:
                EqualityData.objects.update_or_create(
                    programme=cep,
                    fellow=fellow,
                    defaults={
                        "gender": equality_rng.choice(
                            ["woman", "woman", "man", "man", "prefer_not"]
                        ),
                        "ethnic_group": equality_rng.choice(
                            ["white", "white", "asian", "asian", "black", "mixed", "other"]
                        ),
                        "disability": equality_rng.choice(["no"] * 8 + ["yes", "prefer_not"]),
                        "age_band": equality_rng.choice(["under_30", "30_39", "30_39", "40_49"]),
                    },
                )
            Venture.objects.update_or_create(
                programme=cep,
                fellow=fellow,
                name=venture_name,
                defaults={
                    "summary": f"{venture_name} is {idea.format(who=who, what=what)}.",
                    "stage": stages[i % len(stages)],
                    "sector": sector,
                    "company_number": f"{10000000 + i * 7919:08d}" if i % 2 == 0 else "",
                },
            )
            self.summary.fellows += 1

    def _seed_invitations(self, programme, staff) -> None:
        """Two open invitations so the staff's invitation page shows the workflow."""
        for email, role in [
            ("new.fellow@cep.example", Role.FELLOW),
            ("new.mentor@verily.example", Role.MENTOR),
        ]:
            invitation, created = Invitation.objects.get_or_create(
                programme=programme,
                email=email,
                role=role,
                defaults={"invited_by": staff, "sent_at": timezone.now()},
            )
            if not invitation.is_usable:
                # Keep the demo invitation open however long ago the data was loaded.
                invitation.created_at = timezone.now()
                invitation.expires_at = invitation.created_at + timedelta(days=14)
                invitation.save(update_fields=["created_at", "expires_at"])
            if created:
                audit_log(
                    programme=programme,
                    actor=staff,
                    action="invitation.created",
                    target=invitation,
                    changes={"email": email, "role": role},
                    via=AuditEvent.Via.COMMAND,
                )

    # --- recruitment ------------------------------------------------------------------------
    def _criteria(self, programme) -> list[ReviewCriterion]:
        return [
            ReviewCriterion.objects.update_or_create(
                programme=programme,
                name=name,
                defaults={"description": description, "position": position},
            )[0]
            for position, (name, description) in enumerate(REVIEW_CRITERIA, start=1)
        ]

    def _questions(self, call) -> None:
        for position, (text, hint) in enumerate(APPLICATION_QUESTIONS, start=1):
            ApplicationQuestion.objects.update_or_create(
                programme=call.programme,
                call=call,
                position=position,
                defaults={"text": text, "help_text": hint, "max_words": 300},
            )

    def _review(self, application, reviewer, criteria, scores, when) -> None:
        values = {str(c.uuid): score for c, score in zip(criteria, scores, strict=True)}
        mean = Decimal(sum(scores)) / len(scores)
        Review.objects.update_or_create(
            application=application,
            reviewer=reviewer,
            defaults={
                "programme": application.programme,
                "scores": values,
                "score": mean.quantize(Decimal("0.01")),
                "submitted_at": when,
            },
        )

    @staticmethod
    def _scores(rng, low: int, high: int, count: int) -> list[int]:
        return [rng.randint(low, high) for _ in range(count)]

    def _seed_cep_recruitment(self, cep, cohort, reviewers) -> None:
        """The first cohort's intake as published: over 160 expressions of interest, 130
        applications, 104 appointed (each appointed application is the fellow's own)."""
        rng = random.Random(1604)
        criteria = self._criteria(cep)
        call, _ = RecruitmentCall.objects.update_or_create(
            programme=cep,
            cohort=cohort,
            defaults={
                "opens_on": date(2016, 2, 1),
                "closes_on": date(2016, 3, 31),
                "introduction": CEP_CALL_INTRODUCTION,
                "reviews_required": 2,
                "shortlist_threshold": Decimal("3.5"),
                "max_score_spread": Decimal("1.0"),
            },
        )
        self._questions(call)
        questions = list(call.questions.all())

        def moment(month: int, day: int):
            return timezone.make_aware(datetime(2016, month, day, 10, 0))

        fellows = list(
            Fellow.objects.filter(cohort=cohort).select_related("user").prefetch_related("ventures")
        )
        # Outcomes of the 62 people who did not become fellows: 36 never sent the full
        # application, 14 fell below the rule, 6 withdrew after shortlisting, 6 were not
        # recommended at interview.
        others = (
            [("interest", "")] * CEP_INTEREST_ONLY
            + [("declined", "Below the shortlisting threshold of 3.5.")] * CEP_BELOW_RULE
            + [("withdrawn", "Withdrew after shortlisting: could not get study leave.")]
            * CEP_WITHDREW
            + [("declined", "Not recommended at interview.")] * CEP_NOT_RECOMMENDED
        )
        names = self._names(rng, len(others), offset=40)
        people = [(f, "appointed", "") for f in fellows] + [
            (name, outcome, reason) for name, (outcome, reason) in zip(names, others, strict=True)
        ]
        for index, (person, outcome, reason) in enumerate(people):
            if isinstance(person, Fellow):
                fellow = person
                venture = next(iter(fellow.ventures.all()), None)
                data = {
                    "email": fellow.user.email,
                    "full_name": fellow.user.full_name.removeprefix("Dr "),
                    "profession": fellow.profession,
                    "grade": fellow.grade,
                    "specialty": fellow.specialty,
                    "employer": fellow.employer,
                    "region": fellow.region,
                    "idea": venture.summary if venture else fellow.interests,
                }
            else:
                fellow = None
                profession = rng.choice(PROFESSION_MIX)
                region = rng.choice(list(NHSRegion))
                who, what = VENTURE_PROBLEMS[index % len(VENTURE_PROBLEMS)]
                data = {
                    "email": self._email(person, "nhs"),
                    "full_name": person,
                    "profession": profession,
                    "grade": rng.choice(GRADES[profession]),
                    "specialty": rng.choice(SPECIALTIES[profession]),
                    "employer": rng.choice(EMPLOYERS[region]),
                    "region": region,
                    "idea": f"I want to help {who} {what}.",
                }
            applied = outcome != "interest"
            shortlisted = outcome == "appointed" or reason.startswith(("Withdrew", "Not recom"))
            interviewed = outcome == "appointed" or reason.startswith("Not recommended")
            day = 1 + index % 27
            application, _ = Application.objects.update_or_create(
                call=call,
                email=data.pop("email"),
                defaults={
                    **data,
                    "programme": cep,
                    "status": outcome,
                    "fellow": fellow,
                    "expressed_at": moment(2, day),
                    "submitted_at": moment(3, day) if applied else None,
                    "shortlisted_at": moment(4, 20) if shortlisted else None,
                    "interviewed_at": moment(5, 10 + index % 15) if interviewed else None,
                    "interview_outcome": (
                        "recommended" if outcome == "appointed" else "not_recommended"
                    )
                    if interviewed
                    else "",
                    "decided_at": moment(6, 15) if outcome != "interest" else None,
                    "decision_reason": reason or "",
                    "answers": {
                        str(q.uuid): CEP_SAMPLE_ANSWERS[(index + n) % len(CEP_SAMPLE_ANSWERS)]
                        for n, q in enumerate(questions)
                    }
                    if applied
                    else {},
                },
            )
            if not applied:
                continue
            strong = shortlisted
            for offset, reviewer in enumerate(reviewers):
                scores = (
                    self._scores(rng, 3, 5, len(criteria))
                    if strong
                    else self._scores(rng, 1, 3, len(criteria))
                )
                if strong and sum(scores) / len(scores) < 3.5:
                    scores = [max(s, 4) for s in scores]
                self._review(application, reviewer, criteria, scores, moment(4, 1 + offset))

    def _seed_open_call(self, cep, reviewers) -> None:
        """This year's intake, open now, with applications at every stage for staff to work on."""
        rng = random.Random(2027)
        criteria = self._criteria(cep)
        cohort, _ = Cohort.objects.get_or_create(
            programme=cep,
            name=OPEN_COHORT_NAME,
            defaults={"starts_on": date(2027, 9, 1), "ends_on": date(2028, 8, 31)},
        )
        today = timezone.localdate()
        call, _ = RecruitmentCall.objects.update_or_create(
            programme=cep,
            cohort=cohort,
            defaults={
                # Kept open around the day the demo is loaded.
                "opens_on": today - timedelta(days=21),
                "closes_on": today + timedelta(days=60),
                "introduction": CEP_CALL_INTRODUCTION,
                "reviews_required": 2,
                "shortlist_threshold": Decimal("3.5"),
                "max_score_spread": Decimal("1.0"),
            },
        )
        self._questions(call)
        questions = list(call.questions.all())
        sarah, tony = reviewers
        now = timezone.now()
        for index, (stage, reviews, reason) in enumerate(OPEN_CALL_APPLICANTS):
            full_name = self._names(rng, len(OPEN_CALL_APPLICANTS), offset=77)[index]
            profession = [Profession.DOCTOR, Profession.NURSE, Profession.PHARMACIST][index % 3]
            region = list(NHSRegion)[index % len(NHSRegion)]
            who, what = VENTURE_PROBLEMS[index % len(VENTURE_PROBLEMS)]
            applied = stage != "interest"
            application, _ = Application.objects.update_or_create(
                call=call,
                email=self._email(full_name, "nhs"),
                defaults={
                    "programme": cep,
                    "full_name": full_name,
                    "profession": profession,
                    "grade": GRADES[profession][index % len(GRADES[profession])],
                    "specialty": SPECIALTIES[profession][index % len(SPECIALTIES[profession])],
                    "employer": EMPLOYERS[region][0],
                    "region": region,
                    "idea": f"I want to help {who} {what}.",
                    "status": stage,
                    "expressed_at": now - timedelta(days=20 - index),
                    "submitted_at": now - timedelta(days=14 - index // 2) if applied else None,
                    "shortlisted_at": now - timedelta(days=3)
                    if stage in ("shortlisted", "interviewed")
                    else None,
                    "interviewed_at": now - timedelta(days=1) if stage == "interviewed" else None,
                    "interview_outcome": "recommended" if stage == "interviewed" else "",
                    "interview_notes": "Clear on the problem and the evidence they need."
                    if stage == "interviewed"
                    else "",
                    "decided_at": now - timedelta(days=2) if reason else None,
                    "decision_reason": reason,
                    "answers": {
                        str(q.uuid): CEP_SAMPLE_ANSWERS[(index + n) % len(CEP_SAMPLE_ANSWERS)]
                        for n, q in enumerate(questions)
                    }
                    if applied
                    else {},
                },
            )
            by = {"both": [sarah, tony], "tony": [tony], "none": []}[reviews]
            for offset, reviewer in enumerate(by):
                scores = OPEN_CALL_SCORES.get((index, offset)) or self._scores(
                    rng, 3, 5, len(criteria)
                )
                self._review(
                    application, reviewer, criteria, scores, now - timedelta(days=5 - offset)
                )

    # --- a second programme, to show multi-tenancy ----------------------------------------
    def seed_accel(self) -> Programme:
        accel = self.programme(
            "accel",
            name="Health Innovation Accelerator",
            short_name="Accelerator",
            description="An industry accelerator network for health innovators.",
            contact_email="team@accel.example",
            meetings_per_year=4,
        )
        rng = random.Random(2026)
        with scope(programme=accel):
            staff = self.user("staff@accel.example", "Grace Achebe")
            membership_grant(
                programme=accel, user=staff, role=Role.STAFF, via=AuditEvent.Via.COMMAND
            )
            cohort, _ = Cohort.objects.get_or_create(
                programme=accel,
                name="2026 intake",
                defaults={"starts_on": date(2026, 4, 1), "ends_on": date(2027, 3, 31)},
            )
            medtronic = Organisation.objects.update_or_create(
                programme=accel,
                name="Medtronic",
                defaults={"kind": Organisation.Kind.INDUSTRY, "is_partner": True},
            )[0]
            # The CEP demo mentor also mentors here: one person, roles in two programmes.
            mentor_user = self.User.objects.get(email=MENTOR_EMAIL)
            membership_grant(
                programme=accel, user=mentor_user, role=Role.MENTOR, via=AuditEvent.Via.COMMAND
            )
            Mentor.objects.update_or_create(
                programme=accel,
                user=mentor_user,
                defaults={
                    "organisation": medtronic,
                    "job_title": "Visiting mentor",
                    "expertise": "clinical evidence, leadership",
                    "capacity": 2,
                },
            )
            for full_name in self._names(rng, 12, offset=20):
                user = self.user(self._email(full_name, "accel"), full_name)
                membership_grant(
                    programme=accel, user=user, role=Role.FELLOW, via=AuditEvent.Via.COMMAND
                )
                Fellow.objects.update_or_create(
                    programme=accel,
                    cohort=cohort,
                    user=user,
                    defaults={
                        "profession": rng.choice([Profession.DOCTOR, Profession.NURSE]),
                        "region": rng.choice(list(NHSRegion)),
                    },
                )
                self.summary.fellows += 1
        return accel

    def seed_operator(self) -> None:
        self.user(OPERATOR_EMAIL, "Platform Operator", is_staff=True, is_superuser=True)

    # --- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _names(rng, count: int, *, offset: int) -> list[str]:
        """Distinct realistic names, the same on every run."""
        pairs = [(f, last) for f in FIRST_NAMES for last in LAST_NAMES]
        random.Random(offset).shuffle(pairs)
        return [f"{f} {last}" for f, last in pairs[:count]]

    def seed_partner_key(self, programme) -> None:
        """AstraZeneca's API key for the partner API quick start. Its secret is fixed (like the
        demo password) so the README's curl examples work against any demo; the key is made
        again if it was revoked or has expired."""
        from rest_framework_api_key.crypto import KeyGenerator

        with scope(programme=programme):
            organisation = Organisation.objects.get(programme=programme, name=DEMO_PARTNER)
            key = PartnerKey.objects.filter(prefix=DEMO_API_KEY.partition(".")[0]).first()
            if key is None:
                key = PartnerKey(prefix=DEMO_API_KEY.partition(".")[0])
            key.programme, key.organisation = programme, organisation
            key.name = "Demo: AstraZeneca partner dashboard"
            key.hashed_key = KeyGenerator().hash(DEMO_API_KEY)
            key.scopes = sorted(ApiScope.values)
            key.expires_at = timezone.now() + timedelta(days=MAX_KEY_DAYS - 1)
            key.revoked_at = key.revoked_by = None
            key.save()

    @staticmethod
    def _email(full_name: str, domain_hint: str) -> str:
        local = ".".join(part.lower().replace("'", "") for part in full_name.split())
        domain = "".join(ch for ch in domain_hint.lower() if ch.isalnum()) or "example"
        return f"{local}@{domain}.example"

    def run(self) -> DemoSummary:
        with scopes_disabled(), transaction.atomic():
            self.seed_operator()
        with transaction.atomic():
            self.programmes = {"cep": self.seed_cep(), "accel": self.seed_accel()}
            self.seed_partner_key(self.programmes["cep"])
        # Later apps add their demo data (announcements, PDPs, meetings...) on top.
        autodiscover_modules("demo")
        for _order, _name, seeder in sorted(EXTRA_SEEDERS, key=lambda s: (s[0], s[1])):
            with transaction.atomic():
                seeder(self)
        return self.summary


def seed_demo(*, stdout=None) -> DemoSummary:
    return DemoSeeder(stdout=stdout).run()


# --- Erased at their request (UK GDPR article 17, DESIGN §11) ---------------------------------
# A fellow who left the accelerator's 2026 intake in its first months asked to have their data
# erased, and staff did. They are not in the CEP, so none of its figures (the 104) move, and
# they come after the accelerator's other fellows, so its demo mentorships stay as they were.
# The account has a fixed permanent id: once erased, it is found by that id (its name and
# address are gone) and left alone on every later run.
ERASED_DEMO_UUID = uuid.UUID("5a7d1e3c-0b1f-4c2e-9d4a-e7a5ed000001")
ERASED_DEMO_REASON = (
    "The former fellow left the accelerator in June 2026 and asked by email on 14 July 2026 "
    "to have their data erased under UK GDPR (article 17)."
)


@register_seeder(order=99)
def seed_erased_former_fellow(seeder) -> None:
    from .services import person_erase

    accel = seeder.programmes.get("accel")
    if accel is None:
        return
    User = get_user_model()
    with scopes_disabled():
        if User.objects.filter(uuid=ERASED_DEMO_UUID, erased_at__isnull=False).exists():
            return
        staff = User.objects.get(email="staff@accel.example")
    with scope(programme=accel):
        cohort = Cohort.objects.get(programme=accel, name="2026 intake")
        person = seeder.user(
            "jordan.former@accel.example", "Dr Jordan Former", uuid=ERASED_DEMO_UUID
        )
        membership_grant(programme=accel, user=person, role=Role.FELLOW, via=AuditEvent.Via.COMMAND)
        fellow, _ = Fellow.objects.update_or_create(
            programme=accel,
            cohort=cohort,
            user=person,
            defaults={
                "profession": Profession.PHARMACIST,
                "grade": "Band 8a",
                "specialty": "Medicines optimisation",
                "employer": "Leeds Teaching Hospitals NHS Trust",
                "region": NHSRegion.NORTH_EAST_YORKSHIRE,
                "interests": "Deprescribing in care homes.",
                "help_needed": "Finding a pilot site.",
            },
        )
        EqualityData.objects.update_or_create(
            programme=accel, fellow=fellow, defaults={"gender": "man", "age_band": "30_39"}
        )
        Venture.objects.update_or_create(
            programme=accel,
            fellow=fellow,
            name="Deprescribe",
            defaults={
                "summary": "A review tool for pharmacists visiting care homes.",
                "stage": VentureStage.PROTOTYPE,
                "sector": Sector.DIGITAL,
            },
        )
    person_erase(
        subject=person, requester=staff, reason=ERASED_DEMO_REASON, via=AuditEvent.Via.COMMAND
    )
