"""The plan as a PDF: who may download it, what it says, that it says it in the PDF itself,
that its queries do not grow with the plan, and that each download is audited."""

import io
import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from pypdf import PdfReader

from cohort.models import AuditEvent, Fellow, Role
from pdp.models import CompetencyDomain, PDPChange
from pdp.pdf import pdp_document_context, render_pdp_pdf
from pdp.services import (
    action_add,
    action_toggle,
    evidence_add,
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
    MentorshipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

EVIDENCE_URL = "https://example.org/triageflow/pilot-protocol-with-a-long-address?version=3"


def url(name, programme, **kwargs):
    return reverse(f"pdp:{name}", kwargs={"programme_slug": programme.slug, **kwargs})


@pytest.fixture
def domains(programme_a):
    return [
        CompetencyDomain.objects.create(programme=programme_a, name=name, position=n)
        for n, name in enumerate(["Finance and investment", "Evidence and evaluation"])
    ]


@pytest.fixture
def fellow(programme_a, fellow_a):
    fellow_a.full_name = "Dr Priya Shah"
    fellow_a.save(update_fields=["full_name"])
    with scopes_disabled():
        fellow = Fellow.objects.select_related("user", "cohort").get(user=fellow_a)
        fellow.grade, fellow.specialty, fellow.employer = "ST4", "Emergency medicine", "Guy's"
        fellow.save()
    return fellow


@pytest.fixture
def mentor(programme_a, mentor_a, fellow):
    """mentor_a mentors the fellow."""
    mentor_a.full_name = "Dr Michael Harding"
    mentor_a.save(update_fields=["full_name"])
    with scopes_disabled():
        mentor = mentor_a.mentor_profiles.get()
        MentorshipFactory(fellow=fellow, mentor=mentor)
    return mentor_a


def _objective(pdp, fellow, domain, title, *, actions=(), done=0, evidence=()):
    objective = objective_save(
        pdp=pdp,
        actor=fellow.user,
        data={
            "title": title,
            "rationale": "To fund the pilot.",
            "measure": "Signed agreements worth £50,000.",
            "target_date": date(2027, 3, 31),
            "domain": domain,
        },
    )
    made = [action_add(objective=objective, actor=fellow.user, text=t) for t in actions]
    for action in made[:done]:
        action_toggle(action=action, actor=fellow.user)
    for data in evidence:
        evidence_add(objective=objective, actor=fellow.user, data=data)
    return objective


@pytest.fixture
def plan(programme_a, fellow, mentor, domains):
    """An agreed plan: one objective half done with a link and a note as evidence, one
    achieved, and one changed after the mentor agreed the plan."""
    with scope(programme=programme_a):
        pdp = pdp_for_fellow(fellow=fellow)
        raise_round = _objective(
            pdp,
            fellow,
            domains[0],
            "Raise a £50,000 pre-seed round",
            actions=["Build a three-year financial model", "Pitch at the investor day"],
            done=1,
            evidence=[
                {"kind": "link", "title": "Pilot protocol", "url": EVIDENCE_URL},
                {"kind": "note", "title": "Model reviewed", "note": "Runway is 14 months."},
            ],
        )
        pilot = _objective(pdp, fellow, domains[1], "Run a pilot on two wards")
        objective_set_status(objective=pilot, actor=fellow.user, status="achieved")
        pdp_submit(pdp=pdp, actor=fellow.user)
        pdp = pdp_review(pdp=pdp, actor=mentor, agree=True, comments="A strong plan.")
        objective_save(
            pdp=pdp,
            actor=fellow.user,
            objective=pilot,
            data={"target_date": date(2027, 6, 30)},
        )
    return pdp, raise_round, pilot


def _people(programme):
    other_fellow = FellowFactory(programme=programme).user
    MembershipFactory(programme=programme, user=other_fellow, role=Role.FELLOW)
    other_mentor = UserFactory()
    MembershipFactory(programme=programme, user=other_mentor, role=Role.MENTOR)
    MentorFactory(programme=programme, user=other_mentor)
    partner = UserFactory()
    MembershipFactory(programme=programme, user=partner, role=Role.PARTNER)
    return other_fellow, other_mentor, partner


def test_the_fellow_their_mentor_and_staff_download_the_plan(
    client_for, programme_a, fellow, mentor, staff_a, plan
):
    pdp, _, _ = plan
    pdf = url("pdf", programme_a, pdp_uuid=pdp.uuid)
    today = timezone.localdate().isoformat()
    for person in (fellow.user, mentor, staff_a):
        response = client_for(person).get(pdf)
        assert response.status_code == 200, person
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == (
            f'attachment; filename="pdp-dr-priya-shah-{today}.pdf"'
        )
        assert response["Cache-Control"] == "private, no-store"
        assert response.content.startswith(b"%PDF")


def test_nobody_else_gets_the_plan(client_for, programme_a, plan):
    pdp, _, _ = plan
    pdf = url("pdf", programme_a, pdp_uuid=pdp.uuid)
    for outsider in _people(programme_a):
        assert client_for(outsider).get(pdf).status_code == 404


def test_the_plan_page_links_to_the_pdf(client_for, programme_a, fellow, plan):
    pdp, _, _ = plan
    page = client_for(fellow.user).get(url("detail", programme_a, pdp_uuid=pdp.uuid))
    assert "Download the plan as a PDF" in page.text
    assert url("pdf", programme_a, pdp_uuid=pdp.uuid) in page.text


def test_the_document_holds_the_whole_plan(programme_a, fellow, mentor, plan):
    pdp, raise_round, pilot = plan
    with scope(programme=programme_a):
        context = pdp_document_context(pdp)
    assert context["programme_name"] == programme_a.name
    assert context["fellow"]["name"] == "Dr Priya Shah"
    assert context["fellow"]["grade"] == "ST4" and context["fellow"]["employer"] == "Guy's"
    assert context["cohort"]["name"] == fellow.cohort.name
    with scopes_disabled():
        organisation = mentor.mentor_profiles.get().organisation.name
    assert context["mentors"] == [
        {"name": "Dr Michael Harding", "job_title": "", "organisation": organisation}
    ]
    assert context["plan"]["agreed"] and context["plan"]["agreed_by"] == "Dr Michael Harding"
    assert context["plan"]["mentor_comments"] == "A strong plan."
    assert context["plan"]["changed_since_agreement"] == 1
    # (50 + 100) / 2: progress comes from the actions and the status.
    assert context["fulfilment"] == 75
    first, second = context["objectives"]
    assert first["title"] == raise_round.title and first["progress"] == 50
    assert first["actions_done"] == ["Build a three-year financial model"]
    assert first["actions_todo"] == ["Pitch at the investor day"]
    assert [(e["title"], e["kind"]) for e in first["evidence"]] == [
        ("Pilot protocol", "link"),
        ("Model reviewed", "note"),
    ]
    assert first["evidence"][0]["url"] == EVIDENCE_URL and first["evidence"][0]["linkable"]
    assert first["evidence"][1]["note"] == "Runway is 14 months."
    assert first["changes"] == []
    assert second["title"] == pilot.title and second["status_label"] == "Achieved"
    assert second["changes"] == ["date changed since the plan was agreed"]


def test_a_dropped_objective_is_shown_with_its_reason_but_not_counted(programme_a, fellow, plan):
    pdp, raise_round, _ = plan
    with scope(programme=programme_a):
        objective_set_status(
            objective=raise_round, actor=fellow.user, status="dropped", reason="No investor."
        )
        context = pdp_document_context(pdp)
    dropped = context["objectives"][0]
    assert dropped["dropped"] and dropped["dropped_reason"] == "No investor."
    assert dropped["progress"] is None
    assert context["fulfilment"] == 100
    assert context["counts"] == {"objectives": 2, "pursued": 1, "achieved": 1, "dropped": 1}


def _text(pdf: bytes) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\s+", " ", text), len(reader.pages)


def test_the_pdf_says_it_in_words(programme_a, plan):
    pdp, raise_round, _ = plan
    with scope(programme=programme_a):
        text, pages = _text(render_pdp_pdf(pdp=pdp))
    assert "Personal Development Plan" in text and "Dr Priya Shah" in text
    assert raise_round.title in text and "Run a pilot on two wards" in text
    assert "Agreed by Dr Michael Harding" in text and "75% fulfilled" in text
    assert "Done: Build a three-year financial model" in text
    assert "To do: Pitch at the investor day" in text
    assert "Runway is 14 months." in text
    assert "Changed since agreement" in text
    assert "How to read this" in text
    # The page footer: "Page X of Y" and the day it was made, the UK way.
    assert f"Page 1 of {pages}" in text
    assert f"Generated on {timezone.localdate():%-d %B %Y}" in text
    # A link is printed in full (it may wrap, so compare without spaces).
    assert EVIDENCE_URL in text.replace(" ", "")


def test_the_download_runs_the_same_queries_for_two_or_eight_objectives(
    client_for, programme_a, fellow, mentor, domains
):
    client = client_for(fellow.user)
    with scope(programme=programme_a):
        pdp = pdp_for_fellow(fellow=fellow)

    def add(n):
        with scope(programme=programme_a):
            for i in range(n):
                _objective(
                    pdp,
                    fellow,
                    domains[i % 2],
                    f"Objective {i}",
                    actions=["First step", "Second step"],
                    done=1,
                    evidence=[{"kind": "note", "title": "Notes", "note": "Went well."}],
                )

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url("pdf", programme_a, pdp_uuid=pdp.uuid))
        assert response.status_code == 200
        return len(queries)

    add(2)
    count()  # warms the caches a first request fills (content types for the audit event)
    few = count()
    add(6)
    assert count() == few


def test_a_download_is_audited_and_is_not_a_change_to_the_plan(
    client_for, programme_a, staff_a, plan
):
    pdp, _, _ = plan
    with scopes_disabled():
        changes = PDPChange.objects.filter(pdp=pdp).count()
    client_for(staff_a).get(url("pdf", programme_a, pdp_uuid=pdp.uuid))
    with scopes_disabled():
        event = AuditEvent.objects.get(action="pdp.downloaded")
        assert PDPChange.objects.filter(pdp=pdp).count() == changes
    assert event.programme == programme_a and event.actor == staff_a
    assert event.target_id == str(pdp.uuid)


def test_only_get_is_answered(client_for, programme_a, fellow, plan):
    pdp, _, _ = plan
    response = client_for(fellow.user).post(url("pdf", programme_a, pdp_uuid=pdp.uuid))
    assert response.status_code == 405


def test_a_new_plan_without_a_mentor_still_makes_a_document(programme_a, fellow):
    with scope(programme=programme_a):
        pdp = pdp_for_fellow(fellow=fellow)
        context = pdp_document_context(pdp)
        text, _pages = _text(render_pdp_pdf(pdp=pdp))
    assert context["mentors"] == [] and context["fulfilment"] is None
    assert "No mentor yet" in text and "Not yet sent to the mentor to agree." in text
    assert "This plan has no objectives yet." in text
