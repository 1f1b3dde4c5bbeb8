"""What the PDP app holds about a person (accounts.personal_data).

Called under scopes_disabled(): every query below filters to the one person it is given.
"""

from __future__ import annotations

from django.db.models import Prefetch

from accounts.personal_data import Erasure, part_of, register, row

from .models import PDP, Action, Evidence, Objective, PDPChange

ERASED_TEXT = "(erased)"


def _programme(obj) -> str:
    return obj.programme.name


def export_plans(user):
    qs = (
        PDP.objects.filter(fellow__user=user)
        .select_related("programme", "fellow__cohort", "agreed_by")
        .prefetch_related(
            Prefetch(
                "objectives",
                queryset=Objective.objects.select_related("domain").prefetch_related("actions"),
            )
        )
        .order_by("id")
    )
    return [
        {
            **row(
                p,
                [
                    ("programme", _programme),
                    ("cohort", lambda p: p.fellow.cohort.name),
                    "status",
                    "submitted_at",
                    "agreed_at",
                    ("agreed_by", lambda p: p.agreed_by.display_name if p.agreed_by else None),
                    "mentor_comments",
                ],
            ),
            "objectives": [
                {
                    **row(
                        o,
                        [
                            "uuid",
                            ("domain", lambda o: o.domain.name),
                            "title",
                            "rationale",
                            "measure",
                            "target_date",
                            "status",
                            "dropped_reason",
                        ],
                    ),
                    "actions": [row(a, ["text", "done", "done_at"]) for a in o.actions.all()],
                }
                for o in p.objectives.all()
            ],
        }
        for p in qs
    ]


def erase_plans(erasure: Erasure):
    # Plans and objectives stay as rows (their number and status make the programme's PDP
    # fulfilment figure, and a milestone may point at an objective); what the person wrote
    # goes. Signed meeting records refer to an objective by its id only, so they still verify.
    user = erasure.user
    plans = PDP.objects.filter(fellow__user=user)
    erasure.tally("plans", plans.update(mentor_comments="", agreed_snapshot={}))
    erasure.tally(
        "objectives",
        Objective.objects.filter(pdp__fellow__user=user).update(
            title=ERASED_TEXT, rationale="", measure="", dropped_reason=""
        ),
    )
    erasure.tally(
        "actions", Action.objects.filter(objective__pdp__fellow__user=user).update(text=ERASED_TEXT)
    )


def export_evidence(user):
    qs = Evidence.objects.filter(objective__pdp__fellow__user=user).select_related(
        "programme", "objective"
    )
    return [
        row(
            e,
            [
                ("programme", _programme),
                ("objective", lambda e: e.objective.title),
                "kind",
                "title",
                "note",
                "url",
                ("file", lambda e: evidence_archive_name(e) if e.file else None),
                "original_name",
                "added_at",
            ],
        )
        for e in qs.order_by("id")
    ]


def evidence_archive_name(evidence) -> str:
    """Where an evidence file sits in the download: unique, and named as it was uploaded."""
    name = (evidence.original_name or "evidence").replace("/", "_").replace("\\", "_")
    return f"evidence/{evidence.uuid.hex[:8]}-{name}"


def evidence_files(user):
    """(name in the download, stored file) for each of the person's uploaded evidence files."""
    qs = Evidence.objects.filter(objective__pdp__fellow__user=user, kind=Evidence.Kind.FILE)
    return [(evidence_archive_name(e), e.file) for e in qs.exclude(file="").order_by("id")]


def erase_evidence(erasure: Erasure):
    qs = Evidence.objects.filter(objective__pdp__fellow__user=erasure.user)
    stored = [e.file.name for e in qs.exclude(file="")]
    erasure.tally("evidence", qs.delete()[0])
    if stored:
        storage = Evidence._meta.get_field("file").storage

        def delete_files():
            for name in stored:
                storage.delete(name)

        erasure.after_commit.append(delete_files)
        erasure.tally("evidence files", len(stored))


def export_changes(user):
    qs = PDPChange.objects.filter(pdp__fellow__user=user).select_related("programme")
    return [
        row(c, [("programme", _programme), "actor_label", "action", "summary", "at"])
        for c in qs.order_by("at", "id")
    ]


def erase_changes(erasure: Erasure):
    user = erasure.user
    # The history of the person's own plan loses what it quoted (objective titles, values);
    # changes the person made to someone else's plan keep their content, under the pseudonym.
    own = PDPChange.objects.filter(pdp__fellow__user=user)
    erasure.tally("plan history", own.update(summary=ERASED_TEXT, before={}, after={}))
    PDPChange.objects.filter(actor=user).update(actor_label=erasure.pseudonym)


def register_all():
    register(
        PDP,
        section="development_plans",
        title="Your personal development plans",
        description="Each plan with its objectives and actions, and your mentor's comments.",
        export=export_plans,
        erase=erase_plans,
    )
    part_of(Objective, parent=PDP)
    part_of(Action, parent=PDP)
    register(
        Evidence,
        section="evidence",
        title="Your evidence",
        description="Notes, links and files you added as evidence; the files themselves are "
        "in the evidence folder of this download.",
        export=export_evidence,
        erase=erase_evidence,
        files=evidence_files,
    )
    register(
        PDPChange,
        section="development_plan_history",
        title="Your plan's history",
        description="Who changed your plan, and when.",
        export=export_changes,
        erase=erase_changes,
    )
