"""Checking an uploaded evidence file: its size, its extension, and that its content really
is what the extension says (a renamed program or a mislabelled file is refused)."""

from __future__ import annotations

from pathlib import PurePath

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat

# Extension -> the MIME type its content must have (detected by filetype from its bytes).
ALLOWED = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
ALLOWED_LABEL = "PDF, PNG, JPEG, Word (.docx), Excel (.xlsx) or PowerPoint (.pptx)"


def check_evidence_file(upload) -> tuple[str, str]:
    """Return (safe original name, content type) or raise a ValidationError on `file`."""
    limit = settings.PITWALL_EVIDENCE_MAX_BYTES
    if upload.size > limit:
        raise ValidationError(
            {
                "file": f"The file is {filesizeformat(upload.size)}; it must be "
                f"{filesizeformat(limit)} or smaller."
            }
        )
    if upload.size == 0:
        raise ValidationError({"file": "The file is empty."})
    name = PurePath(upload.name or "").name[:200]
    extension = PurePath(name).suffix.lower().lstrip(".")
    if extension not in ALLOWED:
        raise ValidationError(
            {"file": f"A .{extension or '?'} file cannot be uploaded. Upload {ALLOWED_LABEL}."}
        )
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    kind = filetype.guess(head)
    expected = ALLOWED[extension]
    if kind is None or kind.mime != expected:
        raise ValidationError(
            {
                "file": f"The file is called .{extension} but its content is not a "
                f"{extension.upper()} file. Save it again in that format and upload it."
            }
        )
    return name, expected
