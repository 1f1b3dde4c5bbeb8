"""The year's record as a PDF (issue #5, item 8): every meeting, milestone and sign-off with
its digest, for the fellow to hand to their Training Programme Director; staff can produce it
for any fellow.

`year_record_context` gathers everything the document says, so tests can read it without
parsing a PDF; `render_year_record_pdf` lays it out with WeasyPrint from
templates/mentoring/year_record_pdf.html and audits the download. As the PDP's PDF does
(pdp/pdf.py), the document fetches nothing: no base URL, and a URL fetcher that accepts only
data: URLs.

Every live signature is verified as the document is made (records.verify, the same check as
the verify page), so a record changed behind the services' back is printed as not intact
rather than passed off as signed.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from cohort.services import audit_log

from . import records
from .models import Meeting, Mentorship, Milestone, MilestoneReview, SignOff
from .services import cohort_windows, meeting_schedule

TEMPLATE = "mentoring/year_record_pdf.html"

# The parts of a signed record that `records.verify` names when they differ, in words; a
# dotted path not named here is said by its first part ("milestone.what": the milestone).
DIFFERENCE_LABELS = {
    "meeting.held_on": "the date held",
    "meeting.format": "how they met",
    "meeting.discussion": "what was discussed",
    "meeting.fellow_reflection": "the fellow's reflection",
    "meeting.mentor_advice": "the mentor's advice",
    "meeting.pdp_agreed": "whether the PDP was agreed",
    "meeting.submitted_at": "when it was sent for sign-off",
    "meeting.submitted_by": "who sent it for sign-off",
    "meeting": "the meeting",
    "milestones_agreed": "the milestones agreed",
    "milestone_reviews": "the milestones reviewed",
    "milestone": "the milestone",
    "achievement": "the review of the achievement",
    "reviewed_at_meeting": "the meeting that reviewed it",
    "signed_by": "who signed",
    "signed_at": "when it was signed",
    "fellow": "the fellow",
    "mentor": "the mentor",
    "mentorship": "the mentorship",
    "programme": "the programme",
    "format": "the format of the record",
}


def _in_words(differences: list[str]) -> list[str]:
    words = []
    for path in differences:
        label = DIFFERENCE_LABELS.get(path) or DIFFERENCE_LABELS.get(path.split(".")[0], path)
        if label not in words:
            words.append(label)
    return words


def _load(mentorship: Mentorship):
    """The mentorship's whole year in six queries, whatever the number of meetings, milestones
    and signatures: the rows are read here, fresh, and handed to `records.verify` so it does
    not read them again per record."""
    mentorship = Mentorship.objects.select_related(
        "programme",
        "cohort__programme",
        "fellow__user",
        "mentor__user",
        "mentor__organisation",
    ).get(pk=mentorship.pk)
    windows = cohort_windows(mentorship.cohort)
    meetings = list(
        Meeting.objects.filter(mentorship=mentorship)
        .select_related("submitted_by", "signed_by")
        .order_by("number")
    )
    by_pk = {m.pk: m for m in meetings}
    for meeting in meetings:
        meeting.mentorship = mentorship
    # Milestones of the year, and any agreed at one of its meetings (the same rows unless
    # something was moved behind the services' back; verify must see what the meeting holds).
    milestones = list(
        Milestone.objects.filter(Q(mentorship=mentorship) | Q(agreed_at__mentorship=mentorship))
        .select_related("objective")
        .order_by("due_on", "pk")
    )
    reviews = list(
        MilestoneReview.objects.filter(meeting__mentorship=mentorship)
        .select_related("milestone__objective")
        .order_by("milestone__due_on", "pk")
    )
    sign_offs = list(
        SignOff.objects.filter(meeting__mentorship=mentorship)
        .select_related("signed_by", "reopened_by", "milestone__objective")
        .order_by("signed_at", "pk")
    )
    for milestone in [*milestones, *(r.milestone for r in reviews)]:
        if milestone.mentorship_id == mentorship.pk:
            milestone.mentorship = mentorship
        if milestone.agreed_at_id in by_pk:
            milestone.agreed_at = by_pk[milestone.agreed_at_id]
    for review in reviews:
        review.meeting = by_pk[review.meeting_id]
    for sign_off in sign_offs:
        sign_off.meeting = by_pk[sign_off.meeting_id]
        if sign_off.milestone_id and sign_off.milestone.mentorship_id == mentorship.pk:
            sign_off.milestone.mentorship = mentorship
    return mentorship, windows, meetings, milestones, reviews, sign_offs


def _verify_url(meeting: Meeting) -> str:
    return settings.SITE_URL + reverse(
        "mentoring:meeting_verify",
        kwargs={"programme_slug": meeting.mentorship.programme.slug, "meeting_uuid": meeting.uuid},
    )


def _sign_off_entry(sign_off: SignOff, *, agreed: list, reviews: list) -> dict:
    """One signature as the document prints it. A live one is verified against the rows as
    they stand; a reopened one only against its own stored copy, since the record has been
    allowed to change since (that is what reopening is for)."""
    entry = {
        "uuid": str(sign_off.uuid),
        "kind": sign_off.kind,
        "kind_label": sign_off.get_kind_display(),
        "milestone": sign_off.milestone.title if sign_off.milestone_id else "",
        "meeting_number": sign_off.meeting.number,
        "signed_by": sign_off.signed_by.display_name,
        "signed_at": sign_off.signed_at,
        "method": sign_off.method,
        "method_label": sign_off.get_method_display(),
        "digest": sign_off.digest,
        "live": sign_off.is_live,
        "reopened_at": sign_off.reopened_at,
        "reopened_by": sign_off.reopened_by.display_name if sign_off.reopened_by_id else "",
        "reopen_reason": sign_off.reopen_reason,
    }
    if sign_off.is_live:
        result = records.verify(sign_off, milestones=agreed, reviews=reviews)
        entry.update(
            intact=result.intact,
            copy_intact=result.copy_intact,
            rows_intact=result.rows_intact,
            differences=_in_words(result.differences),
        )
    else:
        copy_intact = records.digest_of(sign_off.content) == sign_off.digest
        entry.update(intact=None, copy_intact=copy_intact, rows_intact=None, differences=[])
    return entry


def _milestone_entry(milestone: Milestone) -> dict:
    return {
        "uuid": str(milestone.uuid),
        "title": milestone.title,
        "measure": milestone.measure,
        "due_on": milestone.due_on,
        "objective": milestone.objective.title if milestone.objective_id else "",
    }


def _review_entry(review: MilestoneReview) -> dict:
    return {
        "milestone_uuid": str(review.milestone.uuid),
        "milestone": review.milestone.title,
        "outcome": review.outcome,
        "outcome_label": review.get_outcome_display(),
        "comment": review.comment,
        "new_due_on": review.new_due_on,
        "evidence": review.evidence,
    }


def _meeting_entry(row: dict, *, agreed, reviews, sign_offs) -> dict:
    meeting = row["meeting"]
    entry = {
        "number": row["number"],
        "opens_on": row["opens_on"],
        "closes_on": row["closes_on"],
        "state": row["state"],
        "state_label": row["state_label"],
        "recorded": meeting is not None,
    }
    if meeting is None:
        return entry
    live = [s for s in sign_offs if s.is_live and s.kind == SignOff.Kind.MEETING]
    entry.update(
        uuid=str(meeting.uuid),
        status=meeting.status,
        signed=meeting.is_signed,
        held_on=meeting.held_on,
        format=meeting.format,
        format_label=meeting.get_format_display() if meeting.format else "",
        discussion=meeting.discussion,
        fellow_reflection=meeting.fellow_reflection,
        mentor_advice=meeting.mentor_advice,
        pdp_agreed=meeting.pdp_agreed if meeting.number == 1 else None,
        submitted_at=meeting.submitted_at,
        submitted_by=meeting.submitted_by.display_name if meeting.submitted_by_id else "",
        returned_at=meeting.returned_at,
        return_comments=meeting.return_comments,
        reopened_at=meeting.reopened_at,
        reopen_reason=meeting.reopen_reason,
        reviews=[_review_entry(r) for r in reviews],
        agreed=[_milestone_entry(m) for m in agreed],
        sign_off=_sign_off_entry(live[0], agreed=agreed, reviews=reviews) if live else None,
        earlier=[
            _sign_off_entry(s, agreed=agreed, reviews=reviews)
            for s in sorted(sign_offs, key=lambda s: (s.signed_at, s.pk))
            if not s.is_live
        ],
        verify_url=_verify_url(meeting),
    )
    return entry


def year_record_context(mentorship: Mentorship) -> dict:
    """Everything the PDF says about the mentorship's year, in the order it says it. Call it
    inside the mentorship's programme scope; it runs the same queries for one meeting or
    four, whatever the milestones and signatures."""
    return _document(mentorship)[1]


def signatures(context: dict) -> list[dict]:
    """The live signatures the document prints: each meeting's, then each milestone's."""
    found = [e["sign_off"] for e in context["meetings"] if e.get("sign_off")]
    return found + [m["sign_off"] for m in context["milestones"] if m["sign_off"]]


def _document(mentorship: Mentorship) -> tuple[Mentorship, dict]:
    mentorship, windows, meetings, milestones, reviews, sign_offs = _load(mentorship)
    schedule = meeting_schedule(mentorship, windows=windows, meetings=meetings)

    agreed_at: dict[int, list] = {}
    for milestone in milestones:
        agreed_at.setdefault(milestone.agreed_at_id, []).append(milestone)
    reviewed_at: dict[int, list] = {}
    for review in reviews:
        reviewed_at.setdefault(review.meeting_id, []).append(review)
    signed_at: dict[int, list] = {}
    for sign_off in sign_offs:
        signed_at.setdefault(sign_off.meeting_id, []).append(sign_off)

    entries = []
    milestone_sign_offs: dict[int, dict] = {}
    for row in schedule:
        meeting = row["meeting"]
        pk = meeting.pk if meeting else None
        entry = _meeting_entry(
            row,
            agreed=agreed_at.get(pk, []),
            reviews=reviewed_at.get(pk, []),
            sign_offs=[s for s in signed_at.get(pk, []) if s.kind == SignOff.Kind.MEETING],
        )
        # A milestone's own signature is made at the meeting that reviewed it as achieved,
        # and verified against that meeting's review; a reopened one is listed with the
        # meeting's earlier signatures.
        for sign_off in signed_at.get(pk, []):
            if sign_off.kind != SignOff.Kind.MILESTONE:
                continue
            signature = _sign_off_entry(
                sign_off, agreed=agreed_at.get(pk, []), reviews=reviewed_at.get(pk, [])
            )
            if sign_off.is_live:
                milestone_sign_offs[sign_off.milestone_id] = signature
            else:
                entry["earlier"].append(signature)
        if meeting is not None:
            entry["earlier"].sort(key=lambda s: s["signed_at"])
        entries.append(entry)

    year_milestones = []
    for milestone in milestones:
        if milestone.mentorship_id != mentorship.pk:
            continue
        agreed_meeting = milestone.agreed_at
        year_milestones.append(
            {
                **_milestone_entry(milestone),
                "agreed_at": agreed_meeting.number,
                "agreed_at_signed": agreed_meeting.is_signed,
                "current_due_on": milestone.current_due_on,
                "next_due_on": milestone.next_due_on,
                "status": milestone.status,
                "status_label": milestone.get_status_display(),
                "closed": milestone.is_closed,
                "sign_off": milestone_sign_offs.get(milestone.pk),
            }
        )

    statuses = [m["status"] for m in year_milestones]
    fellow, mentor, cohort = mentorship.fellow, mentorship.mentor, mentorship.cohort
    context = {
        "programme_name": mentorship.programme.name,
        "generated_at": timezone.now(),
        "fellow": {
            "name": fellow.user.display_name,
            "profession": fellow.get_profession_display(),
            "grade": fellow.grade,
            "specialty": fellow.specialty,
        },
        "mentor": {
            "name": mentor.user.display_name,
            "job_title": mentor.job_title,
            "organisation": mentor.organisation.name if mentor.organisation_id else "",
        },
        "cohort": {"name": cohort.name, "starts_on": cohort.starts_on, "ends_on": cohort.ends_on},
        "mentorship": {
            "uuid": str(mentorship.uuid),
            "started_on": mentorship.started_on,
            "ended_on": mentorship.ended_on,
        },
        "summary": {
            "meetings": len(entries),
            "signed": sum(e["state"] == "signed" for e in entries),
            "submitted": sum(e["state"] == "submitted" for e in entries),
            "overdue": sum(e["state"] == "overdue" for e in entries),
            "milestones": len(year_milestones),
            "achieved": statuses.count(Milestone.Status.ACHIEVED),
            "missed": statuses.count(Milestone.Status.MISSED),
            "open": sum(not m["closed"] for m in year_milestones),
            "partly": statuses.count(Milestone.Status.PARTLY),
            "deferred": statuses.count(Milestone.Status.DEFERRED),
            "milestones_signed": sum(bool(m["sign_off"]) for m in year_milestones),
        },
        "meetings": entries,
        "milestones": year_milestones,
    }
    printed = signatures(context)
    context["summary"]["signatures"] = len(printed)
    context["summary"]["not_intact"] = sum(not s["intact"] for s in printed)
    return mentorship, context


def _url_fetcher():
    # WeasyPrint's own fetcher, allowed data: URLs only: the document never reaches the
    # network or the file system, whatever anyone typed into a record.
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"data"}, allow_redirects=False)


def render_year_record_pdf(mentorship: Mentorship, *, actor) -> bytes:
    """The year's record as an A4 PDF. The download is audited (personal data leaves the
    platform) after the document is made, with what it said about the signatures, so the
    audit trail shows a record that was printed as not intact."""
    from weasyprint import HTML  # imported here: it loads Pango, which the web pages never need

    mentorship, context = _document(mentorship)
    html = render_to_string(TEMPLATE, context)
    pdf = HTML(string=html, base_url=None, url_fetcher=_url_fetcher()).write_pdf()
    audit_log(
        programme=mentorship.programme,
        actor=actor,
        action="mentorship.record_downloaded",
        target=mentorship,
        changes={
            "meetings_signed": context["summary"]["signed"],
            "signatures": context["summary"]["signatures"],
            "not_intact": [s["uuid"] for s in signatures(context) if not s["intact"]],
        },
    )
    return pdf


def year_record_filename(mentorship: Mentorship) -> str:
    """meetings-<fellow's name>-<cohort>.pdf, for the Content-Disposition header."""
    fellow = slugify(mentorship.fellow.user.display_name) or "fellow"
    cohort = slugify(mentorship.cohort.name) or "cohort"
    return f"meetings-{fellow}-{cohort}.pdf"
