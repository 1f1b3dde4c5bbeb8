"""Turn other apps' domain events into notifications, inside the same transaction."""

from django.conf import settings
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.urls import reverse

from cohort.models import Role
from cohort.signals import (
    application_received,
    application_submitted,
    invitation_accepted,
    invitation_issued,
)

from .models import Kind
from .services import email_enqueue, notify


@receiver(invitation_issued)
def email_the_invitation(sender, invitation, **kwargs):
    programme = invitation.programme
    body = render_to_string(
        "notifications/email/invitation_body.txt",
        {
            "invitation": invitation,
            "programme": programme,
            "valid_days": settings.INVITATION_VALID_DAYS,
        },
    )
    email_enqueue(
        programme=programme,
        to_email=invitation.email,
        kind=Kind.INVITATION,
        title=f"You are invited to join {programme.name}",
        body=body,
        link=invitation.get_accept_url(),
    )


@receiver(invitation_accepted)
def tell_the_inviter(sender, invitation, membership, **kwargs):
    inviter = invitation.invited_by
    if inviter is None or inviter.pk == membership.user_id:
        return
    programme = invitation.programme
    notify(
        programme=programme,
        recipients=[inviter],
        kind=Kind.MEMBERSHIP,
        title=f"{membership.user.display_name} joined as {Role(membership.role).label.lower()}",
        body=f"{membership.user.email} accepted your invitation to {programme.name}.",
        link=reverse("cohort:members", kwargs={"programme_slug": programme.slug})
        + f"?q={membership.user.email}",
        actor=membership.user,
    )


@receiver(application_received)
def email_the_application_link(sender, application, **kwargs):
    programme = application.programme
    body = render_to_string(
        "notifications/email/application_received.txt",
        {"application": application, "programme": programme, "cohort": application.call.cohort},
    )
    email_enqueue(
        programme=programme,
        to_email=application.email,
        kind=Kind.APPLICATION,
        title=f"Complete your application to {programme.display_short_name}",
        body=body,
        link=reverse("application_continue", kwargs={"token": application.token}),
    )


@receiver(application_submitted)
def confirm_the_application(sender, application, **kwargs):
    programme = application.programme
    body = render_to_string(
        "notifications/email/application_submitted.txt",
        {"application": application, "programme": programme, "cohort": application.call.cohort},
    )
    email_enqueue(
        programme=programme,
        to_email=application.email,
        kind=Kind.APPLICATION,
        title=f"We have your application to {programme.display_short_name}",
        body=body,
        link=reverse("application_continue", kwargs={"token": application.token}),
    )
