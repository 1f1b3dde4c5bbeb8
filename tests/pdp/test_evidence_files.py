"""Evidence files: checked for size, type and content, kept privately, and served only to the
fellow, their mentor and staff."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from cohort.models import Role
from pdp.models import Evidence
from pdp.services import evidence_add

from ..factories import FellowFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\0" * 40


def docx_bytes() -> bytes:
    """The same bytes every time: each entry carries a fixed date, not the clock's. The test
    ids were made from these bytes, and two xdist workers collecting a second apart got
    different ids and refused to run."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in [
            ("[Content_Types].xml", "<Types/>"),
            ("word/document.xml", "<w:document/>"),
        ]:
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), text)
    return buffer.getvalue()


@pytest.fixture
def setup(fellow, mentor, plan):
    return fellow, plan[1]


def post_file(client, programme, objective, name, content, title="Kept title"):
    e = f"e-{objective.uuid}"
    return client.post(
        reverse(
            "pdp:evidence_add",
            kwargs={"programme_slug": programme.slug, "objective_uuid": objective.uuid},
        ),
        {
            f"{e}-kind": "file",
            f"{e}-title": title,
            f"{e}-file": SimpleUploadedFile(name, content),
        },
    )


@pytest.mark.parametrize(
    ("name", "content"),
    [("plan.pdf", PDF), ("photo.PNG", PNG), ("notes.docx", docx_bytes())],
    ids=["pdf", "png", "docx"],
)
def test_an_allowed_file_is_kept_privately(client_for, programme_a, setup, settings, name, content):
    fellow, objective = setup
    response = post_file(client_for(fellow.user), programme_a, objective, name, content)
    assert response.status_code == 302
    with scopes_disabled():
        evidence = Evidence.objects.get(objective=objective)
    assert evidence.original_name == name and evidence.size == len(content)
    # Stored under a random name inside the private media folder, not the name given.
    assert name not in evidence.file.name
    assert evidence.file.path.startswith(str(settings.MEDIA_ROOT))
    assert not settings.MEDIA_URL or settings.MEDIA_URL == "/"  # no public route to it


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("tool.exe", b"MZ\x90\x00" + b"\0" * 100, "A .exe file cannot be uploaded."),
        ("report.pdf", PNG, "its content is not a PDF file"),
        ("photo.png", b"just text, not an image", "its content is not a PNG file"),
        ("empty.pdf", b"", "The submitted file is empty."),
    ],
    ids=["exe", "png-as-pdf", "text-as-png", "empty"],
)
def test_a_forbidden_or_mislabelled_file_is_refused_and_the_title_kept(
    client_for, programme_a, setup, name, content, message
):
    fellow, objective = setup
    response = post_file(client_for(fellow.user), programme_a, objective, name, content)
    assert response.status_code == 400
    assert message in response.text
    assert "Kept title" in response.text
    with scopes_disabled():
        assert not Evidence.objects.exists()


def test_a_file_over_the_limit_is_refused(client_for, programme_a, setup, settings):
    settings.PITWALL_EVIDENCE_MAX_BYTES = 1024
    fellow, objective = setup
    response = post_file(client_for(fellow.user), programme_a, objective, "big.pdf", PDF * 50)
    assert response.status_code == 400
    assert "it must be 1.0\xa0KB or smaller" in response.text


def test_only_the_fellow_their_mentor_and_staff_open_the_file(
    client_for, programme_a, setup, mentor_a, staff_a
):
    fellow, objective = setup
    with scope(programme=programme_a):
        evidence = evidence_add(
            objective=objective,
            actor=fellow.user,
            data={
                "kind": "file",
                "title": "Plan",
                "file": SimpleUploadedFile("plan.pdf", PDF),
            },
        )
    link = reverse(
        "pdp:evidence_file",
        kwargs={"programme_slug": programme_a.slug, "evidence_uuid": evidence.uuid},
    )
    for allowed in (fellow.user, mentor_a, staff_a):
        response = client_for(allowed).get(link)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == 'attachment; filename="plan.pdf"'
    other = FellowFactory(programme=programme_a).user
    MembershipFactory(programme=programme_a, user=other, role=Role.FELLOW)
    partner = UserFactory()
    MembershipFactory(programme=programme_a, user=partner, role=Role.PARTNER)
    for refused in (other, partner):
        assert client_for(refused).get(link).status_code == 404
