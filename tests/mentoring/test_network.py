"""Networking: fellows connect with fellows and mentors; the person asked accepts or declines;
accepted connections are dated."""

import pytest
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from cohort.models import Role
from mentoring.models import Connection
from mentoring.services import connection_request, connection_respond
from notifications.models import Notification

from ..factories import FellowFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def url(name, programme, **kwargs):
    return reverse(f"mentoring:{name}", kwargs={"programme_slug": programme.slug, **kwargs})


@pytest.fixture
def other_fellow(programme_a):
    user = UserFactory(full_name="Omar Other")
    MembershipFactory(programme=programme_a, user=user, role=Role.FELLOW)
    FellowFactory(programme=programme_a, user=user)
    return user


def test_a_fellow_connects_from_a_profile_and_the_other_accepts(
    client_for, programme_a, fellow_a, other_fellow
):
    with scopes_disabled():
        profile = other_fellow.fellowships.get()
    client = client_for(fellow_a)
    page = client.get(
        reverse("cohort:fellow", kwargs={"programme_slug": "alpha", "fellow_uuid": profile.uuid})
    )
    assert "Connect with Omar Other" in page.text
    response = client.post(url("connect", programme_a, user_uuid=other_fellow.uuid))
    assert response.status_code == 302
    with scopes_disabled():
        connection = Connection.objects.get()
        assert Notification.objects.filter(recipient=other_fellow, kind="connection").exists()
    page = client.get(
        reverse("cohort:fellow", kwargs={"programme_slug": "alpha", "fellow_uuid": profile.uuid})
    )
    assert "Waiting for a reply" in page.text
    other = client_for(other_fellow)
    assert "asked on" in other.get(url("network", programme_a)).text
    other.post(
        url("connection_respond", programme_a, connection_uuid=connection.uuid),
        {"decision": "accept"},
    )
    connection.refresh_from_db()
    assert connection.status == Connection.Status.ACCEPTED and connection.responded_at
    network = client_for(fellow_a).get(url("network", programme_a))
    assert "Omar Other" in network.text and "connected on" in network.text


def test_bad_requests_are_explained_and_change_nothing(
    programme_a, fellow_a, other_fellow, mentor_a, staff_a
):
    with scope(programme=programme_a):
        with pytest.raises(Exception, match="yourself"):
            connection_request(programme=programme_a, requester=fellow_a, addressee=fellow_a)
        with pytest.raises(Exception, match="fellows and mentors"):
            connection_request(programme=programme_a, requester=fellow_a, addressee=staff_a)
        mentor_two = UserFactory()
        MembershipFactory(programme=programme_a, user=mentor_two, role=Role.MENTOR)
        with pytest.raises(Exception, match="Mentors connect with fellows"):
            connection_request(programme=programme_a, requester=mentor_a, addressee=mentor_two)
        connection = connection_request(
            programme=programme_a, requester=fellow_a, addressee=other_fellow
        )
        with pytest.raises(Exception, match="is waiting"):
            connection_request(programme=programme_a, requester=fellow_a, addressee=other_fellow)
        with pytest.raises(Exception, match="already asked to connect with you"):
            connection_request(programme=programme_a, requester=other_fellow, addressee=fellow_a)
        with pytest.raises(Exception, match="Only the person asked"):
            connection_respond(connection=connection, actor=fellow_a, accept=True)
        connection_respond(connection=connection, actor=other_fellow, accept=False)
        with pytest.raises(Exception, match="already been answered"):
            connection_respond(connection=connection, actor=other_fellow, accept=True)
        # A fellow with a mentor is fine.
        connection_request(programme=programme_a, requester=fellow_a, addressee=mentor_a)
        assert Connection.objects.count() == 2


def test_someone_else_cannot_answer_a_request_by_url(
    client_for, programme_a, fellow_a, other_fellow, mentor_a
):
    with scope(programme=programme_a):
        connection = connection_request(
            programme=programme_a, requester=fellow_a, addressee=other_fellow
        )
    response = client_for(mentor_a).post(
        url("connection_respond", programme_a, connection_uuid=connection.uuid),
        {"decision": "accept"},
    )
    assert response.status_code == 404
    connection.refresh_from_db()
    assert connection.status == Connection.Status.PENDING


def test_connecting_with_someone_outside_the_programme_is_not_found(
    client_for, programme_a, fellow_a, fellow_b
):
    response = client_for(fellow_a).post(url("connect", programme_a, user_uuid=fellow_b.uuid))
    assert response.status_code == 404
    with scopes_disabled():
        assert not Connection.objects.exists()
