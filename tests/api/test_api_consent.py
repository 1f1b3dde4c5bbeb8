"""Consent to share (DESIGN §5): the API names only fellows who consented, and a fellow who
withdraws consent disappears from every answer at once — no cache, no stale ETag."""

from __future__ import annotations

import pytest
from django_scopes import scope

from cohort.services import fellow_profile_update

pytestmark = pytest.mark.django_db

PLACES = ("/api/v1/fellows/", "/api/v1/ventures/", "/api/v1/forecast/ventures/")


def _shown(api, data) -> dict[str, bool]:
    fellow, venture = str(data.fellow.uuid), str(data.venture.uuid)
    fellows = api.get("/api/v1/fellows/").json()["results"]
    ventures = api.get("/api/v1/ventures/").json()["results"]
    forecasts = api.get("/api/v1/forecast/ventures/").json()["results"]
    mentor = api.get(f"/api/v1/mentors/{data.mentor.uuid}/").json()
    named = {m["uuid"]: m["fellow"] for m in mentor["mentorships"]}
    return {
        "fellows": fellow in [f["uuid"] for f in fellows],
        "fellow by uuid": api.get(f"/api/v1/fellows/{fellow}/").status_code == 200,
        "ventures": venture in [v["uuid"] for v in ventures],
        "venture by uuid": api.get(f"/api/v1/ventures/{venture}/").status_code == 200,
        "forecast": venture in [r["venture"] for r in forecasts],
        "mentorship": named[str(data.mentorship.uuid)] == data.fellow.user.full_name,
    }


def _withdraw(data):
    """As the fellow does on their profile page (cohort.views → fellow_profile_update)."""
    with scope(programme=data.programme):
        fellow_profile_update(
            fellow=data.fellow, actor=data.fellow.user, data={"consent_to_share": False}
        )


def test_a_consented_fellow_appears_everywhere_the_api_names_people(data_a, api_a1):
    assert _shown(api_a1, data_a) == dict.fromkeys(_shown(api_a1, data_a), True)


def test_withdrawing_consent_takes_the_fellow_out_of_every_answer_at_once(data_a, api_a1):
    assert all(_shown(api_a1, data_a).values())

    _withdraw(data_a)

    assert not any(_shown(api_a1, data_a).values()), _shown(api_a1, data_a)
    mentor = api_a1.get(f"/api/v1/mentors/{data_a.mentor.uuid}/").json()
    # The mentorship's status is still the mentor's; only the name goes.
    assert str(data_a.mentorship.uuid) in [m["uuid"] for m in mentor["mentorships"]]


@pytest.mark.parametrize("path", [*PLACES, "mentor"])
def test_an_old_etag_does_not_keep_a_withdrawn_fellow_on_show(path, data_a, api_a1):
    if path == "mentor":
        path = f"/api/v1/mentors/{data_a.mentor.uuid}/"
    first = api_a1.get(path)
    etag = first["ETag"]
    assert api_a1.get(path, HTTP_IF_NONE_MATCH=etag).status_code == 304

    _withdraw(data_a)

    again = api_a1.get(path, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 200
    assert again["ETag"] != etag
    assert str(data_a.fellow.uuid) not in again.content.decode()
    assert data_a.fellow.user.full_name not in again.content.decode()


def test_consent_given_later_shows_the_fellow(data_a, api_a1):
    private = data_a.private_fellow
    assert str(private.uuid) not in api_a1.get("/api/v1/fellows/").content.decode()

    with scope(programme=data_a.programme):
        fellow_profile_update(fellow=private, actor=private.user, data={"consent_to_share": True})

    assert str(private.uuid) in api_a1.get("/api/v1/fellows/").content.decode()
