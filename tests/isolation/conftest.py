"""Actors and data of the isolation suite, on top of the shared programmes A and B.

Programme A is the victim: it is filled with one row of every kind the factories make, so a
snapshot of it is worth comparing. Programme B's members, and anonymous visitors, are the
outsiders who try to read or change it.
"""

import pytest
from django_scopes import scope

from cohort.models import Role
from cohort.services import audit_log

from ..factories import (
    InvitationFactory,
    MembershipFactory,
    MentorFactory,
    OrganisationFactory,
    UserFactory,
)

# Fixture names of programme B's members, one per role, and of A's members without staff rights.
B_MEMBERS = ("staff_b", "mentor_b", "fellow_b", "partner_b")
A_NON_STAFF = ("fellow_a", "mentor_a", "partner_a")


@pytest.fixture(autouse=True)
def _no_staff_mfa_gate(settings):
    # The MFA gate (StaffMFAMiddleware) would answer staff with a redirect to set up MFA
    # before the tenancy check runs; this suite tests tenancy, whatever the environment says.
    settings.PITWALL_REQUIRE_STAFF_MFA = False


def _member(programme, role, email):
    user = UserFactory(email=email)
    MembershipFactory(programme=programme, user=user, role=role)
    return user


@pytest.fixture
def mentor_b(programme_b):
    user = _member(programme_b, Role.MENTOR, "mentor@bravo.example")
    MentorFactory(programme=programme_b, user=user)
    return user


@pytest.fixture
def partner_b(programme_b):
    return _member(programme_b, Role.PARTNER, "partner@bravo.example")


@pytest.fixture
def partner_a(programme_a):
    return _member(programme_a, Role.PARTNER, "partner@alpha.example")


@pytest.fixture
def populated_a(programme_a, staff_a, fellow_a, mentor_a, partner_a, cohort_a):
    """Programme A with a row of every kind, so that a snapshot of it means something."""
    OrganisationFactory(programme=programme_a, name="Alpha Partner Ltd")
    InvitationFactory(programme=programme_a, email="pending@alpha.example", role=Role.STAFF)
    with scope(programme=programme_a):
        audit_log(programme=programme_a, actor=staff_a, action="isolation.sample")
    return programme_a


@pytest.fixture
def resolve_actor(request):
    """Resolves an actor name from a parametrised test to a user (None for anonymous)."""

    def resolve(name: str):
        return None if name == "anonymous" else request.getfixturevalue(name)

    return resolve
