"""The directory, profile pages that show each role only what it may see, and editing one's
own profile and ventures."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from cohort.models import AuditEvent, Fellow, Membership, Mentor, Role, Venture

from ..factories import FellowFactory, MembershipFactory, MentorFactory, VentureFactory

pytestmark = pytest.mark.django_db


def _fellow(programme, name, **extra):
    fellow = FellowFactory(programme=programme, user__full_name=name, **extra)
    Membership.objects.create(programme=programme, user=fellow.user, role=Role.FELLOW)
    return fellow


def test_directory_lists_fellows_with_their_ventures(client_for, fellow_a, programme_a):
    other = _fellow(programme_a, "Ada Okafor", specialty="Cardiology", region="london")
    VentureFactory(programme=programme_a, fellow=other, name="PulseLink", sector="medtech")
    body = client_for(fellow_a).get(f"/p/{programme_a.slug}/directory/").content.decode()
    assert "Ada Okafor" in body
    assert "PulseLink" in body
    assert "Cardiology" in body


def test_directory_filters_and_search(client_for, staff_a, programme_a):
    a = _fellow(programme_a, "Nurse Nia", profession="nurse", region="london")
    b = _fellow(programme_a, "Doctor Dev", profession="doctor", region="midlands")
    VentureFactory(programme=programme_a, fellow=a, sector="mental_health", stage="pilot")
    VentureFactory(programme=programme_a, fellow=b, sector="medtech", stage="idea")
    client = client_for(staff_a)
    url = f"/p/{programme_a.slug}/directory/"

    def names(**params):
        body = client.get(url, params).content.decode()
        return {n for n in ("Nurse Nia", "Doctor Dev") if n in body}

    assert names() == {"Nurse Nia", "Doctor Dev"}
    assert names(profession="nurse") == {"Nurse Nia"}
    assert names(region="midlands") == {"Doctor Dev"}
    assert names(sector="medtech") == {"Doctor Dev"}
    assert names(stage="pilot") == {"Nurse Nia"}
    assert names(q="nia") == {"Nurse Nia"}
    # Nonsense filter values are ignored with no error page.
    assert client.get(url, {"profession": "wizard"}).status_code == 200


def test_mentor_directory_and_sector_filter(client_for, fellow_a, programme_a):
    m = MentorFactory(programme=programme_a, user__full_name="Mo Mentor", sectors=["medtech"])
    MentorFactory(programme=programme_a, user__full_name="Pat Pharma", sectors=["pharma"])
    client = client_for(fellow_a)
    body = client.get(f"/p/{programme_a.slug}/directory/", {"who": "mentors"}).content.decode()
    assert "Mo Mentor" in body and "Pat Pharma" in body
    body = client.get(
        f"/p/{programme_a.slug}/directory/", {"who": "mentors", "sector": "medtech"}
    ).content.decode()
    assert "Mo Mentor" in body and "Pat Pharma" not in body
    body = client.get(
        f"/p/{programme_a.slug}/directory/",
        {"who": "mentors", "organisation": str(m.organisation.uuid)},
    ).content.decode()
    assert "Mo Mentor" in body and "Pat Pharma" not in body
    page = client.get(f"/p/{programme_a.slug}/directory/mentors/{m.uuid}/").content.decode()
    assert "Medical devices" in page
    assert m.user.email not in page  # contact details are for staff and the mentor


def test_directory_queries_do_not_grow_with_fellows(client_for, staff_a, programme_a):
    client = client_for(staff_a)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/p/{programme_a.slug}/directory/").status_code == 200
        return len(ctx.captured_queries)

    for i in range(2):
        VentureFactory(programme=programme_a, fellow=_fellow(programme_a, f"Person {i}"))
    before = count()
    for i in range(2, 20):
        VentureFactory(programme=programme_a, fellow=_fellow(programme_a, f"Person {i}"))
    assert count() == before


def test_profile_shows_private_details_only_to_staff_and_self(
    client_for, staff_a, mentor_a, programme_a
):
    fellow = _fellow(
        programme_a,
        "Private Person",
        employer="Barts Health NHS Trust",
        help_needed="Investment readiness",
        specialty="Psychiatry",
    )
    url = f"/p/{programme_a.slug}/directory/fellows/{fellow.uuid}/"
    for viewer, sees_private in ((staff_a, True), (fellow.user, True), (mentor_a, False)):
        body = client_for(viewer).get(url).content.decode()
        assert "Psychiatry" in body
        assert ("Barts Health NHS Trust" in body) is sees_private, viewer
        assert ("Investment readiness" in body) is sees_private, viewer


def test_another_fellow_sees_only_the_directory_part(client_for, fellow_a, programme_a):
    fellow = _fellow(programme_a, "Other Fellow", employer="Secret Trust")
    body = (
        client_for(fellow_a)
        .get(f"/p/{programme_a.slug}/directory/fellows/{fellow.uuid}/")
        .content.decode()
    )
    assert "Other Fellow" in body
    assert "Secret Trust" not in body
    assert fellow.user.email not in body


def test_partners_see_only_consented_fellows(client_for, programme_a):
    partner = MembershipFactory(programme=programme_a, role=Role.PARTNER).user
    shared = _fellow(programme_a, "Shares Profile", consent_to_share=True)
    private = _fellow(programme_a, "Keeps Private", consent_to_share=False)
    client = client_for(partner)
    body = client.get(f"/p/{programme_a.slug}/directory/").content.decode()
    assert "Shares Profile" in body and "Keeps Private" not in body
    base = f"/p/{programme_a.slug}/directory/fellows/"
    assert client.get(f"{base}{shared.uuid}/").status_code == 200
    assert client.get(f"{base}{private.uuid}/").status_code == 404


def test_fellow_edits_profile_and_ventures(client_for, programme_a):
    fellow = _fellow(programme_a, "Editing Fellow")
    existing = VentureFactory(programme=programme_a, fellow=fellow, name="OldCo")
    client = client_for(fellow.user)
    url = f"/p/{programme_a.slug}/profile/"
    assert client.get(url).status_code == 200
    data = {
        "profile-grade": "ST5",
        "profile-specialty": "Anaesthetics",
        "profile-employer": "Leeds Teaching Hospitals NHS Trust",
        "profile-region": "ne_yorks",
        "profile-training_arrangement": "ltft",
        "profile-ltft_percent": "60",
        "profile-arrangement_starts_on": "2026-09-01",
        "profile-arrangement_ends_on": "2027-08-31",
        "profile-interests": "Perioperative care",
        "profile-help_needed": "Regulation",
        "profile-consent_to_share": "on",
        "ventures-TOTAL_FORMS": "2",
        "ventures-INITIAL_FORMS": "1",
        "ventures-MIN_NUM_FORMS": "0",
        "ventures-MAX_NUM_FORMS": "5",
        "ventures-0-id": str(existing.pk),
        "ventures-0-name": "OldCo",
        "ventures-0-summary": "Retired idea.",
        "ventures-0-stage": "idea",
        "ventures-0-sector": "digital",
        "ventures-0-DELETE": "on",
        "ventures-1-name": "GasFlow",
        "ventures-1-summary": "Smarter anaesthetic gas use.",
        "ventures-1-stage": "pilot",
        "ventures-1-sector": "medtech",
        "ventures-1-company_number": "sc123456",
    }
    response = client.post(url, data, follow=True)
    assert b"Your profile has been saved." in response.content
    with scopes_disabled():
        fellow = Fellow.objects.get(pk=fellow.pk)
        ventures = list(Venture.objects.filter(fellow=fellow).values_list("name", "company_number"))
        event = AuditEvent.objects.get(action="fellow.profile_updated")
    assert fellow.specialty == "Anaesthetics" and fellow.ltft_percent == 60
    assert fellow.consent_to_share is True
    assert ventures == [("GasFlow", "SC123456")]
    assert event.actor == fellow.user


def test_profile_bad_input_is_explained_and_nothing_is_saved(client_for, programme_a):
    fellow = _fellow(programme_a, "Careful Fellow", specialty="Before")
    client = client_for(fellow.user)
    response = client.post(
        f"/p/{programme_a.slug}/profile/",
        {
            "profile-specialty": "After",
            "profile-training_arrangement": "ltft",
            "profile-ltft_percent": "",
            "profile-arrangement_starts_on": "2027-01-01",
            "profile-arrangement_ends_on": "2026-01-01",
            "ventures-TOTAL_FORMS": "1",
            "ventures-INITIAL_FORMS": "0",
            "ventures-MIN_NUM_FORMS": "0",
            "ventures-MAX_NUM_FORMS": "5",
            "ventures-0-name": "BadCo",
            "ventures-0-summary": "x",
            "ventures-0-stage": "idea",
            "ventures-0-sector": "digital",
            "ventures-0-company_number": "12AB",
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Give the percentage of full time." in body
    assert "A Companies House number is 8 characters" in body
    assert 'value="After"' in body  # what was typed is kept
    with scopes_disabled():
        assert Fellow.objects.get(pk=fellow.pk).specialty == "Before"
        assert not Venture.objects.filter(name="BadCo").exists()


def test_mentor_edits_expertise_sectors_and_capacity(client_for, mentor_a, programme_a):
    client = client_for(mentor_a)
    response = client.post(
        f"/p/{programme_a.slug}/profile/",
        {
            "job_title": "Head of Innovation",
            "expertise": "NHS procurement",
            "sectors": ["medtech", "diagnostics"],
            "capacity": "4",
        },
        follow=True,
    )
    assert b"Your profile has been saved." in response.content
    with scopes_disabled():
        mentor = Mentor.objects.get(user=mentor_a)
    assert mentor.sectors == ["medtech", "diagnostics"] and mentor.capacity == 4
    bad = client.post(
        f"/p/{programme_a.slug}/profile/",
        {"job_title": "x", "capacity": "99", "sectors": ["astrology"]},
    )
    assert bad.status_code == 400
    assert b"There is a problem" in bad.content


def test_staff_without_a_profile_get_a_clear_page(client_for, staff_a, programme_a):
    response = client_for(staff_a).get(f"/p/{programme_a.slug}/profile/")
    assert response.status_code == 200
    assert b"You have no fellow or mentor profile" in response.content


def _profile_post(**extra):
    return {
        "profile-training_arrangement": "in_programme",
        "ventures-TOTAL_FORMS": "0",
        "ventures-INITIAL_FORMS": "0",
        "ventures-MIN_NUM_FORMS": "0",
        "ventures-MAX_NUM_FORMS": "5",
        **extra,
    }


def test_equality_answers_are_optional_private_and_not_in_the_audit_log(
    client_for, staff_a, programme_a
):
    from cohort.models import EqualityData

    fellow = _fellow(programme_a, "Private Answers")
    client = client_for(fellow.user)
    url = f"/p/{programme_a.slug}/profile/"
    # Leaving every question blank stores nothing at all.
    assert client.post(url, _profile_post()).status_code == 302
    with scopes_disabled():
        assert not EqualityData.objects.exists()
    response = client.post(
        url,
        _profile_post(**{"equality-ethnic_group": "black", "equality-age_band": "30_39"}),
    )
    assert response.status_code == 302
    with scopes_disabled():
        record = EqualityData.objects.get(fellow=fellow)
        logged = [e.changes for e in AuditEvent.objects.filter(action="fellow.profile_updated")]
    assert (record.ethnic_group, record.age_band, record.gender) == ("black", "30_39", "")
    assert "black" not in str(logged) and "30_39" not in str(logged)
    # The fellow sees their answers on their own form; staff never see them on the profile.
    assert 'value="black" checked' in client.get(url).content.decode()
    staff_view = (
        client_for(staff_a)
        .get(f"/p/{programme_a.slug}/directory/fellows/{fellow.uuid}/")
        .content.decode()
    )
    assert "Black, Black British" not in staff_view
    client = client_for(fellow.user)
    bad = client.post(url, _profile_post(**{"equality-gender": "dragon"}))
    assert bad.status_code == 400
    assert b"Select a valid choice" in bad.content
