"""Demo PDPs (seed_demo step): the CEP's competency framework, and plans at every stage of the
year for fellows of the first cohort — the demo fellow's agreed, in progress and changed since."""

from datetime import date, timedelta

from django.core.files.base import ContentFile
from django.utils import timezone
from django_scopes import scope

from cohort.demo import FELLOW_EMAIL, register_seeder
from cohort.models import Fellow

from . import services
from .access import mentor_users
from .models import PDP, CompetencyDomain, Objective

CEP_FRAMEWORK = [
    (
        "Business planning",
        "Turns an idea into a plan: the problem, the market, the model and the milestones.",
    ),
    (
        "Finance and investment",
        "Builds a financial model and raises money: grants, angels, venture capital.",
    ),
    (
        "Regulation and governance",
        "Knows the rules a product must meet: UKCA/CE marking, MHRA, clinical safety (DCB0129), "
        "data protection and information governance.",
    ),
    ("Leadership", "Leads a team and themselves while still working clinically."),
    (
        "Evidence and evaluation",
        "Designs pilots and evaluations that show benefit to patients and the NHS.",
    ),
    (
        "Commercial and procurement",
        "Understands how the NHS buys: commissioning, procurement frameworks, value propositions.",
    ),
    ("Digital and technology", "Makes sound choices about software, data and interoperability."),
    ("Networking and partnership", "Builds the relationships a venture needs to grow."),
]

# (title, measure, domain index, actions, how many done, status)
OBJECTIVE_BANK = [
    (
        "Raise a £50,000 pre-seed round",
        "Signed investment or grant agreements totalling £50,000.",
        1,
        [
            "Build a three-year financial model",
            "Pitch at the Pit Stop investor day",
            "Apply to the SBRI Healthcare competition",
        ],
    ),
    (
        "Run a three-month pilot on two wards",
        "A pilot report with before-and-after measures, approved by the trust's audit team.",
        4,
        [
            "Agree the pilot protocol with the ward managers",
            "Register it as a service evaluation",
            "Collect baseline data",
            "Write the pilot report",
        ],
    ),
    (
        "Get the product ready for UKCA marking",
        "A technical file and a clinical safety case (DCB0129) reviewed by a regulatory adviser.",
        2,
        ["Classify the device", "Write the clinical safety case", "Book a regulatory review"],
    ),
    (
        "Build a team of three",
        "A developer and a clinical lead working on the venture at least one day a week.",
        3,
        ["Write the role descriptions", "Interview candidates"],
    ),
    (
        "Understand how my trust buys digital tools",
        "A meeting with the procurement lead and a one-page route to purchase.",
        5,
        ["Map the procurement route", "Meet the digital procurement lead"],
    ),
]

# Stages of the first cohort's plans for the demo: (how many fellows, stage).
STAGES = [(12, "agreed"), (8, "submitted"), (4, "returned"), (8, "draft")]


@register_seeder(order=40)
def seed_pdps(seeder) -> None:
    cep = seeder.programmes["cep"]
    with scope(programme=cep):
        domains = []
        for position, (name, descriptor) in enumerate(CEP_FRAMEWORK, start=1):
            domain, _ = CompetencyDomain.objects.update_or_create(
                programme=cep, name=name, defaults={"descriptor": descriptor, "position": position}
            )
            domains.append(domain)
        fellows = list(
            Fellow.objects.filter(programme=cep, cohort__name="Cohort 1 — 2016/17")
            .select_related("user", "cohort")
            .order_by("pk")
        )
        demo = next(f for f in fellows if f.user.email == FELLOW_EMAIL)
        _demo_fellow_plan(demo, domains)
        others = [f for f in fellows if f.pk != demo.pk]
        index = 0
        for count, stage in STAGES:
            for fellow in others[index : index + count]:
                _plan(fellow, domains, stage, seed=index)
                index += 1


def _objectives(pdp, fellow, domains, picks, start: date, done_share: float):
    """Objectives from the bank, with some of their actions done."""
    made = []
    for n, pick in enumerate(picks):
        title, measure, domain_index, actions = OBJECTIVE_BANK[pick]
        objective = services.objective_save(
            pdp=pdp,
            actor=fellow.user,
            data={
                "title": title,
                "rationale": "",
                "measure": measure,
                "target_date": start + timedelta(days=120 + 60 * n),
                "domain": domains[domain_index],
            },
        )
        for text in actions:
            services.action_add(objective=objective, actor=fellow.user, text=text)
        for action in list(objective.actions.all())[: round(len(actions) * done_share)]:
            services.action_toggle(action=action, actor=fellow.user)
        made.append(objective)
    return made


def _plan(fellow, domains, stage: str, *, seed: int) -> None:
    if PDP.objects.filter(fellow=fellow).exists():
        return
    pdp = services.pdp_for_fellow(fellow=fellow)
    picks = [seed % 5, (seed + 2) % 5] + ([(seed + 4) % 5] if seed % 2 else [])
    share = {"agreed": 0.5, "submitted": 0.2, "returned": 0.0, "draft": 0.0}[stage]
    made = _objectives(pdp, fellow, domains, picks, fellow.cohort.starts_on, share)
    if stage == "agreed" and seed % 3 == 0:
        services.objective_set_status(
            objective=made[0], actor=fellow.user, status=Objective.Status.ACHIEVED
        )
    if stage == "draft":
        return
    mentors = mentor_users(fellow)
    services.pdp_submit(pdp=pdp, actor=fellow.user)
    if stage in ("agreed", "returned") and mentors:
        services.pdp_review(
            pdp=pdp,
            actor=mentors[0],
            agree=stage == "agreed",
            comments=""
            if stage == "agreed"
            else "Make the second objective measurable: how many patients, by when?",
        )


def _demo_fellow_plan(fellow, domains) -> None:
    """Priya's plan: agreed at her first meeting, well under way, one objective achieved with
    evidence, and one target date moved since it was agreed."""
    if PDP.objects.filter(fellow=fellow).exists():
        return
    pdp = services.pdp_for_fellow(fellow=fellow)
    made = _objectives(pdp, fellow, domains, [0, 1, 4], fellow.cohort.starts_on, 0.67)
    services.evidence_add(
        objective=made[0],
        actor=fellow.user,
        data={
            "kind": "note",
            "title": "Financial model reviewed by my mentor",
            "note": "Michael reviewed the three-year model on 12 October; runway is 14 months.",
        },
    )
    services.evidence_add(
        objective=made[1],
        actor=fellow.user,
        data={
            "kind": "link",
            "title": "Pilot protocol (shared drive)",
            "url": "https://example.org/triageflow/pilot-protocol",
        },
    )
    services.evidence_add(
        objective=made[2],
        actor=fellow.user,
        data={
            "kind": "file",
            "title": "Notes from meeting the trust's procurement lead",
            "file": ContentFile(_demo_pdf(), name="procurement-meeting-notes.pdf"),
        },
    )
    services.objective_set_status(
        objective=made[2], actor=fellow.user, status=Objective.Status.ACHIEVED
    )
    mentors = mentor_users(fellow)
    services.pdp_submit(pdp=pdp, actor=fellow.user)
    if mentors:
        services.pdp_review(pdp=pdp, actor=mentors[0], agree=True, comments="A strong plan.")
    # Since then the pilot slipped by a month: shown as a change since agreement.
    services.objective_save(
        pdp=pdp,
        actor=fellow.user,
        objective=made[1],
        data={"target_date": made[1].target_date + timedelta(days=30)},
    )
    for objective in made[:2]:
        services.objective_set_status(
            objective=objective, actor=fellow.user, status=Objective.Status.IN_PROGRESS
        )
    PDP.objects.filter(pk=pdp.pk).update(updated_at=timezone.now())


def _demo_pdf() -> bytes:
    """A small, real PDF for the demo's file evidence."""
    from weasyprint import HTML

    return HTML(
        string="<h1>Meeting with the procurement lead</h1><p>12 January 2017. The trust buys "
        "digital tools through the HealthTrust Europe framework; a pilot under £10,000 needs "
        "only the budget holder's sign-off.</p>"
    ).write_pdf()
