"""The year's record as a PDF (issue #5, item 8): what it says (every meeting, review,
milestone and signature with its digest), that it says it in the PDF itself, that a record
changed behind the services' back is printed as not intact, who may download it, that each
download is audited, and that its queries do not grow with the year."""

import io
import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from pypdf import PdfReader

from cohort.models import AuditEvent, Role
from mentoring import records
from mentoring.models import Meeting, Milestone, MilestoneReview, SignOff
from mentoring.pdf import (
    TEMPLATE,
    render_year_record_pdf,
    year_record_context,
    year_record_filename,
)
from mentoring.services import meeting_reopen, meeting_return, milestone_add, review_save

from ..factories import FellowFactory, MembershipFactory
from .conftest import RECORD, behind_the_services_back, days_ago

pytestmark = pytest.mark.django_db

EVIDENCE = "https://example.org/triageflow/pilot-report-with-a-rather-long-address?version=3"


def pdf_url(programme, mentorship):
    return reverse(
        "mentoring:year_record_pdf",
        kwargs={"programme_slug": programme.slug, "mentorship_uuid": mentorship.uuid},
    )


def _text(pdf: bytes) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\s+", " ", text), len(reader.pages)


def _squeezed(text: str) -> str:
    """The text without spaces: a digest or address may wrap anywhere in the PDF."""
    return text.replace(" ", "")


@pytest.fixture
def people(programme_a, journey):
    journey.fellow.full_name = "Dr Priya Shah"
    journey.fellow.save(update_fields=["full_name"])
    journey.mentor.full_name = "Dr Michael Harding"
    journey.mentor.save(update_fields=["full_name"])
    with scopes_disabled():
        mentor = journey.mentorship.mentor
        mentor.job_title = "Director of Digital Health"
        mentor.save(update_fields=["job_title"])
        cohort = journey.mentorship.cohort
        cohort.name = "Cohort 1 — 2016/17"
        cohort.save(update_fields=["name"])
    return journey


@pytest.fixture
def objective(programme_a, journey):
    from pdp.models import CompetencyDomain
    from pdp.services import objective_save, pdp_for_fellow

    with scope(programme=programme_a):
        domain = CompetencyDomain.objects.create(programme=programme_a, name="Finance")
        pdp = pdp_for_fellow(fellow=journey.mentorship.fellow)
        return objective_save(
            pdp=pdp,
            actor=journey.fellow,
            data={
                "title": "Raise a pre-seed round",
                "measure": "Signed term sheet",
                "target_date": date(2027, 6, 30),
                "domain": domain,
            },
        )


@pytest.fixture
def year(programme_a, people, objective):
    """Meeting 1 signed, agreeing two milestones (one toward a PDP objective); meeting 2
    returned once with comments, then signed, reviewing one milestone as achieved (confirmed
    with its own signature) and deferring the other; meetings 3 and 4 not held yet."""
    journey = people
    first = journey.draft(1, held_days_ago=75, milestones=0)
    with scope(programme=programme_a):
        pitch = milestone_add(
            meeting=first,
            actor=journey.fellow,
            data={
                "title": "Pitch to two angel investors",
                "measure": "Two meetings held, notes on the PDP.",
                "due_on": timezone.localdate() - timedelta(days=10),
                "objective": objective,
            },
        )
        ethics = milestone_add(
            meeting=first,
            actor=journey.fellow,
            data={
                "title": "Ethics approval for the pilot",
                "measure": "The committee's letter.",
                "due_on": timezone.localdate() + timedelta(days=20),
                "objective": None,
            },
        )
    journey.submit(first)
    journey.sign(first)

    second = journey.draft(2, held_days_ago=20, milestones=1)
    new_date = timezone.localdate() + timedelta(days=90)
    with scope(programme=programme_a):
        review_save(
            meeting=second,
            milestone=pitch,
            actor=journey.fellow,
            data={"outcome": "achieved", "comment": "Both pitches done.", "evidence": EVIDENCE},
            version=None,
        )
        review_save(
            meeting=second,
            milestone=ethics,
            actor=journey.fellow,
            data={
                "outcome": "deferred",
                "comment": "The committee meets later.",
                "new_due_on": new_date,
            },
            version=None,
        )
    journey.submit(second)
    with scope(programme=programme_a):
        meeting_return(
            meeting=second, actor=journey.mentor, comments="Add what we said about NICE."
        )
    journey.submit(second)
    journey.sign(second, confirm=[pitch.uuid])
    with scopes_disabled():
        first.refresh_from_db()
        second.refresh_from_db()
        pitch.refresh_from_db()
        ethics.refresh_from_db()
    return {
        "first": first,
        "second": second,
        "pitch": pitch,
        "ethics": ethics,
        "new_date": new_date,
    }


def _sign_offs(meeting=None, **filters):
    with scopes_disabled():
        query = SignOff.objects.filter(**filters)
        if meeting is not None:
            query = query.filter(meeting=meeting)
        return list(query.order_by("signed_at", "pk"))


def test_the_context_holds_every_meeting_review_milestone_and_digest(
    programme_a, journey, year, objective
):
    first, second, pitch, ethics = year["first"], year["second"], year["pitch"], year["ethics"]
    with scope(programme=programme_a):
        context = year_record_context(journey.mentorship)

    assert context["programme_name"] == programme_a.name
    assert context["fellow"]["name"] == "Dr Priya Shah"
    assert context["fellow"]["profession"] == journey.mentorship.fellow.get_profession_display()
    with scopes_disabled():
        organisation = journey.mentorship.mentor.organisation.name
    assert context["mentor"] == {
        "name": "Dr Michael Harding",
        "job_title": "Director of Digital Health",
        "organisation": organisation,
    }
    cohort = journey.mentorship.cohort
    assert context["cohort"] == {
        "name": cohort.name,
        "starts_on": cohort.starts_on,
        "ends_on": cohort.ends_on,
    }
    assert context["generated_at"] <= timezone.now()

    # The first meeting's window closed long ago and it was signed; the second was signed
    # early; three and four have not come round yet.
    assert context["summary"] == {
        "meetings": 4,
        "signed": 2,
        "submitted": 0,
        "overdue": 0,
        "milestones": 3,
        "achieved": 1,
        "missed": 0,
        "open": 2,
        "partly": 0,
        "deferred": 1,
        "milestones_signed": 1,
        "signatures": 3,
        "not_intact": 0,
    }
    one, two, three, four = context["meetings"]
    assert [m["number"] for m in context["meetings"]] == [1, 2, 3, 4]
    assert (three["recorded"], four["recorded"]) == (False, False)
    assert three["state"] in ("due", "upcoming") and four["state"] == "upcoming"

    assert one["state"] == "signed" and one["held_on"] == days_ago(75)
    assert one["format_label"] == "Video call"
    assert one["discussion"] == RECORD["discussion"]
    assert one["fellow_reflection"] == RECORD["fellow_reflection"]
    assert one["mentor_advice"] == RECORD["mentor_advice"]
    assert one["pdp_agreed"] is False and one["reviews"] == []
    assert [(m["title"], m["objective"]) for m in one["agreed"]] == [
        ("Pitch to two angel investors", objective.title),
        ("Ethics approval for the pilot", ""),
    ]
    assert one["agreed"][0]["measure"] == "Two meetings held, notes on the PDP."
    (meeting_one_sign_off,) = _sign_offs(first, kind="meeting")
    assert one["sign_off"]["digest"] == meeting_one_sign_off.digest == first.digest
    assert len(one["sign_off"]["digest"]) == 64
    assert one["sign_off"]["signed_by"] == "Dr Michael Harding"
    assert one["sign_off"]["method_label"] == "Password"
    assert one["sign_off"]["intact"] is True and one["earlier"] == []
    assert one["verify_url"].endswith(f"/p/alpha/meetings/{first.uuid}/verify/")

    assert two["state"] == "signed" and two["held_on"] == days_ago(20)
    assert two["return_comments"] == "Add what we said about NICE."
    assert two["returned_at"] is not None
    assert [(r["milestone"], r["outcome"]) for r in two["reviews"]] == [
        ("Pitch to two angel investors", "achieved"),
        ("Ethics approval for the pilot", "deferred"),
    ]
    achieved, deferred = two["reviews"]
    assert achieved["comment"] == "Both pitches done." and achieved["evidence"] == EVIDENCE
    assert deferred["new_due_on"] == year["new_date"]
    assert [m["title"] for m in two["agreed"]] == ["Milestone 2.1"]
    assert two["sign_off"]["digest"] == second.digest and two["sign_off"]["intact"]

    # The milestones of the year, each with its own signature where there is one.
    by_title = {m["title"]: m for m in context["milestones"]}
    assert set(by_title) == {pitch.title, ethics.title, "Milestone 2.1"}
    (milestone_sign_off,) = _sign_offs(kind="milestone")
    signed = by_title[pitch.title]
    assert signed["status"] == "achieved" and signed["agreed_at"] == 1
    assert signed["objective"] == objective.title
    assert signed["sign_off"]["digest"] == milestone_sign_off.digest
    assert signed["sign_off"]["intact"] and signed["sign_off"]["meeting_number"] == 2
    assert by_title[ethics.title]["status"] == "deferred"
    assert by_title[ethics.title]["next_due_on"] == year["new_date"]
    assert by_title[ethics.title]["sign_off"] is None
    assert by_title["Milestone 2.1"]["status"] == "open"


def test_the_pdf_says_it_in_words(programme_a, journey, year):
    with scope(programme=programme_a):
        text, pages = _text(render_year_record_pdf(journey.mentorship, actor=journey.fellow))
    assert "Record of mentor meetings" in text and "Dr Priya Shah" in text
    assert "Dr Michael Harding, Director of Digital Health" in text
    assert "2 of 4" in text and "meetings signed off by the mentor" in text
    for number in (1, 2, 3, 4):
        assert f"Meeting {number}" in text
    assert RECORD["discussion"] in text and RECORD["mentor_advice"] in text
    assert "Both pitches done." in text and "The committee meets later." in text
    assert "Add what we said about NICE." in text
    assert "Toward the PDP objective: Raise a pre-seed round" in text
    assert "All 3 signatures matched the records" in text
    assert "Not intact" not in text
    for sign_off in _sign_offs():
        assert sign_off.digest in _squeezed(text), sign_off
    assert EVIDENCE in _squeezed(text)
    assert "How to check a digest" in text
    assert f"Page 1 of {pages}" in text
    assert f"Generated on {timezone.localdate():%-d %B %Y}" in text


def test_a_record_changed_behind_the_services_back_is_printed_as_not_intact(
    programme_a, journey, year
):
    first = year["first"]
    with scope(programme=programme_a):
        with behind_the_services_back():
            Meeting.objects.filter(pk=first.pk).update(discussion="Quietly rewritten")
        context = year_record_context(journey.mentorship)
        pdf = render_year_record_pdf(journey.mentorship, actor=journey.fellow)
    one, two = context["meetings"][:2]
    assert one["sign_off"]["intact"] is False
    assert one["sign_off"]["rows_intact"] is False and one["sign_off"]["copy_intact"] is True
    assert one["sign_off"]["differences"] == ["what was discussed"]
    assert two["sign_off"]["intact"] is True
    assert context["summary"]["not_intact"] == 1

    text, _ = _text(pdf)
    assert "Quietly rewritten" in text and "Not intact" in text
    assert "1 of 3 signatures did not match the record" in text
    assert "it differs in what was discussed" in text
    with scopes_disabled():
        event = AuditEvent.objects.get(action="mentorship.record_downloaded")
        (sign_off,) = _sign_offs(first, kind="meeting")
    assert event.changes["not_intact"] == [str(sign_off.uuid)]


def test_the_document_finds_what_verify_finds_for_every_signature(programme_a, journey, year):
    """The document verifies a whole year from rows it read in bulk: a milestone renamed
    behind the services' back breaks the same three signatures that records.verify, reading
    each record fresh, says are broken."""
    with scope(programme=programme_a):
        with behind_the_services_back():
            Milestone.objects.filter(pk=year["pitch"].pk).update(title="Pitched to nobody")
        context = year_record_context(journey.mentorship)
        fresh = {str(s.uuid): records.verify(s).intact for s in SignOff.objects.all()}
    printed = [m["sign_off"] for m in context["meetings"] if m.get("sign_off")]
    printed += [m["sign_off"] for m in context["milestones"] if m["sign_off"]]
    assert {s["uuid"]: s["intact"] for s in printed} == fresh
    assert sorted(fresh.values()) == [False, False, False]
    one, two = context["meetings"][:2]
    assert one["sign_off"]["differences"] == ["the milestones agreed"]
    assert two["sign_off"]["differences"] == ["the milestones reviewed"]
    (milestone,) = [m for m in context["milestones"] if m["sign_off"]]
    assert milestone["sign_off"]["differences"] == [
        "the review of the achievement",
        "the milestone",
    ]


def test_a_reopened_signature_is_printed_with_the_staff_reason(programme_a, journey, year, staff_a):
    first = year["first"]
    (earlier,) = _sign_offs(first, kind="meeting")
    with scope(programme=programme_a):
        meeting_reopen(meeting=first, actor=staff_a, reason="The date was wrong.")
        context = year_record_context(journey.mentorship)
        text, _ = _text(render_year_record_pdf(journey.mentorship, actor=staff_a))
    one = context["meetings"][0]
    assert one["state"] == "overdue"  # its window has closed and no signed record stands
    assert one["sign_off"] is None
    assert one["reopen_reason"] == "The date was wrong."
    (printed,) = one["earlier"]
    assert printed["digest"] == earlier.digest and printed["copy_intact"]
    assert printed["reopen_reason"] == "The date was wrong."
    assert context["summary"]["signed"] == 1
    assert "Reopened by the programme team" in text and "The date was wrong." in text
    assert "Earlier signatures, reopened by the programme team" in text
    assert earlier.digest in _squeezed(text)


def test_what_people_typed_is_printed_as_text(programme_a, journey):
    markup = '<b>Not bold</b> & <img src="https://example.org/pixel.png">'
    unbroken = "x" * 300
    meeting = journey.draft(1, held_days_ago=75, milestones=0)
    with scopes_disabled():
        Meeting.objects.filter(pk=meeting.pk).update(discussion=markup, fellow_reflection=unbroken)
    with scope(programme=programme_a):
        context = year_record_context(journey.mentorship)
        html = render_to_string(TEMPLATE, context)
        text, _ = _text(render_year_record_pdf(journey.mentorship, actor=journey.fellow))
    assert "&lt;b&gt;Not bold&lt;/b&gt; &amp; &lt;img" in html and "<b>Not" not in html
    assert markup in text
    assert unbroken in _squeezed(text)
    assert "Not signed off." in text


def test_the_fellow_their_mentor_and_staff_download_it(
    client_for, programme_a, journey, year, staff_a
):
    url = pdf_url(programme_a, journey.mentorship)
    filename = "meetings-dr-priya-shah-cohort-1-201617.pdf"
    with scopes_disabled():
        assert year_record_filename(journey.mentorship) == filename
    for person in (journey.fellow, journey.mentor, staff_a):
        response = client_for(person).get(url)
        assert response.status_code == 200, person
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
        assert response["Cache-Control"] == "private, no-store"
        assert response.content.startswith(b"%PDF")
    with scopes_disabled():
        events = AuditEvent.objects.filter(action="mentorship.record_downloaded")
        assert [e.actor for e in events.order_by("pk")] == [
            journey.fellow,
            journey.mentor,
            staff_a,
        ]
        assert {e.target_id for e in events} == {str(journey.mentorship.uuid)}
        assert {e.programme_id for e in events} == {programme_a.pk}
        assert events.first().changes == {
            "meetings_signed": 2,
            "signatures": 3,
            "not_intact": [],
        }


def test_nobody_else_gets_it(client_for, programme_a, journey, staff_b):
    url = pdf_url(programme_a, journey.mentorship)
    other_fellow = FellowFactory(programme=programme_a).user
    MembershipFactory(programme=programme_a, user=other_fellow, role=Role.FELLOW)
    for outsider in (other_fellow, staff_b):
        assert client_for(outsider).get(url).status_code == 404, outsider
    with scopes_disabled():
        assert not AuditEvent.objects.filter(action="mentorship.record_downloaded").exists()


def _sign_meeting(journey, number):
    """Meeting `number` held, its open milestones reviewed as achieved, one more agreed, and
    signed with every achieved milestone confirmed by its own signature."""
    meeting = journey.draft(number, held_days_ago=80 - 15 * number, milestones=1)
    journey.review_all(meeting)
    journey.submit(meeting)
    with scopes_disabled():
        achieved = list(
            MilestoneReview.objects.filter(meeting=meeting).values_list(
                "milestone__uuid", flat=True
            )
        )
    journey.sign(meeting, confirm=achieved)


def test_the_download_runs_the_same_queries_for_one_or_four_signed_meetings(
    client_for, programme_a, journey
):
    client = client_for(journey.fellow)
    url = pdf_url(programme_a, journey.mentorship)

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        return len(queries)

    _sign_meeting(journey, 1)
    count()  # warms the caches a first request fills (content types for the audit event)
    one = count()
    for number in (2, 3, 4):
        _sign_meeting(journey, number)
    with scopes_disabled():
        assert Meeting.objects.filter(status="signed").count() == 4
        assert SignOff.objects.filter(kind="milestone").count() == 3
    assert count() == one


def test_a_year_without_meetings_still_makes_a_document(programme_a, journey):
    with scope(programme=programme_a):
        context = year_record_context(journey.mentorship)
        text, _ = _text(render_year_record_pdf(journey.mentorship, actor=journey.fellow))
    assert context["summary"]["signed"] == 0 and context["summary"]["overdue"] == 1
    assert context["milestones"] == []
    assert "No record: the window closed without a meeting being recorded." in text
    assert "No record has been signed off yet" in text
    assert "No milestones yet." in text
