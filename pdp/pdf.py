"""The plan as a PDF (DESIGN §6: "Export to PDF"): what a fellow hands their Training Programme
Director, for instance when negotiating time out of programme.

`pdp_document_context` gathers everything the document says, so tests can read it without
parsing a PDF; `render_pdp_pdf` lays it out with WeasyPrint from templates/pdp/pdp_pdf.html.
The document fetches nothing: no base URL, and a URL fetcher that accepts only data: URLs.
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify

from cohort.models import Mentor
from cohort.services import audit_log

from .access import mentor_users
from .models import PDP, Objective
from .selectors import plan_objectives
from .services import changes_since_agreement, fulfilment

TEMPLATE = "pdp/pdp_pdf.html"


def _mentors(pdp: PDP) -> list[dict]:
    """The fellow's mentors now, with the organisation of their mentor profile in this
    programme (the mentoring app registers the lookup; this app does not import it)."""
    users = mentor_users(pdp.fellow)
    if not users:
        return []
    profiles = {
        m.user_id: m
        for m in Mentor.objects.filter(
            programme_id=pdp.programme_id, user__in=[u.pk for u in users]
        ).select_related("organisation")
    }
    mentors = []
    for user in users:
        profile = profiles.get(user.pk)
        mentors.append(
            {
                "name": user.display_name,
                "job_title": profile.job_title if profile else "",
                "organisation": profile.organisation.name
                if profile and profile.organisation
                else "",
            }
        )
    return mentors


def _objective_entry(objective: Objective, changes: list[str]) -> dict:
    actions = list(objective.actions.all())
    dropped = objective.status == Objective.Status.DROPPED
    return {
        "uuid": str(objective.uuid),
        "title": objective.title,
        "domain": objective.domain.name,
        "target_date": objective.target_date,
        "status": objective.status,
        "status_label": objective.get_status_display(),
        "dropped": dropped,
        "dropped_reason": objective.dropped_reason,
        "measure": objective.measure,
        "rationale": objective.rationale,
        "progress": None if dropped else objective.progress,
        "actions_done": [a.text for a in actions if a.done],
        "actions_todo": [a.text for a in actions if not a.done],
        "evidence": [
            {
                "title": item.title,
                "kind": item.kind,
                "kind_label": item.get_kind_display(),
                "added_at": item.added_at,
                "url": item.url,
                # Only web addresses become clickable; anything else is printed as text.
                "linkable": item.url.lower().startswith(("https://", "http://")),
                "note": item.note,
            }
            for item in objective.evidence.all()
        ],
        "changes": changes,
    }


def pdp_document_context(pdp: PDP) -> dict:
    """Everything the PDF says about the plan, in the order it says it. Call it inside the
    plan's programme scope; it runs the same queries for two objectives or twenty."""
    fellow = pdp.fellow
    objectives = plan_objectives(pdp)
    changes = changes_since_agreement(pdp, objectives)
    entries = [_objective_entry(o, changes.get(str(o.uuid), [])) for o in objectives]
    live = [e for e in entries if not e["dropped"]]
    return {
        "programme_name": pdp.programme.name,
        "generated_on": timezone.localdate(),
        "fellow": {
            "name": fellow.user.display_name,
            "profession": fellow.get_profession_display(),
            "grade": fellow.grade,
            "specialty": fellow.specialty,
            "employer": fellow.employer,
            "training_arrangement": fellow.get_training_arrangement_display(),
            "ltft_percent": fellow.ltft_percent,
        },
        "cohort": {
            "name": fellow.cohort.name,
            "starts_on": fellow.cohort.starts_on,
            "ends_on": fellow.cohort.ends_on,
        },
        "mentors": _mentors(pdp),
        "plan": {
            "status": pdp.status,
            "status_label": pdp.get_status_display(),
            "submitted_at": pdp.submitted_at,
            "agreed": pdp.status == PDP.Status.AGREED,
            "agreed_at": pdp.agreed_at,
            "agreed_by": pdp.agreed_by.display_name if pdp.agreed_by else "",
            "mentor_comments": pdp.mentor_comments,
            "changed_since_agreement": len(changes),
        },
        "fulfilment": fulfilment(objectives),
        "objectives": entries,
        "counts": {
            "objectives": len(entries),
            "pursued": len(live),
            "achieved": sum(e["status"] == Objective.Status.ACHIEVED for e in entries),
            "dropped": len(entries) - len(live),
        },
    }


def _url_fetcher():
    # WeasyPrint's own fetcher, allowed data: URLs only: the document never reaches the
    # network or the file system, whatever a fellow types into an evidence link.
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"data"}, allow_redirects=False)


def render_pdp_pdf(*, pdp: PDP, request=None) -> bytes:
    """The plan as an A4 PDF. The document is the same whoever asks for it, so `request` is
    not used to render (leaving out the context processors and their queries)."""
    from weasyprint import HTML  # imported here: it loads Pango, which the web pages never need

    html = render_to_string(TEMPLATE, pdp_document_context(pdp))
    return HTML(string=html, base_url=None, url_fetcher=_url_fetcher()).write_pdf()


def pdf_filename(pdp: PDP) -> str:
    """pdp-<fellow's name>-<date>.pdf, for the Content-Disposition header."""
    name = slugify(pdp.fellow.user.display_name) or "fellow"
    return f"pdp-{name}-{timezone.localdate().isoformat()}.pdf"


def record_download(*, pdp: PDP, actor) -> None:
    """The PDF carries personal data out of the platform, so each download is audited. Reading
    is not a change, so the plan's own history is left alone."""
    audit_log(programme=pdp.programme, actor=actor, action="pdp.downloaded", target=pdp)
