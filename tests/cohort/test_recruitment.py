"""Recruitment the way the CEP selects fellows: a public expression of interest while the call
is open, the formal application, blind scoring by two reviewers, the shortlisting rule, the
interview and the decision. Appointing makes the person a fellow and invites them."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from cohort.models import Application, Fellow, Invitation, Membership, RecruitmentCall, Role
from cohort.services import (
    application_decide,
    application_record_interview,
    application_shortlist,
    application_submit,
    review_submit,
)

from ..factories import (
    ApplicationFactory,
    ApplicationQuestionFactory,
    MembershipFactory,
    RecruitmentCallFactory,
    ReviewCriterionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def url(name, programme, **kwargs):
    return reverse(f"cohort:{name}", kwargs={"programme_slug": programme.slug, **kwargs})


@pytest.fixture
def call(programme_a, cohort_a):
    call = RecruitmentCallFactory(programme=programme_a, cohort=cohort_a)
    ApplicationQuestionFactory(call=call, text="Why do you want to join?", max_words=20)
    ApplicationQuestionFactory(call=call, text="Anything else?", required=False)
    return call


@pytest.fixture
def criteria(programme_a):
    return [
        ReviewCriterionFactory(programme=programme_a, name="Clinical need"),
        ReviewCriterionFactory(programme=programme_a, name="Feasibility"),
    ]


@pytest.fixture
def second_staff(programme_a):
    user = UserFactory(email="reviewer2@alpha.example")
    MembershipFactory(programme=programme_a, user=user, role=Role.STAFF)
    return user


EOI = {
    "full_name": "Aisha Khan",
    "email": "Aisha.Khan@NHS.example",
    "profession": "pharmacist",
    "grade": "Band 7",
    "specialty": "Hospital pharmacy",
    "employer": "Barts Health NHS Trust",
    "region": "london",
    "idea": "Catch prescribing errors before they reach patients.",
    "agree": "on",
}


def scores_for(criteria, *values):
    return {str(c.uuid): v for c, v in zip(criteria, values, strict=True)}


def applied(call, **kwargs):
    return ApplicationFactory(
        call=call, status=Application.Status.APPLIED, submitted_at=timezone.now(), **kwargs
    )


# --- staff set up the call --------------------------------------------------------------------


def test_staff_open_a_call_add_questions_and_criteria_in_the_browser(
    client_for, staff_a, programme_a, cohort_a
):
    client = client_for(staff_a)
    page = client.get(url("recruitment", programme_a))
    assert page.status_code == 200 and "Open a call" in page.text
    today = timezone.localdate()
    response = client.post(
        url("call", programme_a, cohort_uuid=cohort_a.uuid),
        {
            "call-opens_on": today.isoformat(),
            "call-closes_on": (today + timedelta(days=30)).isoformat(),
            "call-introduction": "Clinicians with an idea, apply.",
            "call-reviews_required": "2",
            "call-shortlist_threshold": "3.5",
            "call-max_score_spread": "1",
        },
    )
    assert response.status_code == 302
    with scopes_disabled():
        call = RecruitmentCall.objects.get(cohort=cohort_a)
    assert call.shortlist_threshold == Decimal("3.5") and call.is_open()
    response = client.post(
        url("call", programme_a, cohort_uuid=cohort_a.uuid),
        {
            "add_question": "1",
            "question-text": "What problem will you solve?",
            "question-required": "on",
            "question-max_words": "300",
        },
    )
    assert response.status_code == 302
    response = client.post(
        url("recruitment", programme_a), {"name": "Clinical need", "description": "Is it real?"}
    )
    assert response.status_code == 302
    page = client.get(url("call", programme_a, cohort_uuid=cohort_a.uuid))
    assert "What problem will you solve?" in page.text
    assert reverse("apply", kwargs={"call_uuid": call.uuid}) in page.text


def test_a_call_that_closes_before_it_opens_is_refused_and_keeps_the_input(
    client_for, staff_a, programme_a, cohort_a
):
    response = client_for(staff_a).post(
        url("call", programme_a, cohort_uuid=cohort_a.uuid),
        {
            "call-opens_on": "2030-02-01",
            "call-closes_on": "2030-01-01",
            "call-introduction": "Keep me",
            "call-reviews_required": "1",
            "call-shortlist_threshold": "3",
            "call-max_score_spread": "1",
        },
    )
    assert response.status_code == 400
    assert "The call must close on or after the day it opens." in response.text
    assert "at least 2" in response.text.lower() or "greater than or equal to 2" in response.text
    assert "Keep me" in response.text
    with scopes_disabled():
        assert not RecruitmentCall.objects.exists()


def test_the_same_criterion_name_twice_is_refused(client_for, staff_a, programme_a, criteria):
    response = client_for(staff_a).post(url("recruitment", programme_a), {"name": "clinical NEED"})
    assert response.status_code == 400
    assert "already has a criterion of that name" in response.text


# --- the public expression of interest ----------------------------------------------------------


def test_anyone_expresses_interest_and_is_emailed_a_private_link(
    client, call, programme_a, django_capture_on_commit_callbacks
):
    assert (
        client.get(reverse("apply_programme", kwargs={"slug": programme_a.slug})).status_code == 302
    )
    form = client.get(reverse("apply", kwargs={"call_uuid": call.uuid}))
    assert form.status_code == 200 and "Express interest" in form.text
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("apply", kwargs={"call_uuid": call.uuid}), EOI)
    assert response.status_code == 200 and "Thank you for your interest" in response.text
    with scopes_disabled():
        application = Application.objects.get(call=call)
    assert application.email == "aisha.khan@nhs.example"
    assert application.status == Application.Status.INTEREST
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["aisha.khan@nhs.example"]
    continue_url = reverse("application_continue", kwargs={"token": application.token})
    assert continue_url in mail.outbox[0].body


def test_a_second_expression_of_interest_from_the_same_address_is_refused(client, call):
    ApplicationFactory(call=call, email="aisha.khan@nhs.example")
    response = client.post(reverse("apply", kwargs={"call_uuid": call.uuid}), EOI)
    assert response.status_code == 400
    assert "has already expressed interest" in response.text
    # What the person typed is still there.
    assert "Catch prescribing errors" in response.text
    with scopes_disabled():
        assert Application.objects.filter(call=call).count() == 1


def test_a_closed_call_takes_no_expressions_of_interest(client, call):
    with scopes_disabled():
        RecruitmentCall.objects.filter(pk=call.pk).update(
            opens_on=timezone.localdate() - timedelta(days=30),
            closes_on=timezone.localdate() - timedelta(days=1),
        )
    page = client.get(reverse("apply", kwargs={"call_uuid": call.uuid}))
    assert page.status_code == 410 and "This call closed on" in page.text
    response = client.post(reverse("apply", kwargs={"call_uuid": call.uuid}), EOI)
    assert response.status_code in (400, 410)
    with scopes_disabled():
        assert not Application.objects.exists()
    listing = client.get(reverse("apply_programme", kwargs={"slug": call.programme.slug}))
    assert listing.status_code == 200 and "not taking applications" in listing.text


def test_the_public_form_checks_every_field(client, call):
    response = client.post(reverse("apply", kwargs={"call_uuid": call.uuid}), {"email": "nope"})
    assert response.status_code == 400
    assert "Enter a valid email address." in response.text
    assert "Agree to this so that we can process your application." in response.text


def test_an_unknown_application_link_is_not_found(client):
    assert (
        client.get(reverse("application_continue", kwargs={"token": "x" * 40})).status_code == 404
    )


# --- the formal application -------------------------------------------------------------------


def test_the_applicant_completes_the_application_once(
    client, call, django_capture_on_commit_callbacks
):
    application = ApplicationFactory(call=call)
    link = reverse("application_continue", kwargs={"token": application.token})
    with scope(programme=call.programme):
        first, second = list(call.questions.all())
    page = client.get(link)
    assert page.status_code == 200 and "Why do you want to join?" in page.text
    too_long = " ".join(["word"] * 21)
    response = client.post(link, {str(first.uuid): too_long, str(second.uuid): "Kept text"})
    assert response.status_code == 400
    assert "Keep your answer to 20 words; it has 21." in response.text
    assert "Kept text" in response.text
    response = client.post(link, {str(second.uuid): "Only the optional one"})
    assert response.status_code == 400 and "Answer this question." in response.text
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(link, {str(first.uuid): "To help patients.", str(second.uuid): ""})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == Application.Status.APPLIED and application.submitted_at
    assert application.answers[str(first.uuid)] == "To help patients."
    assert "We have your application" in mail.outbox[-1].subject
    page = client.get(link)
    assert "You sent your application on" in page.text and "Send my application" not in page.text
    with scope(programme=call.programme), pytest.raises(Exception, match="already been submitted"):
        application_submit(application=application, answers={})


def test_the_applicant_withdraws_from_their_own_page(client, call):
    application = applied(call)
    link = reverse("application_continue", kwargs={"token": application.token})
    assert client.post(link, {"withdraw": "1"}).status_code == 302
    application.refresh_from_db()
    assert application.status == Application.Status.WITHDRAWN
    assert application.decision_reason == "Withdrawn by the applicant."


# --- blind review and the shortlisting rule ---------------------------------------------------


def test_reviewers_score_blind_and_see_each_other_only_after_scoring(
    client_for, staff_a, second_staff, programme_a, call, criteria
):
    application = applied(call)
    detail = application.get_absolute_url()
    client = client_for(staff_a)
    response = client.post(
        url("application_review", programme_a, application_uuid=application.uuid),
        {**scores_for(criteria, 4, 5), "comment": "Strong clinical case."},
    )
    assert response.status_code == 302
    second = client_for(second_staff)
    page = second.get(detail)
    assert "Other reviewers' scores stay hidden until you have given yours." in page.text
    assert "Strong clinical case." not in page.text and "4.50" not in page.text
    listing = second.get(url("applications", programme_a, cohort_uuid=call.cohort.uuid))
    assert "Hidden until you score" in listing.text
    second.post(
        url("application_review", programme_a, application_uuid=application.uuid),
        scores_for(criteria, 4, 4),
    )
    page = second.get(detail)
    assert "Strong clinical case." in page.text and "4.50" in page.text
    assert "It meets the shortlisting rule." in page.text


def test_a_review_must_score_every_criterion_and_keeps_what_was_chosen(
    client_for, staff_a, programme_a, call, criteria
):
    application = applied(call)
    response = client_for(staff_a).post(
        url("application_review", programme_a, application_uuid=application.uuid),
        {str(criteria[0].uuid): "5", "comment": "Half done"},
    )
    assert response.status_code == 400
    assert "Score “Feasibility” from 1 to 5." in response.text
    assert "Half done" in response.text
    with scopes_disabled():
        assert not application.reviews.exists()


def test_nobody_reviews_their_own_application(client_for, staff_a, programme_a, call, criteria):
    application = applied(call, email=staff_a.email)
    page = client_for(staff_a).get(application.get_absolute_url())
    assert "You cannot review an application made from your own address." in page.text
    response = client_for(staff_a).post(
        url("application_review", programme_a, application_uuid=application.uuid),
        scores_for(criteria, 5, 5),
    )
    assert response.status_code == 400
    assert "You cannot review your own application." in response.text
    with scopes_disabled():
        assert not application.reviews.exists()


def test_the_rule_shortlists_agreement_above_the_threshold_and_leaves_the_rest(
    client_for, staff_a, second_staff, programme_a, call, criteria
):
    strong = applied(call, full_name="Strong Applicant")
    split = applied(call, full_name="Split Decision")
    weak = applied(call, full_name="Weak Applicant")
    with scope(programme=programme_a):
        for application, mine, theirs in [
            (strong, (4, 4), (4, 5)),
            (split, (5, 5), (2, 3)),  # mean 3.75 but scores differ by 2.5
            (weak, (2, 2), (2, 3)),
        ]:
            review_submit(
                application=application, reviewer=staff_a, scores=scores_for(criteria, *mine)
            )
            review_submit(
                application=application, reviewer=second_staff, scores=scores_for(criteria, *theirs)
            )
    client = client_for(staff_a)
    listing = client.get(url("applications", programme_a, cohort_uuid=call.cohort.uuid))
    assert "Shortlist the 1 application that meets the rule" in listing.text
    assert "Reviewers disagree" in listing.text
    response = client.post(url("call_shortlist", programme_a, cohort_uuid=call.cohort.uuid))
    assert response.status_code == 302
    for application in (strong, split, weak):
        application.refresh_from_db()
    assert strong.status == Application.Status.SHORTLISTED
    assert split.status == weak.status == Application.Status.APPLIED
    # The team may shortlist a split decision, but only with a reason.
    shortlist = url("application_shortlist", programme_a, application_uuid=split.uuid)
    response = client.post(shortlist, {"reason": ""})
    assert response.status_code == 400 and "say why" in response.text
    assert client.post(shortlist, {"reason": "Panel discussed: strong idea."}).status_code == 302
    split.refresh_from_db()
    assert split.status == Application.Status.SHORTLISTED


# --- interview and decision -------------------------------------------------------------------


def test_appointing_after_interview_makes_a_fellow_and_invites_them(
    client_for, client, staff_a, programme_a, call, criteria, django_capture_on_commit_callbacks
):
    application = applied(call, email="new.fellow@nhs.example", full_name="Dr New Fellow")
    with scope(programme=programme_a):
        application_shortlist(application=application, actor=staff_a, reason="Test")
    staff = client_for(staff_a)
    decide = url("application_decide", programme_a, application_uuid=application.uuid)
    response = staff.post(decide, {"decision": "appointed"})
    assert response.status_code == 400 and "so it cannot be appointed now" in response.text
    response = staff.post(
        url("application_interview", programme_a, application_uuid=application.uuid),
        {"outcome": "recommended", "notes": "Clear thinker."},
    )
    assert response.status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(decide, {"decision": "appointed", "reason": ""})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == Application.Status.APPOINTED and application.fellow_id
    with scopes_disabled():
        fellow = Fellow.objects.select_related("user").get(pk=application.fellow_id)
        assert fellow.cohort_id == call.cohort_id and fellow.profession == application.profession
        assert Membership.objects.filter(user=fellow.user, role=Role.FELLOW).exists()
        invitation = Invitation.objects.get(email="new.fellow@nhs.example", role=Role.FELLOW)
    assert not fellow.user.has_usable_password()
    assert any(invitation.get_accept_url() in m.body for m in mail.outbox)
    # The new fellow follows the link, chooses a password and is in.
    staff.logout()
    link = invitation.get_accept_url()
    page = client.get(link)
    assert "Choose a password" in page.text
    response = client.post(link, {"new_password1": "short", "new_password2": "short"})
    assert response.status_code == 200 and "too short" in response.text
    response = client.post(
        link, {"new_password1": "a-long-new-password-1", "new_password2": "a-long-new-password-1"}
    )
    assert response.status_code == 302
    home = client.get(response["Location"])
    assert home.status_code == 200
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None


def test_declining_needs_a_reason_and_a_final_decision_is_final(
    client_for, staff_a, programme_a, call
):
    application = applied(call)
    staff = client_for(staff_a)
    decide = url("application_decide", programme_a, application_uuid=application.uuid)
    response = staff.post(decide, {"decision": "declined", "reason": ""})
    assert response.status_code == 400 and "Give the reason" in response.text
    assert (
        staff.post(decide, {"decision": "declined", "reason": "Below threshold."}).status_code
        == 302
    )
    application.refresh_from_db()
    assert application.status == Application.Status.DECLINED and application.decided_at
    response = staff.post(decide, {"decision": "withdrawn", "reason": "Changed mind"})
    assert response.status_code == 400
    with scope(programme=programme_a), pytest.raises(Exception, match="cannot be interviewed"):
        application_record_interview(application=application, actor=staff_a, outcome="recommended")


def test_appointing_someone_already_in_the_cohort_is_refused_whole(
    staff_a, programme_a, call, fellow_a
):
    with scopes_disabled():
        existing = Fellow.objects.get(user=fellow_a)
        Fellow.objects.filter(pk=existing.pk).update(cohort=call.cohort)
    application = applied(call, email=fellow_a.email)
    with scope(programme=programme_a):
        application_shortlist(application=application, actor=staff_a, reason="Test")
        application_record_interview(application=application, actor=staff_a, outcome="recommended")
        with pytest.raises(Exception, match="already a fellow"):
            application_decide(application=application, actor=staff_a, decision="appointed")
    application.refresh_from_db()
    assert application.status == Application.Status.INTERVIEWED


# --- the funnel and who may see what ----------------------------------------------------------


def test_the_funnel_counts_everyone_who_reached_each_stage(client_for, staff_a, programme_a, call):
    now = timezone.now()
    for _ in range(4):
        ApplicationFactory(call=call)
    for _ in range(3):
        applied(call)
    ApplicationFactory(
        call=call,
        status=Application.Status.DECLINED,
        submitted_at=now,
        shortlisted_at=now,
        interviewed_at=now,
    )
    ApplicationFactory(
        call=call,
        status=Application.Status.APPOINTED,
        submitted_at=now,
        shortlisted_at=now,
        interviewed_at=now,
    )
    page = client_for(staff_a).get(url("funnel", programme_a))
    assert page.status_code == 200
    rows = page.context["funnel"][0]["stages"]
    assert [s["count"] for s in rows] == [9, 5, 2, 2, 1]
    assert [s["conversion"] for s in rows] == [None, 56, 40, 100, 50]


def test_the_application_list_runs_the_same_queries_for_5_or_40_applications(
    client_for, staff_a, programme_a, call, criteria
):
    client = client_for(staff_a)
    listing = url("applications", programme_a, cohort_uuid=call.cohort.uuid)

    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(listing).status_code == 200
        return len(queries)

    for _ in range(5):
        applied(call)
    few = count_queries()
    for _ in range(35):
        applied(call)
    assert count_queries() == few


@pytest.mark.parametrize("role", [Role.FELLOW, Role.MENTOR, Role.PARTNER])
def test_only_staff_reach_recruitment_pages(client_for, programme_a, call, role):
    user = UserFactory()
    MembershipFactory(programme=programme_a, user=user, role=role)
    application = applied(call)
    client = client_for(user)
    for target in (
        url("recruitment", programme_a),
        url("funnel", programme_a),
        url("applications", programme_a, cohort_uuid=call.cohort.uuid),
        application.get_absolute_url(),
    ):
        assert client.get(target).status_code == 403, target


def test_a_flood_of_expressions_of_interest_from_one_address_is_slowed(client, call, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "apply": "2/m/ip"}
    target = reverse("apply", kwargs={"call_uuid": call.uuid})
    for n in range(2):
        assert client.post(target, {**EOI, "email": f"person{n}@nhs.example"}).status_code == 200
    response = client.post(target, {**EOI, "email": "person9@nhs.example"})
    assert response.status_code == 429
    assert "sent too many times" in response.text
    assert "Catch prescribing errors" in response.text  # what they typed is kept
    with scopes_disabled():
        assert Application.objects.filter(call=call).count() == 2


def test_the_admin_keeps_reviews_blind_too(client_for, staff_a, second_staff, call, criteria):
    application = applied(call)
    with scope(programme=call.programme):
        review_submit(
            application=application, reviewer=second_staff, scores=scores_for(criteria, 5, 1)
        )
    changelist = reverse("admin:cohort_review_changelist")
    client = client_for(staff_a)
    assert client.get(changelist).context["cl"].result_count == 0
    with scope(programme=call.programme):
        review_submit(application=application, reviewer=staff_a, scores=scores_for(criteria, 3, 3))
    assert client.get(changelist).context["cl"].result_count == 2


def test_a_criterion_already_scored_against_stays(client_for, staff_a, programme_a, call, criteria):
    application = applied(call)
    with scope(programme=programme_a):
        review_submit(application=application, reviewer=staff_a, scores=scores_for(criteria, 4, 4))
    unused = ReviewCriterionFactory(programme=programme_a, name="Unused")
    client = client_for(staff_a)
    remove = "cohort:criterion_remove"
    kwargs = {"programme_slug": programme_a.slug}
    page = client.post(
        reverse(remove, kwargs={**kwargs, "criterion_uuid": criteria[0].uuid}), follow=True
    )
    assert "Reviewers have already scored against “Clinical need”, so it stays." in page.text
    client.post(reverse(remove, kwargs={**kwargs, "criterion_uuid": unused.uuid}))
    with scopes_disabled():
        names = set(programme_a.criteria.values_list("name", flat=True))
    assert names == {"Clinical need", "Feasibility"}
