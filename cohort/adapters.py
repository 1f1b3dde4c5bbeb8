"""allauth adapter: sign-up is open only to someone holding a valid invitation."""

from allauth.account.adapter import DefaultAccountAdapter
from django import forms
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from .models import Invitation

INVITATION_SESSION_KEY = "pitwall_invitation_token"


def pending_invitation(request) -> Invitation | None:
    """The usable invitation whose link this browser followed, if any."""
    token = request.session.get(INVITATION_SESSION_KEY) if request else None
    if not token:
        return None
    with scopes_disabled():
        invitation = Invitation.objects.select_related("programme").filter(token=token).first()
    if invitation is None or not invitation.is_usable:
        return None
    return invitation


class InvitationAccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        return pending_invitation(request) is not None

    def clean_email(self, email):
        email = super().clean_email(email)
        invitation = pending_invitation(self.request)
        if invitation is not None and email.lower() != invitation.email.lower():
            raise forms.ValidationError(
                f"Use the address your invitation was sent to: {invitation.email}."
            )
        return email

    def save_user(self, request, user, form, commit=True):
        from .services import invitation_accept

        user = super().save_user(request, user, form, commit=commit)
        invitation = pending_invitation(request)
        if commit and invitation is not None:
            with scope(programme=invitation.programme):
                invitation_accept(invitation=invitation, user=user)
            request.session["pitwall_joined_programme"] = invitation.programme.slug
            request.session.pop(INVITATION_SESSION_KEY, None)
        return user

    def get_signup_redirect_url(self, request):
        slug = request.session.pop("pitwall_joined_programme", None)
        if slug:
            return reverse("cohort:home", kwargs={"programme_slug": slug})
        return super().get_signup_redirect_url(request)
