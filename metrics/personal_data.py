"""What the metrics app holds about a person (accounts.personal_data).

Called under scopes_disabled(): every query below filters to the one person it is given.
Outcome figures are kept on erasure: they are the programme's verified, published results
(funding raised, patients reached), and the aggregates must still add up afterwards. What goes
is what points back at the person: how a claim can be checked, and names that identify them.
"""

from __future__ import annotations

from accounts.personal_data import Erasure, keep, not_personal, register, row

from .models import (
    CompanyRecord,
    ForecastInput,
    ForecastRun,
    ForecastSettings,
    FundingRecord,
    JobsRecord,
    MetricRun,
    MetricTarget,
    OutcomeUpdate,
    PartnershipRecord,
    PatientReachRecord,
    ProgrammeReport,
)

COMMON = [
    "uuid",
    ("venture", lambda r: r.venture.name if r.venture else None),
    "status",
    "evidence",
    "reported_at",
    "verified_at",
    "rejection_reason",
]
OWN_FIELDS = {
    FundingRecord: ["kind", "amount", "source", "received_on"],
    PartnershipRecord: [
        "kind",
        ("organisation", lambda r: r.organisation.name if r.organisation else None),
        "partner_name",
        "started_on",
        "description",
    ],
    PatientReachRecord: ["patients", "period_start", "period_end", "how_counted"],
    CompanyRecord: ["company_name", "company_number", "incorporated_on"],
    JobsRecord: ["jobs", "counted_on"],
}
SECTIONS = {
    FundingRecord: ("outcomes_funding", "Funding you reported"),
    PartnershipRecord: ("outcomes_partnerships", "Partnerships you reported"),
    PatientReachRecord: ("outcomes_patients_reached", "Patients reached you reported"),
    CompanyRecord: ("outcomes_companies", "Companies you reported"),
    JobsRecord: ("outcomes_jobs", "Jobs you reported"),
}
# What erasure blanks on each kind, beyond `evidence`: the text that names the person's
# company (and so them). Amounts, dates, kinds and counts stay for the programme's figures.
BLANKED = {
    FundingRecord: {},
    PartnershipRecord: {"description": ""},
    PatientReachRecord: {"how_counted": ""},
    CompanyRecord: {"company_name": "A company of an erased person", "company_number": ""},
    JobsRecord: {},
}


def _outcome_exporter(model):
    def export(user):
        related = ["programme", "venture"]
        if model is PartnershipRecord:
            related.append("organisation")
        qs = model.objects.filter(fellow__user=user).select_related(*related)
        fields = [("programme", lambda r: r.programme.name), *COMMON, *OWN_FIELDS[model]]
        return [row(r, fields) for r in qs.order_by("reported_at", "id")]

    return export


def _outcome_eraser(model):
    def erase(erasure: Erasure):
        changed = model.objects.filter(fellow__user=erasure.user).update(
            evidence="", rejection_reason="", **BLANKED[model]
        )
        erasure.tally("outcome records", changed)

    return erase


def export_updates(user):
    qs = OutcomeUpdate.objects.filter(fellow__user=user).select_related("programme")
    return [
        row(
            u,
            [
                ("programme", lambda u: u.programme.name),
                "quarter_start",
                "completed_at",
                "nothing_new",
            ],
        )
        for u in qs.order_by("quarter_start", "id")
    ]


def export_forecast_inputs(user):
    qs = ForecastInput.objects.filter(venture__fellow__user=user).select_related(
        "programme", "venture"
    )
    estimates = [
        f.name
        for f in ForecastInput._meta.get_fields()
        if f.name.endswith(("_low", "_likely", "_high"))
    ]
    return [
        row(
            i,
            [
                ("programme", lambda i: i.programme.name),
                ("venture", lambda i: i.venture.name),
                *estimates,
                "assumptions",
                "status",
                "submitted_at",
                "reviewed_at",
                "review_note",
            ],
        )
        for i in qs.order_by("id")
    ]


def erase_forecast_inputs(erasure: Erasure):
    # The estimates stay (the programme's forecast sums them); the written assumptions and
    # staff's review note, which describe the venture in words, go.
    changed = ForecastInput.objects.filter(venture__fellow__user=erasure.user).update(
        assumptions="", review_note=""
    )
    erasure.tally("forecast inputs", changed)


def register_all():
    for model, (section, title) in SECTIONS.items():
        register(
            model,
            section=section,
            title=title,
            description="Outcomes you reported for your ventures and where their "
            "verification stands.",
            export=_outcome_exporter(model),
            erase=_outcome_eraser(model),
        )
    keep(
        OutcomeUpdate,
        section="outcome_updates",
        title="Your quarterly outcome updates",
        description="When you confirmed your outcomes were up to date each quarter.",
        export=export_updates,
        reason="Only a quarter and a date: the record that the programme asked and the "
        "fellow answered.",
    )
    register(
        ForecastInput,
        section="forecast_inputs",
        title="Your ventures' impact forecast inputs",
        description="The estimates you gave for your ventures' Patient Impact forecast.",
        export=export_forecast_inputs,
        erase=erase_forecast_inputs,
    )
    keep(
        ForecastRun,
        reason="Every forecast run keeps its inputs, seed and outputs so it can be "
        "reproduced (DESIGN §8); it holds numbers about a venture, and names staff only as "
        "who ran it.",
    )
    not_personal(ForecastSettings, reason="Programme settings; names staff only as editor.")
    not_personal(MetricRun, reason="A metrics computation; names staff only as requester.")
    not_personal(MetricTarget, reason="A programme target; names staff only as who set it.")
    not_personal(ProgrammeReport, reason="A programme report; names staff only as requester.")
