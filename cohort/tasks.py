"""Background jobs of the cohort app. Thin: they load what they need and call services."""

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from .models import Invitation
from .services import invitation_mark_sent
from .tasking import ProgrammeTask


@shared_task(base=ProgrammeTask, bind=True, time_limit=60, soft_time_limit=50)
def invitation_send(self, *, invitation_id: int, programme_id: int) -> str:
    """Email the invitation link. Safe to run twice: a second email carries the same link."""
    invitation = (
        Invitation.objects.select_related("programme", "invited_by")
        .filter(pk=invitation_id, programme_id=programme_id)
        .first()
    )
    if invitation is None or not invitation.is_usable:
        return "skipped"
    context = {
        "invitation": invitation,
        "programme": invitation.programme,
        "accept_url": settings.SITE_URL + invitation.get_accept_url(),
        "valid_days": settings.INVITATION_VALID_DAYS,
    }
    subject = f"[{invitation.programme.display_short_name}] You are invited to join Pitwall"
    send_mail(
        subject=subject,
        message=render_to_string("cohort/email/invitation.txt", context),
        html_message=render_to_string("cohort/email/invitation.html", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[invitation.email],
    )
    invitation_mark_sent(invitation_id=invitation.pk)
    return "sent"
