"""A person's download of their own data (UK GDPR articles 15 and 20): every section the apps
register in accounts.personal_data, across every programme the person is in, as a ZIP.

The export is of the person, not of one programme, so it reads under scopes_disabled(); each
registered exporter filters to the one person. Writing the audit events is the service's job
(cohort.services.person_data_export).
"""

from __future__ import annotations

import json
import tempfile
import zipfile

from django.utils import timezone
from django_scopes import scopes_disabled

from accounts.personal_data import exported_sections

FORMAT = "pitwall.personal-data/1"
# Kept on disk past this size while the ZIP is built, so a person with many evidence files
# does not hold them all in memory.
SPOOL_BYTES = 8 * 1024 * 1024


def export_data(user) -> dict:
    """The content of data.json."""
    with scopes_disabled():
        sections = {
            entry.section: {
                "title": entry.title,
                "about": entry.description,
                "rows": list(entry.export(user)),
            }
            for entry in exported_sections()
        }
    return {
        "format": FORMAT,
        "service": "Pitwall",
        "person": str(user.uuid),
        "created_at": timezone.now().isoformat(),
        "sections": sections,
    }


def export_files(user) -> list[tuple[str, object]]:
    with scopes_disabled():
        return [
            item
            for entry in exported_sections()
            if entry.files is not None
            for item in entry.files(user)
        ]


def readme_text(data: dict, *, missing: list[str]) -> str:
    lines = [
        "Your data from Pitwall",
        "======================",
        "",
        f"Made on {timezone.localtime():%d %B %Y at %H:%M} (UK time) for the person whose "
        "account asked for it.",
        "",
        "data.json holds everything Pitwall keeps about you, in every programme you belong to,",
        "in a form other software can read: dates and times are ISO 8601, choices are written",
        "out as you saw them. It has one section for each kind of record:",
        "",
    ]
    for key, section in data["sections"].items():
        lines.append(f"- {key} ({len(section['rows'])}): {section['title']}.")
        lines.append(f"  {section['about']}")
    lines += [
        "",
        "The evidence folder holds the files you uploaded as evidence for your development plan.",
    ]
    if missing:
        lines += ["", "These files could not be read from storage and are not included:"]
        lines += [f"- {name}" for name in missing]
    lines += [
        "",
        "What is not included: other people's private records, programme staff's notes and",
        "reviewers' scores about your application, and the programme's audit log. To ask for",
        "those, or to have your data corrected or erased, contact your programme team.",
        "",
        "Keep this file safe: it is personal information about you.",
        "",
    ]
    return "\n".join(lines)


def build_export_archive(user):
    """The ZIP as a file object at its start, and the name to download it as."""
    data = export_data(user)
    files = export_files(user)
    # Not a context manager: the caller streams it as the response, which closes it.
    archive = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    missing = []
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("data.json", json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False))
        for name, stored in files:
            try:
                with stored.open("rb") as handle:
                    zf.writestr(name, handle.read())
            except (FileNotFoundError, OSError):
                missing.append(name)
        zf.writestr("README.txt", readme_text(data, missing=missing))
    archive.seek(0)
    stamp = timezone.localdate().isoformat()
    return archive, f"pitwall-your-data-{stamp}.zip"
