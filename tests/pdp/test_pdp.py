"""The fellow's Personal Development Plan: SMART objectives with actions and evidence,
progress derived from them, the mentor's agreement, every change kept, and who may see what."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from cohort.models import Role
from notifications.models import Notification
from pdp.models import PDP, CompetencyDomain, Objective, PDPChange
from pdp.services import (
    action_add,
    action_toggle,
    fulfilment,
    objective_save,
    objective_set_status,
    pdp_for_fellow,
    pdp_review,
    pdp_submit,
)

from ..factories import (
    FellowFactory,
    MembershipFactory,
    MentorFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def url(name, programme, **kwargs):
    return reverse(f"pdp:{name}", kwargs={"programme_slug": programme.slug, **kwargs})


OBJECTIVE = {
    "title": "Run a pilot on two wards",
    "rationale": "To show the benefit.",
    "measure": "A pilot report approved by the audit team.",
    "target_date": "2027-05-31",
}


def test_the_fellow_writes_an_objective_in_the_browser(client_for, fellow, programme_a, domains):
    client = client_for(fellow.user)
    page = client.get(url("mine", programme_a))
    assert page.status_code == 200 and "Your Personal Development Plan" in page.text
    with scopes_disabled():
        pdp = PDP.objects.get(fellow=fellow)
    detail = url("detail", programme_a, pdp_uuid=pdp.uuid)
    new = url("objective_new", programme_a, pdp_uuid=pdp.uuid)
    response = client.post(new, {**OBJECTIVE, "domain": str(domains[1].pk)})
    assert response.status_code == 302
    page = client.get(detail)
    assert "Run a pilot on two wards" in page.text and "Evidence and evaluation" in page.text


def test_an_objective_needs_a_measure_and_a_date_and_keeps_what_was_typed(
    client_for, fellow, programme_a, domains
):
    client = client_for(fellow.user)
    client.get(url("mine", programme_a))
    with scopes_disabled():
        pdp = PDP.objects.get(fellow=fellow)
    response = client.post(
        url("objective_new", programme_a, pdp_uuid=pdp.uuid),
        {"title": "Kept title", "rationale": "Kept why", "measure": "", "target_date": ""},
    )
    assert response.status_code == 400
    assert "Say how you will know the objective is done." in response.text
    assert "Give a target date." in response.text
    assert "Choose the competency domain it develops." in response.text
    assert "Kept title" in response.text and "Kept why" in response.text
    with scopes_disabled():
        assert not Objective.objects.exists()


def test_a_domain_of_another_programme_is_refused(programme_b, plan, fellow):
    pdp, objective = plan
    other = CompetencyDomain.objects.create(programme=programme_b, name="Elsewhere")
    with scope(programme=pdp.programme), pytest.raises(Exception, match="this programme"):
        objective_save(pdp=pdp, actor=fellow.user, objective=objective, data={"domain": other})


def test_progress_is_derived_from_actions_and_status_never_typed(plan, fellow, domains):
    pdp, objective = plan
    with scope(programme=pdp.programme):
        first = action_add(objective=objective, actor=fellow.user, text="Build the model")
        action_add(objective=objective, actor=fellow.user, text="Pitch at the investor day")
        assert Objective.objects.get(pk=objective.pk).progress == 0
        action_toggle(action=first, actor=fellow.user)
        assert Objective.objects.get(pk=objective.pk).progress == 50
        second = objective_save(
            pdp=pdp,
            actor=fellow.user,
            data={**OBJECTIVE, "target_date": date(2027, 5, 31), "domain": domains[1]},
        )
        assert fulfilment(list(pdp.objectives.all())) == 25  # (50 + 0) / 2
        objective_set_status(objective=second, actor=fellow.user, status="achieved")
        assert fulfilment(list(pdp.objectives.all())) == 75
        with pytest.raises(Exception, match="Say why"):
            objective_set_status(objective=second, actor=fellow.user, status="dropped")
        objective_set_status(
            objective=second, actor=fellow.user, status="dropped", reason="Trust said no."
        )
        # A dropped objective no longer counts.
        assert fulfilment(list(pdp.objectives.all())) == 50


def test_actions_status_and_evidence_in_the_browser(client_for, fellow, programme_a, plan):
    pdp, objective = plan
    client = client_for(fellow.user)
    detail = url("detail", programme_a, pdp_uuid=pdp.uuid)
    prefix = f"a-{objective.uuid}"
    response = client.post(
        url("action_add", programme_a, objective_uuid=objective.uuid), {f"{prefix}-text": ""}
    )
    assert response.status_code == 400 and "Describe the action." in response.text
    client.post(
        url("action_add", programme_a, objective_uuid=objective.uuid),
        {f"{prefix}-text": "Build the model"},
    )
    with scopes_disabled():
        action = objective.actions.get()
    client.post(url("action_toggle", programme_a, action_uuid=action.uuid))
    page = client.get(detail)
    assert "100% fulfilled" in page.text  # one action, done
    e = f"e-{objective.uuid}"
    response = client.post(
        url("evidence_add", programme_a, objective_uuid=objective.uuid),
        {f"{e}-kind": "link", f"{e}-title": "Kept evidence title", f"{e}-url": ""},
    )
    assert response.status_code == 400
    assert "Give the address of the link" in response.text
    assert "Kept evidence title" in response.text
    client.post(
        url("evidence_add", programme_a, objective_uuid=objective.uuid),
        {f"{e}-kind": "note", f"{e}-title": "Model reviewed", f"{e}-note": "By my mentor."},
    )
    s = f"s-{objective.uuid}"
    response = client.post(
        url("objective_status", programme_a, objective_uuid=objective.uuid),
        {f"{s}-status": "dropped", f"{s}-reason": ""},
    )
    assert (
        response.status_code == 400 and "Say why the objective is being dropped." in response.text
    )
    page = client.get(detail)
    assert "Model reviewed" in page.text


def test_submit_then_the_mentor_returns_and_agrees(client_for, programme_a, fellow, mentor, plan):
    pdp, objective = plan
    fellow_client = client_for(fellow.user)
    assert fellow_client.post(url("submit", programme_a, pdp_uuid=pdp.uuid)).status_code == 302
    pdp.refresh_from_db()
    assert pdp.status == PDP.Status.SUBMITTED
    with scopes_disabled():
        assert Notification.objects.filter(recipient=mentor, kind="sign_off_request").exists()
    mentor_client = client_for(mentor)
    review = url("review", programme_a, pdp_uuid=pdp.uuid)
    response = mentor_client.post(review, {"decision": "return", "comments": ""})
    assert response.status_code == 400 and "Say what the fellow should change." in response.text
    mentor_client.post(review, {"decision": "return", "comments": "Make it measurable."})
    pdp.refresh_from_db()
    assert pdp.status == PDP.Status.RETURNED
    # (client_for signs the one test client in as each person in turn.)
    fellow_client = client_for(fellow.user)
    page = fellow_client.get(url("detail", programme_a, pdp_uuid=pdp.uuid))
    assert "Make it measurable." in page.text
    resubmitted = fellow_client.post(url("submit", programme_a, pdp_uuid=pdp.uuid), follow=True)
    assert "sent to your mentor" in resubmitted.text
    mentor_client = client_for(mentor)
    assert mentor_client.post(review, {"decision": "agree", "comments": ""}).status_code == 302
    pdp.refresh_from_db()
    assert pdp.status == PDP.Status.AGREED and pdp.agreed_by == mentor
    # A later change to an agreed objective shows as a change since agreement.
    fellow_client = client_for(fellow.user)
    fellow_client.post(
        url("objective_edit", programme_a, pdp_uuid=pdp.uuid, objective_uuid=objective.uuid),
        {
            "title": objective.title,
            "measure": objective.measure,
            "target_date": "2027-06-30",
            "domain": str(objective.domain_id),
        },
    )
    page = fellow_client.get(url("detail", programme_a, pdp_uuid=pdp.uuid))
    assert (
        "Changed since agreement" in page.text
        and "Date changed since the plan was agreed" in page.text
    )
    history = fellow_client.get(url("history", programme_a, pdp_uuid=pdp.uuid))
    assert "Agreed the plan" in history.text and "2027-03-31" in history.text


def test_a_plan_without_objectives_cannot_be_sent(programme_a, fellow, client_for):
    client = client_for(fellow.user)
    client.get(url("mine", programme_a))
    with scopes_disabled():
        pdp = PDP.objects.get(fellow=fellow)
    response = client.post(url("submit", programme_a, pdp_uuid=pdp.uuid), follow=True)
    assert "Add at least one objective before sending the plan." in response.text
    pdp.refresh_from_db()
    assert pdp.status == PDP.Status.DRAFT


def test_only_the_fellows_mentor_may_agree(programme_a, fellow, plan):
    pdp, _ = plan
    stranger = UserFactory()
    MembershipFactory(programme=programme_a, user=stranger, role=Role.MENTOR)
    with scope(programme=programme_a):
        pdp_submit(pdp=pdp, actor=fellow.user)
        with pytest.raises(Exception, match="Only the fellow's mentor"):
            pdp_review(pdp=pdp, actor=stranger, agree=True)


def test_who_sees_the_plan(client_for, programme_a, fellow, mentor, plan, staff_a):
    pdp, _objective = plan
    detail = url("detail", programme_a, pdp_uuid=pdp.uuid)
    other_fellow = FellowFactory(programme=programme_a).user
    MembershipFactory(programme=programme_a, user=other_fellow, role=Role.FELLOW)
    other_mentor = UserFactory()
    MembershipFactory(programme=programme_a, user=other_mentor, role=Role.MENTOR)
    MentorFactory(programme=programme_a, user=other_mentor)
    partner = UserFactory()
    MembershipFactory(programme=programme_a, user=partner, role=Role.PARTNER)
    for outsider in (other_fellow, other_mentor, partner):
        assert client_for(outsider).get(detail).status_code == 404
    # The mentor reads, and may not write.
    assert client_for(mentor).get(detail).status_code == 200
    new = url("objective_new", programme_a, pdp_uuid=pdp.uuid)
    assert client_for(mentor).get(new).status_code == 403
    # Staff read and write.
    assert client_for(staff_a).get(detail).status_code == 200
    assert client_for(staff_a).get(new).status_code == 200


def test_the_list_of_plans_staff_all_mentor_their_mentees(
    client_for, programme_a, fellow, mentor, plan, staff_a
):
    FellowFactory(programme=programme_a, user=UserFactory(full_name="Zed Unmentored"))
    listing = url("list", programme_a)
    staff_page = client_for(staff_a).get(listing)
    assert str(fellow) in staff_page.text and "Zed Unmentored" in staff_page.text
    mentor_page = client_for(mentor).get(listing)
    assert str(fellow) in mentor_page.text and "Zed Unmentored" not in mentor_page.text
    assert client_for(fellow.user).get(listing).status_code == 403


def test_the_list_of_plans_runs_the_same_queries_for_few_or_many(
    client_for, programme_a, staff_a, domains
):
    client = client_for(staff_a)

    def add(n):
        for _ in range(n):
            fellow = FellowFactory(programme=programme_a)
            with scope(programme=programme_a):
                pdp = pdp_for_fellow(fellow=fellow)
                objective = objective_save(
                    pdp=pdp,
                    actor=fellow.user,
                    data={
                        "title": "Goal",
                        "measure": "Measured",
                        "target_date": date(2027, 1, 1),
                        "domain": domains[0],
                    },
                )
                action_add(objective=objective, actor=fellow.user, text="Step")

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url("list", programme_a)).status_code == 200
        return len(queries)

    add(3)
    few = count()
    add(12)
    assert count() == few


def test_the_fellows_home_page_shows_the_plans_fulfilment(client_for, programme_a, fellow, plan):
    _, objective = plan
    with scope(programme=programme_a):
        objective_set_status(objective=objective, actor=fellow.user, status="achieved")
    home = client_for(fellow.user).get(reverse("cohort:home", kwargs={"programme_slug": "alpha"}))
    assert "Your Personal Development Plan" in home.text and "100% fulfilled" in home.text


def test_staff_edit_the_competency_framework(client_for, programme_a, staff_a, plan, domains):
    client = client_for(staff_a)
    framework = url("framework", programme_a)
    assert client.post(framework, {"name": "Leadership", "descriptor": "Leads."}).status_code == 302
    response = client.post(framework, {"name": "leadership"})
    assert response.status_code == 400 and "already has a domain of that name" in response.text
    with scopes_disabled():
        used = domains[0]
        unused = CompetencyDomain.objects.get(name="Leadership")
    follow = client.post(url("domain_remove", programme_a, domain_uuid=used.uuid), follow=True)
    assert "Objectives already use" in follow.text
    client.post(url("domain_remove", programme_a, domain_uuid=unused.uuid))
    with scopes_disabled():
        assert not CompetencyDomain.objects.filter(name="Leadership").exists()
        assert CompetencyDomain.objects.filter(pk=used.pk).exists()


def test_every_change_is_kept_with_before_and_after(plan, fellow):
    pdp, objective = plan
    with scope(programme=pdp.programme):
        objective_save(
            pdp=pdp, actor=fellow.user, objective=objective, data={"title": "A bigger round"}
        )
        change = PDPChange.objects.filter(pdp=pdp, action="objective.changed").get()
    assert change.before == {"title": "Raise a £50,000 pre-seed round"}
    assert change.after == {"title": "A bigger round"}
    assert change.actor == fellow.user


def test_the_mentors_home_page_shows_each_mentees_fulfilment(client_for, programme_a, mentor, plan):
    _, objective = plan
    with scope(programme=programme_a):
        first = action_add(objective=objective, actor=objective.pdp.fellow.user, text="One")
        action_add(objective=objective, actor=objective.pdp.fellow.user, text="Two")
        action_toggle(action=first, actor=objective.pdp.fellow.user)
    home = client_for(mentor).get(reverse("cohort:home", kwargs={"programme_slug": "alpha"}))
    assert "Your mentees" in home.text and "50% fulfilled" in home.text
