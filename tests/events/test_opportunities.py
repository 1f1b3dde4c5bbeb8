"""Signposted opportunities: staff draft, publish and close them (validated, audited); fellows
see the open ones, bookmark them and record applying; and each fellow is recommended the open
ones that suit them, with the reasons, from one bounded read."""

import io
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from cohort.models import AuditEvent, Fellow
from events.models import Opportunity, OpportunityInterest
from events.selectors import (
    FellowFacts,
    VentureFacts,
    rank,
    recommended_opportunities,
    score_opportunity,
)
from events.services import (
    opportunity_bookmark,
    opportunity_close,
    opportunity_publish,
    opportunity_record_applied,
    opportunity_save,
    opportunity_withdraw_applied,
)
from pdp.models import CompetencyDomain
from pdp.services import objective_save, pdp_for_fellow

from ..factories import FellowFactory, OpportunityFactory, OrganisationFactory, VentureFactory

pytestmark = pytest.mark.django_db


def url(name, programme, **kwargs):
    return reverse(f"events:{name}", kwargs={"programme_slug": programme.slug, **kwargs})


def in_days(days: int) -> date:
    return timezone.localdate() + timedelta(days=days)


def _opportunity(programme, **fields):
    with scopes_disabled():
        return OpportunityFactory(programme=programme, **fields)


@pytest.fixture
def fellow(programme_a, fellow_a):
    """fellow_a: a nurse in London, who needs help raising investment, with a venture at the
    pilot stage in digital health."""
    with scopes_disabled():
        fellow = Fellow.objects.select_related("user").get(user=fellow_a)
        fellow.profession, fellow.region = "nurse", "london"
        fellow.help_needed = "Raising a first round of investment."
        fellow.interests = "Remote monitoring and wearables."
        fellow.save()
        VentureFactory(programme=programme_a, fellow=fellow, name="WardWatch", stage="pilot")
    return fellow


OPPORTUNITY_FORM = {
    "kind": "funding",
    "title": "Seed fund for digital health",
    "summary": "Grants for early-stage ventures.",
    "url": "https://example.org/seed",
    "opens_on": "",
    "deadline": "",
    "amount": "Up to £50,000",
    "funding": "",
    "eligibility": "",
    "tags": "Funding, AI, funding",
}


# --- staff signpost, publish and close ------------------------------------------------------------


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_staff_draft_publish_and_close_an_opportunity(staff_a, fellow, programme_a):
    with scopes_disabled():
        partner = OrganisationFactory(programme=programme_a, name="Verily")
    staff = signed_in(staff_a)
    response = staff.post(
        url("opportunity_new", programme_a),
        {
            **OPPORTUNITY_FORM,
            "organisation": partner.pk,
            "deadline": in_days(20).isoformat(),
            "professions": ["nurse", "doctor"],
            "stages": ["pilot"],
        },
    )
    assert response.status_code == 302
    with scopes_disabled():
        opportunity = Opportunity.objects.get()
        assert opportunity.status == "draft" and opportunity.created_by == staff_a
        assert opportunity.tags == ["Funding", "AI"]  # tidied: each once, in order
        assert opportunity.professions == ["nurse", "doctor"]
    detail = url("opportunity", programme_a, opportunity_uuid=opportunity.uuid)
    fellow_client = signed_in(fellow.user)
    assert fellow_client.get(detail).status_code == 404  # a draft is staff's only
    assert "Seed fund" not in fellow_client.get(url("opportunities", programme_a)).text

    published = staff.post(
        url("opportunity_publish", programme_a, opportunity_uuid=opportunity.uuid), follow=True
    )
    assert "has been published" in published.text
    page = fellow_client.get(detail)
    assert page.status_code == 200 and "Closes in 20 days" in page.text
    assert "Verily" in page.text and "Up to £50,000" in page.text
    assert "Seed fund" in fellow_client.get(url("opportunities", programme_a)).text

    close = url("opportunity_close", programme_a, opportunity_uuid=opportunity.uuid)
    refused = staff.post(close, {"reason": "  "})
    assert refused.status_code == 400 and "Say why the opportunity is closing." in refused.text
    with scopes_disabled():
        assert Opportunity.objects.get().status == "published"
    assert staff.post(close, {"reason": "All places filled"}).status_code == 302
    assert "All places filled" in staff.get(detail).text
    assert "Seed fund" not in fellow_client.get(url("opportunities", programme_a)).text
    assert "no longer taking applications" in fellow_client.get(detail).text
    with scopes_disabled():
        opportunity = Opportunity.objects.get()
        assert opportunity.status == "closed" and opportunity.closed_at is not None
        actions = list(
            AuditEvent.objects.filter(target_id=str(opportunity.uuid))
            .order_by("occurred_at", "id")
            .values_list("action", flat=True)
        )
        assert actions == ["opportunity.created", "opportunity.published", "opportunity.closed"]
        closed = AuditEvent.objects.get(action="opportunity.closed")
        assert closed.changes["reason"] == "All places filled" and closed.actor == staff_a


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"opens_on": "2030-05-01", "deadline": "2030-04-01"},
            "deadline",
            "The deadline must be on or after the day it opens.",
        ),
        (
            {"funding": "partner"},
            "funding",
            "Only internships and placements are partner-funded or self-funding.",
        ),
        ({"professions": ["surgeon"]}, "professions", "Choose professions from the list."),
        ({"sectors": ["space"]}, "sectors", "Choose sectors from the list."),
        ({"stages": ["unicorn"]}, "stages", "Choose venture stages from the list."),
        ({"regions": ["mars"]}, "regions", "Choose NHS regions from the list."),
        ({"deadline": "31/02/2030"}, "deadline", "Enter a real date"),
        ({"url": "not a link"}, "url", "Enter a web address"),
        ({"kind": "lottery"}, "kind", "Select a valid choice"),
        ({"summary": ""}, "summary", "Say what the opportunity offers."),
        ({"tags": ",".join(f"t{n}" for n in range(13))}, "tags", "Give at most 12 tags."),
        ({"tags": "x" * 41}, "tags", "Keep each tag to 40 characters"),
        ({"organisation": "999999"}, "organisation", "Choose an organisation from the list."),
    ],
)
def test_a_bad_opportunity_is_refused_at_its_field_and_nothing_typed_is_lost(
    client_for, staff_a, programme_a, changes, field, message
):
    response = client_for(staff_a).post(
        url("opportunity_new", programme_a), {**OPPORTUNITY_FORM, **changes}
    )
    assert response.status_code == 400
    assert message in response.text
    assert response.context["form"].errors[field]
    assert "nhsuk-error-summary" in response.text
    if "summary" not in changes:
        assert "Grants for early-stage ventures." in response.text
    assert "Seed fund for digital health" in response.text
    with scopes_disabled():
        assert not Opportunity.objects.exists()


def test_an_internship_says_who_pays(client_for, staff_a, programme_a):
    response = client_for(staff_a).post(
        url("opportunity_new", programme_a),
        {**OPPORTUNITY_FORM, "kind": "internship", "funding": "self"},
    )
    assert response.status_code == 302
    with scopes_disabled():
        assert Opportunity.objects.get().get_funding_display() == "Self-funding"


def test_the_service_checks_what_the_form_would(programme_a, programme_b, staff_a):
    with scopes_disabled():
        elsewhere = OrganisationFactory(programme=programme_b)
    base = {k: v for k, v in OPPORTUNITY_FORM.items() if k not in {"opens_on", "deadline"}}
    with scope(programme=programme_a):
        for data, field in [
            ({**base, "sectors": ["space"]}, "sectors"),
            ({**base, "organisation": elsewhere}, "organisation"),
            ({**base, "professions": "nurse"}, "professions"),  # not a list
            ({**base, "opens_on": in_days(5), "deadline": in_days(1)}, "deadline"),
        ]:
            with pytest.raises(ValidationError) as error:
                opportunity_save(programme=programme_a, actor=staff_a, data=data)
            assert field in error.value.error_dict
    with scopes_disabled():
        assert not Opportunity.objects.exists()


def test_staff_change_an_opportunity_and_the_change_is_audited(client_for, staff_a, programme_a):
    opportunity = _opportunity(programme_a, title="Old", tags=["ai"])
    client = client_for(staff_a)
    edit = url("opportunity_edit", programme_a, opportunity_uuid=opportunity.uuid)
    page = client.get(edit)
    assert 'value="ai"' in page.text  # the tags come back as the staff typed them
    form = {**OPPORTUNITY_FORM, "title": "New", "deadline": in_days(9).isoformat()}
    assert client.post(edit, form).status_code == 302
    assert client.post(edit, form).status_code == 302
    with scopes_disabled():
        changed = AuditEvent.objects.filter(action="opportunity.changed")
        assert changed.count() == 1 and changed.get().changes["title"] == ["Old", "New"]
        assert Opportunity.objects.get().status == "published"  # editing does not unpublish


def test_publishing_refuses_a_passed_deadline_and_a_second_publish(
    client_for, staff_a, programme_a
):
    late = _opportunity(programme_a, status="draft", deadline=in_days(-1))
    live = _opportunity(programme_a)
    client = client_for(staff_a)
    response = client.post(
        url("opportunity_publish", programme_a, opportunity_uuid=late.uuid), follow=True
    )
    assert "Its deadline has passed" in response.text
    response = client.post(
        url("opportunity_publish", programme_a, opportunity_uuid=live.uuid), follow=True
    )
    assert "already published" in response.text
    with scope(programme=programme_a):
        closed = opportunity_close(opportunity=live, actor=staff_a, reason="Paused")
        with pytest.raises(ValidationError, match="already closed"):
            opportunity_close(opportunity=closed, actor=staff_a, reason="Again")
        assert opportunity_publish(opportunity=closed, actor=staff_a).status == "published"
    with scopes_disabled():
        assert Opportunity.objects.get(pk=late.pk).status == "draft"
        assert AuditEvent.objects.filter(action="opportunity.reopened").count() == 1


def test_only_staff_signpost_publish_and_close(client_for, fellow_a, mentor_a, programme_a):
    opportunity = _opportunity(programme_a, status="draft")
    for user in (fellow_a, mentor_a):
        client = client_for(user)
        assert client.get(url("opportunity_new", programme_a)).status_code == 403
        for name, data in [
            ("opportunity_publish", {}),
            ("opportunity_close", {"reason": "Mine now"}),
            ("opportunity_edit", OPPORTUNITY_FORM),
        ]:
            response = client.post(url(name, programme_a, opportunity_uuid=opportunity.uuid), data)
            assert response.status_code == 403
    with scopes_disabled():
        assert Opportunity.objects.get().status == "draft"


# --- the list -------------------------------------------------------------------------------------


def _titles(response) -> set[str]:
    return {o.title for o in response.context["page"].object_list}


@pytest.fixture
def board(programme_a):
    return {
        "open": _opportunity(programme_a, title="Open call", tags=["AI", "Funding"]),
        "rolling": _opportunity(
            programme_a, title="Rolling placement", kind="internship", deadline=None
        ),
        "today": _opportunity(programme_a, title="Closes today", deadline=in_days(0)),
        "passed": _opportunity(programme_a, title="Deadline passed", deadline=in_days(-1)),
        "closed": _opportunity(programme_a, title="Closed early", status="closed"),
        "draft": _opportunity(programme_a, title="A draft", status="draft"),
        "later": _opportunity(programme_a, title="Opens later", opens_on=in_days(3)),
    }


def test_members_see_the_open_ones_and_the_rest_drop_out_by_themselves(
    client_for, fellow_a, mentor_a, board, programme_a
):
    for user in (fellow_a, mentor_a):
        page = client_for(user).get(url("opportunities", programme_a))
        assert _titles(page) == {"Open call", "Rolling placement", "Closes today"}
    page = client_for(fellow_a).get(url("opportunities", programme_a))
    assert "Rolling: apply any time" in page.text and "Closes today" in page.text


def test_tomorrow_todays_call_has_gone(client_for, fellow_a, board, programme_a):
    with scope(programme=programme_a):
        tomorrow = Opportunity.objects.filter(Opportunity.open_q(in_days(1)))
        assert "Closes today" not in {o.title for o in tomorrow}


def test_staff_list_every_status_and_may_ask_for_one(client_for, staff_a, board, programme_a):
    client = client_for(staff_a)
    everything = client.get(url("opportunities", programme_a))
    assert _titles(everything) == {o.title for o in board.values()}
    assert "Draft" in everything.text and "Closed" in everything.text
    # The soonest deadline first, rolling calls last, the same on every database.
    titles = [o.title for o in everything.context["page"].object_list]
    assert titles[0] == "Deadline passed" and titles[-1] == "Rolling placement"
    assert _titles(client.get(url("opportunities", programme_a), {"status": "open"})) == {
        "Open call",
        "Rolling placement",
        "Closes today",
    }
    assert _titles(client.get(url("opportunities", programme_a), {"status": "draft"})) == {
        "A draft"
    }


def test_a_fellow_asking_for_drafts_gets_the_open_list(client_for, fellow_a, board, programme_a):
    page = client_for(fellow_a).get(url("opportunities", programme_a), {"status": "draft"})
    assert _titles(page) == {"Open call", "Rolling placement", "Closes today"}


def test_the_list_filters_by_kind_and_tag(client_for, fellow_a, board, programme_a):
    client = client_for(fellow_a)
    kind = client.get(url("opportunities", programme_a), {"kind": "internship"})
    assert _titles(kind) == {"Rolling placement"}
    tag = client.get(url("opportunities", programme_a), {"tag": "ai"})
    assert _titles(tag) == {"Open call"}
    assert '<option value="funding"' in tag.text  # the tags on offer, in lower case
    assert _titles(client.get(url("opportunities", programme_a), {"tag": "Unheard of"})) == set()


@pytest.mark.parametrize(
    "params",
    [{"kind": "lottery"}, {"status": "everything"}, {"tag": "x" * 300}, {"page": "0"}],
)
def test_a_bad_list_filter_never_fails(client_for, fellow_a, staff_a, board, programme_a, params):
    for user in (fellow_a, staff_a):
        response = client_for(user).get(url("opportunities", programme_a), params)
        assert response.status_code == 200


def test_bookmarked_and_applied_lists_keep_a_fellows_own_after_they_close(
    client_for, fellow, staff_a, board, programme_a
):
    with scope(programme=programme_a):
        opportunity_bookmark(opportunity=board["open"], user=fellow.user)
        opportunity_record_applied(opportunity=board["rolling"], user=fellow.user)
        opportunity_close(opportunity=board["open"], actor=staff_a, reason="Filled")
    client = client_for(fellow.user)
    assert _titles(client.get(url("opportunities", programme_a), {"bookmarked": "on"})) == {
        "Open call"
    }
    applied = client.get(url("opportunities", programme_a), {"applied": "on"})
    assert _titles(applied) == {"Rolling placement"} and "You applied" in applied.text
    assert "Open call" not in client.get(url("opportunities", programme_a)).text


def test_the_list_reads_a_fixed_number_of_queries(client_for, fellow, staff_a, programme_a):
    def add(count):
        for n in range(count):
            opportunity = _opportunity(
                programme_a,
                organisation=OrganisationFactory(programme=programme_a),
                tags=[f"tag {n}", "funding"],
            )
            with scope(programme=programme_a):
                opportunity_bookmark(opportunity=opportunity, user=fellow.user)

    def count(user, params):
        client = client_for(user)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url("opportunities", programme_a), params).status_code == 200
        return len(queries)

    add(2)
    cases = [(fellow.user, {}), (fellow.user, {"tag": "funding"}), (staff_a, {})]
    few = [count(user, params) for user, params in cases]
    add(15)
    assert [count(user, params) for user, params in cases] == few


def test_another_programmes_member_finds_nothing(
    client_for, fellow_b, staff_b, programme_a, programme_b
):
    opportunity = _opportunity(programme_a)
    for user in (fellow_b, staff_b):
        client = client_for(user)
        assert client.get(url("opportunities", programme_a)).status_code == 404
        for programme in (programme_a, programme_b):
            detail = url("opportunity", programme, opportunity_uuid=opportunity.uuid)
            assert client.get(detail).status_code == 404
            bookmark = url("opportunity_bookmark", programme, opportunity_uuid=opportunity.uuid)
            assert client.post(bookmark).status_code == 404
    with scopes_disabled():
        assert not OpportunityInterest.objects.exists()


# --- fellows bookmark and record applying ---------------------------------------------------------


def test_a_fellow_bookmarks_once_and_takes_it_off(client_for, fellow, programme_a):
    opportunity = _opportunity(programme_a, title="Worth keeping")
    client = client_for(fellow.user)
    bookmark = url("opportunity_bookmark", programme_a, opportunity_uuid=opportunity.uuid)
    first = client.post(bookmark, follow=True)
    assert "You bookmarked “Worth keeping”" in first.text and "Remove the bookmark" in first.text
    again = client.post(bookmark, follow=True)
    assert "was already bookmarked" in again.text
    with scopes_disabled():
        interest = OpportunityInterest.objects.get()
        assert interest.bookmarked_at and interest.programme == programme_a
        assert AuditEvent.objects.filter(action="opportunity.bookmarked").count() == 1
    client.post(url("opportunity_unbookmark", programme_a, opportunity_uuid=opportunity.uuid))
    with scopes_disabled():
        assert not OpportunityInterest.objects.exists()  # nothing left to keep


def test_a_bookmark_returns_to_the_page_it_was_made_on(client_for, fellow, programme_a):
    opportunity = _opportunity(programme_a)
    home = reverse("cohort:home", kwargs={"programme_slug": programme_a.slug})
    response = client_for(fellow.user).post(
        url("opportunity_bookmark", programme_a, opportunity_uuid=opportunity.uuid),
        {"next": home},
    )
    assert response["Location"] == home


def test_a_closed_opportunity_cannot_be_bookmarked(client_for, fellow, programme_a):
    closed = _opportunity(programme_a, status="closed")
    passed = _opportunity(programme_a, deadline=in_days(-2))
    client = client_for(fellow.user)
    for opportunity in (closed, passed):
        response = client.post(
            url("opportunity_bookmark", programme_a, opportunity_uuid=opportunity.uuid),
            follow=True,
        )
        assert response.status_code == 200 and "not open, so it cannot be bookmarked" in (
            response.text
        )
    with scopes_disabled():
        assert not OpportunityInterest.objects.exists()


def test_only_fellows_bookmark_and_apply(client_for, mentor_a, staff_a, programme_a):
    opportunity = _opportunity(programme_a)
    for user in (mentor_a, staff_a):
        client = client_for(user)
        for name in ("opportunity_bookmark", "opportunity_applied"):
            response = client.post(
                url(name, programme_a, opportunity_uuid=opportunity.uuid), follow=True
            )
            assert "Only fellows bookmark opportunities" in response.text
        page = client.get(url("opportunity", programme_a, opportunity_uuid=opportunity.uuid))
        assert "Your interest" not in page.text
    with scopes_disabled():
        assert not OpportunityInterest.objects.exists()


def test_a_fellow_records_applying_with_a_note_and_can_undo_it(client_for, fellow, programme_a):
    opportunity = _opportunity(programme_a, title="Seed fund")
    client = client_for(fellow.user)
    applied = url("opportunity_applied", programme_a, opportunity_uuid=opportunity.uuid)
    response = client.post(applied, {"note": "Reference SF-12"}, follow=True)
    assert "You have recorded that you applied to “Seed fund”" in response.text
    assert "Reference SF-12" in response.text
    client.post(applied, {"note": "Reference SF-12"})  # the same again: nothing changes
    client.post(applied, {"note": "Interview on 3 May"})
    with scopes_disabled():
        interest = OpportunityInterest.objects.get()
        assert interest.applied_at and interest.note == "Interview on 3 May"
        assert list(
            AuditEvent.objects.filter(target_id=str(opportunity.uuid))
            .order_by("occurred_at", "id")
            .values_list("action", flat=True)
        ) == ["opportunity.applied", "opportunity.applied_note"]
    undo = url("opportunity_applied_undo", programme_a, opportunity_uuid=opportunity.uuid)
    assert "no longer marked as applied" in client.post(undo, follow=True).text
    with scopes_disabled():
        assert not OpportunityInterest.objects.exists()


def test_a_note_too_long_is_refused_at_its_field(client_for, fellow, programme_a):
    opportunity = _opportunity(programme_a)
    response = client_for(fellow.user).post(
        url("opportunity_applied", programme_a, opportunity_uuid=opportunity.uuid),
        {"note": "x" * 501},
    )
    assert response.status_code == 400
    assert "Keep the note to 500 characters." in response.text
    assert "nhsuk-error-summary" in response.text and "<title>Error:" in response.text
    with scopes_disabled():
        assert not OpportunityInterest.objects.exists()


def test_applying_is_idempotent_in_the_service(programme_a, fellow):
    opportunity = _opportunity(programme_a)
    with scope(programme=programme_a):
        assert opportunity_record_applied(opportunity=opportunity, user=fellow.user)
        assert not opportunity_record_applied(opportunity=opportunity, user=fellow.user)
        assert opportunity_withdraw_applied(opportunity=opportunity, user=fellow.user)
        assert not opportunity_withdraw_applied(opportunity=opportunity, user=fellow.user)
        assert not opportunity_bookmark(opportunity=opportunity, user=fellow.user, bookmarked=False)
        draft = _opportunity(programme_a, status="draft")
        with pytest.raises(ValidationError, match="not published"):
            opportunity_record_applied(opportunity=draft, user=fellow.user)


# --- recommendations ------------------------------------------------------------------------------

FACTS = FellowFacts(
    profession="nurse",
    region="london",
    needs=frozenset({"investment"}),
    interests="Remote monitoring and wearables.",
    ventures=(VentureFacts(name="WardWatch", stage="pilot", sector="digital"),),
    plan_topics=(("evidence", "Run a pilot on two wards"),),
)


def _unsaved(**fields) -> Opportunity:
    defaults = {"kind": "education", "title": "A course", "summary": "Something to learn."}
    return Opportunity(pk=fields.pop("pk", 1), **{**defaults, **fields})


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"stages": ["pilot", "evidence"]}, "For ventures at the pilot stage — WardWatch is"),
        ({"sectors": ["digital"]}, "For ventures in digital health and apps — like WardWatch"),
        ({"professions": ["nurse", "midwife"]}, "Open to nurses"),
        ({"regions": ["london"]}, "In your region: London"),
        ({"kind": "funding"}, "Matches what you need help with: raising investment"),
        ({"summary": "Evaluate your pilot."}, "Supports your plan's objective “Run a pilot"),
        ({"tags": ["Wearables"]}, "Matches your interests: wearables"),
    ],
)
def test_each_match_carries_its_reason(fields, reason):
    recommendation = score_opportunity(_unsaved(**fields), FACTS, today=date(2026, 11, 1))
    assert recommendation is not None
    assert any(r.startswith(reason) for r in recommendation.reasons), recommendation.reasons


def test_urgency_is_a_reason_only_with_a_match():
    today = date(2026, 11, 1)
    soon = score_opportunity(
        _unsaved(kind="funding", deadline=today + timedelta(days=5)), FACTS, today=today
    )
    assert soon.reasons[-1] == "Closes in 5 days" and soon.days_left == 5
    last_day = score_opportunity(_unsaved(kind="funding", deadline=today), FACTS, today=today)
    assert last_day.reasons[-1] == "Closes today"
    # Nothing about it matches the fellow: closing soon alone is no reason to recommend it.
    assert (
        score_opportunity(_unsaved(deadline=today + timedelta(days=1)), FACTS, today=today) is None
    )


def test_a_fellow_outside_the_named_professions_is_not_eligible():
    only_doctors = _unsaved(kind="funding", professions=["doctor"], stages=["pilot"])
    assert score_opportunity(only_doctors, FACTS, today=date(2026, 11, 1)) is None


def test_ranking_is_best_first_then_soonest_then_title():
    today = date(2026, 11, 1)
    made = [
        score_opportunity(_unsaved(pk=pk, **fields), FACTS, today=today)
        for pk, fields in enumerate(
            [
                {"title": "B rolling", "kind": "funding"},
                {"title": "A rolling", "kind": "funding"},
                {"title": "Late", "kind": "funding", "deadline": date(2027, 1, 1)},
                {"title": "Strong", "stages": ["pilot"], "sectors": ["digital"]},
            ],
            start=1,
        )
    ]
    assert [r.opportunity.title for r in rank(made)] == ["Strong", "Late", "A rolling", "B rolling"]
    assert rank(list(reversed(made))) == rank(made)


def test_recommendations_leave_out_what_a_fellow_cannot_or_need_not_apply_to(
    programme_a, fellow, staff_a
):
    def funding(title, **fields):
        return _opportunity(programme_a, title=title, stages=["pilot"], **fields)

    funding("Right for her", deadline=in_days(5), regions=["london"])
    funding("Rolling and right", deadline=None)
    funding("For doctors only", professions=["doctor"])
    funding("Deadline passed", deadline=in_days(-1))
    funding("Not open yet", opens_on=in_days(2))
    funding("A draft", status="draft")
    closed = funding("Closed early")
    applied = funding("Already applied")
    _opportunity(programme_a, title="Nothing in common", kind="education", summary="Knitting.")
    with scope(programme=programme_a):
        opportunity_close(opportunity=closed, actor=staff_a, reason="Filled")
        opportunity_record_applied(opportunity=applied, user=fellow.user)
        found = recommended_opportunities(programme=programme_a, fellow=fellow)
    assert [r.opportunity.title for r in found] == ["Right for her", "Rolling and right"]
    best = found[0]
    assert best.reasons == (
        "For ventures at the pilot stage — WardWatch is",
        "Matches what you need help with: raising investment",
        "In your region: London",
        "Closes in 5 days",
    )


def test_the_plan_informs_recommendations(programme_a, fellow):
    with scopes_disabled():
        domain = CompetencyDomain.objects.create(
            programme=programme_a, name="Regulation and governance"
        )
    with scope(programme=programme_a):
        objective_save(
            pdp=pdp_for_fellow(fellow=fellow),
            actor=fellow.user,
            data={
                "title": "Get ready for UKCA marking",
                "measure": "A technical file.",
                "target_date": date(2027, 3, 31),
                "domain": domain,
            },
        )
    _opportunity(programme_a, title="Regulatory clinic", kind="education", summary="MHRA advice.")
    with scope(programme=programme_a):
        found = recommended_opportunities(programme=programme_a, fellow=fellow)
    assert [r.reasons for r in found] == [
        ("Supports your plan's objective “Get ready for UKCA marking”",)
    ]


def test_her_home_page_reads_her_plan_once_for_its_card_and_her_recommendations(
    client_for, programme_a, fellow
):
    """The plan card reads her objectives with their domains onto her; the recommendations
    match against those, leaving out the achieved ones, as the query they replace did."""
    with scopes_disabled():
        domain = CompetencyDomain.objects.create(
            programme=programme_a, name="Regulation and governance"
        )
    with scope(programme=programme_a):
        pdp = pdp_for_fellow(fellow=fellow)
        for title in ("Get ready for UKCA marking", "Pass the MHRA audit"):
            objective_save(
                pdp=pdp,
                actor=fellow.user,
                data={
                    "title": title,
                    "measure": "A technical file.",
                    "target_date": date(2027, 3, 31),
                    "domain": domain,
                },
            )
        pdp.objectives.filter(title="Pass the MHRA audit").update(status="achieved")
    _opportunity(programme_a, title="Regulatory clinic", kind="education", summary="MHRA advice.")
    url = reverse("cohort:home", kwargs={"programme_slug": programme_a.slug})
    with CaptureQueriesContext(connection) as captured:
        home = client_for(fellow.user).get(url)
    queries = captured.captured_queries
    objective_rows = [q for q in queries if q["sql"].startswith('SELECT "pdp_objective"."id"')]
    assert len(objective_rows) == 1
    assert "objective “Get ready for UKCA marking”" in home.text
    assert "Pass the MHRA audit”" not in home.text


def test_recommendations_read_a_fixed_number_of_queries(programme_a, fellow):
    def add(count):
        for n in range(count):
            _opportunity(
                programme_a,
                title=f"Call {n}",
                stages=["pilot"],
                organisation=OrganisationFactory(programme=programme_a),
            )

    def count():
        with scope(programme=programme_a), CaptureQueriesContext(connection) as queries:
            found = recommended_opportunities(programme=programme_a, fellow=fellow, limit=4)
        return len(queries), len(found)

    add(3)
    few, shown = count()
    add(30)
    many, shown_now = count()
    assert many == few and shown == 3 and shown_now == 4


def test_the_fellows_home_page_recommends_with_reasons(client_for, fellow, programme_a):
    _opportunity(programme_a, title="Pilot fund", stages=["pilot"], deadline=in_days(3))
    home = client_for(fellow.user).get(
        reverse("cohort:home", kwargs={"programme_slug": programme_a.slug})
    )
    assert "Opportunities for you" in home.text and "Pilot fund" in home.text
    assert "For ventures at the pilot stage — WardWatch is" in home.text
    assert "Closes in 3 days" in home.text
    assert "See all opportunities" in home.text


def test_the_home_page_marks_her_own_bookmarks_only(client_for, fellow, programme_a):
    mine = _opportunity(programme_a, title="Pilot fund", stages=["pilot"], deadline=in_days(3))
    theirs = _opportunity(programme_a, title="Scale fund", stages=["pilot"], deadline=in_days(9))
    with scopes_disabled():
        another = FellowFactory(programme=programme_a, cohort=fellow.cohort).user
    with scope(programme=programme_a):
        opportunity_bookmark(opportunity=mine, user=fellow.user)
        opportunity_bookmark(opportunity=theirs, user=another)
        found = recommended_opportunities(programme=programme_a, fellow=fellow)
    assert [(r.opportunity.title, bool(r.opportunity.my_bookmarked_at)) for r in found] == [
        ("Pilot fund", True),
        ("Scale fund", False),
    ]
    home = client_for(fellow.user).get(
        reverse("cohort:home", kwargs={"programme_slug": programme_a.slug})
    )
    assert home.text.count("Bookmarked</strong>") == 1


def test_the_home_page_says_so_when_nothing_matches(client_for, fellow, programme_a):
    _opportunity(programme_a, title="Knitting circle", kind="education", summary="Wool.")
    home = client_for(fellow.user).get(
        reverse("cohort:home", kwargs={"programme_slug": programme_a.slug})
    )
    assert "No open opportunity matches your profile right now." in home.text
    assert "Knitting circle" not in home.text


def test_the_opportunity_page_tells_a_fellow_why_or_why_not(client_for, fellow, programme_a):
    suits = _opportunity(programme_a, title="Suits", stages=["pilot"])
    doctors = _opportunity(programme_a, title="Doctors", professions=["doctor"])
    client = client_for(fellow.user)
    page = client.get(url("opportunity", programme_a, opportunity_uuid=suits.uuid))
    assert "Why it may suit you" in page.text
    page = client.get(url("opportunity", programme_a, opportunity_uuid=doctors.uuid))
    assert "Not open to your profession" in page.text and "for Doctor only" in page.text


# --- the demo -------------------------------------------------------------------------------------


def test_the_demo_library_and_opportunities_load_twice_the_same():
    from django.core.management import call_command

    from cohort.models import Programme
    from events.models import Resource, ResourceDomain, ResourceObjective

    models = [Resource, ResourceDomain, ResourceObjective, Opportunity, OpportunityInterest]

    def counts():
        with scopes_disabled():
            return {m.__name__: m.objects.count() for m in models} | {
                "audit": AuditEvent.objects.count()
            }

    call_command("seed_demo", stdout=io.StringIO())
    first = counts()
    call_command("seed_demo", stdout=io.StringIO())
    assert counts() == first
    cep = Programme.objects.get(slug="cep")
    with scope(programme=cep):
        assert Resource.objects.filter(programme=cep).count() >= 15
        modules = Resource.objects.filter(programme=cep, kind="module")
        assert {m.credit_level for m in modules} == {"pgcert", "pgdip", "masters"}
        assert not Resource.objects.filter(programme=cep, domains__isnull=True).exists()
        fellow = Fellow.objects.select_related("user").get(
            programme=cep, user__email="fellow@cep.example"
        )
        assert ResourceObjective.objects.filter(objective__pdp__fellow=fellow).count() == 2
        mine = OpportunityInterest.objects.filter(user=fellow.user)
        assert mine.filter(bookmarked_at__isnull=False).count() == 1
        assert mine.filter(applied_at__isnull=False).count() == 1
        statuses = set(Opportunity.objects.filter(programme=cep).values_list("status", flat=True))
        assert statuses == {"draft", "published", "closed"}
        assert Opportunity.objects.filter(programme=cep, deadline__lt=in_days(0)).exists()
        assert Opportunity.objects.filter(programme=cep, deadline__isnull=True).exists()
        found = recommended_opportunities(programme=cep, fellow=fellow)
    assert len(found) >= 3
    assert all(r.reasons for r in found)
    reasons = {reason for r in found for reason in r.reasons}
    assert "In your region: London" in reasons
    assert any(reason.startswith("Closes in") for reason in reasons)
    assert "Matches what you need help with: raising investment" in reasons
