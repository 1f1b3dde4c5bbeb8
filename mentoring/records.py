"""The canonical content of a signed record and its SHA-256 digest (issue #5, item 4).

The content is built from the rows as they stand: the meeting record, the milestones agreed at
it, the reviews recorded at it, and who signed and when. It is serialised as JSON with sorted
keys and no insignificant whitespace, so the same record always hashes to the same digest and
any change to a covered field changes it. `verify` rebuilds the content from the live rows and
compares; it also checks that the stored copy still hashes to the stored digest.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC

FORMAT = "pitwall.meeting-record/1"
MILESTONE_FORMAT = "pitwall.milestone-sign-off/1"


def _date(value):
    return value.isoformat() if value else None


def _moment(value):
    # Always in UTC: the database hands moments back in UTC, so a signature made with a local
    # time must hash the same when verify() rebuilds it from the rows.
    return value.astimezone(UTC).isoformat() if value else None


def _person(user) -> dict:
    # People by their permanent id only: a later change of name or email (or erasure, which
    # pseudonymises) must not make an intact record look tampered with.
    return {"id": str(user.uuid)}


def canonical_json(content: dict) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest_of(content: dict) -> str:
    return hashlib.sha256(canonical_json(content)).hexdigest()


def _milestone(milestone) -> dict:
    return {
        "id": str(milestone.uuid),
        "what": milestone.title,
        "how_we_will_know": milestone.measure,
        "by_when": _date(milestone.due_on),
        "pdp_objective": str(milestone.objective.uuid) if milestone.objective_id else None,
    }


def _review(review) -> dict:
    return {
        "milestone": str(review.milestone.uuid),
        "milestone_what": review.milestone.title,
        "outcome": review.outcome,
        "comment": review.comment,
        "new_date": _date(review.new_due_on),
        "evidence": review.evidence,
    }


def meeting_content(meeting, *, signed_by, signed_at, milestones=None, reviews=None) -> dict:
    """What a mentor's signature of this meeting covers. Reads the meeting's milestones and
    reviews fresh from the database (never a stale prefetch), unless the caller passes the
    rows it has just read itself: `milestones` agreed at this meeting (with their objective)
    and `reviews` recorded at it (with their milestone). Signing never passes them."""
    from .models import Milestone, MilestoneReview

    mentorship = meeting.mentorship
    if milestones is None:
        milestones = Milestone.objects.filter(agreed_at=meeting).select_related("objective")
    if reviews is None:
        reviews = MilestoneReview.objects.filter(meeting=meeting).select_related("milestone")
    return {
        "format": FORMAT,
        "programme": mentorship.programme.slug,
        "mentorship": str(mentorship.uuid),
        "fellow": _person(mentorship.fellow.user),
        "mentor": _person(mentorship.mentor.user),
        "meeting": {
            "id": str(meeting.uuid),
            "number": meeting.number,
            "held_on": _date(meeting.held_on),
            "format": meeting.format,
            "discussion": meeting.discussion,
            "fellow_reflection": meeting.fellow_reflection,
            "mentor_advice": meeting.mentor_advice,
            "pdp_agreed": meeting.pdp_agreed,
            "submitted_at": _moment(meeting.submitted_at),
            "submitted_by": _person(meeting.submitted_by) if meeting.submitted_by_id else None,
        },
        "milestones_agreed": sorted((_milestone(m) for m in milestones), key=lambda m: m["id"]),
        "milestone_reviews": sorted((_review(r) for r in reviews), key=lambda r: r["milestone"]),
        "signed_by": _person(signed_by),
        "signed_at": _moment(signed_at),
    }


def milestone_content(milestone, review, *, signed_by, signed_at) -> dict:
    """What a mentor's separate sign-off of an achieved milestone covers."""
    return {
        "format": MILESTONE_FORMAT,
        "programme": milestone.mentorship.programme.slug,
        "mentorship": str(milestone.mentorship.uuid),
        "fellow": _person(milestone.mentorship.fellow.user),
        "milestone": _milestone(milestone),
        "achievement": _review(review),
        "reviewed_at_meeting": str(review.meeting.uuid),
        "signed_by": _person(signed_by),
        "signed_at": _moment(signed_at),
    }


@dataclass(frozen=True)
class Verification:
    intact: bool
    stored_digest: str
    copy_digest: str  # the stored copy of the content, hashed again
    live_digest: str  # the content rebuilt from the rows as they stand now
    differences: list[str]

    @property
    def copy_intact(self) -> bool:
        return self.copy_digest == self.stored_digest

    @property
    def rows_intact(self) -> bool:
        return self.live_digest == self.stored_digest


def _differences(signed: dict, live: dict, prefix: str = "") -> list[str]:
    """Which parts of the record differ, as dotted paths, for the verify page."""
    found = []
    for key in sorted(set(signed) | set(live)):
        a, b = signed.get(key), live.get(key)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            found.extend(_differences(a, b, f"{prefix}{key}."))
        else:
            found.append(f"{prefix}{key}")
    return found


def verify(sign_off, *, milestones=None, reviews=None) -> Verification:
    """Recompute a sign-off's digest from its stored copy and from the live rows. A caller
    that verifies many records at once (the year's record as a PDF) may pass the rows of the
    sign-off's meeting it has just read, as for `meeting_content`; otherwise they are read
    here."""
    from .models import MilestoneReview, SignOff

    stored = sign_off.digest
    copy_digest = digest_of(sign_off.content)
    signed_at = sign_off.signed_at
    if sign_off.kind == SignOff.Kind.MEETING:
        live = meeting_content(
            sign_off.meeting,
            signed_by=sign_off.signed_by,
            signed_at=signed_at,
            milestones=milestones,
            reviews=reviews,
        )
    else:
        if reviews is None:
            review = (
                MilestoneReview.objects.filter(
                    meeting=sign_off.meeting, milestone=sign_off.milestone
                )
                .select_related("meeting", "milestone")
                .first()
            )
        else:
            review = next((r for r in reviews if r.milestone_id == sign_off.milestone_id), None)
        live = (
            milestone_content(
                sign_off.milestone, review, signed_by=sign_off.signed_by, signed_at=signed_at
            )
            if review
            else {}
        )
    live_digest = digest_of(live)
    return Verification(
        intact=copy_digest == stored and live_digest == stored,
        stored_digest=stored,
        copy_digest=copy_digest,
        live_digest=live_digest,
        differences=_differences(sign_off.content, live),
    )
