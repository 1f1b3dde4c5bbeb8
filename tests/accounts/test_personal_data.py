"""Subject access and erasure (DESIGN §11; issue #9 item 5).

The registry (accounts.personal_data) must cover every model of our apps that can reach a
person; a person downloads everything about them across programmes, and nothing of anyone
else; staff erase a person so that they cannot sign in and are no longer named, while signed
records still verify and the programme's figures still add up.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date, timedelta

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import Sum
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from rest_framework.test import APIClient

from accounts import personal_data
from cohort.models import (
    ApiScope,
    Application,
    AuditEvent,
    EqualityData,
    Fellow,
    Membership,
    Mentor,
    Role,
    Venture,
)
from cohort.services import partner_key_create, person_erase
from cohort.subject_access import export_data
from events.models import Registration
from mentoring.models import Connection, Meeting, SignOff
from mentoring.records import verify
from metrics.models import FundingRecord
from notifications.models import Notification, Preference
from pdp.models import Action, CompetencyDomain, Evidence
from pdp.services import evidence_add, objective_save, pdp_for_fellow

from ..factories import (
    PASSWORD,
    ApplicationFactory,
    EventFactory,
    FellowFactory,
    MembershipFactory,
    NotificationFactory,
    OrganisationFactory,
    RecruitmentCallFactory,
    UserFactory,
)
from ..isolation.meetings import meeting_year

pytestmark = pytest.mark.django_db

User = get_user_model()
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
OTHERS_SECRET = "Another fellow's private worry about their rota"
OTHERS_OBJECTIVE = "Another fellow's objective nobody else should read"
STAFF_NOTE = "Staff's interview note: strong on evidence"


# --- 1. The registry covers every model that can reach a person ---------------------------------


def _points_at(model) -> list:
    return [
        f.related_model
        for f in model._meta.get_fields()
        if f.is_relation and f.concrete and (f.many_to_one or f.one_to_one or f.many_to_many)
    ]


def _linked_models() -> set:
    """Worked out here, independently of the registry's own walk: every model of our apps
    pointing at the user model, or at a model that does (transitively). A link through a
    model declared not_personal is not followed (its rows are programme work, not a person's),
    and test_not_personal_models_hold_nothing_about_a_person keeps that declaration honest."""
    ours = [
        m
        for m in apps.get_models()
        if m._meta.app_label in personal_data.OUR_APPS and not m._meta.proxy
    ]
    linked = {User}
    grew = True
    while grew:
        grew = False
        for model in ours:
            if model in linked:
                continue
            for target in _points_at(model):
                entry = personal_data.entry_for(target)
                if target in linked and not (entry and entry.kind == personal_data.NOT_PERSONAL):
                    linked.add(model)
                    grew = True
                    break
    return linked


def test_every_model_that_can_reach_a_person_is_registered():
    linked = _linked_models()
    # The walk finds what we know is there (a guard against a walk that finds nothing).
    assert {Fellow, Mentor, Membership, Venture, Meeting, SignOff, Evidence} <= linked
    missing = sorted(m._meta.label for m in linked if personal_data.entry_for(m) is None)
    assert not missing, (
        f"{missing} can reach a person but say nothing about their personal data: register "
        "them in their app's personal_data.py (export and erase, or keep/not_personal with "
        "the reason)."
    )
    assert linked == personal_data.person_linked_models(User)


def test_no_stale_or_half_registrations():
    linked = _linked_models()
    for entry in personal_data.entries():
        assert entry.model in linked, f"{entry.label} is registered but reaches no person"
        assert entry.kind in {
            personal_data.PERSONAL,
            personal_data.KEPT,
            personal_data.PART,
            personal_data.NOT_PERSONAL,
        }
        if entry.kind == personal_data.PERSONAL:
            assert entry.export or entry.reason, entry.label
            assert entry.erase or entry.reason, entry.label
        else:
            assert entry.reason, f"{entry.label} is {entry.kind} without a reason"
        if entry.export:
            assert entry.section and entry.title and entry.description, entry.label
    sections = [e.section for e in personal_data.exported_sections()]
    assert len(sections) == len(set(sections)), "two registrations share an export section"


def test_not_personal_models_hold_nothing_about_a_person():
    """A model declared not_personal may name a person only as an optional author (a nullable
    foreign key to the user), and points at no model that holds a person's data."""
    linked = _linked_models()
    for entry in personal_data.entries():
        if entry.kind != personal_data.NOT_PERSONAL:
            continue
        for f in entry.model._meta.get_fields():
            if not (f.is_relation and f.concrete and (f.many_to_one or f.one_to_one)):
                continue
            if f.related_model is User:
                assert f.null, f"{entry.label}.{f.name} names a person, not just an author"
            else:
                assert f.related_model not in linked, (
                    f"{entry.label}.{f.name} points at {f.related_model._meta.label}, which "
                    "holds a person's data: it cannot be not_personal"
                )


# --- Fixtures: a fellow with something in every part of Pitwall ---------------------------------


def _plan(programme, fellow, title="Raise a £50,000 pre-seed round"):
    with scope(programme=programme):
        domain, _ = CompetencyDomain.objects.get_or_create(
            programme=programme, name="Finance and investment"
        )
        pdp = pdp_for_fellow(fellow=fellow)
        objective = objective_save(
            pdp=pdp,
            actor=fellow.user,
            data={
                "title": title,
                "measure": "Signed agreements worth £50,000.",
                "target_date": date(2027, 3, 31),
                "domain": domain,
            },
        )
    return pdp, objective


def _evidence_file(programme, objective, user, name="plan.pdf"):
    with scope(programme=programme):
        return evidence_add(
            objective=objective,
            actor=user,
            data={"kind": "file", "title": "Business plan", "file": SimpleUploadedFile(name, PDF)},
        )


@pytest.fixture
def other_fellow(programme_a):
    """Another fellow of programme A, with private details of her own."""
    user = UserFactory(email="other@alpha.example", full_name="Dr Olive Other")
    MembershipFactory(programme=programme_a, user=user, role=Role.FELLOW)
    fellow = FellowFactory(programme=programme_a, user=user, help_needed=OTHERS_SECRET)
    _plan(programme_a, fellow, title=OTHERS_OBJECTIVE)
    NotificationFactory(programme=programme_a, recipient=user, title="Only for Olive")
    return fellow


@pytest.fixture
def person(programme_a, programme_b, fellow_a, mentor_a, other_fellow):
    """fellow_a: a fellow in programme A (with a year of meetings with mentor_a, a plan, an
    evidence file, equality answers, a venture, notifications, a connection and an event) and
    in programme B."""
    with scopes_disabled():
        fellow_a.full_name = "Dr Priya Patel"
        fellow_a.save()
        fellow = Fellow.objects.get(programme=programme_a, user=fellow_a)
        fellow.help_needed = "Regulatory advice on a class IIa device"
        fellow.grade = "ST4"
        fellow.consent_to_share = True
        fellow.save()
        EqualityData.objects.create(
            programme=programme_a, fellow=fellow, gender="woman", age_band="30_39"
        )
        Venture.objects.create(
            programme=programme_a,
            fellow=fellow,
            name="Patel Diagnostics",
            summary="Sepsis alerts.",
            stage="pilot",
            sector="digital",
        )
    _, objective = _plan(programme_a, fellow)
    year = meeting_year(programme_a, fellow_a, mentor_a, objective=objective)
    _evidence_file(programme_a, objective, fellow_a)
    NotificationFactory(programme=programme_a, recipient=fellow_a, title="Meeting 3 is due")
    with scopes_disabled():
        fellow = Fellow.objects.get(programme=programme_a, user=fellow_a)
        Preference.objects.create(
            programme=programme_a, user=fellow_a, kind="connection", delivery="in_app"
        )
        Connection.objects.create(
            programme=programme_a,
            requester=fellow_a,
            addressee=other_fellow.user,
            status=Connection.Status.ACCEPTED,
            message="Hello from Priya",
            responded_at=timezone.now(),
        )
        Registration.objects.create(
            programme=programme_a,
            event=EventFactory(programme=programme_a, title="Pit Stop Leeds"),
            user=fellow_a,
            status="attended",
            attended_at=timezone.now(),
        )
        FundingRecord.objects.create(
            programme=programme_a,
            fellow=fellow,
            kind="grant",
            amount="25000",
            source="SBRI Healthcare",
            received_on=timezone.localdate() - timedelta(days=30),
            evidence="Award letter from Dr Patel's inbox",
            status="verified",
        )
        ApplicationFactory(
            call=RecruitmentCallFactory(programme=programme_a, cohort=fellow.cohort),
            email=fellow_a.email,
            full_name="Dr Priya Patel",
            interview_notes=STAFF_NOTE,
            fellow=fellow,
        )
    # And programme B: a second fellowship.
    MembershipFactory(programme=programme_b, user=fellow_a, role=Role.FELLOW)
    FellowFactory(programme=programme_b, user=fellow_a, specialty="Emergency medicine")
    NotificationFactory(programme=programme_b, recipient=fellow_a, title="Welcome to Bravo")
    return year


def _download(client):
    response = client.post(reverse("account_personal_data"))
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


# --- 2. Export ---------------------------------------------------------------------------------


def test_your_data_page_is_in_the_account_pages(client_for, fellow_a):
    client = client_for(fellow_a)
    assert reverse("account_personal_data").encode() in client.get("/accounts/email/").content
    page = client.get(reverse("account_personal_data"))
    assert page.status_code == 200
    assert b"nhsuk-header" in page.content
    for entry in personal_data.exported_sections():
        assert entry.title.encode() in page.content.replace(b"&#x27;", b"'")


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("account_personal_data"))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_the_download_has_every_section_every_programme_and_the_files(
    client_for, person, fellow_a, programme_a, programme_b, unscoped
):
    archive = _download(client_for(fellow_a))
    names = archive.namelist()
    assert "data.json" in names and "README.txt" in names
    data = json.loads(archive.read("data.json"))
    assert set(data["sections"]) == {e.section for e in personal_data.exported_sections()}
    sections = data["sections"]

    programmes = {row["programme"] for row in sections["fellow_profiles"]["rows"]}
    assert programmes == {programme_a.name, programme_b.name}
    assert {n["title"] for n in sections["notifications"]["rows"]} >= {
        "Meeting 3 is due",
        "Welcome to Bravo",
    }
    account = sections["account"]["rows"][0]
    assert account["email"] == fellow_a.email and account["full_name"] == "Dr Priya Patel"
    # Readable values: labels for choices, ISO dates.
    profile = next(r for r in sections["fellow_profiles"]["rows"] if r["grade"] == "ST4")
    assert profile["profession"] == "Doctor"
    assert sections["equality_answers"]["rows"][0]["gender"] == "Woman"
    meetings = sections["mentor_meetings"]["rows"]
    assert len(meetings) == 4 and meetings[0]["held_on"] == person.signed.held_on.isoformat()
    assert meetings[0]["sign_offs"][0]["digest"] == person.sign_off.digest
    assert sections["connections"]["rows"][0]["message"] == "Hello from Priya"
    assert sections["event_registrations"]["rows"][0]["event"] == "Pit Stop Leeds"
    assert sections["outcomes_funding"]["rows"][0]["amount"] == "25000.00"

    evidence = sections["evidence"]["rows"][0]
    assert evidence["file"] in names
    assert archive.read(evidence["file"]) == PDF
    readme = archive.read("README.txt").decode()
    for key in data["sections"]:
        assert key in readme


def test_the_download_holds_nothing_of_anyone_else(client_for, person, fellow_a, mentor_a):
    archive = _download(client_for(fellow_a))
    text = archive.read("data.json").decode()
    for secret in (OTHERS_SECRET, OTHERS_OBJECTIVE, "Only for Olive", STAFF_NOTE):
        assert secret not in text
    # Other people appear only by name where the record is shared with the person.
    assert mentor_a.email not in text
    assert "other@alpha.example" not in text


def test_each_download_is_audited_in_each_programme(
    client_for, person, fellow_a, programme_a, programme_b, unscoped
):
    _download(client_for(fellow_a))
    for programme in (programme_a, programme_b):
        event = AuditEvent.objects.get(programme=programme, action="person.data_exported")
        assert event.actor == fellow_a and event.target_id == str(fellow_a.uuid)


def test_downloads_are_rate_limited(client_for, fellow_a):
    client = client_for(fellow_a)
    for _ in range(5):
        assert client.post(reverse("account_personal_data")).status_code == 200
    refused = client.post(reverse("account_personal_data"))
    assert refused.status_code == 429
    assert b"There is a problem" in refused.content


def _export_queries(user) -> int:
    with CaptureQueriesContext(connection) as queries:
        export_data(user)
    return len(queries)


def test_the_number_of_queries_does_not_grow_with_the_data(person, fellow_a, programme_a):
    before = _export_queries(fellow_a)
    with scopes_disabled():
        fellow = Fellow.objects.get(programme=programme_a, user=fellow_a)
        pdp = fellow.pdp
    for n in range(4):
        NotificationFactory(programme=programme_a, recipient=fellow_a, title=f"More {n}")
        _, objective = _plan(programme_a, fellow, title=f"Objective {n}")
        with scopes_disabled():
            Action.objects.create(programme=programme_a, objective=objective, text=f"Step {n}")
            Evidence.objects.create(
                programme=programme_a, objective=objective, kind="note", title=f"Note {n}"
            )
            other = FellowFactory(programme=programme_a)
            Connection.objects.create(
                programme=programme_a, requester=other.user, addressee=fellow_a
            )
            Registration.objects.create(
                programme=programme_a,
                event=EventFactory(programme=programme_a),
                user=fellow_a,
                status="registered",
            )
            FundingRecord.objects.create(
                programme=programme_a,
                fellow=fellow,
                kind="prize",
                amount="100",
                source=f"Prize {n}",
                received_on=timezone.localdate(),
            )
    assert pdp.pk  # the same plan, with more in it
    assert _export_queries(fellow_a) == before


# --- 3. Erasure --------------------------------------------------------------------------------


def _erase_url(programme, user):
    return reverse(
        "cohort:person_erase", kwargs={"programme_slug": programme.slug, "person_uuid": user.uuid}
    )


@pytest.fixture
def only_in_a(person, fellow_a, programme_b):
    """The person of `person`, without their fellowship in programme B."""
    with scopes_disabled():
        Membership.objects.filter(programme=programme_b, user=fellow_a).delete()
        Fellow.objects.filter(programme=programme_b, user=fellow_a).delete()
    return person


def test_staff_reach_the_erase_page_from_the_fellows_page(
    client_for, only_in_a, fellow_a, staff_a, programme_a, unscoped
):
    client = client_for(staff_a)
    fellow = Fellow.objects.get(programme=programme_a, user=fellow_a)
    profile = client.get(
        reverse(
            "cohort:fellow",
            kwargs={"programme_slug": programme_a.slug, "fellow_uuid": fellow.uuid},
        )
    )
    assert _erase_url(programme_a, fellow_a).encode() in profile.content
    page = client.get(_erase_url(programme_a, fellow_a))
    assert page.status_code == 200
    assert b"What is kept" in page.content and b"Erase this person" in page.content


def test_a_wrong_confirmation_changes_nothing_and_keeps_the_reason(
    client_for, only_in_a, fellow_a, staff_a, programme_a
):
    response = client_for(staff_a).post(
        _erase_url(programme_a, fellow_a),
        {"reason": "Asked by email on 1 March", "confirm_email": "someone@else.example"},
    )
    assert response.status_code == 400
    assert b"There is a problem" in response.content
    assert b"does not match" in response.content
    assert b"Asked by email on 1 March" in response.content
    fellow_a.refresh_from_db()
    assert fellow_a.erased_at is None and fellow_a.is_active


def test_a_reason_is_required(client_for, only_in_a, fellow_a, staff_a, programme_a):
    response = client_for(staff_a).post(
        _erase_url(programme_a, fellow_a), {"reason": "  ", "confirm_email": fellow_a.email}
    )
    assert response.status_code == 400
    assert b"There is a problem" in response.content
    fellow_a.refresh_from_db()
    assert fellow_a.erased_at is None


def test_erasure_pseudonymises_keeps_signed_records_and_is_audited(
    only_in_a,
    fellow_a,
    staff_a,
    programme_a,
    django_capture_on_commit_callbacks,
):
    old_email = fellow_a.email
    year = only_in_a
    signed_client = Client()  # a live session of the person's
    signed_client.force_login(fellow_a)
    assert signed_client.get(reverse("cohort:home", args=[programme_a.slug])).status_code == 200
    with scopes_disabled():
        evidence_file = Evidence.objects.get(objective__pdp__fellow__user=fellow_a, kind="file")
        stored = evidence_file.file.name
        storage = evidence_file.file.storage
        assert storage.exists(stored)
        fellows_before = Fellow.objects.filter(programme=programme_a).count()
        attended_before = Registration.objects.filter(
            programme=programme_a, status="attended"
        ).count()
        funding_before = FundingRecord.objects.filter(programme=programme_a).aggregate(
            total=Sum("amount")
        )["total"]
        sign_offs = list(SignOff.objects.filter(meeting__mentorship=year.mentorship))
        assert sign_offs and all(verify(s).intact for s in sign_offs)

    staff_client = Client()
    staff_client.force_login(staff_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            _erase_url(programme_a, fellow_a),
            {"reason": "Asked on 1 March 2027 (UK GDPR art. 17)", "confirm_email": old_email},
        )
    assert response.status_code == 302, response.content[:800]
    fellow_a.refresh_from_db()
    short = fellow_a.uuid.hex[:8]
    members = staff_client.get(response["Location"])
    assert f"now shown as Erased person {short}".encode() in members.content

    assert fellow_a.full_name == f"Erased person {short}"
    assert fellow_a.email.endswith("@erased.invalid")
    assert not fellow_a.is_active and not fellow_a.has_usable_password()
    assert fellow_a.erased_at is not None
    assert not EmailAddress.objects.filter(user=fellow_a).exists()
    assert not storage.exists(stored)

    with scopes_disabled():
        fellow = Fellow.objects.get(programme=programme_a, user=fellow_a)
        assert fellow.help_needed == "" and fellow.grade == "" and not fellow.consent_to_share
        assert not EqualityData.objects.filter(fellow=fellow).exists()
        assert not Evidence.objects.filter(objective__pdp__fellow=fellow).exists()
        assert not Notification.objects.filter(recipient=fellow_a).exists()
        assert not Preference.objects.filter(user=fellow_a).exists()
        assert Venture.objects.get(fellow=fellow).name == "Venture of an erased person"
        application = Application.objects.get(fellow=fellow)
        assert application.email == fellow_a.email and application.interview_notes == ""
        assert Connection.objects.get(requester=fellow_a).message == ""
        # Signed records are untouched and still verify; so do the pseudonymised ones' PDFs.
        for sign_off in SignOff.objects.filter(meeting__mentorship=year.mentorship):
            assert verify(sign_off).intact, sign_off
        assert Meeting.objects.get(pk=year.signed.pk).fellow_reflection != ""
        assert Meeting.objects.get(pk=year.draft.pk).fellow_reflection == ""
        # The programme's figures still add up.
        assert Fellow.objects.filter(programme=programme_a).count() == fellows_before
        assert (
            Registration.objects.filter(programme=programme_a, status="attended").count()
            == attended_before
        )
        assert (
            FundingRecord.objects.filter(programme=programme_a).aggregate(total=Sum("amount"))[
                "total"
            ]
            == funding_before
        )
        event = AuditEvent.objects.get(programme=programme_a, action="person.erased")
    assert event.actor == staff_a
    assert event.changes["reason"] == "Asked on 1 March 2027 (UK GDPR art. 17)"
    assert event.changes["subject"] == f"Erased person {short}"
    assert event.target_label == f"Erased person {short}"
    assert old_email not in json.dumps(event.changes) + event.target_label
    assert "Dr Priya Patel" not in json.dumps(event.changes) + event.target_label

    # The person cannot sign in, and their old session is over.
    client = Client()
    assert not client.login(email=old_email, password=PASSWORD)
    login = client.post(reverse("account_login"), {"login": old_email, "password": PASSWORD})
    assert login.status_code != 302 or reverse("account_login") in login["Location"]
    assert not client.session.get("_auth_user_id")
    home = signed_client.get(reverse("cohort:home", args=[programme_a.slug]))
    assert home.status_code == 302 and reverse("account_login") in home["Location"]

    # The directory no longer shows them, by either name.
    directory = staff_client.get(reverse("cohort:directory", args=[programme_a.slug]))
    assert b"Priya Patel" not in directory.content
    assert f"Erased person {short}".encode() not in directory.content

    # The erase page now says it is done.
    again = staff_client.get(_erase_url(programme_a, fellow_a))
    assert again.status_code == 200 and b"was erased on" in again.content


def test_the_partner_api_no_longer_names_an_erased_fellow(
    only_in_a, fellow_a, staff_a, programme_a
):
    organisation = OrganisationFactory(programme=programme_a)
    with scope(programme=programme_a):
        _, secret = partner_key_create(
            programme=programme_a,
            organisation=organisation,
            name="Test key",
            scopes=list(ApiScope.values),
            expires_on=timezone.localdate() + timedelta(days=30),
            actor=None,
        )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    assert "Priya Patel" in api.get("/api/v1/fellows/").content.decode()
    person_erase(subject=fellow_a, requester=staff_a, reason="Asked")
    answer = api.get("/api/v1/fellows/")
    assert answer.status_code == 200
    assert "Priya Patel" not in answer.content.decode()
    assert "Erased person" not in answer.content.decode()


def test_erasing_a_mentor_keeps_their_signatures_verifying(
    only_in_a, mentor_a, staff_a, programme_a, unscoped
):
    year = only_in_a
    person_erase(subject=mentor_a, requester=staff_a, reason="The mentor asked")
    mentor_a.refresh_from_db()
    assert mentor_a.full_name.startswith("Erased person ")
    mentor = Mentor.objects.get(programme=programme_a, user=mentor_a)
    assert mentor.capacity == 0 and mentor.expertise == ""
    sign_offs = SignOff.objects.filter(meeting__mentorship=year.mentorship)
    assert sign_offs.exists()
    for sign_off in sign_offs:
        assert sign_off.signed_by == mentor_a
        assert verify(sign_off).intact


def test_erasure_is_idempotent(only_in_a, fellow_a, staff_a, programme_a, unscoped):
    first = person_erase(subject=fellow_a, requester=staff_a, reason="Asked")
    fellow_a.refresh_from_db()
    state = (fellow_a.full_name, fellow_a.email, fellow_a.erased_at)
    second = person_erase(subject=fellow_a, requester=staff_a, reason="Asked again")
    fellow_a.refresh_from_db()
    assert first.first_time and not second.first_time
    assert (fellow_a.full_name, fellow_a.email, fellow_a.erased_at) == state
    assert AuditEvent.objects.filter(action="person.erased").count() == 1


def test_staff_cannot_erase_someone_in_a_programme_they_do_not_run(
    client_for, person, fellow_a, staff_a, programme_a
):
    client = client_for(staff_a)
    page = client.get(_erase_url(programme_a, fellow_a))
    assert page.status_code == 200
    assert b"ask the platform operator" in page.content
    assert b"Erase this person&#x27;s data</button>" not in page.content
    refused = client.post(
        _erase_url(programme_a, fellow_a), {"reason": "Asked", "confirm_email": fellow_a.email}
    )
    assert refused.status_code == 400
    assert b"ask the platform operator" in refused.content
    fellow_a.refresh_from_db()
    assert fellow_a.erased_at is None


def test_staff_cannot_erase_themselves(client_for, staff_a, programme_a):
    client = client_for(staff_a)
    page = client.post(
        _erase_url(programme_a, staff_a), {"reason": "Leaving", "confirm_email": staff_a.email}
    )
    assert page.status_code == 400
    assert b"cannot erase your own account" in page.content
    staff_a.refresh_from_db()
    assert staff_a.erased_at is None and staff_a.is_active


def test_staff_of_another_programme_get_404(
    client_for, fellow_a, staff_b, programme_a, programme_b
):
    client = client_for(staff_b)
    assert client.get(_erase_url(programme_a, fellow_a)).status_code == 404
    # Nor through their own programme: the person is not in it.
    assert client.get(_erase_url(programme_b, fellow_a)).status_code == 404
    response = client.post(
        _erase_url(programme_b, fellow_a), {"reason": "x", "confirm_email": fellow_a.email}
    )
    assert response.status_code == 404
    fellow_a.refresh_from_db()
    assert fellow_a.erased_at is None


def test_fellows_and_mentors_cannot_erase(client_for, fellow_a, mentor_a, programme_a):
    for user, target in ((fellow_a, mentor_a), (mentor_a, fellow_a)):
        response = client_for(user).get(_erase_url(programme_a, target))
        assert response.status_code == 403


def test_operators_erase_from_the_admin(client, fellow_a, programme_a, unscoped):
    operator = User.objects.create_superuser(email="operator@example.org", password=PASSWORD)
    client.force_login(operator)
    url = reverse("admin:accounts_user_changelist")
    confirm = client.post(url, {"action": "erase_personal_data", "_selected_action": [fellow_a.pk]})
    assert confirm.status_code == 200
    assert b"Reason" in confirm.content
    done = client.post(
        url,
        {
            "action": "erase_personal_data",
            "_selected_action": [fellow_a.pk],
            "apply": "1",
            "reason": "Asked the operator",
        },
    )
    assert done.status_code == 302
    fellow_a.refresh_from_db()
    assert fellow_a.erased_at is not None
    event = AuditEvent.objects.get(programme=programme_a, action="person.erased")
    assert event.via == AuditEvent.Via.ADMIN and event.actor == operator
