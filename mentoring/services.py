"""Every write of the mentoring app: matching a cohort, publishing it as mentorships, and
ending a mentorship so the fellow can be matched again."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from cohort.models import Cohort, Fellow, Membership, Mentor, Role
from cohort.services import audit_log
from notifications.models import Kind
from notifications.services import notify
from notifications.webhooks import webhook_emit

from . import matching, records
from .models import (
    Connection,
    MatchPair,
    Meeting,
    MeetingReminder,
    MeetingWindow,
    Mentorship,
    Milestone,
    MilestoneReview,
    SignOff,
)
from .signals import fellow_records_changed


def mentor_places(*, programme, cohort=None, mentor_ids=None) -> dict[int, dict]:
    """Each mentor's capacity, active mentees and places held by this cohort's locked and
    proposed pairs (one query); `mentor_ids` narrows it to those mentors."""
    pair_filter = Q(match_pairs__state__in=[MatchPair.State.LOCKED, MatchPair.State.PROPOSED])
    if cohort is not None:
        pair_filter &= Q(match_pairs__cohort=cohort)
    rows = Mentor.objects.filter(programme=programme).select_related("user", "organisation")
    if mentor_ids is not None:
        rows = rows.filter(pk__in=mentor_ids)
    rows = rows.annotate(
        active=Count("mentorships", filter=Q(mentorships__ended_on__isnull=True), distinct=True),
        held=Count("match_pairs", filter=pair_filter, distinct=True),
        locked=Count(
            "match_pairs",
            filter=pair_filter & Q(match_pairs__state=MatchPair.State.LOCKED),
            distinct=True,
        ),
    )
    return {
        m.pk: {
            "mentor": m,
            "capacity": m.capacity,
            "active": m.active,
            "held": m.held,
            "locked": m.locked,
            # Places left for new pairs: capacity less mentees now and pairs held here.
            "free": m.capacity - m.active - m.held,
        }
        for m in rows
    }


def fellow_profiles(fellows) -> list[matching.FellowProfile]:
    return [
        matching.FellowProfile(
            key=f.pk,
            sectors=frozenset(v.sector for v in f.ventures.all()),
            needs=frozenset(matching.topics_in(f"{f.help_needed} {f.interests}")),
            region=f.region,
        )
        for f in fellows
    ]


def mentor_profile(mentor, free_places: int = 0) -> matching.MentorProfile:
    return matching.MentorProfile(
        key=mentor.pk,
        sectors=frozenset(mentor.sectors or []),
        expertise=frozenset(matching.topics_in(f"{mentor.expertise} {mentor.job_title}")),
        region=mentor.region,
        free_places=free_places,
    )


def pair_explanation(*, fellow, mentor) -> tuple[int, list[str]]:
    """The fit of any pair and why (for pins made by staff and for the pages)."""
    (profile,) = fellow_profiles([fellow])
    return matching.explain(profile, mentor_profile(mentor))


def unmatched_fellows(*, cohort):
    """Fellows of the cohort with no active mentorship and no locked or proposed pair."""
    return (
        Fellow.objects.filter(programme=cohort.programme, cohort=cohort)
        .exclude(
            pk__in=Mentorship.objects.filter(
                programme=cohort.programme, ended_on__isnull=True
            ).values("fellow_id")
        )
        .exclude(
            pk__in=MatchPair.objects.filter(
                cohort=cohort, state__in=[MatchPair.State.LOCKED, MatchPair.State.PROPOSED]
            ).values("fellow_id")
        )
        .select_related("user")
        .prefetch_related("ventures")
        .order_by("user__full_name", "pk")
    )


def matching_run(*, cohort: Cohort, actor) -> matching.MatchResult:
    """Propose mentors for every fellow of the cohort who has none, keeping locked pairs and
    never proposing an excluded one. Re-running replaces the earlier proposals."""
    programme = cohort.programme
    with transaction.atomic():
        # One run at a time per cohort: the second waits, then sees the first one's pairs.
        Cohort.objects.select_for_update().filter(pk=cohort.pk).first()
        MatchPair.objects.filter(cohort=cohort, state=MatchPair.State.PROPOSED).delete()
        fellows = list(unmatched_fellows(cohort=cohort))
        places = mentor_places(programme=programme, cohort=cohort)
        mentors = [mentor_profile(p["mentor"], p["free"]) for p in places.values()]
        excluded = set(
            MatchPair.objects.filter(cohort=cohort, state=MatchPair.State.EXCLUDED).values_list(
                "fellow_id", "mentor_id"
            )
        )
        result = matching.propose(fellow_profiles(fellows), mentors, excluded)
        MatchPair.objects.bulk_create(
            [
                MatchPair(
                    programme=programme,
                    cohort=cohort,
                    fellow_id=p.fellow,
                    mentor_id=p.mentor,
                    state=MatchPair.State.PROPOSED,
                    score=Decimal(p.score),
                    reasons=p.reasons,
                )
                for p in result.proposals
            ]
        )
        audit_log(
            programme=programme,
            actor=actor,
            action="matching.run",
            target=cohort,
            changes={
                "proposed": len(result.proposals),
                "unmatched": len(result.unmatched),
                "total_fit": result.total_fit,
            },
        )
    return result


def _free_places(mentor, cohort) -> int:
    places = mentor_places(programme=mentor.programme, cohort=cohort, mentor_ids=[mentor.pk])
    return places[mentor.pk]["free"]


def match_pin(*, cohort: Cohort, fellow, mentor, actor) -> MatchPair:
    """Staff choose the mentor for a fellow themselves: a locked pair, if the mentor has room."""
    with transaction.atomic():
        Mentor.objects.select_for_update().filter(pk=mentor.pk).first()
        if fellow.cohort_id != cohort.pk:
            raise ValidationError({"fellow": "Choose a fellow of this cohort."})
        if Mentorship.objects.filter(fellow=fellow, ended_on__isnull=True).exists():
            raise ValidationError({"fellow": f"{fellow} already has a mentor."})
        MatchPair.objects.filter(
            fellow=fellow, state__in=[MatchPair.State.PROPOSED, MatchPair.State.LOCKED]
        ).exclude(mentor=mentor).delete()
        existing = MatchPair.objects.filter(fellow=fellow, mentor=mentor).first()
        if (existing is None or existing.state == MatchPair.State.EXCLUDED) and _free_places(
            mentor, cohort
        ) <= 0:
            raise ValidationError(
                {
                    "mentor": f"{mentor} is at capacity ({mentor.capacity} of {mentor.capacity} "
                    "places taken or held). Choose another mentor, or raise their capacity."
                }
            )
        score, reasons = pair_explanation(fellow=fellow, mentor=mentor)
        pair, _ = MatchPair.objects.update_or_create(
            fellow=fellow,
            mentor=mentor,
            defaults={
                "programme": cohort.programme,
                "cohort": cohort,
                "state": MatchPair.State.LOCKED,
                "score": Decimal(score),
                "reasons": reasons,
            },
        )
        audit_log(
            programme=cohort.programme,
            actor=actor,
            action="matching.pinned",
            target=pair,
            changes={"fellow": str(fellow), "mentor": str(mentor)},
        )
    return pair


def match_pair_change(*, pair: MatchPair, actor, action: str) -> MatchPair | None:
    """Lock a proposed pair (kept on re-runs), unlock it, exclude it (never proposed again;
    the fellow waits for the next run) or allow an excluded pair again."""
    states = {
        "lock": ([MatchPair.State.PROPOSED], MatchPair.State.LOCKED),
        "unlock": ([MatchPair.State.LOCKED], MatchPair.State.PROPOSED),
        "exclude": ([MatchPair.State.PROPOSED, MatchPair.State.LOCKED], MatchPair.State.EXCLUDED),
        "allow": ([MatchPair.State.EXCLUDED], None),
    }
    if action not in states:
        raise ValidationError("Choose lock, unlock, exclude or allow.")
    allowed_from, to = states[action]
    with transaction.atomic():
        pair = MatchPair.objects.select_for_update().get(pk=pair.pk)
        if pair.state not in allowed_from:
            raise ValidationError(
                f"The pair {pair.fellow} and {pair.mentor} is {pair.get_state_display().lower()}; "
                f"it cannot be {'allowed again' if action == 'allow' else action + 'ed'}."
            )
        audit_log(
            programme=pair.programme,
            actor=actor,
            action=f"matching.{action}",
            target=pair,
            changes={"fellow": str(pair.fellow), "mentor": str(pair.mentor)},
        )
        if to is None:
            pair.delete()
            return None
        pair.state = to
        pair.save(update_fields=["state"])
    return pair


def matching_publish(*, cohort: Cohort, actor) -> list[Mentorship]:
    """Turn the cohort's proposed and locked pairs into mentorships and tell both people.
    All or nothing: a mentor over capacity or a fellow matched meanwhile stops the whole."""
    programme = cohort.programme
    with transaction.atomic():
        pairs = list(
            # Lock the pairs only: the joined mentor's organisation may be missing (NULL).
            MatchPair.objects.select_for_update(of=("self",))
            .filter(cohort=cohort, state__in=[MatchPair.State.PROPOSED, MatchPair.State.LOCKED])
            .select_related("fellow__user", "mentor__user", "mentor__organisation")
        )
        if not pairs:
            raise ValidationError("There are no proposed or locked pairs to publish. Run matching.")
        mentor_ids = {p.mentor_id for p in pairs}
        list(Mentor.objects.select_for_update().filter(pk__in=mentor_ids).values_list("pk"))
        places = mentor_places(programme=programme, mentor_ids=mentor_ids)
        over = []
        for mentor_id in mentor_ids:
            place = places[mentor_id]
            taking = sum(1 for p in pairs if p.mentor_id == mentor_id)
            if place["active"] + taking > place["capacity"]:
                over.append(
                    f"{place['mentor']} would have {place['active'] + taking} mentees but has "
                    f"room for {place['capacity']}"
                )
        if over:
            raise ValidationError(
                "Nothing was published because a mentor would be over capacity: "
                + "; ".join(sorted(over))
                + ". Exclude a pair or raise the capacity, then publish again."
            )
        already = set(
            Mentorship.objects.filter(
                fellow_id__in=[p.fellow_id for p in pairs], ended_on__isnull=True
            ).values_list("fellow_id", flat=True)
        )
        if already:
            names = ", ".join(sorted(str(p.fellow) for p in pairs if p.fellow_id in already))
            raise ValidationError(
                f"Nothing was published: {names} already have a mentor. Run matching again."
            )
        today = timezone.localdate()
        mentorships = Mentorship.objects.bulk_create(
            [
                Mentorship(
                    programme=programme,
                    cohort=cohort,
                    fellow=p.fellow,
                    mentor=p.mentor,
                    started_on=today,
                    fit_reasons=p.reasons,
                )
                for p in pairs
            ]
        )
        MatchPair.objects.filter(pk__in=[p.pk for p in pairs]).delete()
        # bulk_create sends no post_save: the newly matched fellows now have meetings due.
        fellow_records_changed.send(
            sender=Mentorship, programme_id=programme.pk, fellow_ids=[p.fellow_id for p in pairs]
        )
        link = reverse("mentoring:mentorships", kwargs={"programme_slug": programme.slug})
        for pair in pairs:
            organisation = pair.mentor.organisation
            why = " ".join(pair.reasons)
            notify(
                programme=programme,
                recipients=[pair.fellow.user],
                kind=Kind.MENTORSHIP,
                title=f"Your mentor is {pair.mentor}",
                body=f"{pair.mentor}"
                + (f" of {organisation}" if organisation else "")
                + f" will mentor you through {cohort}. {why}",
                link=link,
                actor=actor,
            )
            notify(
                programme=programme,
                recipients=[pair.mentor.user],
                kind=Kind.MENTORSHIP,
                title=f"You will mentor {pair.fellow}",
                body=f"{pair.fellow} of {cohort} is your new mentee. {why}",
                link=link,
                actor=actor,
            )
        audit_log(
            programme=programme,
            actor=actor,
            action="matching.published",
            target=cohort,
            changes={"mentorships": len(mentorships)},
        )
    return mentorships


def mentorship_end(*, mentorship: Mentorship, actor, reason: str) -> Mentorship:
    """End a mentorship that is not working, with the reason. The pair is excluded from the
    cohort's matching, so the next run proposes someone else for the fellow."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the mentorship is ending."})
    with transaction.atomic():
        mentorship = Mentorship.objects.select_for_update().get(pk=mentorship.pk)
        if mentorship.ended_on:
            raise ValidationError("This mentorship has already ended.")
        mentorship.ended_on = timezone.localdate()
        mentorship.end_reason = reason
        mentorship.ended_by = actor
        mentorship.save(update_fields=["ended_on", "end_reason", "ended_by"])
        MatchPair.objects.update_or_create(
            fellow=mentorship.fellow,
            mentor=mentorship.mentor,
            defaults={
                "programme": mentorship.programme,
                "cohort": mentorship.cohort,
                "state": MatchPair.State.EXCLUDED,
                "reasons": [f"Mentorship ended: {reason}"],
            },
        )
        programme = mentorship.programme
        notify(
            programme=programme,
            recipients=[mentorship.fellow.user, mentorship.mentor.user],
            kind=Kind.MENTORSHIP,
            title=f"The mentorship of {mentorship.fellow} with {mentorship.mentor} has ended",
            body=f"Reason: {reason} The programme team will match a new mentor where needed.",
            link=reverse("mentoring:mentorships", kwargs={"programme_slug": programme.slug}),
            actor=actor,
        )
        audit_log(
            programme=programme,
            actor=actor,
            action="mentorship.ended",
            target=mentorship,
            changes={"reason": reason},
        )
    return mentorship


# --- networking -------------------------------------------------------------------------------

NETWORK_ROLES = {Role.FELLOW, Role.MENTOR}


def _network_roles(programme, user) -> set[str]:
    return (
        set(
            Membership.objects.filter(programme=programme, user=user).values_list("role", flat=True)
        )
        & NETWORK_ROLES
    )


def connection_request(*, programme, requester, addressee, message: str = "") -> Connection:
    """Ask another member to connect: a fellow with a fellow, or with a mentor."""
    if requester.pk == addressee.pk:
        raise ValidationError("You cannot connect with yourself.")
    mine, theirs = _network_roles(programme, requester), _network_roles(programme, addressee)
    if not mine or not theirs:
        raise ValidationError("Networking is between the programme's fellows and mentors.")
    if Role.FELLOW not in mine | theirs:
        raise ValidationError(
            "Mentors connect with fellows; to reach another mentor, ask the team."
        )
    with transaction.atomic():
        existing = Connection.objects.filter(
            Q(requester=requester, addressee=addressee)
            | Q(requester=addressee, addressee=requester),
            programme=programme,
        ).first()
        if existing is not None and existing.status == Connection.Status.ACCEPTED:
            raise ValidationError(f"You are already connected with {addressee.display_name}.")
        if existing is not None and existing.status == Connection.Status.PENDING:
            if existing.requester_id == requester.pk:
                raise ValidationError(f"Your request to {addressee.display_name} is waiting.")
            raise ValidationError(
                f"{addressee.display_name} has already asked to connect with you: accept it "
                "on your network page."
            )
        if existing is not None and existing.requester_id != requester.pk:
            existing.delete()  # they declined you earlier; now you ask them instead
            existing = None
        connection = existing or Connection(
            programme=programme, requester=requester, addressee=addressee
        )
        connection.status = Connection.Status.PENDING
        connection.message = (message or "").strip()[:300]
        connection.created_at = timezone.now()
        connection.responded_at = None
        connection.save()
        notify(
            programme=programme,
            recipients=[addressee],
            kind=Kind.CONNECTION,
            title=f"{requester.display_name} would like to connect",
            body=connection.message,
            link=reverse("mentoring:network", kwargs={"programme_slug": programme.slug}),
            actor=requester,
        )
    return connection


def connection_respond(*, connection: Connection, actor, accept: bool) -> Connection:
    """The person asked accepts or declines; only they can."""
    with transaction.atomic():
        connection = Connection.objects.select_for_update().get(pk=connection.pk)
        if connection.addressee_id != actor.pk:
            raise ValidationError("Only the person asked can reply to this request.")
        if connection.status != Connection.Status.PENDING:
            raise ValidationError("This request has already been answered.")
        connection.status = Connection.Status.ACCEPTED if accept else Connection.Status.DECLINED
        connection.responded_at = timezone.now()
        connection.save(update_fields=["status", "responded_at"])
        if accept:
            notify(
                programme=connection.programme,
                recipients=[connection.requester],
                kind=Kind.CONNECTION,
                title=f"{actor.display_name} accepted your request to connect",
                link=reverse(
                    "mentoring:network", kwargs={"programme_slug": connection.programme.slug}
                ),
                actor=actor,
            )
    return connection


# --- the year's meetings -----------------------------------------------------------------------
#
# A mentorship holds the programme's N meetings a year (Programme.meetings_per_year), each due
# in a window derived from the cohort's dates unless staff set their own (MeetingWindow). A
# meeting record moves draft → submitted (by the fellow) → signed off (by the mentor, who
# re-enters a password or authenticator code), or back to "returned" with comments. A signed
# record is locked and hashed (records.py); only staff reopen it, with a reason.


class StaleEdit(Exception):
    """Someone saved the record after the editor opened it: nothing was saved, and the view
    shows what they typed beside what is there now."""

    def __init__(self, current):
        super().__init__("This record was changed since you opened it.")
        self.current = current


def cohort_windows(cohort: Cohort) -> dict[int, tuple]:
    """{number: (opens_on, closes_on)} for the cohort's meetings: staff's dates where set,
    otherwise the windows derived from the cohort's dates."""
    windows = {n: (opens, closes) for n, opens, closes in cohort.meeting_windows()}
    for window in MeetingWindow.objects.filter(cohort=cohort):
        if window.number in windows:
            windows[window.number] = (window.opens_on, window.closes_on)
    return windows


def meeting_windows_save(*, cohort: Cohort, actor, windows: dict[int, tuple]) -> None:
    """Set the cohort's meeting windows ({number: (opens_on, closes_on)}): each inside the
    cohort's year, opening before it closes, in meeting order. Windows equal to the derived
    ones are stored as no override."""
    derived = {n: (o, c) for n, o, c in cohort.meeting_windows()}
    errors = {}
    previous_opens = None
    for number in sorted(windows):
        opens, closes = windows[number]
        if number not in derived:
            errors[f"opens_{number}"] = f"The programme holds {len(derived)} meetings a year."
        elif closes < opens:
            errors[f"closes_{number}"] = f"Meeting {number}'s window must close after it opens."
        elif opens < cohort.starts_on or closes > cohort.ends_on:
            errors[f"opens_{number}"] = (
                f"Meeting {number}'s window must fall inside the cohort's year, "
                f"{date_format(cohort.starts_on)} to {date_format(cohort.ends_on)}."
            )
        elif previous_opens is not None and opens < previous_opens:
            errors[f"opens_{number}"] = (
                f"Meeting {number}'s window cannot open before meeting {number - 1}'s."
            )
        previous_opens = opens
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        before = cohort_windows(cohort)
        for number, (opens, closes) in windows.items():
            if (opens, closes) == derived[number]:
                MeetingWindow.objects.filter(cohort=cohort, number=number).delete()
            else:
                MeetingWindow.objects.update_or_create(
                    cohort=cohort,
                    number=number,
                    defaults={
                        "programme": cohort.programme,
                        "opens_on": opens,
                        "closes_on": closes,
                    },
                )
        after = cohort_windows(cohort)
        changed = {
            str(n): {"from": [str(d) for d in before[n]], "to": [str(d) for d in after[n]]}
            for n in after
            if before[n] != after[n]
        }
        if changed:
            audit_log(
                programme=cohort.programme,
                actor=actor,
                action="meeting_windows.changed",
                target=cohort,
                changes=changed,
            )


def meeting_state(*, meeting, opens_on, closes_on, today, started_on=None) -> str:
    """Where one meeting of the year stands: signed, submitted, returned, draft (being written),
    overdue (its window closed and no record was submitted), due (window open), upcoming, or
    before (its window closed before this mentorship began: a fellow matched again mid-year
    is not behind for meetings they could not hold with this mentor)."""
    if meeting is not None and meeting.status in (
        Meeting.Status.SIGNED,
        Meeting.Status.SUBMITTED,
    ):
        return meeting.status
    if meeting is None and started_on is not None and closes_on < started_on:
        return "before"
    if closes_on < today:
        return "overdue"
    if meeting is not None:
        return meeting.status
    return "due" if opens_on <= today else "upcoming"


STATE_LABELS = {
    "signed": "Signed off",
    "submitted": "Waiting for sign-off",
    "returned": "Returned with comments",
    "draft": "Being written",
    "overdue": "Overdue",
    "due": "Due now",
    "upcoming": "Upcoming",
    "before": "Before this mentorship began",
}


def meeting_schedule(
    mentorship: Mentorship, *, windows=None, meetings=None, today=None
) -> list[dict]:
    """The mentorship's year: for each meeting number its window, record (if started) and
    state. `windows` and `meetings` may be passed in by lists that read them in bulk."""
    today = today or timezone.localdate()
    windows = windows if windows is not None else cohort_windows(mentorship.cohort)
    if meetings is None:
        meetings = list(mentorship.meetings.all())
    by_number = {m.number: m for m in meetings}
    rows = []
    for number in sorted(windows):
        opens, closes = windows[number]
        meeting = by_number.get(number)
        state = meeting_state(
            meeting=meeting,
            opens_on=opens,
            closes_on=closes,
            today=today,
            started_on=mentorship.started_on,
        )
        rows.append(
            {
                "number": number,
                "opens_on": opens,
                "closes_on": closes,
                "meeting": meeting,
                "state": state,
                "state_label": STATE_LABELS[state],
            }
        )
    next_row = next((r for r in rows if r["state"] not in ("signed", "submitted", "before")), None)
    for row in rows:
        row["is_next"] = row is next_row
    return rows


def _is_party(mentorship: Mentorship, user) -> str | None:
    if mentorship.fellow.user_id == user.pk:
        return "fellow"
    if mentorship.mentor.user_id == user.pk:
        return "mentor"
    return None


def _is_staff(programme, user) -> bool:
    return Membership.objects.filter(programme=programme, user=user, role=Role.STAFF).exists()


def meeting_start(*, mentorship: Mentorship, number: int, actor) -> Meeting:
    """Open the record of meeting `number` (either party, or staff). Starting one that exists
    returns it; a number beyond the programme's meetings a year is refused."""
    programme = mentorship.programme
    allowed = programme.meetings_per_year
    if number < 1 or number > allowed:
        raise ValidationError(
            f"There is no meeting {number}: the programme holds {allowed} meetings a year."
        )
    if not mentorship.is_active:
        raise ValidationError("This mentorship has ended; its meetings can no longer change.")
    with transaction.atomic():
        Mentorship.objects.select_for_update().filter(pk=mentorship.pk).first()
        meeting, created = Meeting.objects.get_or_create(
            mentorship=mentorship,
            number=number,
            defaults={"programme": programme, "updated_by": actor},
        )
        if created:
            audit_log(
                programme=programme,
                actor=actor,
                action="meeting.started",
                target=meeting,
                changes={"number": number},
            )
    return meeting


MEETING_FIELDS = ["held_on", "format", "discussion", "fellow_reflection", "mentor_advice"]


def _check_held_on(meeting: Meeting, held_on) -> None:
    if held_on is None:
        return
    cohort = meeting.mentorship.cohort
    if held_on > timezone.localdate():
        raise ValidationError({"held_on": "The meeting date cannot be in the future."})
    if not cohort.starts_on <= held_on <= cohort.ends_on:
        raise ValidationError(
            {
                "held_on": f"The meeting date must fall within {cohort.name}: "
                f"{date_format(cohort.starts_on)} to {date_format(cohort.ends_on)}."
            }
        )
    if held_on < meeting.mentorship.started_on:
        raise ValidationError(
            {
                "held_on": "The meeting date cannot be before the mentorship started on "
                f"{date_format(meeting.mentorship.started_on)}."
            }
        )


def _locked_message(meeting: Meeting) -> str:
    if meeting.is_signed:
        return (
            "This record is signed off and locked. Only programme staff can reopen it, "
            "with a reason."
        )
    return "This record has been sent to the mentor; it can change again if they return it."


def _check_can_edit(meeting: Meeting, actor) -> str:
    """Who is editing (fellow, mentor or staff); refuses an edit the state does not allow."""
    party = _is_party(meeting.mentorship, actor)
    if party is None and not _is_staff(meeting.programme, actor):
        raise PermissionDenied("Only the fellow, their mentor and programme staff edit this.")
    if not meeting.mentorship.is_active:
        raise ValidationError("This mentorship has ended; its meetings can no longer change.")
    if meeting.is_editable:
        return party or "staff"
    # The mentor may still add their advice to a submitted record before signing it.
    if meeting.status == Meeting.Status.SUBMITTED and party == "mentor":
        return party
    raise ValidationError(_locked_message(meeting))


def _meeting_for_update(pk: int) -> Meeting:
    """The meeting, locked for this transaction, with what its checks, audit label and
    notifications read (so none of them queries again)."""
    return (
        Meeting.objects.select_for_update(of=("self",))
        .select_related(
            "programme",
            "mentorship__programme",
            "mentorship__cohort",
            "mentorship__fellow__user",
            "mentorship__mentor__user",
            "submitted_by",
        )
        .get(pk=pk)
    )


def _check_draft(meeting: Meeting, actor) -> None:
    """Milestones and reviews change only while the record is a draft or returned."""
    _check_can_edit(meeting, actor)
    if not meeting.is_editable:
        raise ValidationError(_locked_message(meeting))


def _bump(model, obj, *, version: int, values: dict) -> int:
    """Write `values` only if the row is still at `version` (optimistic concurrency)."""
    updated = model.objects.filter(pk=obj.pk, version=version).update(
        **values, version=F("version") + 1
    )
    if not updated:
        raise StaleEdit(model.objects.get(pk=obj.pk))
    return version + 1


def _records_changed(meeting_or_milestone) -> None:
    """Tell whoever keeps figures derived from a fellow's meetings and milestones (metrics)
    that a conditional UPDATE, which sends no post_save, changed one."""
    fellow_records_changed.send(
        sender=type(meeting_or_milestone),
        programme_id=meeting_or_milestone.programme_id,
        fellow_ids=[meeting_or_milestone.mentorship.fellow_id],
    )


def meeting_fields_for(meeting: Meeting, party: str) -> list[str]:
    """The fields of the record this party writes: the shared account (date, format,
    discussion) and their own voice — the fellow's reflection is the fellow's, the mentor's
    advice the mentor's (staff may correct either). Once submitted, only the mentor's advice."""
    if meeting.status == Meeting.Status.SUBMITTED:
        return ["mentor_advice"] if party == "mentor" else []
    if not meeting.is_editable:
        return []
    mine = {"fellow": "mentor_advice", "mentor": "fellow_reflection"}
    return [f for f in MEETING_FIELDS if f != mine.get(party)]


def meeting_save(*, meeting: Meeting, actor, data: dict, version: int) -> Meeting:
    """Save the record's text as the editor saw it at `version`. If someone else saved it
    since, nothing is written and StaleEdit says so."""
    with transaction.atomic():
        meeting = _meeting_for_update(meeting.pk)
        party = _check_can_edit(meeting, actor)
        if meeting.version != version:
            raise StaleEdit(meeting)
        fields = meeting_fields_for(meeting, party)
        values = {f: data[f] for f in fields if f in data}
        if "held_on" in values:
            _check_held_on(meeting, values["held_on"])
        changed = {f: v for f, v in values.items() if getattr(meeting, f) != v}
        if not changed:
            return meeting
        now = timezone.now()
        _bump(
            Meeting,
            meeting,
            version=version,
            values={**changed, "updated_at": now, "updated_by": actor},
        )
        _records_changed(meeting)
        audit_log(
            programme=meeting.programme,
            actor=actor,
            action="meeting.edited",
            target=meeting,
            changes={"by": party, "fields": sorted(changed)},
        )
    meeting.refresh_from_db()
    return meeting


def open_milestones(meeting: Meeting):
    """The milestones this meeting reviews: agreed at an earlier signed meeting of the same
    mentorship and neither achieved nor missed before it (or reviewed at this very meeting)."""
    return (
        Milestone.objects.filter(
            mentorship=meeting.mentorship,
            agreed_at__status=Meeting.Status.SIGNED,
            agreed_at__number__lt=meeting.number,
        )
        .filter(~Q(status__in=Milestone.CLOSED) | Q(reviews__meeting=meeting))
        .select_related("objective", "agreed_at")
        .distinct()
        .order_by("due_on", "pk")
    )


def _check_objective(meeting: Meeting, objective) -> None:
    if objective is not None and objective.pdp.fellow_id != meeting.mentorship.fellow_id:
        raise ValidationError({"objective": "Choose one of the fellow's own PDP objectives."})


MILESTONE_FIELDS = ["title", "measure", "due_on", "objective"]


def milestone_add(*, meeting: Meeting, actor, data: dict) -> Milestone:
    """A new milestone agreed at this meeting: what, by when, how we will know."""
    with transaction.atomic():
        meeting = _meeting_for_update(meeting.pk)
        _check_draft(meeting, actor)
        _check_objective(meeting, data.get("objective"))
        if data["due_on"] < meeting.mentorship.started_on:
            raise ValidationError({"due_on": "A milestone is due after the mentorship started."})
        milestone = Milestone.objects.create(
            programme=meeting.programme,
            mentorship=meeting.mentorship,
            agreed_at=meeting,
            **{f: data.get(f) for f in MILESTONE_FIELDS},
        )
        Meeting.objects.filter(pk=meeting.pk).update(
            # Milestones and reviews are rows of their own (reviews carry their own version):
            # adding one must not make the other person's open text look stale.
            updated_at=timezone.now(),
            updated_by=actor,
        )
        audit_log(
            programme=meeting.programme,
            actor=actor,
            action="milestone.agreed",
            target=meeting,
            changes={"milestone": str(milestone.uuid), "what": milestone.title},
        )
    return milestone


def milestone_remove(*, milestone: Milestone, actor) -> None:
    """Take a milestone out of the draft it was added to (never out of a signed record)."""
    with transaction.atomic():
        meeting = _meeting_for_update(milestone.agreed_at_id)
        _check_draft(meeting, actor)
        if milestone.reviews.exists():
            raise ValidationError("This milestone has been reviewed at a later meeting.")
        title = milestone.title
        uuid_ = str(milestone.uuid)
        milestone.delete()
        Meeting.objects.filter(pk=meeting.pk).update(
            # Milestones and reviews are rows of their own (reviews carry their own version):
            # adding one must not make the other person's open text look stale.
            updated_at=timezone.now(),
            updated_by=actor,
        )
        audit_log(
            programme=meeting.programme,
            actor=actor,
            action="milestone.removed",
            target=meeting,
            changes={"milestone": uuid_, "what": title},
        )


def review_save(
    *, meeting: Meeting, milestone: Milestone, actor, data: dict, version: int | None
) -> MilestoneReview:
    """Record how an open milestone stands at this meeting. `version` is the review's version
    the editor saw (None when there was no review yet)."""
    outcome = data["outcome"]
    comment = (data.get("comment") or "").strip()
    new_due_on = data.get("new_due_on") if outcome == MilestoneReview.Outcome.DEFERRED else None
    if not comment:
        raise ValidationError({"comment": "Say how the milestone went."})
    if outcome == MilestoneReview.Outcome.DEFERRED:
        if new_due_on is None:
            raise ValidationError({"new_due_on": "Give the new date for a deferred milestone."})
        if new_due_on <= milestone.next_due_on:
            raise ValidationError(
                {
                    "new_due_on": "The new date must be after "
                    f"{date_format(milestone.next_due_on)}, when it was due."
                }
            )
    with transaction.atomic():
        meeting = _meeting_for_update(meeting.pk)
        _check_draft(meeting, actor)
        if not open_milestones(meeting).filter(pk=milestone.pk).exists():
            raise ValidationError("This milestone is not open for review at this meeting.")
        values = {
            "outcome": outcome,
            "comment": comment,
            "new_due_on": new_due_on,
            "evidence": (data.get("evidence") or "").strip(),
            "updated_at": timezone.now(),
        }
        review = MilestoneReview.objects.filter(meeting=meeting, milestone=milestone).first()
        if review is None:
            if version is not None:
                raise StaleEdit(None)
            review = MilestoneReview.objects.create(
                programme=meeting.programme, meeting=meeting, milestone=milestone, **values
            )
        else:
            if version is None or review.version != version:
                raise StaleEdit(review)
            _bump(MilestoneReview, review, version=version, values=values)
            review.refresh_from_db()
        Meeting.objects.filter(pk=meeting.pk).update(
            # Milestones and reviews are rows of their own (reviews carry their own version):
            # adding one must not make the other person's open text look stale.
            updated_at=timezone.now(),
            updated_by=actor,
        )
        audit_log(
            programme=meeting.programme,
            actor=actor,
            action="milestone.reviewed",
            target=meeting,
            changes={"milestone": str(milestone.uuid), "outcome": outcome},
        )
    return review


def submission_problems(meeting: Meeting) -> list[str]:
    """What stops the record being sent for sign-off, each said plainly."""
    problems = []
    if meeting.held_on is None:
        problems.append("Give the date the meeting was held.")
    if not meeting.format:
        problems.append("Say how you met: in person, by video or by phone.")
    if not meeting.discussion.strip():
        problems.append("Write what you discussed.")
    reviewed = set(meeting.reviews.values_list("milestone_id", flat=True))
    unreviewed = [m for m in open_milestones(meeting) if m.pk not in reviewed]
    for milestone in unreviewed:
        problems.append(f"Review the milestone “{milestone.title}”.")
    if not meeting.milestones_agreed.exists() and not reviewed and not unreviewed:
        problems.append("Agree at least one milestone for the months ahead.")
    return problems


def meeting_submit(*, meeting: Meeting, actor, now=None) -> Meeting:
    """The fellow sends the record to their mentor to sign off."""
    with transaction.atomic():
        meeting = _meeting_for_update(meeting.pk)
        mentorship = meeting.mentorship
        if mentorship.fellow.user_id != actor.pk:
            raise PermissionDenied("Only the fellow submits the record of their meeting.")
        if not meeting.is_editable:
            raise ValidationError(_locked_message(meeting))
        if not mentorship.is_active:
            raise ValidationError("This mentorship has ended; its meetings can no longer change.")
        problems = submission_problems(meeting)
        if problems:
            raise ValidationError(problems)
        _check_held_on(meeting, meeting.held_on)
        now = now or timezone.now()
        Meeting.objects.filter(pk=meeting.pk).update(
            status=Meeting.Status.SUBMITTED,
            submitted_at=now,
            submitted_by=actor,
            version=F("version") + 1,
            updated_at=now,
            updated_by=actor,
        )
        _records_changed(meeting)
        audit_log(
            programme=meeting.programme,
            actor=actor,
            action="meeting.submitted",
            target=meeting,
            changes={"number": meeting.number},
        )
        notify(
            programme=meeting.programme,
            recipients=[mentorship.mentor.user],
            kind=Kind.SIGN_OFF_REQUEST,
            title=f"{mentorship.fellow} asks you to sign off meeting {meeting.number}",
            body="Read the record, then sign it off with your password or return it with comments.",
            link=meeting_url(meeting),
            actor=actor,
        )
    meeting.refresh_from_db()
    return meeting


def meeting_url(meeting: Meeting) -> str:
    return reverse(
        "mentoring:meeting",
        kwargs={"programme_slug": meeting.programme.slug, "meeting_uuid": meeting.uuid},
    )


def _check_signer(meeting: Meeting, actor) -> None:
    mentorship = meeting.mentorship
    if mentorship.mentor.user_id != actor.pk or not mentorship.is_active:
        raise PermissionDenied("Only the fellow's mentor signs off or returns this record.")


def meeting_return(*, meeting: Meeting, actor, comments: str, now=None) -> Meeting:
    """The mentor sends the record back to the fellow with what should change."""
    comments = (comments or "").strip()
    if not comments:
        raise ValidationError({"comments": "Say what the fellow should change."})
    with transaction.atomic():
        meeting = _meeting_for_update(meeting.pk)
        _check_signer(meeting, actor)
        if meeting.status != Meeting.Status.SUBMITTED:
            raise ValidationError("This record has not been sent to you to sign off.")
        now = now or timezone.now()
        Meeting.objects.filter(pk=meeting.pk).update(
            status=Meeting.Status.RETURNED,
            returned_at=now,
            return_comments=comments,
            version=F("version") + 1,
            updated_at=now,
            updated_by=actor,
        )
        _records_changed(meeting)
        audit_log(
            programme=meeting.programme,
            actor=actor,
            action="meeting.returned",
            target=meeting,
            changes={"comments": comments},
        )
        notify(
            programme=meeting.programme,
            recipients=[meeting.mentorship.fellow.user],
            kind=Kind.MENTORSHIP,
            title=f"{actor.display_name} returned the record of meeting {meeting.number}",
            body=comments,
            link=meeting_url(meeting),
            actor=actor,
        )
    meeting.refresh_from_db()
    return meeting


def credential_check(*, user, secret: str) -> str:
    """The signer's deliberate act: their password, or a code from their authenticator app (or
    a recovery code). Returns which it was; refuses anything else."""
    from allauth.mfa.models import Authenticator

    secret = (secret or "").strip()
    if not secret:
        raise ValidationError({"secret": "Enter your password or authenticator code to sign."})
    if user.has_usable_password() and user.check_password(secret):
        return SignOff.Method.PASSWORD
    for authenticator in Authenticator.objects.filter(
        user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES]
    ):
        if authenticator.wrap().validate_code(secret.replace(" ", "")):
            authenticator.record_usage()
            return SignOff.Method.MFA
    raise ValidationError(
        {"secret": "That is not your password or a current authenticator code. Nothing was signed."}
    )


def milestone_refresh(milestones) -> None:
    """Set each milestone's status from the reviews of signed meetings (the latest wins), and
    its confirmation from its live sign-off."""
    for milestone in milestones:
        review = (
            MilestoneReview.objects.filter(
                milestone=milestone, meeting__status=Meeting.Status.SIGNED
            )
            .order_by("-meeting__number")
            .first()
        )
        deferred = (
            MilestoneReview.objects.filter(
                milestone=milestone,
                meeting__status=Meeting.Status.SIGNED,
                outcome=MilestoneReview.Outcome.DEFERRED,
            )
            .order_by("-meeting__number")
            .values_list("new_due_on", flat=True)
            .first()
        )
        live = SignOff.objects.filter(
            kind=SignOff.Kind.MILESTONE, milestone=milestone, reopened_at__isnull=True
        ).first()
        Milestone.objects.filter(pk=milestone.pk).update(
            status=review.outcome if review else Milestone.Status.OPEN,
            current_due_on=deferred,
            confirmed_at=live.signed_at if live else None,
        )
        _records_changed(milestone)


def _milestone_sign(*, milestone: Milestone, review: MilestoneReview, actor, method, when):
    content = records.milestone_content(milestone, review, signed_by=actor, signed_at=when)
    sign_off = SignOff.objects.create(
        programme=milestone.programme,
        kind=SignOff.Kind.MILESTONE,
        meeting=review.meeting,
        milestone=milestone,
        signed_by=actor,
        signed_at=when,
        method=method,
        content=content,
        digest=records.digest_of(content),
    )
    _milestone_webhook(milestone, when)
    return sign_off


def _milestone_webhook(milestone: Milestone, when) -> None:
    """Tell the signing mentor's organisation (issue #8): which mentorship and milestone, and
    when; never the notes, and the fellow's name only if they consented to share it."""
    mentorship = milestone.mentorship
    organisation_id = (
        Mentor.objects.filter(pk=mentorship.mentor_id).values_list("organisation_id", flat=True)
    ).first()
    if organisation_id is None:
        return
    fellow = mentorship.fellow
    webhook_emit(
        programme=milestone.programme,
        event="milestone.signed_off",
        organisation_id=organisation_id,
        payload={
            "mentorship": str(mentorship.uuid),
            "milestone": {"uuid": str(milestone.uuid), "title": milestone.title},
            "signed_at": when,
            "fellow": fellow.user.display_name if fellow.consent_to_share else None,
            "link": "/api/v1/mentors/",
        },
    )


def meeting_sign(
    *, meeting: Meeting, actor, secret: str, confirm: list | None = None, agree_pdp=False
) -> SignOff:
    """The mentor signs off the record: it is locked and its canonical content hashed. Each
    milestone in `confirm` (reviewed as achieved at this meeting) gets its own sign-off. At the
    first meeting the mentor may agree the fellow's submitted PDP in the same act. The
    mentor's password or authenticator code (`secret`) is checked first."""
    return meeting_sign_as(
        meeting=meeting,
        actor=actor,
        method=lambda: credential_check(user=actor, secret=secret),
        confirm=confirm,
        agree_pdp=agree_pdp,
    )


def meeting_sign_as(
    *, meeting: Meeting, actor, method, confirm=None, agree_pdp=False, now=None
) -> SignOff:
    """The sign-off itself. `method` is the credential check to run once the record is known to
    be the actor's to sign (a callable returning SignOff.Method), or the method already proven
    (the demo's records, signed as the mentor did in the cohort's year, at `now`)."""
    from pdp.models import PDP
    from pdp.services import pdp_review

    with transaction.atomic():
        meeting = _meeting_for_update(meeting.pk)
        _check_signer(meeting, actor)
        if meeting.status != Meeting.Status.SUBMITTED:
            if meeting.is_signed:
                raise ValidationError("This record is already signed off.")
            raise ValidationError("This record has not been sent to you to sign off.")
        method = method() if callable(method) else method
        fellow = meeting.mentorship.fellow
        pdp = PDP.objects.filter(fellow=fellow).first()
        if agree_pdp and meeting.number == 1 and pdp and pdp.status == PDP.Status.SUBMITTED:
            pdp = pdp_review(pdp=pdp, actor=actor, agree=True, comments="")
        pdp_agreed = bool(meeting.number == 1 and pdp and pdp.status == PDP.Status.AGREED)
        now = now or timezone.now()
        meeting.pdp_agreed = pdp_agreed
        content = records.meeting_content(meeting, signed_by=actor, signed_at=now)
        digest = records.digest_of(content)
        Meeting.objects.filter(pk=meeting.pk).update(
            pdp_agreed=pdp_agreed,
            status=Meeting.Status.SIGNED,
            signed_at=now,
            signed_by=actor,
            digest=digest,
            reopened_at=None,
            version=F("version") + 1,
            updated_at=now,
            updated_by=actor,
        )
        _records_changed(meeting)
        sign_off = SignOff.objects.create(
            programme=meeting.programme,
            kind=SignOff.Kind.MEETING,
            meeting=meeting,
            signed_by=actor,
            signed_at=now,
            method=method,
            content=content,
            digest=digest,
        )
        reviews = list(
            meeting.reviews.select_related(
                "milestone__mentorship__programme",
                "milestone__mentorship__fellow__user",
                "milestone__objective",
                "meeting",
            )
        )
        wanted = {str(u) for u in (confirm or [])}
        confirmed = []
        for review in reviews:
            if str(review.milestone.uuid) in wanted:
                if review.outcome != MilestoneReview.Outcome.ACHIEVED:
                    raise ValidationError(
                        f"“{review.milestone.title}” was not reviewed as achieved, so it "
                        "cannot be confirmed."
                    )
                _milestone_sign(
                    milestone=review.milestone, review=review, actor=actor, method=method, when=now
                )
                confirmed.append(str(review.milestone.uuid))
        milestone_refresh([r.milestone for r in reviews])
        audit_log(
            programme=meeting.programme,
            actor=actor,
            action="meeting.signed",
            target=meeting,
            changes={
                "digest": digest,
                "method": method,
                "milestones_confirmed": confirmed,
                "pdp_agreed": pdp_agreed,
            },
        )
        notify(
            programme=meeting.programme,
            recipients=[fellow.user],
            kind=Kind.MENTORSHIP,
            title=f"{actor.display_name} signed off the record of meeting {meeting.number}",
            body=f"The record is locked. Its SHA-256 digest is {digest}.",
            link=meeting_url(meeting),
            actor=actor,
        )
    return sign_off


def milestone_sign(*, milestone: Milestone, actor, secret: str) -> SignOff:
    """The mentor's separate sign-off of a milestone reviewed as achieved at a signed meeting."""
    with transaction.atomic():
        milestone = (
            Milestone.objects.select_for_update(of=("self",))
            .select_related(
                "mentorship__programme",
                "mentorship__fellow__user",
                "mentorship__mentor__user",
                "objective",
            )
            .get(pk=milestone.pk)
        )
        review = (
            MilestoneReview.objects.filter(
                milestone=milestone,
                meeting__status=Meeting.Status.SIGNED,
                outcome=MilestoneReview.Outcome.ACHIEVED,
            )
            .select_related("meeting__mentorship", "milestone")
            .order_by("-meeting__number")
            .first()
        )
        if milestone.mentorship.mentor.user_id != actor.pk or not milestone.mentorship.is_active:
            raise PermissionDenied("Only the fellow's mentor signs off a milestone.")
        if review is None or milestone.status != Milestone.Status.ACHIEVED:
            raise ValidationError(
                "Only a milestone reviewed as achieved at a signed meeting can be signed off."
            )
        if milestone.confirmed_at is not None:
            raise ValidationError("You have already signed off this milestone.")
        method = credential_check(user=actor, secret=secret)
        sign_off = _milestone_sign(
            milestone=milestone, review=review, actor=actor, method=method, when=timezone.now()
        )
        milestone_refresh([milestone])
        audit_log(
            programme=milestone.programme,
            actor=actor,
            action="milestone.signed",
            target=review.meeting,
            changes={"milestone": str(milestone.uuid), "digest": sign_off.digest},
        )
        notify(
            programme=milestone.programme,
            recipients=[milestone.mentorship.fellow.user],
            kind=Kind.MENTORSHIP,
            title=f"{actor.display_name} signed off your milestone “{milestone.title}”",
            link=meeting_url(review.meeting),
            actor=actor,
        )
    return sign_off


def meeting_reopen(*, meeting: Meeting, actor, reason: str) -> Meeting:
    """Staff reopen a signed record, with a reason: the signatures are kept (readable as the
    earlier version) but no longer live, and the record needs a fresh sign-off."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the record is being reopened."})
    if not _is_staff(meeting.programme, actor):
        raise PermissionDenied("Only programme staff reopen a signed record.")
    with transaction.atomic():
        meeting = _meeting_for_update(meeting.pk)
        if not meeting.is_signed:
            raise ValidationError("Only a signed record can be reopened.")
        now = timezone.now()
        live = SignOff.objects.filter(meeting=meeting, reopened_at__isnull=True)
        earlier = list(live.values_list("uuid", flat=True))
        live.update(reopened_at=now, reopened_by=actor, reopen_reason=reason)
        Meeting.objects.filter(pk=meeting.pk).update(
            status=Meeting.Status.DRAFT,
            signed_at=None,
            signed_by=None,
            digest="",
            # The signed content (submission included) stays as it was; the fellow's next
            # submission and the mentor's fresh sign-off write it anew.
            reopened_at=now,
            reopen_reason=reason,
            version=F("version") + 1,
            updated_at=now,
            updated_by=actor,
        )
        _records_changed(meeting)
        milestone_refresh(Milestone.objects.filter(reviews__meeting=meeting).distinct())
        audit_log(
            programme=meeting.programme,
            actor=actor,
            action="meeting.reopened",
            target=meeting,
            changes={"reason": reason, "sign_offs": [str(u) for u in earlier]},
        )
        notify(
            programme=meeting.programme,
            recipients=[meeting.mentorship.fellow.user, meeting.mentorship.mentor.user],
            kind=Kind.MENTORSHIP,
            title=f"The programme team reopened the record of meeting {meeting.number}",
            body=f"Reason: {reason} It needs a fresh sign-off by the mentor.",
            link=meeting_url(meeting),
            actor=actor,
        )
    meeting.refresh_from_db()
    return meeting


# --- reminders and alerts ----------------------------------------------------------------------
#
# Once a day (mentoring.tasks.meeting_reminders_daily) the fellow and mentor of each active
# mentorship hear of a meeting due soon or overdue, the mentor of a record waiting for their
# sign-off, and the programme's staff of a mentorship with no record long after a window closed
# (DESIGN §6 and §10). Each reminder is a MeetingReminder row, unique per (mentorship, kind,
# key), written in the same transaction as its notifications: it is sent once however often the
# job runs, and however many runs overlap.

# A meeting is due soon when its window closes within this many days.
DUE_SOON_DAYS = 14
# A submitted record waits more than this many days before its mentor is reminded.
SIGN_OFF_WAIT_DAYS = 7
# Reminders stop this many days after the staff alert for the year's last meeting fell due
# (cohort end + the programme's meeting_alert_days): without the slack that alert, which is
# due the day after, would never be sent; with it a missed day of the job still sends it, and
# nobody is nagged about a year long over.
FINISHED_YEAR_GRACE_DAYS = 7


def _reminder_send(*, programme, mentorship, kind: str, key: str, messages: list[dict]) -> bool:
    """Record the reminder and send its notifications (notify() keyword arguments) in one
    transaction; False, and nothing sent, if it was sent already."""
    with transaction.atomic():
        try:
            # The unique (mentorship, kind, key) is the claim. A run racing this one waits on
            # the index until this transaction ends, then fails here and sends nothing; if this
            # one rolls back, the other sends it instead.
            with transaction.atomic():
                MeetingReminder.objects.create(
                    programme=programme, mentorship=mentorship, kind=kind, key=key
                )
        except IntegrityError:
            return False
        for message in messages:
            notify(programme=programme, kind=Kind.REMINDER, **message)
    return True


def _reminders_for(row: dict, *, programme, today, staff: list) -> list[tuple[str, str, list]]:
    """The reminders one mentorship's year calls for today, sent already or not:
    (kind, key, notify() arguments of each message)."""
    mentorship = row["mentorship"]
    fellow, mentor = mentorship.fellow, mentorship.mentor
    alert_days = programme.meeting_alert_days
    year_link = reverse(
        "mentoring:mentorship_year",
        kwargs={"programme_slug": programme.slug, "mentorship_uuid": mentorship.uuid},
    )
    overview = (
        reverse("mentoring:meetings_overview", kwargs={"programme_slug": programme.slug})
        + "?"
        + urlencode({"cohort": mentorship.cohort.uuid, "state": "overdue"})
    )
    found = []
    for item in row["schedule"]:
        number, closes_on, meeting = item["number"], item["closes_on"], item["meeting"]
        if item["state"] == "before":
            continue  # its window closed before this mentorship began
        if meeting is not None:
            meeting.programme = programme  # meeting_url reads the slug: no query per record
        link = meeting_url(meeting) if meeting is not None else year_link
        closes = date_format(closes_on)
        # A draft, returned or reopened record does not count: the meeting is not recorded yet.
        recorded = meeting is not None and meeting.status in (
            Meeting.Status.SUBMITTED,
            Meeting.Status.SIGNED,
        )

        def both(news, body, number=number, link=link):
            """The same reminder to the fellow and to the mentor, each naming the other."""
            return [
                {
                    "recipients": [to.user],
                    "title": f"Meeting {number} with {other} {news}",
                    "body": body,
                    "link": link,
                }
                for to, other in ((fellow, mentor), (mentor, fellow))
            ]

        if not recorded and 0 <= (closes_on - today).days <= DUE_SOON_DAYS:
            found.append(
                (
                    MeetingReminder.Kind.DUE_SOON,
                    str(number),
                    both(
                        f"is due by {closes}",
                        f"Its window closes on {closes}. Meet, write the record together, and "
                        "the fellow submits it for the mentor's sign-off.",
                    ),
                )
            )
        if not recorded and closes_on < today:
            found.append(
                (
                    MeetingReminder.Kind.OVERDUE,
                    str(number),
                    both(
                        f"is overdue: it was due by {closes}",
                        f"Its window closed on {closes} and no record has been submitted. Hold "
                        "the meeting and submit its record, or tell the programme team why not.",
                    ),
                )
            )
        if not recorded and today > closes_on + timedelta(days=alert_days):
            found.append(
                (
                    MeetingReminder.Kind.STAFF_ALERT,
                    str(number),
                    [
                        {
                            "recipients": staff,
                            "title": f"{fellow} and {mentor} have no record of meeting "
                            f"{number}, due by {closes}",
                            "body": f"{mentorship.cohort}: the window closed more than "
                            f"{alert_days} days ago and no record has been submitted.",
                            "link": overview,
                        }
                    ],
                )
            )
        if (
            meeting is not None
            and meeting.status == Meeting.Status.SUBMITTED
            and meeting.submitted_at is not None
        ):
            submitted_on = timezone.localdate(meeting.submitted_at)
            if (today - submitted_on).days > SIGN_OFF_WAIT_DAYS:
                found.append(
                    (
                        MeetingReminder.Kind.SIGN_OFF_WAITING,
                        # Per submission: a record returned and submitted again reminds again.
                        f"{meeting.uuid}:{submitted_on.isoformat()}",
                        [
                            {
                                "recipients": [mentor.user],
                                "title": f"The record of meeting {number} with {fellow} is "
                                "waiting for your sign-off",
                                "body": f"{fellow} submitted it on {date_format(submitted_on)}. "
                                "Read it, then sign it off with your password or authenticator "
                                "code, or return it with comments.",
                                "link": link,
                            }
                        ],
                    )
                )
    return found


def _reminders_sent(*, programme, mentorships) -> set[tuple[int, str, str]]:
    """(mentorship id, kind, key) of every reminder already sent to these mentorships. A run
    racing another may read this before the other commits; the unique constraint still holds."""
    return set(
        MeetingReminder.objects.filter(
            programme=programme, mentorship__in=[m.pk for m in mentorships]
        ).values_list("mentorship_id", "kind", "key")
    )


def meeting_reminders_send(*, programme, today=None) -> dict[str, int]:
    """Send the day's meeting reminders and staff alerts for the programme's active mentorships
    whose cohort year is not long over. Returns how many reminders of each kind were sent
    (reminders, not notifications). The reads are a fixed number of queries however many
    mentorships there are; each reminder sent adds its own writes."""
    from .selectors import mentorship_rows

    today = today or timezone.localdate()
    sent = dict.fromkeys(MeetingReminder.Kind.values, 0)
    mentorships = list(
        Mentorship.objects.filter(
            programme=programme,
            ended_on__isnull=True,
            cohort__ends_on__gte=today
            - timedelta(days=programme.meeting_alert_days + FINISHED_YEAR_GRACE_DAYS),
        )
        .select_related("cohort__programme", "fellow__user", "mentor__user")
        # Every run claims reminders in the same order, so overlapping runs cannot deadlock.
        .order_by("pk")
    )
    if not mentorships:
        return sent
    already = _reminders_sent(programme=programme, mentorships=mentorships)
    staff = [
        m.user
        for m in Membership.objects.filter(
            programme=programme, role=Role.STAFF, user__is_active=True
        ).select_related("user")
    ]
    for row in mentorship_rows(mentorships, today=today):
        mentorship = row["mentorship"]
        for kind, key, messages in _reminders_for(
            row, programme=programme, today=today, staff=staff
        ):
            if (mentorship.pk, kind, key) in already:
                continue
            # With no staff yet nothing is recorded, so the alert reaches the first to join.
            if kind == MeetingReminder.Kind.STAFF_ALERT and not staff:
                continue
            if _reminder_send(
                programme=programme, mentorship=mentorship, kind=kind, key=key, messages=messages
            ):
                sent[kind] += 1
    return sent
