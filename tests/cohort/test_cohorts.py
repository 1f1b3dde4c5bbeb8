"""Staff create and change cohorts; the year's meeting windows follow from the dates."""

import itertools
from datetime import date

import pytest
from django_scopes import scopes_disabled

from cohort.models import AuditEvent, Cohort

from ..factories import CohortFactory

pytestmark = pytest.mark.django_db


def test_four_meeting_windows_for_a_september_year(programme_a):
    cohort = CohortFactory(
        programme=programme_a, starts_on=date(2016, 9, 1), ends_on=date(2017, 8, 31)
    )
    windows = cohort.meeting_windows()
    assert [w[0] for w in windows] == [1, 2, 3, 4]
    # The first meeting falls in the first month, then one a quarter.
    assert windows[0][1:] == (date(2016, 9, 1), date(2016, 10, 1))
    assert windows[1][1] == date(2016, 12, 1)
    assert windows[2][1] == date(2017, 3, 2)
    assert windows[3][1:] == (date(2017, 6, 2), date(2017, 8, 31))
    for (_, opens, closes), (_, next_opens, _) in itertools.pairwise(windows):
        assert opens <= closes < next_opens


def test_windows_follow_the_programmes_meetings_per_year(programme_a):
    programme_a.meetings_per_year = 6
    programme_a.save()
    cohort = CohortFactory(programme=programme_a)
    assert len(cohort.meeting_windows()) == 6
    assert cohort.meeting_windows()[-1][2] == cohort.ends_on


def test_staff_add_and_change_a_cohort(client_for, staff_a, programme_a):
    client = client_for(staff_a)
    base = f"/p/{programme_a.slug}/cohorts/"
    response = client.post(
        base + "new/",
        {"name": "Cohort 2 — 2017/18", "starts_on": "2017-09-01", "ends_on": "2018-08-31"},
        follow=True,
    )
    assert "Cohort 2 — 2017/18 has been saved." in response.content.decode()
    with scopes_disabled():
        cohort = Cohort.objects.get(programme=programme_a)
    page = client.get(base).content.decode()
    assert "1 September 2017" in page and "Mentor-meeting windows" in page
    client.post(
        f"{base}{cohort.uuid}/",
        {"name": "Cohort 2 — 2017/18", "starts_on": "2017-10-01", "ends_on": "2018-09-30"},
    )
    cohort.refresh_from_db()
    assert cohort.starts_on == date(2017, 10, 1)
    with scopes_disabled():
        actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert {"cohort.created", "cohort.changed"} <= set(actions)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "X", "starts_on": "2017-09-01", "ends_on": "2017-08-01"}, "must end after"),
        ({"name": "X", "starts_on": "not a date", "ends_on": "2018-08-31"}, "Enter a valid date"),
        (
            {"name": "", "starts_on": "2017-09-01", "ends_on": "2018-08-31"},
            "This field is required",
        ),
    ],
)
def test_bad_cohort_input_is_explained_and_kept(client_for, staff_a, programme_a, data, message):
    response = client_for(staff_a).post(f"/p/{programme_a.slug}/cohorts/new/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert "There is a problem" in response.content.decode()
    with scopes_disabled():
        assert not Cohort.objects.filter(programme=programme_a).exists()


def test_duplicate_cohort_names_are_refused(client_for, staff_a, programme_a, programme_b):
    CohortFactory(programme=programme_a, name="Cohort 1")
    CohortFactory(programme=programme_b, name="Cohort 2")  # other programmes do not count
    client = client_for(staff_a)
    data = {"starts_on": "2017-09-01", "ends_on": "2018-08-31"}
    taken = client.post(f"/p/{programme_a.slug}/cohorts/new/", {"name": "cohort 1", **data})
    assert taken.status_code == 400
    assert "already has a cohort of that name" in taken.content.decode()
    fine = client.post(f"/p/{programme_a.slug}/cohorts/new/", {"name": "Cohort 2", **data})
    assert fine.status_code == 302


def test_fellows_cannot_manage_cohorts(client_for, fellow_a, programme_a):
    assert client_for(fellow_a).get(f"/p/{programme_a.slug}/cohorts/").status_code == 403
