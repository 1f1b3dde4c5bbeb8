"""Staff import applicants, fellows and mentors from CSV or Excel, checked row by row before
anything is saved, and export them with the same columns (issue #3, item 7)."""

import csv
import io
from datetime import date

import pytest
import tablib
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from cohort.importing import (
    COLUMNS,
    MAX_ROWS,
    export_dataset,
    import_commit,
    import_preview,
    people_import_run,
)
from cohort.models import (
    Application,
    AuditEvent,
    Fellow,
    Invitation,
    Membership,
    Mentor,
    PeopleImport,
    RecruitmentCall,
    Role,
)
from cohort.services import fellow_enrol
from notifications.models import OutboxMessage

from ..factories import CohortFactory, FellowFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

FELLOW_ROWS = [
    COLUMNS["fellows"],
    [
        "asha.patel@nhs.net",
        "Asha Patel",
        "Doctor",
        "ST4",
        "Emergency medicine",
        "Barts Health NHS Trust",
        "London",
        "In programme",
        "",
        "no",
        "yes",
        "",
        "",
    ],
    [
        "Ben.Okafor@NHS.net",
        "Ben Okafor",
        "nurse",
        "Band 7",
        "Critical care",
        "Leeds Teaching Hospitals NHS Trust",
        "ne_yorks",
        "Less Than Full Time (LTFT)",
        "60",
        "YES",
        "0",
        "1/9/2016",
        "31/08/2017",
    ],
    [
        "cara.jones@nhs.net",
        "Cara Jones",
        "PHARMACIST",
        "",
        "",
        "",
        "South West",
        "oope",
        "",
        "",
        "",
        "2016-09-01",
        "",
    ],
]
MENTOR_ROWS = [
    COLUMNS["mentors"],
    [
        "dan.reid@mclaren.example",
        "Dan Reid",
        "McLaren Applied",
        "Head of health",
        "Telemetry; data",
        "AI and data; medtech",
        "London",
        "3",
    ],
    ["eve.hall@verily.example", "Eve Hall", "verily", "", "", "", "", ""],
]
APPLICANT_ROWS = [
    COLUMNS["applicants"],
    [
        "fay.khan@nhs.net",
        "Fay Khan",
        "Midwife",
        "Band 6",
        "",
        "",
        "Midlands",
        "Remote monitoring of blood pressure in pregnancy.",
    ],
    [
        "gus.lee@nhs.net",
        "Gus Lee",
        "Allied health professional",
        "",
        "Physiotherapy",
        "",
        "",
        "An app for exercises after knee surgery.",
    ],
]
ROWS = {"fellows": FELLOW_ROWS, "mentors": MENTOR_ROWS, "applicants": APPLICANT_ROWS}
MODEL = {"fellows": Fellow, "mentors": Mentor, "applicants": Application}


def csv_file(rows, name="people.csv") -> SimpleUploadedFile:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return SimpleUploadedFile(name, out.getvalue().encode("utf-8"), content_type="text/csv")


def xlsx_file(rows, name="people.xlsx") -> SimpleUploadedFile:
    content = tablib.Dataset(*rows[1:], headers=rows[0]).export("xlsx")
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def replace(rows, row, column, value):
    """A copy of the rows with one cell changed (row 1 is the header, as in a spreadsheet)."""
    copy = [list(r) for r in rows]
    copy[row - 1][rows[0].index(column)] = value
    return copy


@pytest.fixture
def cohort(programme_a):
    return CohortFactory(programme=programme_a, name="Cohort 1 — 2016/17")


@pytest.fixture
def call(programme_a, cohort):
    return RecruitmentCall.objects.create(
        programme=programme_a,
        cohort=cohort,
        opens_on=date(2016, 1, 1),
        closes_on=date(2016, 2, 1),  # closed: staff may still import into it
    )


@pytest.fixture
def organisations(programme_a):
    return [
        OrganisationFactory(programme=programme_a, name="McLaren Applied"),
        OrganisationFactory(programme=programme_a, name="Verily"),
    ]


@pytest.fixture
def ready(call, organisations):
    """Programme A with a cohort, its call and the mentors' organisations."""


def counts():
    with scopes_disabled():
        from django.contrib.auth import get_user_model

        return {
            "users": get_user_model().objects.count(),
            "memberships": Membership.objects.count(),
            "fellows": Fellow.objects.count(),
            "mentors": Mentor.objects.count(),
            "applications": Application.objects.count(),
            "invitations": Invitation.objects.count(),
            "outbox": OutboxMessage.objects.count(),
        }


def import_url(programme):
    return reverse("cohort:people_import", kwargs={"programme_slug": programme.slug})


def upload(client, programme, kind, cohort, file):
    return client.post(
        import_url(programme),
        {"kind": kind, "cohort": str(cohort.uuid) if cohort else "", "file": file},
    )


def preview_problems(preview) -> list[str]:
    return [f"row {r.number}, {p.column}: {p.message}" for r in preview.rows for p in r.errors]


def check(programme, kind, cohort, file):
    with scope(programme=programme):
        return import_preview(programme=programme, kind=kind, cohort=cohort, uploaded_file=file)


# --- the good path, in the browser ------------------------------------------------------------


@pytest.mark.parametrize("kind", ["fellows", "mentors", "applicants"])
@pytest.mark.parametrize("make_file", [csv_file, xlsx_file], ids=["csv", "xlsx"])
def test_staff_preview_then_confirm_a_good_file(
    client_for, staff_a, programme_a, cohort, ready, kind, make_file
):
    client = client_for(staff_a)
    before = counts()

    response = upload(client, programme_a, kind, cohort, make_file(ROWS[kind]))

    assert response.status_code == 200
    body = response.content.decode()
    rows = len(ROWS[kind]) - 1
    assert f"{rows} rows, 0 with errors" in body
    assert f"Confirm import of {rows} rows" in body
    assert ROWS[kind][1][1] in body  # the first person's name is shown
    assert counts() == before, "the preview saved something"

    response = client.post(import_url(programme_a), {"import_token": response.context["token"]})

    assert response.status_code == 302
    after = counts()
    with scopes_disabled():
        saved = MODEL[kind].objects.filter(programme=programme_a)
        assert saved.count() == rows
        emails = {row[0].lower() for row in ROWS[kind][1:]}
        if kind == "applicants":
            assert {a.email for a in saved} == emails
            assert all(a.call.cohort == cohort for a in saved)
            assert after["memberships"] == before["memberships"]
            assert after["outbox"] == before["outbox"] + rows  # the link to the application
        else:
            role = Role.FELLOW if kind == "fellows" else Role.MENTOR
            assert {m.user.email for m in saved} == emails
            assert after["users"] == before["users"] + rows
            assert (
                Membership.objects.filter(
                    programme=programme_a, role=role, user__email__in=emails
                ).count()
                == rows
            )
            invitations = Invitation.objects.filter(programme=programme_a, role=role)
            assert invitations.filter(email__in=emails).count() == rows
            assert (
                OutboxMessage.objects.filter(kind="invitation", to_email__in=emails).count() == rows
            )
        assert AuditEvent.objects.filter(programme=programme_a, action=f"{kind}.imported").exists()
    follow = client.get(response["Location"])
    message = next(iter(follow.context["messages"])).message
    if kind == "fellows":
        assert message == (
            "Imported 3 fellows into Cohort 1 — 2016/17; each has been sent an invitation."
        )
    elif kind == "mentors":
        assert message == "Imported 2 mentors; each has been sent an invitation."
    else:
        assert message.startswith("Imported 2 applicants into the call for Cohort 1 — 2016/17")


def test_values_are_read_as_staff_write_them(programme_a, cohort, ready):
    """Labels or stored values in any case, yes/no/1/0, headers in any order and case."""
    rows = [list(r) for r in FELLOW_ROWS]
    rows[0] = [f"  {h.upper()} " for h in rows[0]]
    preview = check(programme_a, "fellows", cohort, csv_file(rows))
    assert preview.is_valid, preview_problems(preview)
    ben = preview.rows[1].cleaned
    assert ben["email"] == "ben.okafor@nhs.net"
    assert ben["profession"] == "nurse"
    assert ben["region"] == "ne_yorks"
    assert ben["training_arrangement"] == "ltft"
    assert ben["ltft_percent"] == 60
    assert ben["is_returner"] is True and ben["consent_to_share"] is False
    cara = preview.rows[2].cleaned
    assert cara["training_arrangement"] == "oope" and cara["ltft_percent"] is None
    assert preview.rows[0].cleaned["training_arrangement"] == "in_programme"

    mentors = check(programme_a, "mentors", None, csv_file(MENTOR_ROWS))
    assert mentors.is_valid, preview_problems(mentors)
    dan, eve = (row.cleaned for row in mentors.rows)
    assert dan["sectors"] == ["ai_data", "medtech"] and dan["capacity"] == 3
    assert eve["organisation"].name == "Verily" and eve["capacity"] == 2


def test_xlsx_cells_typed_by_excel_are_read(programme_a, cohort):
    """Excel stores numbers and booleans as such; 60.0 is 60 and TRUE is yes."""
    rows = [list(r) for r in FELLOW_ROWS]
    rows[2][rows[0].index("ltft_percent")] = 60.0
    rows[2][rows[0].index("is_returner")] = True
    rows[2][rows[0].index("consent_to_share")] = 0
    preview = check(programme_a, "fellows", cohort, xlsx_file(rows))
    assert preview.is_valid, preview_problems(preview)
    assert preview.rows[1].cleaned["ltft_percent"] == 60
    assert preview.rows[1].cleaned["is_returner"] is True


def test_blank_rows_are_skipped_and_rows_keep_their_spreadsheet_numbers(programme_a, cohort):
    bad = replace(FELLOW_ROWS, 3, "profession", "x")[2]
    rows = [FELLOW_ROWS[0], FELLOW_ROWS[1], [""] * 13, bad]
    preview = check(programme_a, "fellows", cohort, xlsx_file(rows))
    assert [row.number for row in preview.rows] == [2, 4]
    assert preview.error_rows[0].number == 4


# --- bad input: each named by row and column, nothing saved -----------------------------------


def assert_refused(client, programme, kind, cohort, file, *expected, status=200):
    """Uploading the file shows every expected text on the page and saves nothing, and there
    is no way to confirm it."""
    before = counts()
    response = upload(client, programme, kind, cohort, file)
    assert response.status_code == status, response.status_code
    body = response.content.decode()
    for text in expected:
        assert text in body, f"{text!r} is not on the page"
    assert "Confirm import" not in body
    assert "There is a problem" in body
    assert counts() == before
    return response


BAD_ROWS = [
    pytest.param(
        "fellows",
        replace(FELLOW_ROWS, 3, "ltft_percent", "sixty"),
        ["Row 3, ltft_percent: Write a whole number from 20 to 99."],
        id="bad-number",
    ),
    pytest.param(
        "fellows",
        replace(FELLOW_ROWS, 2, "ltft_percent", "150"),
        ["Row 2, ltft_percent: Write a whole number from 20 to 99."],
        id="number-out-of-range",
    ),
    pytest.param(
        "fellows",
        replace(FELLOW_ROWS, 3, "ltft_percent", ""),
        ["Row 3, ltft_percent: Give the percentage of full time"],
        id="ltft-without-percent",
    ),
    pytest.param(
        "mentors",
        replace(MENTOR_ROWS, 2, "capacity", "lots"),
        ["Row 2, capacity: Write a whole number from 0 to 20."],
        id="bad-capacity",
    ),
    pytest.param(
        "mentors",
        replace(MENTOR_ROWS, 3, "organisation", "Acme Health"),
        [
            "Row 3, organisation: There is no organisation called “Acme Health” in this "
            "programme. Add it in the admin (Organisations) first"
        ],
        id="unknown-organisation",
    ),
    pytest.param(
        "fellows",
        replace(FELLOW_ROWS, 2, "profession", "Surgeon"),
        ["Row 2, profession: “Surgeon” is not a profession we know. Use one of: Doctor, Nurse"],
        id="unknown-choice",
    ),
    pytest.param(
        "fellows",
        replace(FELLOW_ROWS, 4, "region", "Narnia"),
        ["Row 4, region: “Narnia” is not a NHS region we know"],
        id="unknown-region",
    ),
    pytest.param(
        "mentors",
        replace(MENTOR_ROWS, 2, "sectors", "medtech; space travel"),
        ["Row 2, sectors: “space travel” is not a sector we know"],
        id="unknown-sector",
    ),
    pytest.param(
        "fellows",
        replace(FELLOW_ROWS, 2, "is_returner", "maybe"),
        ["Row 2, is_returner: Write yes or no (or leave it blank), not “maybe”."],
        id="bad-boolean",
    ),
    pytest.param(
        "fellows",
        replace(FELLOW_ROWS, 4, "email", "ASHA.PATEL@nhs.net"),
        ["Row 4, email: asha.patel@nhs.net is also on row 2. Each person can be on the file once."],
        id="duplicate-email",
    ),
    pytest.param(
        "fellows",
        replace(FELLOW_ROWS, 2, "email", "not-an-address"),
        ["Row 2, email: Write a valid email address"],
        id="bad-email",
    ),
    pytest.param(
        "applicants",
        replace(APPLICANT_ROWS, 3, "idea", ""),
        ["Row 3, idea: Give the applicant&#x27;s idea"],
        id="missing-required",
    ),
    pytest.param(
        "applicants",
        replace(APPLICANT_ROWS, 2, "full_name", "x" * 151),
        ["Row 2, full_name: Keep this to 150 characters or fewer (it has 151)."],
        id="too-long",
    ),
]


@pytest.mark.parametrize(("kind", "rows", "expected"), BAD_ROWS)
def test_a_bad_row_is_named_and_nothing_is_saved(
    client_for, staff_a, programme_a, cohort, ready, kind, rows, expected
):
    client = client_for(staff_a)
    response = assert_refused(client, programme_a, kind, cohort, csv_file(rows), *expected)
    assert "1 with errors" in response.content.decode()
    # The error summary links to the cell.
    row, column = expected[0].split(":")[0].removeprefix("Row ").split(", ")
    assert f'href="#row-{row}-{column}"' in response.content.decode()
    assert f'id="row-{row}-{column}"' in response.content.decode()


def test_someone_already_a_fellow_of_the_cohort(client_for, staff_a, programme_a, cohort):
    FellowFactory(
        programme=programme_a, cohort=cohort, user=UserFactory(email="cara.jones@nhs.net")
    )
    assert_refused(
        client_for(staff_a),
        programme_a,
        "fellows",
        cohort,
        csv_file(FELLOW_ROWS),
        "Row 4, email: cara.jones@nhs.net is already a fellow of Cohort 1 — 2016/17.",
    )


def test_a_fellow_of_another_cohort_may_join_this_one(programme_a, cohort):
    FellowFactory(programme=programme_a, user=UserFactory(email="cara.jones@nhs.net"))
    assert check(programme_a, "fellows", cohort, csv_file(FELLOW_ROWS)).is_valid


def test_someone_already_a_mentor_or_applicant(programme_a, cohort, call, organisations):
    from tests.factories import MentorFactory

    MentorFactory(programme=programme_a, user=UserFactory(email="EVE.HALL@verily.example"))
    mentors = check(programme_a, "mentors", None, csv_file(MENTOR_ROWS))
    assert preview_problems(mentors) == [
        "row 3, email: eve.hall@verily.example is already a mentor of this programme."
    ]
    Application.objects.create(
        programme=programme_a, call=call, email="gus.lee@nhs.net", full_name="Gus", idea="x"
    )
    applicants = check(programme_a, "applicants", cohort, csv_file(APPLICANT_ROWS))
    assert preview_problems(applicants) == [
        "row 3, email: gus.lee@nhs.net has already applied to the call for Cohort 1 — 2016/17."
    ]


def test_wrong_columns_list_what_is_missing_and_unknown(client_for, staff_a, programme_a, cohort):
    rows = [list(r) for r in FELLOW_ROWS]
    rows[0][rows[0].index("profession")] = "job"
    rows[0][rows[0].index("grade")] = "Grade "
    consent = rows[0].index("consent_to_share")
    for row in rows:
        del row[consent]
    response = assert_refused(
        client_for(staff_a),
        programme_a,
        "fellows",
        cohort,
        csv_file(rows),
        "Missing columns: profession, consent_to_share.",
        "Columns we do not recognise: job.",
        "The header row of a fellows file is: " + ",".join(COLUMNS["fellows"]),
        status=400,
    )
    # What staff chose is kept.
    body = response.content.decode()
    assert 'value="fellows" checked' in body
    assert f'<option value="{cohort.uuid}" selected>' in body


@pytest.mark.parametrize(
    ("starts", "ends", "message"),
    [
        ("31/02/2026", "", "row 3, arrangement_starts_on: Write the date as day/month/year"),
        ("next week", "", "row 3, arrangement_starts_on: Write the date as day/month/year"),
        (
            "01/09/2026",
            "31/08/2026",
            "row 3, arrangement_ends_on: The arrangement must end on or after it starts.",
        ),
    ],
)
def test_bad_dates_are_named_at_their_row_and_column(programme_a, cohort, starts, ends, message):
    rows = replace(FELLOW_ROWS, 3, "arrangement_starts_on", starts)
    rows = replace(rows, 3, "arrangement_ends_on", ends)
    preview = check(programme_a, "fellows", cohort, csv_file(rows))
    assert not preview.is_valid
    assert any(p.startswith(message) for p in preview_problems(preview)), preview_problems(preview)


def test_mentors_file_uploaded_as_fellows(programme_a, cohort):
    preview = check(programme_a, "fellows", cohort, csv_file(MENTOR_ROWS))
    assert not preview.rows
    [problem] = preview.file_errors
    assert "Missing columns: profession" in problem.message
    assert "organisation" in problem.message
    assert problem.message.endswith("This looks like a file of mentors: choose Mentors above.")


def test_applicants_need_the_cohorts_call(client_for, staff_a, programme_a, cohort):
    assert_refused(
        client_for(staff_a),
        programme_a,
        "applicants",
        cohort,
        csv_file(APPLICANT_ROWS),
        "Cohort 1 — 2016/17 has no call for applications yet. Open the cohort&#x27;s call for "
        "applications first",
        status=400,
    )


def test_fellows_and_applicants_need_a_cohort(client_for, staff_a, programme_a, cohort):
    assert_refused(
        client_for(staff_a),
        programme_a,
        "fellows",
        None,
        csv_file(FELLOW_ROWS),
        "Choose the cohort the fellows join",
        status=400,
    )


FILE_PROBLEMS = [
    pytest.param(
        SimpleUploadedFile("people.csv", b"", content_type="text/csv"),
        "The file is empty",
        id="empty",
    ),
    pytest.param(
        SimpleUploadedFile("people.csv", b"\n\n  \n", content_type="text/csv"),
        "The file is empty",
        id="blank-lines",
    ),
    pytest.param(
        SimpleUploadedFile(
            "people.csv", (",".join(COLUMNS["fellows"]) + "\n").encode(), content_type="text/csv"
        ),
        "The file has a header row but no people in it.",
        id="header-only",
    ),
    pytest.param(
        SimpleUploadedFile("people.csv", bytes(range(256)) * 20, content_type="text/csv"),
        "This does not look like a CSV file",
        id="garbage",
    ),
    pytest.param(
        SimpleUploadedFile("people.xlsx", b"PK\x03\x04 not really a zip", content_type="x"),
        "We could not read this file as an Excel workbook (.xlsx)",
        id="broken-xlsx",
    ),
    pytest.param(
        SimpleUploadedFile("people.pdf", b"%PDF-1.4 a document", content_type="application/pdf"),
        "Upload a CSV file (.csv) or an Excel workbook (.xlsx).",
        id="pdf",
    ),
    pytest.param(
        SimpleUploadedFile("people.xls", b"\xd0\xcf\x11\xe0 old excel", content_type="x"),
        "This is an old Excel file (.xls)",
        id="xls",
    ),
    pytest.param(
        SimpleUploadedFile(
            "people.csv",
            (",".join(COLUMNS["fellows"]) + "\n" + "a,b,c" + "," * 20 + "\n").encode(),
            content_type="text/csv",
        ),
        "Some rows have more cells than the header row",
        id="ragged",
    ),
    pytest.param(
        SimpleUploadedFile(
            "people.csv", b"email\n" + b"x" * (2 * 1024 * 1024 + 10), content_type="text/csv"
        ),
        "The file is 2.0 MB; the largest we take is 2 MB",
        id="oversize",
    ),
]


@pytest.mark.parametrize(("file", "message"), FILE_PROBLEMS)
def test_a_file_that_cannot_be_taken(client_for, staff_a, programme_a, cohort, file, message):
    response = assert_refused(
        client_for(staff_a), programme_a, "fellows", cohort, file, message, status=400
    )
    assert 'href="#id_file"' in response.content.decode()


def test_too_many_rows(programme_a, cohort):
    rows = [COLUMNS["fellows"]] + [
        [f"person{n}@nhs.net", f"Person {n}", "doctor"] + [""] * 8 for n in range(MAX_ROWS + 1)
    ]
    preview = check(programme_a, "fellows", cohort, csv_file(rows))
    assert [p.message for p in preview.file_errors] == [
        "The file has 5,001 rows of people; the most we take at once is 5,000. Split it into "
        "smaller files."
    ]
    assert not preview.rows


def test_the_preview_lists_every_problem_and_numbers_the_rows(programme_a, cohort):
    rows = replace(FELLOW_ROWS, 2, "profession", "Surgeon")
    rows = replace(rows, 2, "region", "Mars")
    rows = replace(rows, 4, "email", "")
    preview = check(programme_a, "fellows", cohort, csv_file(rows))
    assert [r.number for r in preview.error_rows] == [2, 4]
    assert [p.column for p in preview.rows[0].errors] == ["profession", "region"]
    assert preview.rows[2].errors[0].message == "Give the person's email address."
    assert preview.rows[1].cleaned is not None and not preview.is_valid


# --- the confirmation -----------------------------------------------------------------------


def test_the_confirmation_checks_again_and_saves_nothing_if_something_changed(
    client_for, staff_a, programme_a, cohort
):
    client = client_for(staff_a)
    response = upload(client, programme_a, "fellows", cohort, csv_file(FELLOW_ROWS))
    token = response.context["token"]
    # Between the preview and the confirmation, a colleague appoints one of them.
    FellowFactory(
        programme=programme_a, cohort=cohort, user=UserFactory(email="cara.jones@nhs.net")
    )
    before = counts()

    response = client.post(import_url(programme_a), {"import_token": token})

    assert response.status_code == 400
    body = response.content.decode()
    assert "Something changed since the preview, so nothing was imported." in body
    assert "Row 4, email: cara.jones@nhs.net is already a fellow of Cohort 1" in body
    assert counts() == before
    # The preview is used up: confirming again does nothing.
    again = client.post(import_url(programme_a), {"import_token": token})
    assert again.status_code == 302 and counts() == before


def test_a_row_refused_by_the_service_rolls_back_every_row(staff_a, programme_a, cohort):
    """The check passed, but the service refuses row 4 when saving (someone enrolled the same
    person in between): rows 2 and 3, already saved, are rolled back with it."""
    preview = check(programme_a, "fellows", cohort, csv_file(FELLOW_ROWS))
    assert preview.is_valid
    with scope(programme=programme_a):
        fellow_enrol(
            programme=programme_a,
            cohort=cohort,
            email="cara.jones@nhs.net",
            full_name="Cara Jones",
            profile={"profession": "pharmacist"},
            actor=staff_a,
        )
    before = counts()

    with scope(programme=programme_a), pytest.raises(ValidationError) as raised:
        import_commit(
            programme=programme_a, kind="fellows", cohort=cohort, preview=preview, actor=staff_a
        )

    assert raised.value.messages == [
        "Nothing was imported: row 4, email: cara.jones@nhs.net is already a fellow of "
        "Cohort 1 — 2016/17."
    ]
    assert counts() == before
    assert [(r.number, [p.column for p in r.errors]) for r in preview.error_rows] == [
        (4, ["email"])
    ]
    with scopes_disabled():
        assert not Fellow.objects.filter(user__email="asha.patel@nhs.net").exists()


def test_commit_refuses_a_preview_with_problems(staff_a, programme_a, cohort):
    preview = check(
        programme_a, "fellows", cohort, csv_file(replace(FELLOW_ROWS, 3, "profession", "?"))
    )
    before = counts()
    with scope(programme=programme_a), pytest.raises(ValidationError):
        import_commit(
            programme=programme_a, kind="fellows", cohort=cohort, preview=preview, actor=staff_a
        )
    assert counts() == before


def test_a_made_up_token_imports_nothing(client_for, staff_a, programme_a, cohort):
    before = counts()
    response = client_for(staff_a).post(import_url(programme_a), {"import_token": "forged"})
    assert response.status_code == 302
    assert counts() == before


def test_people_already_in_the_programme_are_not_invited_twice(
    client_for, staff_a, programme_a, cohort, fellow_a
):
    rows = replace(FELLOW_ROWS, 2, "email", fellow_a.email)
    client = client_for(staff_a)
    response = upload(client, programme_a, "fellows", cohort, csv_file(rows))
    response = client.post(
        import_url(programme_a), {"import_token": response.context["token"]}, follow=True
    )
    message = next(iter(response.context["messages"])).message
    assert message == (
        "Imported 3 fellows into Cohort 1 — 2016/17; 2 have been sent an invitation; the others "
        "already had the role or an invitation here."
    )


# --- export ---------------------------------------------------------------------------------


def export_url(programme, kind, fmt, cohort=None):
    url = reverse(
        "cohort:people_export", kwargs={"programme_slug": programme.slug, "kind": kind, "fmt": fmt}
    )
    return f"{url}?cohort={cohort.uuid}" if cohort else url


def import_all(client, programme, cohort):
    for kind in ("fellows", "mentors", "applicants"):
        response = upload(client, programme, kind, cohort, csv_file(ROWS[kind]))
        assert response.context["token"], kind
        client.post(import_url(programme), {"import_token": response.context["token"]})


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_elsewhere_brings_the_same_people(
    client, staff_a, staff_b, programme_a, programme_b, cohort, ready, fmt
):
    client.force_login(staff_a)
    import_all(client, programme_a, cohort)
    files = {}
    for kind in ("fellows", "mentors", "applicants"):
        response = client.get(export_url(programme_a, kind, fmt, cohort))
        assert response.status_code == 200
        files[kind] = SimpleUploadedFile(f"export.{fmt}", response.content)

    # Programme B has its own cohort, call and organisations of the same names.
    cohort_b = CohortFactory(programme=programme_b, name="Cohort 2")
    RecruitmentCall.objects.create(
        programme=programme_b,
        cohort=cohort_b,
        opens_on=date(2026, 1, 1),
        closes_on=date(2026, 2, 1),
    )
    OrganisationFactory(programme=programme_b, name="McLaren Applied")
    OrganisationFactory(programme=programme_b, name="VERILY")
    client.force_login(staff_b)
    for kind, file in files.items():
        response = upload(client, programme_b, kind, cohort_b, file)
        assert response.status_code == 200, response.content.decode()[:2000]
        client.post(import_url(programme_b), {"import_token": response.context["token"]})

    def people(programme, kind):
        with scope(programme=programme):
            return sorted(tuple(r) for r in export_dataset(programme=programme, kind=kind))

    for kind in ("fellows", "mentors", "applicants"):
        in_a, in_b = people(programme_a, kind), people(programme_b, kind)
        assert len(in_a) == len(ROWS[kind]) - 1
        if kind == "mentors":  # B spells the organisation its own way
            in_b = [tuple("Verily" if v == "VERILY" else v for v in row) for row in in_b]
        assert in_a == in_b, kind
    with scopes_disabled():
        ben = Fellow.objects.get(programme=programme_b, user__email="ben.okafor@nhs.net")
    assert (ben.training_arrangement, ben.ltft_percent, ben.is_returner) == ("ltft", 60, True)


def test_the_export_file(client_for, staff_a, programme_a, cohort, ready):
    client = client_for(staff_a)
    import_all(client, programme_a, cohort)

    response = client.get(export_url(programme_a, "fellows", "csv", cohort))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="alpha-fellows-cohort-1-201617-{today}.csv"'
    )
    text = response.content.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == COLUMNS["fellows"]
    assert lines[1] == [
        "asha.patel@nhs.net",
        "Asha Patel",
        "Doctor",
        "ST4",
        "Emergency medicine",
        "Barts Health NHS Trust",
        "London",
        "In programme",
        "",
        "no",
        "yes",
        "",
        "",
    ]
    assert lines[2][-2:] == ["2016-09-01", "2017-08-31"]  # Ben's LTFT dates, as ISO
    xlsx = client.get(export_url(programme_a, "mentors", "xlsx"))
    assert xlsx["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert xlsx["Content-Disposition"] == f'attachment; filename="alpha-mentors-{today}.xlsx"'
    sheet = tablib.Dataset().load(xlsx.content, format="xlsx")
    assert sheet.headers == COLUMNS["mentors"]
    assert sheet[0][5] == "AI and data; Medical devices"
    with scopes_disabled():
        assert AuditEvent.objects.filter(action="mentors.exported", actor=staff_a).exists()


def test_formulas_are_escaped_in_exports_and_unescaped_on_import(
    client_for, staff_a, programme_a, cohort, call
):
    """An applicant's idea typed into the public form must not run as a formula in Excel."""
    rows = replace(APPLICANT_ROWS, 2, "idea", '=HYPERLINK("http://evil.example","Click")')
    client = client_for(staff_a)
    response = upload(client, programme_a, "applicants", cohort, csv_file(rows))
    client.post(import_url(programme_a), {"import_token": response.context["token"]})

    exported = client.get(export_url(programme_a, "applicants", "xlsx")).content
    sheet = tablib.Dataset().load(exported, format="xlsx")
    idea = next(r for r in sheet.dict if r["email"] == "fay.khan@nhs.net")["idea"]
    assert idea == '\'=HYPERLINK("http://evil.example","Click")'
    again = check(programme_a, "applicants", cohort, SimpleUploadedFile("a.xlsx", exported))
    assert again.rows[0].values["idea"] == '=HYPERLINK("http://evil.example","Click")'


@pytest.mark.parametrize(
    ("kind", "fmt"), [("nothing", "csv"), ("fellows", "pdf"), ("fellow", "xlsx")]
)
def test_unknown_kind_or_format_is_not_found(client_for, staff_a, programme_a, kind, fmt):
    assert client_for(staff_a).get(export_url(programme_a, kind, fmt)).status_code == 404


def test_an_unknown_cohort_is_not_found(client_for, staff_a, programme_a):
    client = client_for(staff_a)
    url = export_url(programme_a, "fellows", "csv")
    assert client.get(url + "?cohort=not-a-uuid").status_code == 404
    assert client.get(url + "?cohort=00000000-0000-0000-0000-000000000000").status_code == 404


def test_the_export_runs_a_fixed_number_of_queries(client_for, staff_a, programme_a, cohort):
    client = client_for(staff_a)
    url = export_url(programme_a, "fellows", "csv")
    client.get(url)  # warm up the session and content types

    def queries_with(total):
        with scopes_disabled():
            while Fellow.objects.filter(programme=programme_a).count() < total:
                FellowFactory(programme=programme_a, cohort=cohort)
        with CaptureQueriesContext(connection) as context:
            response = client.get(url)
        assert response.content.decode("utf-8-sig").count("\n") == total + 1
        return len(context.captured_queries)

    assert queries_with(5) == queries_with(30)


def test_templates_have_the_header_row(client_for, staff_a, programme_a):
    client = client_for(staff_a)
    for kind, columns in COLUMNS.items():
        response = client.get(
            reverse(
                "cohort:people_import_template",
                kwargs={"programme_slug": programme_a.slug, "kind": kind},
            )
        )
        assert response.status_code == 200
        assert response.content.decode("utf-8-sig").strip() == ",".join(columns)
        assert f'filename="{kind}-template.csv"' in response["Content-Disposition"]
    missing = reverse(
        "cohort:people_import_template",
        kwargs={"programme_slug": programme_a.slug, "kind": "nothing"},
    )
    assert client.get(missing).status_code == 404


def test_the_import_page_and_its_links(client_for, staff_a, programme_a, cohort):
    client = client_for(staff_a)
    page = client.get(import_url(programme_a) + f"?kind=fellows&cohort={cohort.uuid}")
    body = page.content.decode()
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in body
    assert 'value="fellows" checked' in body
    assert f'<option value="{cohort.uuid}" selected>' in body
    assert "/people/import/template/mentors/" in body
    for url in (reverse("cohort:members", args=[programme_a.slug]), f"/p/{programme_a.slug}/"):
        body = client.get(url).content.decode()
        assert import_url(programme_a) in body
        assert "/people/export/fellows/xlsx/" in body


# --- who may import and export ------------------------------------------------------------------


@pytest.mark.parametrize("who", ["fellow_a", "mentor_a"])
def test_members_who_are_not_staff_cannot_import_or_export(
    request, client_for, programme_a, cohort, who
):
    client = client_for(request.getfixturevalue(who))
    before = counts()
    assert client.get(import_url(programme_a)).status_code == 403
    response = upload(client, programme_a, "fellows", cohort, csv_file(FELLOW_ROWS))
    assert response.status_code == 403
    assert client.get(export_url(programme_a, "fellows", "csv")).status_code == 403
    assert counts() == before


def test_staff_of_b_cannot_import_into_or_export_a(
    client_for, staff_a, staff_b, programme_a, programme_b, cohort
):
    # A has a preview waiting; B's staff never reach it.
    a_client = client_for(staff_a)
    token = upload(a_client, programme_a, "fellows", cohort, csv_file(FELLOW_ROWS)).context["token"]
    FellowFactory(programme=programme_a, cohort=cohort)
    client = client_for(staff_b)
    before = counts()

    assert client.get(import_url(programme_a)).status_code == 404
    assert upload(client, programme_a, "fellows", cohort, csv_file(FELLOW_ROWS)).status_code == 404
    assert client.post(import_url(programme_a), {"import_token": token}).status_code == 404
    assert client.get(export_url(programme_a, "fellows", "csv")).status_code == 404
    # Through B's own pages, aiming at A's cohort.
    response = upload(client, programme_b, "fellows", cohort, csv_file(FELLOW_ROWS))
    assert response.status_code == 400
    assert "Choose one of the programme&#x27;s cohorts." in response.content.decode()
    assert client.get(export_url(programme_b, "fellows", "csv", cohort)).status_code == 404
    exported = client.get(export_url(programme_b, "fellows", "csv"))
    assert exported.status_code == 200
    assert exported.content.decode("utf-8-sig").strip() == ",".join(COLUMNS["fellows"])
    assert counts() == before


def test_a_preview_of_one_programme_cannot_be_confirmed_in_another(
    client, programme_a, programme_b, cohort
):
    """One person on the staff of both: A's preview token posted to B imports nothing."""
    from tests.factories import MembershipFactory

    both = UserFactory(email="both@example.org")
    MembershipFactory(programme=programme_a, user=both, role=Role.STAFF)
    MembershipFactory(programme=programme_b, user=both, role=Role.STAFF)
    client.force_login(both)
    token = upload(client, programme_a, "fellows", cohort, csv_file(FELLOW_ROWS)).context["token"]
    before = counts()
    response = client.post(import_url(programme_b), {"import_token": token})
    assert response.status_code == 302
    assert counts() == before


def test_a_cohort_removed_before_the_confirmation(client_for, staff_a, programme_a, cohort):
    client = client_for(staff_a)
    token = upload(client, programme_a, "fellows", cohort, csv_file(FELLOW_ROWS)).context["token"]
    with scopes_disabled():
        cohort.delete()
    before = counts()
    response = client.post(import_url(programme_a), {"import_token": token})
    assert response.status_code == 400
    assert "The cohort of this import no longer exists." in response.content.decode()
    assert counts() == before


@pytest.mark.parametrize("kind", ["fellows", "mentors", "applicants"])
def test_the_sample_files_in_the_docs_import_cleanly(programme_a, cohort, call, kind):
    from django.conf import settings

    for name in ("McLaren", "Verily", "AstraZeneca"):
        OrganisationFactory(programme=programme_a, name=name)
    content = (settings.BASE_DIR / "docs" / "samples" / f"{kind}.csv").read_bytes()
    preview = check(programme_a, kind, cohort, SimpleUploadedFile(f"{kind}.csv", content))
    assert preview.is_valid, preview_problems(preview) or preview.file_errors
    assert len(preview.rows) == 3


# --- large files are saved by a background job --------------------------------------------------


def test_a_large_file_is_saved_by_a_background_job_with_a_page_that_follows_it(
    client_for, staff_a, programme_a, cohort, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr("cohort.importing.INLINE_IMPORT_ROWS", 2)
    client = client_for(staff_a)
    token = upload(client, programme_a, "fellows", cohort, csv_file(FELLOW_ROWS)).context["token"]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(import_url(programme_a), {"import_token": token})
    assert response.status_code == 302
    with scopes_disabled():
        job = PeopleImport.objects.get(programme=programme_a)
        assert job.status == PeopleImport.Status.QUEUED and job.row_count == 3
        assert not Fellow.objects.filter(programme=programme_a).exists()
    assert response["Location"].endswith(f"/people/import/{job.uuid}/")
    waiting = client.get(response["Location"])
    assert "Waiting to start" in waiting.text and 'http-equiv="refresh"' in waiting.text
    # The commit hands the job to Celery (run in-process here), which saves every row.
    for callback in callbacks:
        callback()
    job.refresh_from_db()
    assert job.status == PeopleImport.Status.DONE and job.imported_count == 3
    assert job.state == {}, "the rows (personal data) are not kept once saved"
    with scopes_disabled():
        assert Fellow.objects.filter(programme=programme_a, cohort=cohort).count() == 3
    done = client.get(response["Location"])
    assert "Imported 3 fellows into Cohort 1" in done.text and "refresh" not in done.text
    listing = client.get(import_url(programme_a))
    assert "Recent imports" in listing.text and "Imported: 3" in listing.text


def test_an_import_job_runs_once_even_if_delivered_twice(staff_a, programme_a, cohort):
    preview = check(programme_a, "fellows", cohort, csv_file(FELLOW_ROWS))
    with scope(programme=programme_a):
        job = PeopleImport.objects.create(
            programme=programme_a,
            kind="fellows",
            cohort=cohort,
            row_count=3,
            state=preview.state(),
            created_by=staff_a,
        )
        first, _ = people_import_run(import_id=job.pk)
        second, _ = people_import_run(import_id=job.pk)
        assert first.status == PeopleImport.Status.DONE and second is None
        assert Fellow.objects.filter(cohort=cohort).count() == 3


def test_a_job_refused_in_the_background_says_which_rows(staff_a, programme_a, cohort):
    preview = check(programme_a, "fellows", cohort, csv_file(FELLOW_ROWS))
    FellowFactory(
        programme=programme_a, cohort=cohort, user=UserFactory(email="asha.patel@nhs.net")
    )
    with scope(programme=programme_a):
        job = PeopleImport.objects.create(
            programme=programme_a,
            kind="fellows",
            cohort=cohort,
            row_count=3,
            state=preview.state(),
            created_by=staff_a,
        )
        job, _ = people_import_run(import_id=job.pk)
        assert job.status == PeopleImport.Status.FAILED
        assert {"row": 2, "column": "email"}.items() <= job.row_problems[0].items()
        assert Fellow.objects.filter(cohort=cohort).count() == 1
