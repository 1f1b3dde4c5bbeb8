"""Every write of the mentoring app: matching a cohort, publishing it as mentorships, and
ending a mentorship so the fellow can be matched again."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from cohort.models import Cohort, Fellow, Membership, Mentor, Role
from cohort.services import audit_log
from notifications.models import Kind
from notifications.services import notify

from . import matching
from .models import Connection, MatchPair, Mentorship


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
