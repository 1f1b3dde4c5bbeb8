"""Every write of the cohort app, each in a transaction and each writing its audit event."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from .models import (
    FELLOW_PROFILE_FIELDS,
    MENTOR_PROFILE_FIELDS,
    AuditEvent,
    Invitation,
    Membership,
    Programme,
    Role,
    TrainingArrangement,
)
from .signals import invitation_accepted, invitation_issued

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
    from .models import EqualityData, Venture

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
    from .models import Cohort

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
    from .models import Fellow

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
    from .models import Mentor

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
