"""The registry of personal data: what every app holds about a person, how it is exported
for a subject-access request and how it is erased (UK GDPR articles 15, 17 and 20; DESIGN §11).

`accounts` imports no other app of ours, so this module is only the mechanism. Each app says
what it holds in its own `personal_data.py`, imported from its AppConfig.ready(). There are
three kinds of entry, so that every decision is visible in code:

- `register(...)`: the model holds data about a person. `export` returns the person's rows as
  plain, readable dicts; `erase` deletes or pseudonymises them. Either may be left out when a
  `kept` reason says why (a signed record is exported but kept as it is, for example).
- `keep(...)`: the model refers to a person but is kept exactly as it is on erasure (signed
  records, the audit log), with the reason. It may still be exported.
- `part_of(...)`: the model's rows are exported and erased by its parent's entry.
- `not_personal(...)`: the model points at a person only as the author of programme work (the
  staff member who created an event) and holds nothing about them; erasure pseudonymises
  the author through their account. Rows that point at such a model are not about a person
  either, so the coverage test does not follow links through it.

tests/accounts/test_personal_data.py walks every model of our apps and fails when one that
can reach a person is not registered here.

Exports and erasures run across programmes under `scopes_disabled()`, so every function an app
registers must filter to the one person it is given, and nothing else.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import models

# Apps whose models the registry must cover (Pitwall's own; third-party apps are handled by
# the account's own entry below).
OUR_APPS = ("accounts", "cohort", "notifications", "pdp", "mentoring", "events", "metrics")

# Erased accounts get an address on a reserved top-level domain (RFC 2606): it can never
# receive mail and never collides with a real person's address.
ERASED_EMAIL_DOMAIN = "erased.invalid"
ERASED_NAME_PREFIX = "Erased person"


@dataclass
class Erasure:
    """What an erasure function is given: the person, their pseudonym, and a tally it adds to.
    `after_commit` collects work that must wait for the transaction (deleting files), so a
    rollback never loses a file whose row survives."""

    user: Any
    pseudonym: str
    pseudonymous_email: str
    counts: dict[str, int] = field(default_factory=dict)
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    # False when the account had been erased before: nothing new was audited.
    first_time: bool = True

    def tally(self, what: str, number: int) -> None:
        if number:
            self.counts[what] = self.counts.get(what, 0) + number


@dataclass(frozen=True)
class Entry:
    """One model's registration."""

    model: type[models.Model]
    kind: str  # "personal", "kept", "part" or "not_personal"
    section: str = ""
    title: str = ""
    description: str = ""
    export: Callable[[Any], Iterable[dict]] | None = None
    erase: Callable[[Erasure], None] | None = None
    # The person's stored files that belong in the download: (name in the ZIP, FieldFile).
    files: Callable[[Any], Iterable[tuple[str, Any]]] | None = None
    reason: str = ""
    # Lower first: erasure order (e.g. delete rows before blanking the rows they point at).
    order: int = 100

    @property
    def label(self) -> str:
        return self.model._meta.label


PERSONAL, KEPT, PART, NOT_PERSONAL = "personal", "kept", "part", "not_personal"
_registry: dict[type[models.Model], Entry] = {}


def _add(entry: Entry) -> None:
    existing = _registry.get(entry.model)
    if existing is not None and existing != entry:
        raise ValueError(f"{entry.label} is registered twice for personal data.")
    _registry[entry.model] = entry


def register(
    model: type[models.Model],
    *,
    section: str,
    title: str,
    description: str,
    export: Callable[[Any], Iterable[dict]] | None = None,
    erase: Callable[[Erasure], None] | None = None,
    files: Callable[[Any], Iterable[tuple[str, Any]]] | None = None,
    kept: str = "",
    not_exported: str = "",
    order: int = 100,
) -> None:
    """The model holds data about a person: say how to export it and how to erase it (or,
    in `kept` and `not_exported`, why not)."""
    if erase is None and not kept:
        raise ValueError(f"{model._meta.label}: say how it is erased, or why it is kept.")
    if export is None and not not_exported:
        raise ValueError(f"{model._meta.label}: say how it is exported, or why it is not.")
    _add(
        Entry(
            model=model,
            kind=PERSONAL,
            section=section,
            title=title,
            description=description,
            export=export,
            erase=erase,
            files=files,
            reason=" ".join(r for r in (kept, not_exported) if r),
            order=order,
        )
    )


def keep(
    model: type[models.Model],
    *,
    reason: str,
    section: str = "",
    title: str = "",
    description: str = "",
    export: Callable[[Any], Iterable[dict]] | None = None,
) -> None:
    """The model refers to a person and is kept exactly as it is on erasure, for `reason`."""
    if not reason:
        raise ValueError(f"{model._meta.label}: a kept model needs its reason.")
    if export is not None and not section:
        raise ValueError(f"{model._meta.label}: an exported model needs a section name.")
    _add(
        Entry(
            model=model,
            kind=KEPT,
            section=section,
            title=title,
            description=description,
            export=export,
            reason=reason,
        )
    )


def part_of(model: type[models.Model], *, parent: type[models.Model]) -> None:
    """The model's rows are exported and erased by its parent's entry (an objective with its
    plan), so it needs no functions of its own."""
    _add(Entry(model=model, kind=PART, reason=f"Exported and erased with {parent._meta.label}."))


def not_personal(model: type[models.Model], *, reason: str) -> None:
    """The model links to a person only as the author of programme work, holding nothing
    about them; `reason` says so for the next reader."""
    if not reason:
        raise ValueError(f"{model._meta.label}: say why it holds nothing personal.")
    _add(Entry(model=model, kind=NOT_PERSONAL, reason=reason))


def entries() -> list[Entry]:
    return list(_registry.values())


def entry_for(model: type[models.Model]) -> Entry | None:
    return _registry.get(model)


def exported_sections() -> list[Entry]:
    """The entries that appear in a person's download, in a stable order."""
    return sorted((e for e in _registry.values() if e.export is not None), key=lambda e: e.section)


def erasing_entries() -> list[Entry]:
    return sorted(
        (e for e in _registry.values() if e.erase is not None), key=lambda e: (e.order, e.label)
    )


# --- Which models can reach a person --------------------------------------------------------


def _targets(model: type[models.Model]) -> list[type[models.Model]]:
    """The models this one points at (foreign keys, one-to-ones and many-to-manys)."""
    found = []
    for f in model._meta.get_fields():
        if f.is_relation and (f.many_to_one or f.one_to_one or f.many_to_many) and f.concrete:
            related = f.related_model
            if isinstance(related, type):
                found.append(related)
    return found


def person_linked_models(
    user_model: type[models.Model], app_labels: Iterable[str] = OUR_APPS
) -> set[type[models.Model]]:
    """Every model of our apps that points at a person: at the user model, or (transitively)
    at a model that is itself linked to a person. Links through a model registered as
    `not_personal` are not followed: its rows are programme work, not a person's data."""
    from django.apps import apps

    wanted = set(app_labels)
    candidates = [
        m
        for m in apps.get_models()
        if m._meta.app_label in wanted and not m._meta.abstract and not m._meta.proxy
    ]
    linked: set[type[models.Model]] = set()
    if user_model._meta.app_label in wanted:
        linked.add(user_model)
    changed = True
    while changed:
        changed = False
        for model in candidates:
            if model in linked:
                continue
            for target in _targets(model):
                entry = _registry.get(target)
                stops = entry is not None and entry.kind == NOT_PERSONAL
                if target is user_model or (target in linked and not stops):
                    linked.add(model)
                    changed = True
                    break
    return linked


# --- Turning rows into plain data ------------------------------------------------------------


def plain(value: Any) -> Any:
    """A value as JSON understands it: dates ISO 8601, decimals as text, ids as text."""
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [plain(v) for v in value]
    if hasattr(value, "name") and hasattr(value, "url"):  # a FieldFile
        return value.name or None
    return value


def row(obj: models.Model, fields: Iterable[str | tuple[str, Any]]) -> dict:
    """One row as a person would read it. A field with choices gives its label; a name with
    `__` follows relations (load them with select_related first); a (key, callable) pair
    computes the value from the row."""
    out: dict[str, Any] = {}
    for spec in fields:
        if isinstance(spec, tuple):
            key, how = spec
            out[key] = plain(how(obj))
            continue
        *path, last = spec.split("__")
        target = obj
        for part in path:
            target = getattr(target, part, None)
            if target is None:
                break
        if target is None:
            out[spec] = None
            continue
        try:
            model_field = target._meta.get_field(last)
        except Exception:  # a property, not a field
            model_field = None
        if model_field is not None and getattr(model_field, "choices", None):
            raw = getattr(target, model_field.attname)
            out[spec] = getattr(target, f"get_{last}_display")() if raw not in ("", None) else ""
        else:
            out[spec] = plain(getattr(target, last))
    return out


# --- The account itself ----------------------------------------------------------------------


def pseudonym_for(user) -> tuple[str, str]:
    """The erased person's name and address: stable for the account (from its permanent id),
    so erasing twice gives the same result, and short enough to tell two erased people apart."""
    short = user.uuid.hex[:8]
    return f"{ERASED_NAME_PREFIX} {short}", f"erased-{user.uuid.hex}@{ERASED_EMAIL_DOMAIN}"


def is_erased(user) -> bool:
    return getattr(user, "erased_at", None) is not None


def _export_account(user) -> list[dict]:
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator

    addresses = [
        {"email": a.email, "verified": a.verified, "primary": a.primary}
        for a in EmailAddress.objects.filter(user=user).order_by("-primary", "email")
    ]
    authenticators = [
        {"type": a.get_type_display(), "created_at": plain(a.created_at)}
        for a in Authenticator.objects.filter(user=user).order_by("created_at")
    ]
    return [
        {
            **row(user, ["email", "full_name", "preferred_name", "date_joined", "last_login"]),
            "email_addresses": addresses,
            "two_factor_authentication": authenticators,
        }
    ]


def _user_sessions(user) -> list:
    """The person's stored sessions. Sessions do not name their user in a column, so each
    unexpired one is decoded; an erasure is rare enough for that to be fine."""
    from django.conf import settings
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    if settings.SESSION_ENGINE != "django.contrib.sessions.backends.db":
        return []
    wanted = str(user.pk)
    return [
        s.pk
        for s in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if s.get_decoded().get("_auth_user_id") == wanted
    ]


def _erase_account(erasure: Erasure) -> None:
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    user = erasure.user
    erasure.tally("email addresses", EmailAddress.objects.filter(user=user).delete()[0])
    erasure.tally("authenticators", Authenticator.objects.filter(user=user).delete()[0])
    # A changed password hash already ends every session at its next request (Django checks
    # the session's hash); deleting the rows as well leaves nothing of them behind.
    erasure.tally("sessions", Session.objects.filter(pk__in=_user_sessions(user)).delete()[0])
    user.full_name = erasure.pseudonym
    user.preferred_name = ""
    user.email = erasure.pseudonymous_email
    user.set_unusable_password()
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    if user.erased_at is None:
        user.erased_at = timezone.now()
    user.save()
    user.groups.clear()
    user.user_permissions.clear()
    erasure.tally("accounts", 1)


def register_account(user_model: type[models.Model]) -> None:
    register(
        user_model,
        section="account",
        title="Your account",
        description="Your sign-in email addresses, your name, when you joined and last "
        "signed in, and whether you use two-factor authentication (never your password or "
        "codes).",
        export=_export_account,
        erase=_erase_account,
        # Last: other apps' erasures still find the person's rows by their old address.
        order=1000,
    )
