"""Invitations, the only way into Pitwall: staff invite, the invitee accepts, a role is granted."""

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from cohort.models import AuditEvent, Invitation, Membership, Role
from cohort.services import invitation_create

from ..factories import InvitationFactory, UserFactory

pytestmark = pytest.mark.django_db
User = get_user_model()


def invitations_url(programme):
    return reverse("cohort:invitations", kwargs={"programme_slug": programme.slug})


def test_staff_invites_by_form_and_the_email_carries_the_link(
    client_for, staff_a, programme_a, django_capture_on_commit_callbacks
):
    client = client_for(staff_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            invitations_url(programme_a),
            {"email": " New.Person@Example.org ", "role": Role.MENTOR, "message": "Welcome!"},
        )
    assert response.status_code == 302
    with scopes_disabled():
        invitation = Invitation.objects.get(programme=programme_a)
        assert AuditEvent.objects.filter(action="invitation.created").count() == 1
    assert invitation.email == "new.person@example.org"
    assert invitation.role == Role.MENTOR
    assert invitation.invited_by == staff_a
    assert invitation.sent_at is not None
    # The link is good for 14 days.
    assert invitation.expires_at - invitation.created_at == timedelta(days=14)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.person@example.org"]
    assert programme_a.name in message.body
    assert invitation.get_accept_url() in message.body
    assert "Welcome!" in message.body
    # The staff see it in the list, with a clear confirmation.
    page = client.get(invitations_url(programme_a))
    assert b"new.person@example.org" in page.content
    assert b"Invitation sent to new.person@example.org" in page.content


def test_invitation_form_errors_are_shown_and_input_kept(client_for, staff_a, programme_a):
    client = client_for(staff_a)
    response = client.post(
        invitations_url(programme_a), {"email": "not-an-email", "role": "", "message": "Hi"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "There is a problem" in body
    assert "Enter a valid email address." in body
    assert 'value="not-an-email"' in body  # nothing the user typed is lost
    with scopes_disabled():
        assert not Invitation.objects.exists()


def test_duplicate_open_invitation_is_refused_with_a_clear_message(
    client_for, staff_a, programme_a
):
    client = client_for(staff_a)
    client.post(invitations_url(programme_a), {"email": "a@example.org", "role": Role.FELLOW})
    response = client.post(
        invitations_url(programme_a), {"email": "A@example.org", "role": Role.FELLOW}
    )
    assert response.status_code == 400
    assert "already has an invitation waiting for a reply" in response.content.decode()
    with scopes_disabled():
        assert Invitation.objects.count() == 1


def test_inviting_an_existing_member_in_the_same_role_is_refused(programme_a, fellow_a, staff_a):
    with scope(programme=programme_a), pytest.raises(ValidationError) as error:
        invitation_create(
            programme=programme_a, email=fellow_a.email, role=Role.FELLOW, invited_by=staff_a
        )
    assert "already has the fellow role" in str(error.value)


def test_fellows_and_mentors_cannot_invite(client_for, fellow_a, mentor_a, programme_a):
    for user in (fellow_a, mentor_a):
        client = client_for(user)
        response = client.post(
            invitations_url(programme_a), {"email": "x@example.org", "role": Role.STAFF}
        )
        assert response.status_code == 403
    with scopes_disabled():
        assert not Invitation.objects.exists()


def test_new_person_signs_up_through_the_invitation(client, programme_a):
    invitation = InvitationFactory(programme=programme_a, email="newbie@example.org")
    response = client.get(invitation.get_accept_url())
    assert response.status_code == 200
    assert b"Create your account" in response.content
    signup = reverse("account_signup")
    page = client.get(f"{signup}?email=newbie@example.org")
    assert page.status_code == 200
    response = client.post(
        signup,
        {
            "email": "newbie@example.org",
            "full_name": "Nadia Newbie",
            "password1": "a-long-Secret-phrase-9",
            "password2": "a-long-Secret-phrase-9",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"/p/{programme_a.slug}/"
    user = User.objects.get(email="newbie@example.org")
    assert user.full_name == "Nadia Newbie"
    # The invitation link proved the address, so no second verification email is needed.
    assert EmailAddress.objects.get(user=user).verified
    with scopes_disabled():
        assert Membership.objects.filter(user=user, programme=programme_a, role="fellow").exists()
        invitation.refresh_from_db()
    assert invitation.accepted_by == user
    home = client.get(f"/p/{programme_a.slug}/")
    assert home.status_code == 200


def test_signup_with_another_address_than_the_invitation_is_refused(client, programme_a):
    invitation = InvitationFactory(programme=programme_a, email="right@example.org")
    client.get(invitation.get_accept_url())
    response = client.post(
        reverse("account_signup"),
        {
            "email": "wrong@example.org",
            "full_name": "Someone",
            "password1": "a-long-Secret-phrase-9",
            "password2": "a-long-Secret-phrase-9",
        },
    )
    assert response.status_code == 200
    assert "Use the address your invitation was sent to: right@example.org" in (
        response.content.decode()
    )
    assert not User.objects.filter(email="wrong@example.org").exists()


def test_signup_without_an_invitation_is_closed(client, db):
    response = client.get(reverse("account_signup"))
    assert response.status_code == 200
    assert b"You need an invitation to join" in response.content
    client.post(
        reverse("account_signup"),
        {"email": "x@example.org", "password1": "abcdefgh12345", "password2": "abcdefgh12345"},
    )
    assert not User.objects.filter(email="x@example.org").exists()


def test_existing_user_signs_in_and_just_gains_the_role(client, programme_a, programme_b):
    person = UserFactory(email="two.hats@example.org")
    Membership.objects.create(programme=programme_b, user=person, role=Role.MENTOR)
    invitation = InvitationFactory(
        programme=programme_a, email="two.hats@example.org", role=Role.MENTOR
    )
    response = client.get(invitation.get_accept_url())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    client.force_login(person)
    page = client.get(invitation.get_accept_url())
    assert b"Accept and join" in page.content
    response = client.post(invitation.get_accept_url())
    assert response.status_code == 302
    assert response["Location"] == f"/p/{programme_a.slug}/"
    with scopes_disabled():
        assert set(
            Membership.objects.filter(user=person).values_list("programme__slug", flat=True)
        ) == {programme_a.slug, programme_b.slug}
    # Accepting twice (a double click) neither fails nor grants twice.
    again = client.post(invitation.get_accept_url())
    assert again.status_code == 410
    assert b"already been used" in again.content
    with scopes_disabled():
        assert Membership.objects.filter(user=person, programme=programme_a).count() == 1


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"expires_at": timezone.now() - timedelta(minutes=1)}, b"has expired"),
        ({"revoked_at": timezone.now()}, b"has been withdrawn"),
    ],
)
def test_unusable_invitations_explain_themselves(client, programme_a, change, words):
    invitation = InvitationFactory(programme=programme_a, **change)
    response = client.get(invitation.get_accept_url())
    assert response.status_code == 410
    assert words in response.content


def test_an_invitation_older_than_14_days_has_expired(client, programme_a):
    invitation = InvitationFactory(
        programme=programme_a, created_at=timezone.now() - timedelta(days=14, minutes=1)
    )
    assert invitation.status == Invitation.Status.EXPIRED
    assert client.get(invitation.get_accept_url()).status_code == 410


def test_an_unknown_token_gets_a_clear_404(client, db):
    response = client.get("/invitations/not-a-real-token/")
    assert response.status_code == 404
    assert b"This invitation link is not valid" in response.content


def test_signed_in_as_someone_else_cannot_accept(client_for, programme_a, fellow_b):
    invitation = InvitationFactory(programme=programme_a, email="intended@example.org")
    client = client_for(fellow_b)
    page = client.get(invitation.get_accept_url())
    assert b"Signed in as someone else" in page.content
    response = client.post(invitation.get_accept_url(), follow=True)
    assert b"This invitation was sent to intended@example.org" in response.content
    with scopes_disabled():
        assert not Membership.objects.filter(programme=programme_a, user=fellow_b).exists()


def test_staff_revoke_and_resend(client_for, staff_a, programme_a):
    invitation = InvitationFactory(
        programme=programme_a, created_at=timezone.now() - timedelta(days=20)
    )
    client = client_for(staff_a)
    base = f"/p/{programme_a.slug}/invitations/{invitation.uuid}"
    response = client.post(f"{base}/resend/", follow=True)
    assert b"Invitation sent again" in response.content
    invitation.refresh_from_db()
    assert invitation.is_usable
    response = client.post(f"{base}/revoke/", follow=True)
    assert b"has been withdrawn" in response.content
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.REVOKED
    assert client.get(invitation.get_accept_url()).status_code == 410
    # Resending a withdrawn invitation is refused with a message, not an error page.
    response = client.post(f"{base}/resend/", follow=True)
    assert response.status_code == 200
    assert b"Only an invitation that is still open can be sent again" in response.content
    with scopes_disabled():
        actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"invitation.resent", "invitation.revoked"} <= actions


def test_revoke_needs_post(client_for, staff_a, programme_a):
    invitation = InvitationFactory(programme=programme_a)
    client = client_for(staff_a)
    url = f"/p/{programme_a.slug}/invitations/{invitation.uuid}/revoke/"
    assert client.get(url).status_code == 405
    invitation.refresh_from_db()
    assert invitation.revoked_at is None
