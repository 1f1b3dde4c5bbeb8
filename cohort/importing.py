"""Bulk import and export of applicants, fellows and mentors from CSV or Excel (.xlsx).

Staff upload a spreadsheet, see every row checked before anything is saved, and confirm. The
confirmation saves every row through the same services as one-by-one enrolment, in one
transaction: a file goes in whole or not at all. An export has the columns of the import, so
staff can export, edit and import the file into another cohort or programme.

Row numbers in messages are the spreadsheet's own: the header is row 1, so the first person is
on row 2.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import tablib
from django import forms
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import slugify

from .models import (
    Application,
    AuditEvent,
    Cohort,
    Fellow,
    Invitation,
    Mentor,
    NHSRegion,
    Organisation,
    PeopleImport,
    Profession,
    Programme,
    RecruitmentCall,
    Sector,
    TrainingArrangement,
)
from .services import application_express_interest, audit_log, fellow_enrol, mentor_enrol
from .tasking import job_lock

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
# An .xlsx is a zip: a small file can unpack to a huge sheet, so its unpacked size is capped
# before openpyxl reads it (a 5,000-row sheet unpacks to a few MB).
MAX_XLSX_UNPACKED_BYTES = 40 * 1024 * 1024
# Cells starting with these are formulas to a spreadsheet program; exports prefix them with an
# apostrophe so a value typed into a public form cannot run in staff's Excel (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


EMPTY_FILE = "The file is empty. Upload a file with a header row and one row for each person."


class PeopleKind(models.TextChoices):
    APPLICANTS = "applicants", "Applicants"
    FELLOWS = "fellows", "Fellows"
    MENTORS = "mentors", "Mentors"


# Kinds that go into a cohort (fellows) or its call for applications (applicants).
KINDS_WITH_COHORT = (PeopleKind.FELLOWS, PeopleKind.APPLICANTS)

COLUMNS: dict[str, list[str]] = {
    PeopleKind.FELLOWS: [
        "email",
        "full_name",
        "profession",
        "grade",
        "specialty",
        "employer",
        "region",
        "training_arrangement",
        "ltft_percent",
        "is_returner",
        "consent_to_share",
        "arrangement_starts_on",
        "arrangement_ends_on",
    ],
    PeopleKind.MENTORS: [
        "email",
        "full_name",
        "organisation",
        "job_title",
        "expertise",
        "sectors",
        "region",
        "capacity",
    ],
    PeopleKind.APPLICANTS: [
        "email",
        "full_name",
        "profession",
        "grade",
        "specialty",
        "employer",
        "region",
        "idea",
    ],
}


def _labels(choices) -> str:
    return ", ".join(str(label) for _, label in choices)


# What to write in each column, shown on the import page.
COLUMN_HELP: dict[str, str] = {
    "email": "Required. The person's email address; their invitation goes there.",
    "full_name": "Required. Their full name, such as Priya Shah.",
    "profession": f"Required. One of: {_labels(Profession.choices)}.",
    "grade": "Optional. Such as ST4 or Band 7.",
    "specialty": "Optional. Such as Emergency medicine.",
    "employer": "Optional. Their employing NHS organisation.",
    "region": f"Optional. The NHS England region, one of: {_labels(NHSRegion.choices)}.",
    "training_arrangement": "Optional (In programme if blank). One of: "
    f"{_labels(TrainingArrangement.choices)}; or oope, ltft.",
    "ltft_percent": "Needed for Less Than Full Time: the percentage of full time, 20 to 99.",
    "is_returner": "Optional. yes or no: returning to the NHS from the commercial sector.",
    "consent_to_share": "Optional. yes or no: agrees to share their profile with partners.",
    "arrangement_starts_on": "Optional. When an OOPE or LTFT arrangement starts, such as "
    "01/09/2026 or 2026-09-01.",
    "arrangement_ends_on": "Optional. When it ends, on or after the start.",
    "organisation": "Optional. The name of an organisation already in the programme "
    "(add new ones in the admin first).",
    "job_title": "Optional. Their role, such as Medical director.",
    "expertise": "Optional. What they can help with.",
    "sectors": f"Optional. Separate several with semicolons (;). From: {_labels(Sector.choices)}.",
    "capacity": "Optional (2 if blank). How many mentees at once, 0 to 20.",
    "idea": "Required. The problem they want to solve, in a few lines (up to 2,000 characters).",
}


# --- one form per kind, to check a row ----------------------------------------------------------


class ChoiceOrLabelField(forms.Field):
    """A choice written as its stored value or its label, in any case ("Nurse", "nurse")."""

    def __init__(self, *, choices, noun: str, **kwargs):
        self.choices = list(choices)
        self.noun = noun
        kwargs.setdefault(
            "error_messages", {"required": f"Give the {noun}: one of {_labels(self.choices)}."}
        )
        super().__init__(**kwargs)

    def match(self, text: str) -> str | None:
        key = text.strip().casefold()
        for value, label in self.choices:
            if key in (str(value).casefold(), str(label).casefold()):
                return value
        return None

    def to_python(self, value):
        text = str(value or "").strip()
        if not text:
            return ""
        found = self.match(text)
        if found is None:
            raise ValidationError(
                f"“{text}” is not a {self.noun} we know. Use one of: {_labels(self.choices)}.",
                code="invalid_choice",
            )
        return found


class SectorsField(ChoiceOrLabelField):
    """Several sectors in one cell, separated by semicolons."""

    def __init__(self, **kwargs):
        super().__init__(choices=Sector.choices, noun="sector", **kwargs)

    def to_python(self, value):
        parts = [p.strip() for p in str(value or "").split(";") if p.strip()]
        found, unknown = [], []
        for part in parts:
            match = self.match(part)
            if match is None:
                unknown.append(f"“{part}”")
            elif match not in found:
                found.append(match)
        if unknown:
            raise ValidationError(
                f"{', '.join(unknown)} "
                f"{'is not a sector' if len(unknown) == 1 else 'are not sectors'} we know. "
                "Separate sectors with semicolons (;) and use: "
                f"{_labels(self.choices)}.",
                code="invalid_choice",
            )
        return found


class YesNoField(forms.Field):
    """yes/no, true/false, 1/0 or blank (no)."""

    TRUE = {"yes", "y", "true", "1"}
    FALSE = {"no", "n", "false", "0", ""}

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value):
        text = str(value or "").strip().casefold()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValidationError(
            f"Write yes or no (or leave it blank), not “{str(value).strip()}”.", code="invalid"
        )

    def validate(self, value):
        # False is a real answer here, not a missing one.
        pass


def _whole_number(low: int, high: int, **kwargs) -> forms.IntegerField:
    return forms.IntegerField(
        min_value=low,
        max_value=high,
        error_messages={
            "invalid": f"Write a whole number from {low} to {high}.",
            "min_value": f"Write a whole number from {low} to {high}.",
            "max_value": f"Write a whole number from {low} to {high}.",
        },
        **kwargs,
    )


def _text(max_length: int, *, required: bool = False, what: str = "") -> forms.CharField:
    return forms.CharField(
        max_length=max_length,
        required=required,
        error_messages={
            "required": f"Give the {what}.",
            "max_length": f"Keep this to {max_length:,} characters or fewer "
            "(it has %(show_value)d).",
        },
    )


def _email() -> forms.EmailField:
    return forms.EmailField(
        max_length=254,
        error_messages={
            "required": "Give the person's email address.",
            "invalid": "Write a valid email address, such as name@nhs.net.",
        },
    )


class _RowForm(forms.Form):
    email = _email()
    full_name = _text(150, required=True, what="person's full name")

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    def clean_full_name(self):
        return " ".join(self.cleaned_data["full_name"].split())


class _ClinicianFields(forms.Form):
    profession = ChoiceOrLabelField(choices=Profession.choices, noun="profession")
    grade = _text(80)
    specialty = _text(120)
    employer = _text(200)
    region = ChoiceOrLabelField(choices=NHSRegion.choices, noun="NHS region", required=False)


# Dates as people write them in the UK, or as ISO (which is what Excel date cells become).
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d %B %Y", "%d %b %Y"]
BAD_DATE = "Write the date as day/month/year, such as 01/09/2026, or as 2026-09-01."


class FellowRowForm(_ClinicianFields, _RowForm):
    """One row of a fellows file."""

    training_arrangement = ChoiceOrLabelField(
        choices=TrainingArrangement.choices, noun="training arrangement", required=False
    )
    ltft_percent = _whole_number(20, 99, required=False)
    is_returner = YesNoField()
    consent_to_share = YesNoField()
    arrangement_starts_on = forms.DateField(
        required=False,
        input_formats=DATE_FORMATS,
        error_messages={"invalid": BAD_DATE},
    )
    arrangement_ends_on = forms.DateField(
        required=False,
        input_formats=DATE_FORMATS,
        error_messages={"invalid": BAD_DATE},
    )

    def clean(self):
        data = super().clean()
        starts, ends = data.get("arrangement_starts_on"), data.get("arrangement_ends_on")
        if starts and ends and ends < starts:
            self.add_error("arrangement_ends_on", "The arrangement must end on or after it starts.")
        arrangement = data.get("training_arrangement") or TrainingArrangement.IN_PROGRAMME
        data["training_arrangement"] = arrangement
        if (
            arrangement == TrainingArrangement.LTFT
            and "ltft_percent" not in self.errors
            and not data.get("ltft_percent")
        ):
            self.add_error(
                "ltft_percent",
                "Give the percentage of full time (20 to 99) for Less Than Full Time training.",
            )
        if arrangement != TrainingArrangement.LTFT:
            data["ltft_percent"] = None
        return data


class MentorRowForm(_RowForm):
    """One row of a mentors file; organisations are looked up by name in the programme."""

    organisation = _text(200)
    job_title = _text(160)
    expertise = forms.CharField(required=False)
    sectors = SectorsField(required=False)
    region = ChoiceOrLabelField(choices=NHSRegion.choices, noun="NHS region", required=False)
    capacity = _whole_number(0, 20, required=False)

    def __init__(self, *args, organisations: dict[str, Organisation], **kwargs):
        super().__init__(*args, **kwargs)
        self.organisations = organisations

    def clean_organisation(self):
        name = " ".join(self.cleaned_data["organisation"].split())
        if not name:
            return None
        organisation = self.organisations.get(name.casefold())
        if organisation is None:
            raise ValidationError(
                f"There is no organisation called “{name}” in this programme. Add it in the "
                "admin (Organisations) first, or correct the name, then upload the file again."
            )
        return organisation

    def clean_capacity(self):
        capacity = self.cleaned_data["capacity"]
        return 2 if capacity is None else capacity


class ApplicantRowForm(_ClinicianFields, _RowForm):
    """One row of an applicants file: an expression of interest made on their behalf."""

    idea = forms.CharField(
        max_length=2000,
        error_messages={
            "required": "Give the applicant's idea: the problem they want to solve.",
            "max_length": "Keep the idea to 2,000 characters or fewer (it has %(show_value)d).",
        },
    )


ROW_FORMS = {
    PeopleKind.FELLOWS: FellowRowForm,
    PeopleKind.MENTORS: MentorRowForm,
    PeopleKind.APPLICANTS: ApplicantRowForm,
}


# --- the preview ----------------------------------------------------------------------------


@dataclass
class Problem:
    """Something wrong with a row (column names the cell) or the file (field names the part of
    the upload form: file or cohort)."""

    message: str
    column: str | None = None


@dataclass
class ImportRow:
    number: int  # the spreadsheet's row number (the header is row 1)
    values: dict[str, str]
    cleaned: dict[str, Any] | None = None
    errors: list[Problem] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors)

    def cells(self, columns) -> list[dict]:
        """Each column's value and its problems, in column order, for the preview table."""
        return [
            {
                "column": column,
                "value": self.values.get(column, ""),
                "errors": [p.message for p in self.errors if p.column == column],
            }
            for column in columns
        ]

    @property
    def row_errors(self) -> list[str]:
        """Problems of the row as a whole, not of one cell."""
        return [p.message for p in self.errors if p.column is None]


@dataclass
class ImportPreview:
    kind: str
    cohort: Cohort | None
    filename: str = ""
    columns: list[str] = field(default_factory=list)
    # The header as the file had it (any order), kept with the table for the confirmation.
    columns_read: list[str] = field(default_factory=list)
    rows: list[ImportRow] = field(default_factory=list)
    file_errors: list[Problem] = field(default_factory=list)
    # What was read, kept so the confirmation can check it again (stored server-side).
    table: list[list[Any]] = field(default_factory=list)
    invitations_sent: int = 0

    @property
    def error_rows(self) -> list[ImportRow]:
        return [row for row in self.rows if row.errors]

    @property
    def error_count(self) -> int:
        return sum(len(row.errors) for row in self.rows)

    @property
    def is_valid(self) -> bool:
        return not self.file_errors and bool(self.rows) and not self.error_rows

    def state(self) -> dict:
        """What the confirmation needs, as JSON, to read the same rows again on the server."""
        return {
            "kind": self.kind,
            "cohort": str(self.cohort.uuid) if self.cohort else None,
            "filename": self.filename,
            "header": self.columns_read,
            "rows": self.table,
        }


class FileProblem(Exception):
    """The upload cannot be read as a table of people."""


def _cell_text(value) -> str:
    """A cell as text, whatever the spreadsheet stored: 80.0 is "80", TRUE is "yes"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    # An export escapes formulas with an apostrophe; take it off again on the way back in.
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        text = text[1:]
    return text


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def read_table(uploaded_file) -> tuple[list[str], list[list[str]]]:
    """The header and rows of a CSV or XLSX upload, every cell as text, raising FileProblem
    with words for staff when the file cannot be taken."""
    name = (getattr(uploaded_file, "name", "") or "").lower()
    size = getattr(uploaded_file, "size", None)
    if size is not None and size > MAX_FILE_BYTES:
        raise FileProblem(
            f"The file is {size / 1024 / 1024:.1f} MB; the largest we take is 2 MB. "
            "Split it into smaller files."
        )
    data = uploaded_file.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise FileProblem("The file is larger than 2 MB. Split it into smaller files.")
    if not data.strip():
        raise FileProblem(EMPTY_FILE)
    if name.endswith(".xls"):
        raise FileProblem(
            "This is an old Excel file (.xls). Save it as an Excel workbook (.xlsx) or as CSV, "
            "then upload it again."
        )
    is_zip = data.startswith(b"PK\x03\x04")
    if name.endswith(".xlsx") or is_zip:
        dataset = _load_xlsx(data)
    elif name.endswith(".csv") or not name or "." not in name.rsplit("/", 1)[-1]:
        dataset = _load_csv(data)
    else:
        raise FileProblem("Upload a CSV file (.csv) or an Excel workbook (.xlsx).")
    header = [_cell_text(h) for h in (dataset.headers or [])]
    rows = [[_cell_text(v) for v in row] for row in dataset]
    # Spreadsheet programs keep empty columns to the right of the table; drop them.
    while header and not header[-1] and all(len(r) < len(header) or not r[-1] for r in rows):
        header.pop()
        rows = [r[: len(header)] for r in rows]
    if not any(header) and not any(any(r) for r in rows):
        raise FileProblem(EMPTY_FILE)
    return header, rows


def _load_xlsx(data: bytes) -> tablib.Dataset:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as error:
        raise FileProblem(
            "We could not read this file as an Excel workbook (.xlsx). Save it again from your "
            "spreadsheet program, as .xlsx or CSV."
        ) from error
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise FileProblem(
            "This workbook is too large once opened. Keep to 5,000 rows a file, with only the "
            "columns of the template."
        )
    try:
        return tablib.Dataset().load(data, format="xlsx")
    except tablib.InvalidDimensions as error:
        raise FileProblem(
            "Some rows have more cells than the header row. Check for values to the right of "
            "the last column."
        ) from error
    except Exception as error:  # openpyxl raises many kinds for a damaged workbook
        raise FileProblem(
            "We could not read this file as an Excel workbook (.xlsx). Save it again from your "
            "spreadsheet program, as .xlsx or CSV."
        ) from error


def _load_csv(data: bytes) -> tablib.Dataset:
    if b"\x00" in data:
        raise FileProblem(
            "This does not look like a CSV file. Upload a CSV file (.csv) or an Excel "
            "workbook (.xlsx)."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            # Excel on Windows saves "CSV" in this encoding unless told to use UTF-8.
            text = data.decode("cp1252")
        except UnicodeDecodeError as error:
            raise FileProblem(
                "We could not read the characters in this file. Save it as “CSV UTF-8” and "
                "upload it again."
            ) from error
    try:
        return tablib.Dataset().load(text, format="csv")
    except tablib.InvalidDimensions as error:
        raise FileProblem(
            "Some rows have more cells than the header row. Check for extra commas, or for "
            "values to the right of the last column."
        ) from error
    except Exception as error:  # csv.Error and friends
        raise FileProblem(
            f"We could not read this file as CSV ({error}). Save it again as CSV and upload it."
        ) from error


def _header_problems(kind: str, header: list[str], rows: list[list[str]]) -> list[Problem]:
    expected = COLUMNS[kind]
    normalised = [h.strip().lower() for h in header]
    problems = []
    blank_with_values = [
        _column_letter(i)
        for i, h in enumerate(normalised)
        if not h and any(i < len(r) and r[i] for r in rows)
    ]
    if blank_with_values:
        problems.append(
            Problem(
                f"Column {', '.join(blank_with_values)} has values but no header. Give every "
                "column a header from the template, or delete it.",
                "file",
            )
        )
    present = [h for h in normalised if h]
    duplicated = sorted({h for h in present if present.count(h) > 1})
    missing = [c for c in expected if c not in present]
    unknown = [h for h in dict.fromkeys(present) if h not in expected]
    if duplicated:
        problems.append(
            Problem(f"These columns appear more than once: {', '.join(duplicated)}.", "file")
        )
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"Missing columns: {', '.join(missing)}.")
        if unknown:
            parts.append(f"Columns we do not recognise: {', '.join(unknown)}.")
        parts.append(
            f"The header row of a {PeopleKind(kind).label.lower()} file is: {','.join(expected)}"
        )
        other = next(
            (k for k, columns in COLUMNS.items() if k != kind and set(columns) == set(present)),
            None,
        )
        if other:
            parts.append(
                f"This looks like a file of {PeopleKind(other).label.lower()}: choose "
                f"{PeopleKind(other).label} above."
            )
        problems.append(Problem(" ".join(parts), "file"))
    return problems


def _existing_emails(*, programme: Programme, kind: str, cohort, call, emails) -> set[str]:
    """Which of these addresses are already in: fellows of the cohort, mentors of the
    programme, or applicants to the call (one query)."""
    if not emails:
        return set()
    if kind == PeopleKind.FELLOWS:
        qs = Fellow.objects.filter(programme=programme, cohort=cohort).annotate(
            address=Lower("user__email")
        )
    elif kind == PeopleKind.MENTORS:
        qs = Mentor.objects.filter(programme=programme).annotate(address=Lower("user__email"))
    else:
        qs = Application.objects.filter(programme=programme, call=call).annotate(
            address=Lower("email")
        )
    return set(qs.filter(address__in=list(emails)).values_list("address", flat=True))


def _already_in_message(kind: str, email: str, cohort) -> str:
    if kind == PeopleKind.FELLOWS:
        return f"{email} is already a fellow of {cohort}."
    if kind == PeopleKind.MENTORS:
        return f"{email} is already a mentor of this programme."
    return f"{email} has already applied to the call for {cohort}."


def _call_of(cohort) -> RecruitmentCall | None:
    return RecruitmentCall.objects.filter(cohort=cohort).first()


def import_check_rows(
    *,
    programme: Programme,
    kind: str,
    cohort: Cohort | None,
    header: list[str],
    rows: list[list[Any]],
    filename: str = "",
) -> ImportPreview:
    """Check a table already read from a file: its columns, then every row, as the preview and
    the confirmation both do. Queries a fixed number of times, whatever the row count."""
    if kind not in COLUMNS:
        raise ValueError(f"Unknown kind of people: {kind!r}")
    header = [_cell_text(h) for h in header]
    rows = [[_cell_text(v) for v in row] for row in rows]
    preview = ImportPreview(
        kind=kind,
        cohort=cohort,
        filename=filename,
        columns=COLUMNS[kind],
        columns_read=header,
        table=rows,
    )
    if kind in KINDS_WITH_COHORT:
        if cohort is None:
            preview.file_errors.append(Problem("Choose the cohort.", "cohort"))
            return preview
        if cohort.programme_id != programme.pk:
            preview.file_errors.append(Problem("Choose a cohort of this programme.", "cohort"))
            return preview
    call = None
    if kind == PeopleKind.APPLICANTS:
        call = _call_of(cohort)
        if call is None:
            preview.file_errors.append(
                Problem(
                    f"{cohort} has no call for applications yet. Open the cohort's call for "
                    "applications first, then import its applicants.",
                    "cohort",
                )
            )
            return preview
    preview.file_errors.extend(_header_problems(kind, header, rows))
    numbered = [
        (number, row) for number, row in enumerate(rows, start=2) if any(v.strip() for v in row)
    ]
    if not preview.file_errors and not numbered:
        preview.file_errors.append(
            Problem(
                "The file has a header row but no people in it. Add one row for each person.",
                "file",
            )
        )
    if len(numbered) > MAX_ROWS:
        preview.file_errors.append(
            Problem(
                f"The file has {len(numbered):,} rows of people; the most we take at once is "
                f"{MAX_ROWS:,}. Split it into smaller files.",
                "file",
            )
        )
    if preview.file_errors:
        return preview

    positions = {h.strip().lower(): i for i, h in enumerate(header) if h.strip()}
    form_class = ROW_FORMS[kind]
    extra = {}
    if kind == PeopleKind.MENTORS:
        extra["organisations"] = {
            o.name.casefold(): o for o in Organisation.objects.filter(programme=programme)
        }
    for number, row in numbered:
        values = {
            column: (row[positions[column]] if positions[column] < len(row) else "")
            for column in COLUMNS[kind]
        }
        form = form_class(data=values, **extra)
        item = ImportRow(number=number, values=values)
        if form.is_valid():
            item.cleaned = form.cleaned_data
        else:
            # In column order, so the messages read left to right like the spreadsheet.
            for column in [*COLUMNS[kind], "__all__"]:
                for message in form.errors.get(column, []):
                    item.errors.append(Problem(message, None if column == "__all__" else column))
        preview.rows.append(item)

    first_row_of: dict[str, int] = {}
    for item in preview.rows:
        email = (item.cleaned or {}).get("email") or item.values["email"].strip().lower()
        if not email:
            continue
        if email in first_row_of:
            item.errors.append(
                Problem(
                    f"{email} is also on row {first_row_of[email]}. Each person can be on the "
                    "file once.",
                    "email",
                )
            )
        else:
            first_row_of[email] = item.number
    existing = _existing_emails(
        programme=programme, kind=kind, cohort=cohort, call=call, emails=set(first_row_of)
    )
    for item in preview.rows:
        email = (item.cleaned or {}).get("email")
        if email in existing:
            item.errors.append(Problem(_already_in_message(kind, email, cohort), "email"))
    for item in preview.rows:
        if item.errors:
            item.cleaned = None
    return preview


def import_preview(
    *, programme: Programme, kind: str, cohort: Cohort | None, uploaded_file
) -> ImportPreview:
    """Read and check an uploaded CSV or XLSX file without saving anything."""
    filename = getattr(uploaded_file, "name", "") or ""
    try:
        header, rows = read_table(uploaded_file)
    except FileProblem as problem:
        return ImportPreview(
            kind=kind,
            cohort=cohort,
            filename=filename,
            columns=COLUMNS[kind],
            file_errors=[Problem(str(problem), "file")],
        )
    return import_check_rows(
        programme=programme, kind=kind, cohort=cohort, header=header, rows=rows, filename=filename
    )


def import_preview_again(*, programme: Programme, state: dict) -> ImportPreview:
    """Check the rows kept from a preview once more (the confirmation never trusts the
    earlier check: someone may have been enrolled in between)."""
    cohort = None
    if state.get("cohort"):
        cohort = Cohort.objects.filter(programme=programme, uuid=state["cohort"]).first()
        if cohort is None:
            return ImportPreview(
                kind=state["kind"],
                cohort=None,
                filename=state.get("filename", ""),
                columns=COLUMNS[state["kind"]],
                file_errors=[
                    Problem("The cohort of this import no longer exists. Choose another.", "cohort")
                ],
            )
    return import_check_rows(
        programme=programme,
        kind=state["kind"],
        cohort=cohort,
        header=state["header"],
        rows=state["rows"],
        filename=state.get("filename", ""),
    )


def _save_row(*, programme, kind, cohort, call, data: dict, actor, via):
    if kind in (PeopleKind.FELLOWS, PeopleKind.MENTORS):
        person = {
            "programme": programme,
            "email": data["email"],
            "full_name": data["full_name"],
            "profile": {
                key: data[key]
                for key in COLUMNS[kind]
                if key not in ("email", "full_name") and key in data
            },
            "actor": actor,
            "via": via,
        }
        if kind == PeopleKind.FELLOWS:
            return fellow_enrol(cohort=cohort, **person)
        return mentor_enrol(**person)
    return application_express_interest(
        call=call,
        data={key: data[key] for key in COLUMNS[kind]},
        actor=actor,
        via=via,
        enforce_open=False,
    )


def import_commit(
    *,
    programme: Programme,
    kind: str,
    cohort: Cohort | None,
    preview: ImportPreview,
    actor,
    via: str = AuditEvent.Via.WEB,
) -> int:
    """Save every row of a checked file through the enrolment services, all or nothing.

    Refuses a preview with any problem. If a service refuses row N (someone enrolled the same
    person since the check), everything is rolled back and the problem is put on row N of the
    preview, and a ValidationError names the row and the column."""
    if preview.kind != kind or (preview.cohort and cohort and preview.cohort.pk != cohort.pk):
        raise ValidationError("This preview is of another import. Upload the file again.")
    if preview.file_errors or preview.error_rows:
        raise ValidationError(
            "Nothing was imported: fix the problems in the file and upload it again."
        )
    if not preview.rows:
        raise ValidationError("The file has no people in it.")
    call = _call_of(cohort) if kind == PeopleKind.APPLICANTS else None
    if kind == PeopleKind.APPLICANTS and call is None:
        raise ValidationError(f"{cohort} has no call for applications yet. Open it first.")
    with transaction.atomic():
        invitations_before = Invitation.objects.filter(programme=programme).count()
        for item in preview.rows:
            try:
                _save_row(
                    programme=programme,
                    kind=kind,
                    cohort=cohort,
                    call=call,
                    data=item.cleaned,
                    actor=actor,
                    via=via,
                )
            except ValidationError as error:
                problems = _problems_of(error, COLUMNS[kind])
                item.errors.extend(problems)
                first = problems[0]
                where = f"row {item.number}" + (f", {first.column}" if first.column else "")
                raise ValidationError(
                    f"Nothing was imported: {where}: {first.message}", code="row"
                ) from error
        preview.invitations_sent = (
            Invitation.objects.filter(programme=programme).count() - invitations_before
        )
        audit_log(
            programme=programme,
            actor=actor,
            action=f"{kind}.imported",
            target=cohort,
            changes={
                "rows": len(preview.rows),
                "file": preview.filename,
                "cohort": str(cohort) if cohort else "",
            },
            via=via,
        )
    return len(preview.rows)


def _problems_of(error: ValidationError, columns) -> list[Problem]:
    if hasattr(error, "error_dict"):
        return [
            Problem(message, name if name in columns else None)
            for name, errors in error.error_dict.items()
            for message in ValidationError(errors).messages
        ]
    return [Problem(message) for message in error.messages]


# --- export -----------------------------------------------------------------------------------

EXPORT_FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def spreadsheet_safe(text) -> str:
    """A value for a spreadsheet cell, as text that no spreadsheet runs as a formula."""
    text = "" if text is None else str(text)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _label(choices, value) -> str:
    return str(dict(choices).get(value, value or ""))


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def export_dataset(
    *, programme: Programme, kind: str, cohort: Cohort | None = None
) -> tablib.Dataset:
    """The people of a kind (of one cohort, or all), with the columns of the import, so a
    file exported, edited and imported elsewhere brings the same people. One query."""
    if kind not in COLUMNS:
        raise ValueError(f"Unknown kind of people: {kind!r}")
    dataset = tablib.Dataset(headers=COLUMNS[kind], title=PeopleKind(kind).label)
    if kind == PeopleKind.FELLOWS:
        fellows = Fellow.objects.filter(programme=programme).select_related("user")
        if cohort is not None:
            fellows = fellows.filter(cohort=cohort)
        for f in fellows.order_by("user__full_name", "user__email", "pk"):
            dataset.append(
                [
                    f.user.email,
                    spreadsheet_safe(f.user.full_name),
                    _label(Profession.choices, f.profession),
                    spreadsheet_safe(f.grade),
                    spreadsheet_safe(f.specialty),
                    spreadsheet_safe(f.employer),
                    _label(NHSRegion.choices, f.region),
                    _label(TrainingArrangement.choices, f.training_arrangement),
                    f.ltft_percent if f.ltft_percent is not None else "",
                    _yes_no(f.is_returner),
                    _yes_no(f.consent_to_share),
                    f.arrangement_starts_on.isoformat() if f.arrangement_starts_on else "",
                    f.arrangement_ends_on.isoformat() if f.arrangement_ends_on else "",
                ]
            )
    elif kind == PeopleKind.MENTORS:
        mentors = Mentor.objects.filter(programme=programme).select_related("user", "organisation")
        for m in mentors.order_by("user__full_name", "user__email", "pk"):
            dataset.append(
                [
                    m.user.email,
                    spreadsheet_safe(m.user.full_name),
                    spreadsheet_safe(m.organisation.name if m.organisation else ""),
                    spreadsheet_safe(m.job_title),
                    spreadsheet_safe(m.expertise),
                    "; ".join(m.sector_labels),
                    _label(NHSRegion.choices, m.region),
                    m.capacity,
                ]
            )
    else:
        applications = Application.objects.filter(programme=programme)
        if cohort is not None:
            applications = applications.filter(call__cohort=cohort)
        for a in applications.order_by("full_name", "email", "pk"):
            dataset.append(
                [
                    a.email,
                    spreadsheet_safe(a.full_name),
                    _label(Profession.choices, a.profession),
                    spreadsheet_safe(a.grade),
                    spreadsheet_safe(a.specialty),
                    spreadsheet_safe(a.employer),
                    _label(NHSRegion.choices, a.region),
                    spreadsheet_safe(a.idea),
                ]
            )
    return dataset


def export_content(dataset: tablib.Dataset, fmt: str) -> bytes:
    if fmt == "csv":
        # The byte order mark tells Excel the file is UTF-8 (names with accents stay intact).
        return ("\ufeff" + dataset.export("csv")).encode("utf-8")
    if fmt == "xlsx":
        return dataset.export("xlsx")
    raise ValueError(f"Unknown export format: {fmt!r}")


def export_filename(*, programme: Programme, kind: str, cohort: Cohort | None, fmt: str) -> str:
    parts = [programme.slug, kind]
    if cohort is not None:
        parts.append(slugify(cohort.name) or "cohort")
    parts.append(timezone.localdate().isoformat())
    return f"{'-'.join(parts)}.{fmt}"


def people_export(
    *, programme: Programme, kind: str, cohort: Cohort | None, fmt: str, actor
) -> tuple[bytes, str, str]:
    """The export file (content, content type, file name). Taking people's details out of the
    platform is recorded in the audit log, as UK GDPR accountability expects."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"Unknown export format: {fmt!r}")
    dataset = export_dataset(programme=programme, kind=kind, cohort=cohort)
    audit_log(
        programme=programme,
        actor=actor,
        action=f"{kind}.exported",
        target=cohort,
        changes={"rows": dataset.height, "format": fmt},
    )
    return (
        export_content(dataset, fmt),
        EXPORT_FORMATS[fmt],
        export_filename(programme=programme, kind=kind, cohort=cohort, fmt=fmt),
    )


def import_template(kind: str) -> bytes:
    """An empty CSV with the header row of a kind, for staff to fill in."""
    return export_content(tablib.Dataset(headers=COLUMNS[kind]), "csv")


# --- confirmed imports: run now, or by a background job when the file is large ---------------

# Files up to this many rows are saved during the request (a second or two); larger ones by a
# Celery job, with a page that shows how it is going.
INLINE_IMPORT_ROWS = 200
# A job still "running" after this long died with its worker; its transaction rolled back, so
# it may be claimed and run again.
STALE_IMPORT = timedelta(minutes=35)


def people_import_queue(*, programme: Programme, state: dict, actor) -> PeopleImport:
    """Record a confirmed import and run it: now if the file is small, else in the background
    once this transaction commits."""
    from .tasks import people_import_run_task

    job = PeopleImport.objects.create(
        programme=programme,
        kind=state["kind"],
        cohort=Cohort.objects.filter(programme=programme, uuid=state.get("cohort")).first()
        if state.get("cohort")
        else None,
        filename=(state.get("filename") or "")[:255],
        row_count=len(state.get("rows") or []),
        state={key: state[key] for key in ("kind", "cohort", "filename", "header", "rows")},
        created_by=actor,
    )
    if job.row_count <= INLINE_IMPORT_ROWS:
        people_import_run(import_id=job.pk)
        job.refresh_from_db()
        return job

    def enqueue():
        try:
            people_import_run_task.apply_async(
                kwargs={"import_id": job.pk, "programme_id": programme.pk}, retry=False
            )
        except Exception:  # the broker is down: run it here rather than leave it waiting
            people_import_run(import_id=job.pk)

    transaction.on_commit(enqueue, robust=True)
    return job


def _claim(import_id: int, exclusive: bool | None) -> bool:
    """Mark the job running. Holding its lock (see cohort.tasking.job_lock), a job still marked
    running was left by a worker that died, and is taken again at once; without the lock
    (SQLite) only once it is STALE_IMPORT old."""
    if exclusive is False:
        return False  # a live worker is running it
    now = timezone.now()
    claimable = models.Q(status=PeopleImport.Status.QUEUED) | models.Q(
        status=PeopleImport.Status.RUNNING,
        **({} if exclusive else {"started_at__lt": now - STALE_IMPORT}),
    )
    return (
        PeopleImport.objects.filter(claimable, pk=import_id).update(
            status=PeopleImport.Status.RUNNING, started_at=now
        )
        == 1
    )


def people_import_run(*, import_id: int) -> tuple[PeopleImport | None, ImportPreview | None]:
    """Check the rows again and save them all, or none with the reasons. Returns the job and
    the checked preview (with problems on its rows), or (None, None) if another run has it.
    The rows and the job's outcome are saved in one transaction, so a worker killed at any
    point leaves either nothing (and the redelivered task runs it again) or all of it."""
    with job_lock("cohort.import", import_id) as exclusive:
        if not _claim(import_id, exclusive):
            return None, None
        return _run_claimed(import_id)


def _run_claimed(import_id: int) -> tuple[PeopleImport, ImportPreview]:
    job = PeopleImport.objects.select_related("programme", "created_by").get(pk=import_id)
    preview = import_preview_again(programme=job.programme, state=job.state)
    outcome = {"finished_at": timezone.now(), "state": {}}
    with transaction.atomic():
        _save_outcome(job, preview, outcome)
    job.refresh_from_db()
    return job, preview


def _save_outcome(job: PeopleImport, preview: ImportPreview, outcome: dict) -> None:
    if not preview.is_valid:
        outcome.update(
            status=PeopleImport.Status.FAILED,
            problem="Something changed since the preview, so nothing was imported. Fix the rows "
            "below and upload the file again.",
        )
    else:
        try:
            count = import_commit(
                programme=job.programme,
                kind=preview.kind,
                cohort=preview.cohort,
                preview=preview,
                actor=job.created_by,
            )
        except ValidationError as error:
            outcome.update(status=PeopleImport.Status.FAILED, problem=" ".join(error.messages))
        else:
            outcome.update(
                status=PeopleImport.Status.DONE,
                imported_count=count,
                invitations_sent=preview.invitations_sent,
            )
    outcome["row_problems"] = [
        {"row": row.number, "column": p.column or "", "message": p.message}
        for row in preview.error_rows
        for p in row.errors
    ] + [{"row": None, "column": p.column or "", "message": p.message} for p in preview.file_errors]
    PeopleImport.objects.filter(pk=job.pk).update(**outcome)
