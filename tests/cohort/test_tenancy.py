"""The programme in the path, membership checks, home pages per role and the switcher."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import ScopeError, scope, scopes_disabled

from cohort.models import Fellow, Membership, Role

from ..factories import CohortFactory, FellowFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def _without_csrf(content: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", content)


def test_scoped_manager_refuses_queries_outside_a_scope(fellow_a, programme_a):
    with pytest.raises(ScopeError):
        list(Fellow.objects.all())
    with scope(programme=programme_a):
        assert Fellow.objects.count() == 1


def test_non_members_get_the_same_404_as_for_a_missing_programme(client_for, fellow_b):
    client = client_for(fellow_b)
    missing = client.get("/p/no-such-programme/")
    assert missing.status_code == 404
    # programme_a exists (fellow_a is not needed): same answer, same page.
    from ..factories import ProgrammeFactory

    ProgrammeFactory(slug="hidden")
    hidden = client.get("/p/hidden/")
    assert hidden.status_code == 404
    # Identical apart from the per-response CSRF token mask.
    assert _without_csrf(hidden.content) == _without_csrf(missing.content)
    assert b"Page not found" in hidden.content


def test_anonymous_visitors_are_sent_to_sign_in(client, programme_a):
    response = client.get(f"/p/{programme_a.slug}/")
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next=/p/{programme_a.slug}/"


@pytest.mark.parametrize(
    ("actor", "heading"),
    [("fellow_a", b"Welcome, "), ("mentor_a", b"Welcome, "), ("staff_a", b"Alpha Programme")],
)
def test_each_role_has_its_own_home_page(request, client_for, programme_a, actor, heading):
    user = request.getfixturevalue(actor)
    response = client_for(user).get(f"/p/{programme_a.slug}/")
    assert response.status_code == 200
    assert heading in response.content
    template = {
        "fellow_a": "cohort/home_fellow.html",
        "mentor_a": "cohort/home_mentor.html",
        "staff_a": "cohort/home_staff.html",
    }[actor]
    assert template in [t.name for t in response.templates]


def test_fellow_home_shows_their_own_profile(client_for, fellow_a, programme_a):
    response = client_for(fellow_a).get(f"/p/{programme_a.slug}/")
    with scopes_disabled():
        fellow = Fellow.objects.get(user=fellow_a)
    assert fellow.cohort.name.encode() in response.content
    assert b"Doctor" in response.content


def test_staff_only_pages_answer_403_to_fellows(client_for, fellow_a, programme_a):
    client = client_for(fellow_a)
    for page in ("people", "invitations", "audit"):
        response = client.get(f"/p/{programme_a.slug}/{page}/")
        assert response.status_code == 403
        assert b"You do not have access to this page" in response.content


def test_root_sends_a_single_programme_member_straight_there(client_for, fellow_a, programme_a):
    response = client_for(fellow_a).get("/")
    assert response.status_code == 302
    assert response["Location"] == f"/p/{programme_a.slug}/"


def test_root_lets_a_person_in_several_programmes_choose(client_for, programme_a, programme_b):
    person = UserFactory(email="both@example.org")
    MembershipFactory(programme=programme_a, user=person, role=Role.MENTOR)
    MembershipFactory(programme=programme_b, user=person, role=Role.FELLOW)
    client = client_for(person)
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Your programmes" in body
    assert programme_a.name in body and programme_b.name in body
    assert "Mentor" in body and "Fellow" in body
    # The header offers the switch on every programme page too.
    assert "Switch programme" in client.get(f"/p/{programme_a.slug}/").content.decode()


def test_the_programme_the_roles_and_the_switcher_cost_one_query(
    client_for, programme_a, programme_b
):
    """Every programme page starts by finding the programme, the person's roles there and
    their other programmes for the header: one query of their memberships answers all three
    (issue #9's fellow home benchmark counted three)."""
    person = UserFactory(email="two-roles@example.org")
    MembershipFactory(programme=programme_a, user=person, role=Role.MENTOR)
    MembershipFactory(programme=programme_a, user=person, role=Role.STAFF)
    MembershipFactory(programme=programme_b, user=person, role=Role.FELLOW)
    client = client_for(person)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(f"/p/{programme_a.slug}/notifications/")
    assert response.status_code == 200
    assert "Switch programme" in response.content.decode()
    assert response.wsgi_request.roles == {Role.MENTOR, Role.STAFF}
    assert response.wsgi_request.role == Role.STAFF
    sql = [q["sql"] for q in ctx.captured_queries]
    by_slug = [s for s in sql if '"cohort_programme"."slug" =' in s]
    roles_alone = [s for s in sql if s.startswith('SELECT "cohort_membership"."role" AS "role"')]
    switcher = [
        s
        for s in sql
        if f'"cohort_membership"."user_id" = {person.pk} ORDER BY "cohort_programme"."name"' in s
    ]
    assert by_slug == [] and roles_alone == []
    assert len(switcher) == 1, "\n\n".join(switcher)


def test_a_person_with_no_programme_is_told_how_to_join(client_for, db):
    response = client_for(UserFactory()).get("/")
    assert response.status_code == 200
    assert b"You join a programme through an invitation" in response.content


def test_staff_home_queries_do_not_grow_with_the_number_of_fellows(
    client_for, staff_a, programme_a
):
    client = client_for(staff_a)
    cohort = CohortFactory(programme=programme_a)
    FellowFactory(programme=programme_a, cohort=cohort)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/p/{programme_a.slug}/").status_code == 200
        return len(ctx.captured_queries)

    before = count()
    for _ in range(15):
        fellow = FellowFactory(programme=programme_a, cohort=cohort)
        Membership.objects.create(programme=programme_a, user=fellow.user, role=Role.FELLOW)
    CohortFactory(programme=programme_a)
    assert count() == before


def test_member_list_queries_are_fixed(client_for, staff_a, programme_a):
    client = client_for(staff_a)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/p/{programme_a.slug}/people/").status_code == 200
        return len(ctx.captured_queries)

    before = count()
    for _ in range(10):
        MembershipFactory(programme=programme_a, role=Role.FELLOW)
    assert count() == before


def test_member_list_filters(client_for, staff_a, fellow_a, mentor_a, programme_a):
    client = client_for(staff_a)
    response = client.get(f"/p/{programme_a.slug}/people/", {"role": "mentor"})
    assert mentor_a.email.encode() in response.content
    assert fellow_a.email.encode() not in response.content
    response = client.get(f"/p/{programme_a.slug}/people/", {"q": "fellow@alpha"})
    assert fellow_a.email.encode() in response.content
    assert mentor_a.email.encode() not in response.content
    # A nonsense filter value gets the form's message, not an error page.
    response = client.get(f"/p/{programme_a.slug}/people/", {"role": "emperor"})
    assert response.status_code == 200
