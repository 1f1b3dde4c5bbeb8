"""Every write of the cohort app, each in a transaction and each writing its audit event."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from .models import (
    FELLOW_PROFILE_FIELDS,
    MENTOR_PROFILE_FIELDS,
    Application,
    ApplicationQuestion,
    AuditEvent,
    Cohort,
    EqualityData,
    Fellow,
    Invitation,
    Membership,
    Mentor,
    Programme,
    RecruitmentCall,
    Review,
    ReviewCriterion,
    Role,
    TrainingArrangement,
    Venture,
)
from .signals import (
    application_received,
    application_submitted,
    invitation_accepted,
    invitation_issued,
)

User = get_user_model()


def audit_log(
    *,
    programme: Programme,
    actor,
    action: str,
    target: models.Model | None = None,
    changes: dict[str, Any] | None = None,
    via: str = AuditEvent.Via.WEB,
) -> AuditEvent:
    """Record who did what to which record. Every later write calls this in its transaction."""
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    event = AuditEvent(
        programme=programme,
        actor=actor_obj,
        actor_label=actor_obj.email if actor_obj else "system",
        action=action,
        changes=changes or {},
        via=via,
    )
    if target is not None:
        event.target_type = ContentType.objects.get_for_model(target, for_concrete_model=False)
        event.target_id = str(getattr(target, "uuid", None) or target.pk)
        event.target_label = str(target)[:255]
    event.save()
    return event


def membership_grant(
    *, programme: Programme, user, role: str, actor=None, via: str = AuditEvent.Via.WEB
) -> Membership:
    """Give a person a role in a programme; granting a role they already hold changes nothing."""
    with transaction.atomic():
        membership, created = Membership.objects.get_or_create(
            programme=programme, user=user, role=role
        )
        if created:
            audit_log(
                programme=programme,
                actor=actor,
                action="membership.granted",
                target=membership,
                changes={"email": user.email, "role": role},
                via=via,
            )
    return membership


def membership_revoke(*, membership: Membership, actor, via: str = AuditEvent.Via.WEB) -> None:
    """Remove a person's role; the last staff member of a programme cannot be removed."""
    with transaction.atomic():
        if membership.role == Role.STAFF:
            # Lock the staff rows so two staff removing each other cannot both succeed.
            staff = list(
                Membership.objects.select_for_update()
                .filter(programme=membership.programme, role=Role.STAFF)
                .values_list("pk", flat=True)
            )
            if staff == [membership.pk]:
                raise ValidationError("A programme needs at least one staff member.")
        audit_log(
            programme=membership.programme,
            actor=actor,
            action="membership.revoked",
            target=membership,
            changes={"email": membership.user.email, "role": membership.role},
            via=via,
        )
        membership.delete()


def _normalise_email(email: str) -> str:
    return User.objects.normalize_email((email or "").strip()).lower()


def invitation_create(
    *, programme: Programme, email: str, role: str, invited_by, message: str = ""
) -> Invitation:
    """Invite an email address to the programme in a role; the email goes out through the
    notification outbox, written in this same transaction."""
    email = _normalise_email(email)
    if role not in Role.values:
        raise ValidationError({"role": "Choose a role."})
    with transaction.atomic():
        if Membership.objects.filter(
            programme=programme, role=role, user__email__iexact=email
        ).exists():
            raise ValidationError(
                {"email": f"{email} already has the {Role(role).label.lower()} role here."}
            )
        if Invitation.objects.filter(
            Invitation.open_q(), programme=programme, role=role, email__iexact=email
        ).exists():
            raise ValidationError(
                {
                    "email": f"{email} already has an invitation waiting for a reply. "
                    "Resend it from the list instead."
                }
            )
        invitation = Invitation(
            programme=programme, email=email, role=role, invited_by=invited_by, message=message
        )
        invitation.full_clean(exclude=["token", "expires_at"])
        invitation.save()
        audit_log(
            programme=programme,
            actor=invited_by,
            action="invitation.created",
            target=invitation,
            changes={"email": email, "role": role},
        )
        invitation_issued.send(sender=Invitation, invitation=invitation)
        Invitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now())
    return invitation


def invitation_resend(*, invitation: Invitation, actor) -> Invitation:
    """Send the invitation again with a fresh 14-day expiry (the old link keeps working)."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at or invitation.revoked_at:
            raise ValidationError("Only an invitation that is still open can be sent again.")
        now = timezone.now()
        invitation.expires_at = now + (invitation.expires_at - invitation.created_at)
        invitation.created_at = now
        invitation.save(update_fields=["expires_at", "created_at"])
        audit_log(
            programme=invitation.programme,
            actor=actor,
            action="invitation.resent",
            target=invitation,
        )
        invitation_issued.send(sender=Invitation, invitation=invitation)
        Invitation.objects.filter(pk=invitation.pk).update(sent_at=now)
    return invitation


def invitation_revoke(*, invitation: Invitation, actor) -> Invitation:
    """Withdraw an open invitation so its link no longer works."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at:
            raise ValidationError("This invitation has already been accepted.")
        if invitation.revoked_at:
            return invitation
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit_log(
            programme=invitation.programme,
            actor=actor,
            action="invitation.revoked",
            target=invitation,
        )
    return invitation


class InvitationError(Exception):
    """Why an invitation link cannot be used, in words for the person holding it."""


def invitation_check_usable(invitation: Invitation) -> None:
    status = invitation.status
    if status == Invitation.Status.ACCEPTED:
        raise InvitationError("This invitation has already been used. Sign in to continue.")
    if status == Invitation.Status.REVOKED:
        raise InvitationError(
            "This invitation has been withdrawn. Ask the programme team for a new one."
        )
    if status == Invitation.Status.EXPIRED:
        raise InvitationError(
            "This invitation has expired. Ask the programme team to send it again."
        )


def invitation_accept(*, invitation: Invitation, user) -> Membership:
    """Accept the invitation as `user`: grants the role (an existing user just gains it)."""
    with transaction.atomic():
        # Lock the row so a double click cannot accept twice.
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        invitation_check_usable(invitation)
        if _normalise_email(user.email) != invitation.email.lower():
            raise InvitationError(
                f"This invitation was sent to {invitation.email}. "
                "Sign in with that address to accept it."
            )
        membership = membership_grant(
            programme=invitation.programme, user=user, role=invitation.role, actor=user
        )
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        audit_log(
            programme=invitation.programme,
            actor=user,
            action="invitation.accepted",
            target=invitation,
        )
        invitation_accepted.send(sender=Invitation, invitation=invitation, membership=membership)
    return membership


# --- profiles ---------------------------------------------------------------------------------


def _changes(before: dict, after: dict) -> dict:
    return {
        key: [str(before.get(key)), str(value)]
        for key, value in after.items()
        if before.get(key) != value
    }


def fellow_profile_update(
    *, fellow, actor, data: dict, ventures: list | None = None, equality: dict | None = None
):
    """Save a fellow's own profile, ventures and equality answers together: all or nothing."""

    with transaction.atomic():
        before = {f: getattr(fellow, f) for f in FELLOW_PROFILE_FIELDS}
        for field in FELLOW_PROFILE_FIELDS:
            if field in data:
                setattr(fellow, field, data[field])
        if fellow.training_arrangement != TrainingArrangement.LTFT:
            fellow.ltft_percent = None
        fellow.full_clean()
        fellow.save()
        changes = _changes(before, {f: getattr(fellow, f) for f in FELLOW_PROFILE_FIELDS})
        for venture, delete in ventures or []:
            if delete:
                if venture.pk:
                    changes[f"venture {venture.name}"] = ["kept", "removed"]
                    Venture.objects.filter(pk=venture.pk, fellow=fellow).delete()
                continue
            venture.programme = fellow.programme
            venture.fellow = fellow
            venture.full_clean()
            venture.save()
        if equality is not None:
            answers = {
                key: equality.get(key) or ""
                for key in ("gender", "ethnic_group", "disability", "age_band")
            }
            record = EqualityData.objects.filter(fellow=fellow).first()
            if record is None and any(answers.values()):
                record = EqualityData(programme=fellow.programme, fellow=fellow)
            if record is not None and any(getattr(record, k) != v for k, v in answers.items()):
                for key, value in answers.items():
                    setattr(record, key, value)
                record.full_clean()
                record.save()
                # Which answers were given stays private: the log says only that they changed.
                changes["equality monitoring"] = ["", "updated"]
        if changes or ventures:
            audit_log(
                programme=fellow.programme,
                actor=actor,
                action="fellow.profile_updated",
                target=fellow,
                changes=changes,
            )
    return fellow


def mentor_profile_update(*, mentor, actor, data: dict):
    with transaction.atomic():
        before = {f: getattr(mentor, f) for f in MENTOR_PROFILE_FIELDS}
        for field in MENTOR_PROFILE_FIELDS:
            if field in data:
                setattr(mentor, field, data[field])
        mentor.full_clean()
        mentor.save()
        changes = _changes(before, {f: getattr(mentor, f) for f in MENTOR_PROFILE_FIELDS})
        if changes:
            audit_log(
                programme=mentor.programme,
                actor=actor,
                action="mentor.profile_updated",
                target=mentor,
                changes=changes,
            )
    return mentor


# --- cohorts ----------------------------------------------------------------------------------


def cohort_save(*, programme: Programme, actor, data: dict, cohort=None):
    """Create a cohort, or change its name and dates; names are unique in a programme."""

    with transaction.atomic():
        creating = cohort is None
        cohort = cohort or Cohort(programme=programme)
        before = {f: getattr(cohort, f) for f in ("name", "starts_on", "ends_on")}
        for field in ("name", "starts_on", "ends_on"):
            setattr(cohort, field, data[field])
        cohort.name = cohort.name.strip()
        duplicate = Cohort.objects.filter(programme=programme, name__iexact=cohort.name)
        if cohort.pk:
            duplicate = duplicate.exclude(pk=cohort.pk)
        if duplicate.exists():
            raise ValidationError({"name": "This programme already has a cohort of that name."})
        cohort.full_clean(exclude=["programme"])
        cohort.save()
        audit_log(
            programme=programme,
            actor=actor,
            action="cohort.created" if creating else "cohort.changed",
            target=cohort,
            changes=_changes(before, {f: getattr(cohort, f) for f in before}),
        )
    return cohort


# --- enrolling people (appointment, import) ---------------------------------------------------


def person_for_email(*, email: str, full_name: str = ""):
    """The account of this address, created without a password when the person is new: they
    choose one when they follow their invitation."""
    email = _normalise_email(email)
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=None, full_name=full_name.strip())
    return user


def _invite_unless_member(*, programme, user, role, actor, message: str = "") -> None:
    """Send the joining invitation, unless the person already holds the role or has one open."""
    if Membership.objects.filter(programme=programme, user=user, role=role).exists():
        return
    if Invitation.objects.filter(
        Invitation.open_q(), programme=programme, role=role, email__iexact=user.email
    ).exists():
        return
    invitation_create(
        programme=programme, email=user.email, role=role, invited_by=actor, message=message
    )


def fellow_enrol(
    *,
    programme: Programme,
    cohort,
    email: str,
    full_name: str,
    profile: dict,
    actor,
    via: str = AuditEvent.Via.WEB,
    message: str = "",
):
    """Make someone a fellow of a cohort: their account (if new), the invitation that lets
    them sign in, their fellow role and their Fellow record, all or nothing."""

    if cohort.programme_id != programme.pk:
        raise ValidationError({"cohort": "Choose a cohort of this programme."})
    with transaction.atomic():
        user = person_for_email(email=email, full_name=full_name)
        if Fellow.objects.filter(cohort=cohort, user=user).exists():
            raise ValidationError({"email": f"{user.email} is already a fellow of {cohort}."})
        _invite_unless_member(
            programme=programme, user=user, role=Role.FELLOW, actor=actor, message=message
        )
        fellow = Fellow(programme=programme, cohort=cohort, user=user)
        for field, value in profile.items():
            setattr(fellow, field, value)
        if fellow.training_arrangement != TrainingArrangement.LTFT:
            fellow.ltft_percent = None
        fellow.full_clean()
        fellow.save()
        membership_grant(programme=programme, user=user, role=Role.FELLOW, actor=actor, via=via)
        audit_log(
            programme=programme,
            actor=actor,
            action="fellow.enrolled",
            target=fellow,
            changes={"email": user.email, "cohort": str(cohort)},
            via=via,
        )
    return fellow


def mentor_enrol(
    *,
    programme: Programme,
    email: str,
    full_name: str,
    profile: dict,
    actor,
    via: str = AuditEvent.Via.WEB,
):
    """Make someone a mentor of the programme (their account, invitation, role and profile)."""

    with transaction.atomic():
        user = person_for_email(email=email, full_name=full_name)
        if Mentor.objects.filter(programme=programme, user=user).exists():
            raise ValidationError({"email": f"{user.email} is already a mentor here."})
        _invite_unless_member(programme=programme, user=user, role=Role.MENTOR, actor=actor)
        mentor = Mentor(programme=programme, user=user)
        for field, value in profile.items():
            setattr(mentor, field, value)
        mentor.full_clean()
        mentor.save()
        membership_grant(programme=programme, user=user, role=Role.MENTOR, actor=actor, via=via)
        audit_log(
            programme=programme,
            actor=actor,
            action="mentor.enrolled",
            target=mentor,
            changes={"email": user.email},
            via=via,
        )
    return mentor


def invitation_accept_new_password(*, invitation: Invitation, user, password: str) -> Membership:
    """A person whose account was made for them (appointed or imported) follows their
    invitation: they choose a password, their address counts as verified (the link came to
    it), and they join."""
    from allauth.account.models import EmailAddress

    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        EmailAddress.objects.update_or_create(
            user=user, email=user.email, defaults={"verified": True, "primary": True}
        )
        return invitation_accept(invitation=invitation, user=user)


# --- recruitment ------------------------------------------------------------------------------

APPLICANT_FIELDS = [
    "email",
    "full_name",
    "profession",
    "grade",
    "specialty",
    "employer",
    "region",
    "idea",
]


def criterion_add(*, programme: Programme, actor, data: dict):
    """Add a criterion every reviewer scores, 1 to 5; names are unique in the programme."""
    name = data["name"].strip()
    with transaction.atomic():
        if ReviewCriterion.objects.filter(programme=programme, name__iexact=name).exists():
            raise ValidationError({"name": "The programme already has a criterion of that name."})
        last = (
            ReviewCriterion.objects.filter(programme=programme)
            .order_by("-position")
            .values_list("position", flat=True)
            .first()
        )
        criterion = ReviewCriterion(
            programme=programme,
            name=name,
            description=data.get("description", "").strip(),
            position=(last or 0) + 1,
        )
        criterion.full_clean()
        criterion.save()
        audit_log(programme=programme, actor=actor, action="criterion.added", target=criterion)
    return criterion


def criterion_remove(*, criterion, actor) -> None:
    """Remove a criterion nobody has scored against yet (scores already given must keep
    their meaning)."""
    with transaction.atomic():
        if Review.objects.filter(
            programme=criterion.programme, scores__has_key=str(criterion.uuid)
        ).exists():
            raise ValidationError(
                f"Reviewers have already scored against “{criterion.name}”, so it stays."
            )
        audit_log(
            programme=criterion.programme, actor=actor, action="criterion.removed", target=criterion
        )
        criterion.delete()


def call_save(*, programme: Programme, cohort, actor, data: dict, call=None):
    """Open a cohort's call for applications, or change its dates and shortlisting rule."""

    fields = [
        "opens_on",
        "closes_on",
        "introduction",
        "reviews_required",
        "shortlist_threshold",
        "max_score_spread",
    ]
    with transaction.atomic():
        creating = call is None
        call = call or RecruitmentCall(programme=programme, cohort=cohort)
        before = {f: getattr(call, f) for f in fields}
        for field in fields:
            if field in data:
                setattr(call, field, data[field])
        call.full_clean(exclude=["programme", "cohort"])
        call.save()
        audit_log(
            programme=programme,
            actor=actor,
            action="call.opened" if creating else "call.changed",
            target=call,
            changes=_changes(before, {f: getattr(call, f) for f in fields}),
        )
    return call


def question_save(*, call, actor, data: dict, question=None):

    with transaction.atomic():
        creating = question is None
        if creating:
            last = call.questions.order_by("-position").values_list("position", flat=True).first()
            question = ApplicationQuestion(
                programme=call.programme, call=call, position=(last or 0) + 1
            )
        for field in ("text", "help_text", "required", "max_words"):
            if field in data:
                setattr(question, field, data[field])
        question.full_clean(exclude=["programme", "call"])
        question.save()
        audit_log(
            programme=call.programme,
            actor=actor,
            action="question.added" if creating else "question.changed",
            target=question,
            changes={"call": str(call)},
        )
    return question


def question_delete(*, question, actor) -> None:
    with transaction.atomic():
        if question.call.applications.filter(submitted_at__isnull=False).exists():
            raise ValidationError(
                "Applications have already answered this question, so it cannot be removed."
            )
        audit_log(
            programme=question.programme, actor=actor, action="question.removed", target=question
        )
        question.delete()


def call_closed_message(call) -> str:
    """Why the call takes no expressions of interest today, or "" while it is open."""
    from django.utils.formats import date_format

    today = timezone.localdate()
    if today < call.opens_on:
        return f"This call opens on {date_format(call.opens_on, 'j F Y')}. Come back then to apply."
    if today > call.closes_on:
        return (
            f"This call closed on {date_format(call.closes_on, 'j F Y')}, so it no longer takes "
            "expressions of interest."
        )
    return ""


def application_express_interest(
    *, call, data: dict, actor=None, via: str = AuditEvent.Via.WEB, enforce_open: bool = True
):
    """Record an expression of interest in a call; the person is emailed a private link to
    complete their application. Staff importing applicants may add them to a closed call."""

    if enforce_open and not call.is_open():
        raise ValidationError(call_closed_message(call))
    email = _normalise_email(data.get("email", ""))
    with transaction.atomic():
        if Application.objects.filter(call=call, email__iexact=email).exists():
            raise ValidationError(
                {
                    "email": f"{email} has already expressed interest in {call.cohort}. "
                    "Use the link in the email we sent to continue that application."
                }
            )
        application = Application(programme=call.programme, call=call)
        for field in APPLICANT_FIELDS:
            if field in data:
                setattr(application, field, data[field])
        application.email = email
        application.full_clean(exclude=["programme", "call", "token"])
        application.save()
        audit_log(
            programme=call.programme,
            actor=actor,
            action="application.interest",
            target=application,
            changes={"email": email},
            via=via,
        )
        application_received.send(sender=Application, application=application)
    return application


def _words(text: str) -> int:
    return len((text or "").split())


def application_submit(*, application, answers: dict, profile: dict | None = None):
    """The applicant completes the formal application: every required question answered
    within its word limit. Submitting twice, or after the call has closed, is refused."""

    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=application.pk)
        if application.submitted_at:
            raise ValidationError("This application has already been submitted.")
        if application.status == Application.Status.WITHDRAWN:
            raise ValidationError("This application was withdrawn.")
        if not application.call.is_open():
            raise ValidationError("The call has closed, so the application can no longer be sent.")
        errors = {}
        clean_answers = {}
        for question in application.call.questions.all():
            key = str(question.uuid)
            text = (answers.get(key) or "").strip()
            if question.required and not text:
                errors[key] = "Answer this question."
            elif _words(text) > question.max_words:
                errors[key] = (
                    f"Keep your answer to {question.max_words} words; it has {_words(text)}."
                )
            clean_answers[key] = text
        if errors:
            raise ValidationError(errors)
        for field, value in (profile or {}).items():
            if field in APPLICANT_FIELDS and field != "email":
                setattr(application, field, value)
        application.answers = clean_answers
        application.status = Application.Status.APPLIED
        application.submitted_at = timezone.now()
        application.full_clean(exclude=["programme", "call", "token"])
        application.save()
        audit_log(
            programme=application.programme,
            actor=None,
            action="application.submitted",
            target=application,
        )
        application_submitted.send(sender=Application, application=application)
    return application


def review_summary(reviews) -> dict:
    """The figures the shortlisting rule reads: how many scored, the mean, the spread."""
    scores = [r.score for r in reviews]
    if not scores:
        return {"count": 0, "mean": None, "spread": None}
    mean = sum(scores) / len(scores)
    return {"count": len(scores), "mean": round(mean, 2), "spread": max(scores) - min(scores)}


def meets_shortlist_rule(call, summary: dict) -> bool:
    return (
        summary["count"] >= call.reviews_required
        and summary["mean"] >= call.shortlist_threshold
        and summary["spread"] <= call.max_score_spread
    )


def review_submit(*, application, reviewer, scores: dict, comment: str = ""):
    """A reviewer scores an application against each of the programme's criteria, 1 to 5,
    once. Nobody reviews an application made from their own address."""
    from decimal import Decimal

    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=application.pk)
        if _normalise_email(reviewer.email) == application.email.lower():
            raise ValidationError("You cannot review your own application.")
        if application.status != Application.Status.APPLIED:
            raise ValidationError(
                f"This application is {application.get_status_display().lower()}; "
                "only applications waiting for review can be scored."
            )
        if Review.objects.filter(application=application, reviewer=reviewer).exists():
            raise ValidationError("You have already scored this application.")
        criteria = list(ReviewCriterion.objects.filter(programme=application.programme))
        if not criteria:
            raise ValidationError(
                "The programme has no review criteria yet. Add them on the recruitment page."
            )
        errors, clean = {}, {}
        for criterion in criteria:
            key = str(criterion.uuid)
            try:
                value = int(scores.get(key))
            except (TypeError, ValueError):
                value = None
            if value is None or not 1 <= value <= 5:
                errors[key] = f"Score “{criterion.name}” from 1 to 5."
            else:
                clean[key] = value
        if errors:
            raise ValidationError(errors)
        mean = Decimal(sum(clean.values())) / len(clean)
        review = Review.objects.create(
            programme=application.programme,
            application=application,
            reviewer=reviewer,
            scores=clean,
            score=mean.quantize(Decimal("0.01")),
            comment=comment.strip(),
        )
        audit_log(
            programme=application.programme,
            actor=reviewer,
            action="application.reviewed",
            target=application,
            changes={"score": str(review.score)},
        )
    return review


def _transition(application, *, to: str, allowed_from):
    """Lock the application and move it to `to`, if its status allows; the caller saves."""

    application = Application.objects.select_for_update().get(pk=application.pk)
    if application.status not in allowed_from:
        raise ValidationError(
            f"{application.full_name}'s application is "
            f"{application.get_status_display().lower()}, so it cannot be "
            f"{Application.Status(to).label.lower()} now."
        )
    application.status = to
    return application


def application_shortlist(*, application, actor, reason: str = ""):
    """Shortlist one application. One that meets the call's rule needs nothing more; one that
    does not (too few scores, a low mean or reviewers who disagree) needs the team's reason."""

    with transaction.atomic():
        application = _transition(
            application,
            to=Application.Status.SHORTLISTED,
            allowed_from=[Application.Status.APPLIED],
        )
        summary = review_summary(application.reviews.all())
        meets = summary["count"] and meets_shortlist_rule(application.call, summary)
        if not meets and not reason.strip():
            raise ValidationError(
                {
                    "reason": "This application does not meet the shortlisting rule; say why "
                    "the team is shortlisting it."
                }
            )
        application.shortlisted_at = timezone.now()
        application.save(update_fields=["status", "shortlisted_at"])
        audit_log(
            programme=application.programme,
            actor=actor,
            action="application.shortlisted",
            target=application,
            changes={"rule": "met" if meets else "override", "reason": reason.strip()},
        )
    return application


def call_shortlist_by_rule(*, call, actor) -> int:
    """Shortlist every waiting application of the call that meets its rule; returns how many."""

    applications = (
        Application.objects.filter(call=call, status=Application.Status.APPLIED)
        .select_related("call")
        .prefetch_related("reviews")
    )
    shortlisted = 0
    with transaction.atomic():
        for application in applications:
            if meets_shortlist_rule(call, review_summary(application.reviews.all())):
                application_shortlist(application=application, actor=actor)
                shortlisted += 1
    return shortlisted


def application_record_interview(*, application, actor, outcome: str, notes: str = ""):

    if outcome not in (Application.Interview.RECOMMENDED, Application.Interview.NOT_RECOMMENDED):
        raise ValidationError({"outcome": "Choose the outcome of the interview."})
    with transaction.atomic():
        application = _transition(
            application,
            to=Application.Status.INTERVIEWED,
            allowed_from=[Application.Status.SHORTLISTED],
        )
        application.interview_outcome = outcome
        application.interview_notes = notes.strip()
        application.interviewed_at = timezone.now()
        application.save(
            update_fields=["status", "interview_outcome", "interview_notes", "interviewed_at"]
        )
        audit_log(
            programme=application.programme,
            actor=actor,
            action="application.interviewed",
            target=application,
            changes={"outcome": outcome},
        )
    return application


def application_decide(*, application, actor, decision: str, reason: str = ""):
    """Appoint, decline or record a withdrawal. Declining and withdrawing need a reason.
    Appointing (only after an interview) makes the person a fellow of the cohort: their
    account, Fellow record, membership and invitation, in this transaction."""

    reason = reason.strip()
    open_statuses = [
        Application.Status.INTEREST,
        Application.Status.APPLIED,
        Application.Status.SHORTLISTED,
        Application.Status.INTERVIEWED,
    ]
    if decision not in (
        Application.Status.APPOINTED,
        Application.Status.DECLINED,
        Application.Status.WITHDRAWN,
    ):
        raise ValidationError({"decision": "Choose appoint, decline or withdrawn."})
    if decision != Application.Status.APPOINTED and not reason:
        raise ValidationError({"reason": "Give the reason; the applicant may ask for it."})
    with transaction.atomic():
        application = _transition(
            application,
            to=decision,
            allowed_from=[Application.Status.INTERVIEWED]
            if decision == Application.Status.APPOINTED
            else open_statuses,
        )
        if application.fellow_id is None and decision == Application.Status.APPOINTED:
            application.fellow = fellow_enrol(
                programme=application.programme,
                cohort=application.call.cohort,
                email=application.email,
                full_name=application.full_name,
                profile={
                    "profession": application.profession,
                    "grade": application.grade,
                    "specialty": application.specialty,
                    "employer": application.employer,
                    "region": application.region,
                    "help_needed": "",
                    "interests": application.idea[:1000],
                },
                actor=actor,
                message=f"Congratulations on your appointment to {application.call.cohort}.",
            )
        application.decision_reason = reason
        application.decided_at = timezone.now()
        application.save(update_fields=["status", "decision_reason", "decided_at", "fellow"])
        audit_log(
            programme=application.programme,
            actor=actor,
            action=f"application.{decision}",
            target=application,
            changes={"reason": reason} if reason else {},
        )
    return application


# --- partner API keys ---------------------------------------------------------------------------


def partner_key_create(*, programme: Programme, organisation, name: str, scopes, expires_on, actor):
    """A new API key for a partner organisation of the programme. Returns (key, secret): the
    secret is shown once and only its hash is kept."""
    from rest_framework_api_key.crypto import KeyGenerator

    from .models import MAX_KEY_DAYS, ApiScope, Organisation, PartnerKey

    errors = {}
    if organisation is None or organisation.programme_id != programme.pk:
        errors["organisation"] = "Choose one of the programme's partner organisations."
    elif not organisation.is_partner:
        errors["organisation"] = f"{organisation.name} is not marked as a partner."
    scopes = sorted(set(scopes or []))
    if not scopes:
        errors["scopes"] = "Choose at least one thing the key may do."
    elif not set(scopes) <= set(ApiScope.values):
        errors["scopes"] = "Choose from the listed scopes."
    today = timezone.localdate()
    if expires_on is None:
        errors["expires_on"] = "Give the date the key stops working."
    elif expires_on <= today:
        errors["expires_on"] = "The key must expire after today."
    elif (expires_on - today).days > MAX_KEY_DAYS - 1:
        errors["expires_on"] = "A key can last 12 months at most."
    if not (name or "").strip():
        errors["name"] = "Say what the key is for."
    if errors:
        raise ValidationError(errors)
    secret, prefix, hashed = KeyGenerator().generate()
    expires_at = timezone.make_aware(
        datetime.combine(expires_on, time(23, 59, 59)), timezone.get_current_timezone()
    )
    with transaction.atomic():
        key = PartnerKey.objects.create(
            programme=programme,
            organisation=Organisation.objects.get(pk=organisation.pk),
            name=name.strip(),
            prefix=prefix,
            hashed_key=hashed,
            scopes=scopes,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            expires_at=expires_at,
        )
        audit_log(
            programme=programme,
            actor=actor,
            action="api_key.created",
            target=key,
            changes={
                "organisation": organisation.name,
                "scopes": scopes,
                "expires": str(expires_on),
            },
        )
    return key, secret


def partner_key_revoke(*, key, actor) -> None:
    """Stop a key at once; the next request made with it gets 401. Revoking twice is harmless."""
    from .models import PartnerKey

    with transaction.atomic():
        updated = PartnerKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_by=actor
        )
        if updated:
            audit_log(programme=key.programme, actor=actor, action="api_key.revoked", target=key)
    key.refresh_from_db()


# --- Personal data: subject access and erasure (DESIGN §11, UK GDPR articles 15, 17, 20) -----


def person_programme_ids(*, user) -> set[int]:
    """Every programme a person belongs to or has a record in (a role, a fellowship, a
    mentor profile): erasing the account touches all of them."""
    from django_scopes import scopes_disabled

    with scopes_disabled():
        ids = set(Membership.objects.filter(user=user).values_list("programme_id", flat=True))
        ids |= set(Fellow.objects.filter(user=user).values_list("programme_id", flat=True))
        ids |= set(Mentor.objects.filter(user=user).values_list("programme_id", flat=True))
    return ids


def staff_programme_ids_of(user) -> set[int]:
    from django_scopes import scopes_disabled

    with scopes_disabled():
        return set(
            Membership.objects.filter(user=user, role=Role.STAFF).values_list(
                "programme_id", flat=True
            )
        )


def person_data_export(*, user, via: str = AuditEvent.Via.WEB):
    """Everything Pitwall holds about a person, across every programme, as a ZIP: data.json,
    README.txt and their evidence files. Each download is audited in each of their
    programmes, so staff can see it was made. Returns (a file object at its start, filename)."""
    from .subject_access import build_export_archive

    archive, filename = build_export_archive(user)
    with transaction.atomic():
        programmes = Programme.objects.filter(pk__in=person_programme_ids(user=user))
        for programme in programmes:
            audit_log(
                programme=programme,
                actor=user,
                action="person.data_exported",
                target=user,
                changes={"file": filename},
                via=via,
            )
    return archive, filename


ERASE_SELF = (
    "You cannot erase your own account here. Ask the platform operator, who can erase it "
    "from the admin."
)
ERASE_OTHER_PROGRAMME = (
    "{name} also belongs to a programme you are not staff of. Erasing a person's data "
    "affects every programme they are in, so ask the platform operator to do it."
)
ERASE_OPERATOR = (
    "{name} is a platform operator. Only another platform operator can erase their account, "
    "from the admin."
)


def person_erasure_problem(*, subject, requester) -> str:
    """Why this requester may not erase this person, or "" if they may. Programme staff may
    erase someone only when they are staff of every programme the person is in; platform
    operators may erase anyone but themselves."""
    from accounts.personal_data import is_erased

    if subject.pk == requester.pk:
        return ERASE_SELF
    if is_erased(subject):
        return ""
    name = subject.display_name
    if subject.is_superuser and not requester.is_superuser:
        return ERASE_OPERATOR.format(name=name)
    if requester.is_superuser:
        return ""
    if person_programme_ids(user=subject) - staff_programme_ids_of(requester):
        return ERASE_OTHER_PROGRAMME.format(name=name)
    return ""


def person_erase(*, subject, requester, reason: str, via: str = AuditEvent.Via.WEB):
    """Erase a person's data across Pitwall, in one transaction (UK GDPR article 17).

    Every app's registered eraser runs (accounts.personal_data): free text and profile details
    are blanked, equality answers, evidence files, notifications, preferences and unaccepted
    connections deleted, and the account pseudonymised so the person cannot sign in. Signed
    records, the audit log and the programme's figures are kept. Erasing again changes
    nothing and writes no second audit event. Returns the registry's Erasure (what was done).
    """
    from django_scopes import scopes_disabled

    from accounts.personal_data import Erasure, erasing_entries, pseudonym_for

    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason for erasing this person's data."})
    problem = person_erasure_problem(subject=subject, requester=requester)
    if problem:
        raise ValidationError(problem, code="not_allowed")
    with transaction.atomic(), scopes_disabled():
        # One erasure at a time per person: the second waits and then finds it done.
        subject = User.objects.select_for_update().get(pk=subject.pk)
        first_time = subject.erased_at is None
        programmes = list(Programme.objects.filter(pk__in=person_programme_ids(user=subject)))
        name, email = pseudonym_for(subject)
        erasure = Erasure(user=subject, pseudonym=name, pseudonymous_email=email)
        for entry in erasing_entries():
            entry.erase(erasure)
        if first_time:
            for programme in programmes:
                audit_log(
                    programme=programme,
                    actor=requester,
                    action="person.erased",
                    target=subject,
                    changes={
                        "subject": name,
                        "reason": reason,
                        "removed_or_blanked": dict(sorted(erasure.counts.items())),
                    },
                    via=via,
                )
        erasure.first_time = first_time
        for work in erasure.after_commit:
            transaction.on_commit(work)
    return erasure
