"""Fixtures of the PDP tests: a fellow of programme A with a mentor, and their plan."""

from datetime import date

import pytest
from django_scopes import scope, scopes_disabled

from cohort.models import Fellow
from pdp.models import CompetencyDomain
from pdp.services import objective_save, pdp_for_fellow

from ..factories import MentorshipFactory


@pytest.fixture
def domains(programme_a):
    return [
        CompetencyDomain.objects.create(programme=programme_a, name=name, position=n)
        for n, name in enumerate(["Finance and investment", "Evidence and evaluation"])
    ]


@pytest.fixture
def fellow(programme_a, fellow_a):
    with scopes_disabled():
        return Fellow.objects.select_related("user").get(user=fellow_a)


@pytest.fixture
def mentor(programme_a, mentor_a, fellow):
    """mentor_a mentors the fellow."""
    with scopes_disabled():
        mentor = mentor_a.mentor_profiles.get()
        MentorshipFactory(fellow=fellow, mentor=mentor)
    return mentor_a


@pytest.fixture
def plan(programme_a, fellow, domains):
    with scope(programme=programme_a):
        pdp = pdp_for_fellow(fellow=fellow)
        objective = objective_save(
            pdp=pdp,
            actor=fellow.user,
            data={
                "title": "Raise a £50,000 pre-seed round",
                "measure": "Signed agreements worth £50,000.",
                "target_date": date(2027, 3, 31),
                "domain": domains[0],
            },
        )
    return pdp, objective
