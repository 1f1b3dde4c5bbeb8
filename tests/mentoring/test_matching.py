"""Matching fellows with mentors: a global optimum under capacity, explained pair by pair;
staff lock, exclude, pin, re-run and publish; a mentorship can end and the fellow be
matched again."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from cohort.models import Role
from mentoring.matching import FellowProfile, MentorProfile, explain, propose
from mentoring.models import MatchPair, Mentorship
from mentoring.services import (
    match_pair_change,
    match_pin,
    matching_publish,
    matching_run,
    mentorship_end,
)
from notifications.models import Notification

from ..factories import (
    FellowFactory,
    MembershipFactory,
    MentorFactory,
    MentorshipFactory,
    UserFactory,
    VentureFactory,
)

pytestmark = pytest.mark.django_db


# --- the algorithm ----------------------------------------------------------------------------


def test_the_assignment_is_a_global_optimum_not_first_come_greedy():
    # Greedy in order would give Ada the sector mentor (fit 3) and leave Ben with the
    # investor (fit 0): total 3. The optimum swaps them: Ada 2 + Ben 3 = 5.
    ada = FellowProfile(1, frozenset({"medtech"}), frozenset({"investment"}))
    ben = FellowProfile(2, frozenset({"medtech"}), frozenset())
    sector_mentor = MentorProfile(10, frozenset({"medtech"}), frozenset(), free_places=1)
    investor = MentorProfile(11, frozenset(), frozenset({"investment"}), free_places=1)
    result = propose([ada, ben], [sector_mentor, investor])
    assert {(p.fellow, p.mentor) for p in result.proposals} == {(1, 11), (2, 10)}
    assert result.total_fit == 5 and result.unmatched == []


def test_capacity_is_never_exceeded_and_the_rest_are_reported_unmatched():
    fellows = [FellowProfile(i, frozenset({"digital"}), frozenset()) for i in range(5)]
    mentors = [
        MentorProfile(10, frozenset({"digital"}), frozenset(), free_places=2),
        MentorProfile(11, frozenset(), frozenset(), free_places=1),
        MentorProfile(12, frozenset({"digital"}), frozenset(), free_places=0),
    ]
    result = propose(fellows, mentors)
    per_mentor = {}
    for p in result.proposals:
        per_mentor[p.mentor] = per_mentor.get(p.mentor, 0) + 1
    assert per_mentor == {10: 2, 11: 1}
    assert len(result.unmatched) == 2


def test_an_excluded_pair_is_never_proposed_even_when_it_fits_best():
    fellow = FellowProfile(1, frozenset({"pharma"}), frozenset({"regulation"}), "london")
    best = MentorProfile(10, frozenset({"pharma"}), frozenset({"regulation"}), "london", 1)
    other = MentorProfile(11, frozenset(), frozenset(), "", 1)
    assert propose([fellow], [best, other]).proposals[0].mentor == 10
    result = propose([fellow], [best, other], excluded={(1, 10)})
    assert [p.mentor for p in result.proposals] == [11]
    assert propose([fellow], [best], excluded={(1, 10)}).unmatched == [1]


def test_each_pair_says_why_it_fits():
    fellow = FellowProfile(1, frozenset({"medtech"}), frozenset({"regulation"}), "london")
    mentor = MentorProfile(2, frozenset({"medtech", "pharma"}), frozenset({"regulation"}), "london")
    score, reasons = explain(fellow, mentor)
    assert score == 6
    assert reasons == [
        "Shared sector: medical devices.",
        "The mentor's expertise covers what the fellow needs: regulation and clinical safety.",
        "Both in London.",
    ]
    assert explain(FellowProfile(1, frozenset(), frozenset()), mentor)[1] == [
        "No particular overlap: proposed to use the mentor's free place."
    ]


# --- the workflow -----------------------------------------------------------------------------


@pytest.fixture
def intake(programme_a, cohort_a, staff_a):
    """Three fellows and two mentors with room for three."""
    fellows = []
    for name, sector, need, region in [
        ("Ada Medtech", "medtech", "Getting through UKCA regulation.", "london"),
        ("Ben Digital", "digital", "Raising investment for a seed round.", "north_west"),
        ("Cat Pharma", "pharma", "Running an NHS pilot.", "london"),
    ]:
        user = UserFactory(full_name=name)
        MembershipFactory(programme=programme_a, user=user, role=Role.FELLOW)
        fellow = FellowFactory(
            programme=programme_a, cohort=cohort_a, user=user, help_needed=need, region=region
        )
        VentureFactory(programme=programme_a, fellow=fellow, sector=sector)
        fellows.append(fellow)
    mentors = []
    for name, sectors, expertise, capacity in [
        ("Mo Devices", ["medtech"], "medical device regulation, UKCA", 2),
        ("Vi Capital", ["digital"], "fundraising, investment readiness", 1),
    ]:
        user = UserFactory(full_name=name)
        MembershipFactory(programme=programme_a, user=user, role=Role.MENTOR)
        mentors.append(
            MentorFactory(
                programme=programme_a,
                user=user,
                sectors=sectors,
                expertise=expertise,
                capacity=capacity,
                region="london",
            )
        )
    return fellows, mentors


def test_run_proposes_the_best_pairs_and_publishing_tells_both_people(
    programme_a, cohort_a, staff_a, intake
):
    (ada, ben, cat), (devices, capital) = intake
    with scope(programme=programme_a):
        result = matching_run(cohort=cohort_a, actor=staff_a)
        pairs = {p.fellow_id: p.mentor_id for p in MatchPair.objects.filter(cohort=cohort_a)}
        assert pairs == {ada.pk: devices.pk, ben.pk: capital.pk, cat.pk: devices.pk}
        assert result.total_fit == 6 + 5 + 1
        published = matching_publish(cohort=cohort_a, actor=staff_a)
        assert len(published) == 3
        assert not MatchPair.objects.filter(cohort=cohort_a).exists()
        ada_mentorship = Mentorship.objects.get(fellow=ada)
        assert ada_mentorship.mentor == devices and "Shared sector" in ada_mentorship.fit_reasons[0]
        titles = set(Notification.objects.values_list("title", flat=True))
    assert f"Your mentor is {devices}" in titles and f"You will mentor {ada}" in titles


def test_locked_pairs_survive_a_rerun_and_excluded_pairs_never_come_back(
    programme_a, cohort_a, staff_a, intake
):
    (ada, ben, cat), (devices, capital) = intake
    with scope(programme=programme_a):
        matching_run(cohort=cohort_a, actor=staff_a)
        ada_pair = MatchPair.objects.get(fellow=ada)
        match_pair_change(pair=ada_pair, actor=staff_a, action="lock")
        ben_pair = MatchPair.objects.get(fellow=ben)
        match_pair_change(pair=ben_pair, actor=staff_a, action="exclude")
        matching_run(cohort=cohort_a, actor=staff_a)
        assert MatchPair.objects.get(fellow=ada, state="locked").mentor == devices
        assert MatchPair.objects.filter(fellow=ben, mentor=capital, state="excluded").exists()
        # Ben may not have the investor now, so he takes the device mentor's last place and
        # Cat the investor's.
        live = dict(MatchPair.objects.exclude(state="excluded").values_list("fellow", "mentor"))
        assert live == {ada.pk: devices.pk, ben.pk: devices.pk, cat.pk: capital.pk}
        with pytest.raises(ValidationError, match="cannot be locked"):
            match_pair_change(pair=ada_pair, actor=staff_a, action="lock")


def test_pinning_a_mentor_at_capacity_is_refused(programme_a, cohort_a, staff_a, intake):
    (ada, ben, _cat), (_devices, capital) = intake
    with scope(programme=programme_a):
        match_pin(cohort=cohort_a, fellow=ben, mentor=capital, actor=staff_a)
        with pytest.raises(ValidationError, match="is at capacity"):
            match_pin(cohort=cohort_a, fellow=ada, mentor=capital, actor=staff_a)
        assert MatchPair.objects.get(fellow=ben).state == MatchPair.State.LOCKED


def test_publishing_over_capacity_publishes_nothing(programme_a, cohort_a, staff_a, intake):
    (_ada, _ben, _cat), (devices, _capital) = intake
    with scope(programme=programme_a):
        matching_run(cohort=cohort_a, actor=staff_a)
        # Meanwhile the device mentor's capacity was cut to one.
        devices.capacity = 1
        devices.save(update_fields=["capacity"])
        with pytest.raises(ValidationError, match="over capacity"):
            matching_publish(cohort=cohort_a, actor=staff_a)
        assert not Mentorship.objects.exists()
        assert MatchPair.objects.filter(cohort=cohort_a).count() == 3


def test_ending_a_mentorship_needs_a_reason_and_rematching_finds_someone_else(
    programme_a, cohort_a, staff_a, intake
):
    (ada, _ben, _cat), (devices, capital) = intake
    with scope(programme=programme_a):
        mentorship = MentorshipFactory(fellow=ada, mentor=devices)
        with pytest.raises(ValidationError, match="Say why"):
            mentorship_end(mentorship=mentorship, actor=staff_a, reason=" ")
        mentorship_end(mentorship=mentorship, actor=staff_a, reason="Diary clash all year.")
        mentorship.refresh_from_db()
        assert mentorship.ended_on and mentorship.ended_by == staff_a
        matching_run(cohort=cohort_a, actor=staff_a)
        assert MatchPair.objects.get(fellow=ada, state="proposed").mentor == capital
        with pytest.raises(ValidationError, match="already ended"):
            mentorship_end(mentorship=mentorship, actor=staff_a, reason="Again")


# --- in the browser ---------------------------------------------------------------------------


def url(name, programme, **kwargs):
    return reverse(f"mentoring:{name}", kwargs={"programme_slug": programme.slug, **kwargs})


def test_staff_match_a_cohort_end_to_end_in_the_browser(
    client_for, programme_a, cohort_a, staff_a, intake
):
    (ada, _ben, cat), (devices, capital) = intake
    client = client_for(staff_a)
    page = client.get(url("matching", programme_a))
    assert page.status_code == 200 and cohort_a.name in page.text
    cohort_page = url("matching_cohort", programme_a, cohort_uuid=cohort_a.uuid)
    response = client.post(url("matching_run", programme_a, cohort_uuid=cohort_a.uuid))
    assert response.status_code == 302
    page = client.get(cohort_page)
    assert "Shared sector: medical devices." in page.text
    assert (
        "The mentor&#x27;s expertise covers what the fellow needs: raising investment." in page.text
    )
    with scopes_disabled():
        cat_pair = MatchPair.objects.get(fellow=cat)
    client.post(url("match_pair", programme_a, pair_uuid=cat_pair.uuid), {"action": "exclude"})
    page = client.get(cohort_page)
    assert "Excluded pairs" in page.text and "Fellows without a proposal" in page.text
    # Pinning Cat to the full investor mentor is refused at the field, keeping the choice.
    response = client.post(cohort_page, {"fellow": str(cat.uuid), "mentor": str(capital.uuid)})
    assert response.status_code == 400
    response = client.post(url("matching_publish", programme_a, cohort_uuid=cohort_a.uuid))
    assert response.status_code == 302
    with scopes_disabled():
        assert Mentorship.objects.filter(cohort=cohort_a).count() == 2
    listing = client.get(url("mentorships", programme_a))
    assert str(ada) in listing.text and str(devices) in listing.text


def test_the_fellow_and_mentor_see_each_other_and_nobody_else(
    client_for, programme_a, cohort_a, intake
):
    (ada, ben, _cat), (devices, capital) = intake
    with scopes_disabled():
        MentorshipFactory(
            fellow=ada, mentor=devices, fit_reasons=["Shared sector: medical devices."]
        )
        MentorshipFactory(fellow=ben, mentor=capital)
    home = client_for(ada.user).get(reverse("cohort:home", kwargs={"programme_slug": "alpha"}))
    assert "Your mentor" in home.text and str(devices) in home.text
    listing = client_for(ada.user).get(url("mentorships", programme_a))
    assert str(devices) in listing.text and str(ben) not in listing.text
    home = client_for(devices.user).get(reverse("cohort:home", kwargs={"programme_slug": "alpha"}))
    assert "Your mentees" in home.text and str(ada) in home.text and str(ben) not in home.text
    for user in (ada.user, devices.user):
        assert client_for(user).get(url("matching", programme_a)).status_code == 403


def test_staff_end_a_mentorship_in_the_browser(client_for, programme_a, cohort_a, staff_a, intake):
    (ada, _ben, _cat), (devices, _capital) = intake
    with scopes_disabled():
        mentorship = MentorshipFactory(fellow=ada, mentor=devices)
    end = url("mentorship_end", programme_a, mentorship_uuid=mentorship.uuid)
    client = client_for(staff_a)
    assert client.get(end).status_code == 200
    response = client.post(end, {"reason": ""})
    assert response.status_code == 400 and "Say why the mentorship is ending." in response.text
    assert client.post(end, {"reason": "Moved abroad."}).status_code == 302
    mentorship.refresh_from_db()
    assert mentorship.end_reason == "Moved abroad."


def test_the_matching_page_runs_the_same_queries_for_few_or_many_fellows(
    client_for, programme_a, cohort_a, staff_a
):
    client = client_for(staff_a)
    page = url("matching_cohort", programme_a, cohort_uuid=cohort_a.uuid)

    def add(n):
        for _ in range(n):
            fellow = FellowFactory(programme=programme_a, cohort=cohort_a)
            VentureFactory(programme=programme_a, fellow=fellow)
            MentorFactory(programme=programme_a, capacity=1, sectors=["digital"])

    def count():
        with scope(programme=programme_a):
            matching_run(cohort=cohort_a, actor=staff_a)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(page).status_code == 200
        return len(queries)

    add(3)
    few = count()
    add(20)
    assert count() == few
