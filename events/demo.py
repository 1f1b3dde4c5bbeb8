"""The events app's part of `seed_demo`: a year of events for the CEP's first cohort, the
resource library and the opportunities partners signposted. Idempotent, like all the demo."""

from __future__ import annotations

# --- events, registrations and attendance --------------------------------------------------------


# --- calendars -----------------------------------------------------------------------------------


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

from datetime import timedelta  # noqa: E402

from django.utils import timezone  # noqa: E402
from django_scopes import scope  # noqa: E402

from cohort.demo import FELLOW_EMAIL, STAFF_EMAIL, register_seeder  # noqa: E402
from cohort.models import Fellow, Organisation  # noqa: E402
from pdp.models import CompetencyDomain, Objective  # noqa: E402

from . import services  # noqa: E402
from .models import Opportunity, Resource  # noqa: E402


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
