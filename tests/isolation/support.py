"""Helpers of the tenant-isolation suite: the URL conf as data, and a snapshot of a programme.

Everything here is derived from the project itself (the root resolver, the app registry), so a
new route or a new tenant-owned model is covered by the suite without anyone remembering it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from html.parser import HTMLParser

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, models
from django.urls import URLResolver, get_resolver
from django_scopes import scopes_disabled

from cohort.models import Programme

# The project's own apps (DESIGN §4 applies to every model in them).
PROJECT_APPS = ("accounts", "cohort", "notifications", "pdp", "mentoring", "events", "metrics")

# The prefix ProgrammeMiddleware resolves; only routes under it get the membership check.
PROGRAMME_PREFIX = "p/<slug:programme_slug>/"


@dataclass(frozen=True)
class Route:
    """One URL pattern of the whole site, flattened out of the resolver tree."""

    name: str | None  # namespaced, such as "cohort:invitation_revoke"
    pattern: str  # the full pattern text, such as "p/<slug:programme_slug>/audit/"
    kwargs: tuple[str, ...]  # every named argument along the way, outermost first

    @property
    def key(self) -> str:
        """How the suite names the route: its namespaced name, or its pattern if unnamed."""
        return self.name or self.pattern

    @property
    def is_programme_route(self) -> bool:
        return "programme_slug" in self.kwargs

    @property
    def record_kwargs(self) -> tuple[str, ...]:
        """The arguments that address a record inside the programme (all but the slug)."""
        return tuple(k for k in self.kwargs if k != "programme_slug")

    @property
    def is_admin(self) -> bool:
        return self.pattern.startswith("admin/")

    def __str__(self) -> str:
        return self.key


def _walk(resolver, prefix: str, namespace: tuple[str, ...], kwargs: tuple[str, ...]):
    for entry in resolver.url_patterns:
        names = tuple(entry.pattern.regex.groupindex)
        if isinstance(entry, URLResolver):
            inner_ns = (*namespace, entry.namespace) if entry.namespace else namespace
            yield from _walk(entry, prefix + str(entry.pattern), inner_ns, kwargs + names)
        else:
            name = ":".join((*namespace, entry.name)) if entry.name else None
            yield Route(name=name, pattern=prefix + str(entry.pattern), kwargs=kwargs + names)


def all_routes() -> list[Route]:
    """Every pattern reachable from the root URL conf, depth first."""
    return list(_walk(get_resolver(), "", (), ()))


# --- Which models belong to a programme ---------------------------------------------------------


def programme_fk(model) -> models.ForeignKey | None:
    try:
        field = model._meta.get_field("programme")
    except Exception:
        return None
    if isinstance(field, models.ForeignKey) and field.related_model is Programme:
        return field
    return None


def tenant_models() -> list[type[models.Model]]:
    """Every installed concrete model with a `programme` foreign key to the tenant."""
    return [
        model
        for model in apps.get_models()
        if not model._meta.proxy and programme_fk(model) is not None
    ]


def project_models() -> list[type[models.Model]]:
    """Every concrete model of the project's own apps (auto-created m2m tables excluded)."""
    found = []
    for label in PROJECT_APPS:
        for model in apps.get_app_config(label).get_models():
            if not model._meta.proxy and not model._meta.auto_created:
                found.append(model)
    return found


def local_app_labels() -> set[str]:
    """Installed apps whose code lives in this repository (so PROJECT_APPS cannot go stale)."""
    base = str(settings.BASE_DIR)
    return {
        config.label
        for config in apps.get_app_configs()
        if str(config.path).startswith(base + "/") and "/.venv/" not in str(config.path)
    }


def _postgresql_snapshot(programme: Programme) -> dict[str, list[dict]]:
    """The same rows as below in one round trip: each table's rows as JSON, all tables in one
    UNION ALL. The suite takes a snapshot before and after every request of every actor, so
    one query instead of one per model keeps it quick as the models grow."""
    user_model = get_user_model()
    parts, params = [], []

    def add(label: str, select_from: str, *args) -> None:
        parts.append(
            f"(SELECT %s AS label, t.id AS pk, row_to_json(t)::text AS data {select_from})"
        )
        params.extend([label, *args])

    add("cohort.Programme", f'FROM "{Programme._meta.db_table}" t WHERE t.id = %s', programme.pk)
    for model in tenant_models():
        add(
            model._meta.label,
            f'FROM "{model._meta.db_table}" t WHERE t.programme_id = %s',
            programme.pk,
        )
    membership = apps.get_model("cohort", "Membership")._meta.db_table
    add(
        "accounts.User (members)",
        f'FROM "{user_model._meta.db_table}" t WHERE t.id IN '
        f'(SELECT user_id FROM "{membership}" WHERE programme_id = %s)',
        programme.pk,
    )
    snapshot: dict[str, list[dict]] = {"cohort.Programme": []}
    snapshot.update({m._meta.label: [] for m in tenant_models()})
    snapshot["accounts.User (members)"] = []
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts) + " ORDER BY label, pk", params)
        for label, _pk, row in cursor.fetchall():
            values = json.loads(row)
            if label == "accounts.User (members)":
                # last_login moves only for whoever signs in.
                values.pop("last_login", None)
            snapshot[label].append(values)
    return snapshot


def programme_snapshot(programme: Programme) -> dict[str, list[dict]]:
    """Every row of the programme, model by model, in a stable order.

    Taken twice around a request and compared: a row of the programme that was created,
    changed, deleted or moved to another programme shows up as a difference.
    """
    if connection.vendor == "postgresql":
        return _postgresql_snapshot(programme)
    user_model = get_user_model()
    with scopes_disabled():
        snapshot = {
            "cohort.Programme": list(Programme._base_manager.filter(pk=programme.pk).values())
        }
        for model in tenant_models():
            snapshot[model._meta.label] = list(
                model._base_manager.filter(programme_id=programme.pk).order_by("pk").values()
            )
        # People are not tenant-owned, but the accounts of the programme's members must not
        # be changed by an outsider either. last_login moves only for whoever signs in.
        snapshot["accounts.User (members)"] = [
            {k: v for k, v in row.items() if k != "last_login"}
            for row in user_model._base_manager.filter(memberships__programme=programme)
            .distinct()
            .order_by("pk")
            .values()
        ]
    return snapshot


def snapshot_diff(before: dict, after: dict) -> str:
    """A readable account of what changed between two snapshots (empty when nothing did)."""
    lines = []
    for label in sorted(set(before) | set(after)):
        old = {row.get("id", i): row for i, row in enumerate(before.get(label, []))}
        new = {row.get("id", i): row for i, row in enumerate(after.get(label, []))}
        for pk in sorted(set(old) - set(new), key=str):
            lines.append(f"{label} #{pk} disappeared: {old[pk]}")
        for pk in sorted(set(new) - set(old), key=str):
            lines.append(f"{label} #{pk} appeared: {new[pk]}")
        for pk in sorted(set(old) & set(new), key=str):
            if old[pk] != new[pk]:
                changed = {
                    k: (old[pk].get(k), new[pk].get(k))
                    for k in set(old[pk]) | set(new[pk])
                    if old[pk].get(k) != new[pk].get(k)
                }
                lines.append(f"{label} #{pk} changed (old, new): {changed}")
    return "\n".join(lines)


def assert_unchanged(before: dict, after: dict, context: str) -> None:
    diff = snapshot_diff(before, after)
    assert not diff, f"{context} changed programme A's data:\n{diff}"


# --- Reading an admin form back as POST data ----------------------------------------------------


class FormFields(HTMLParser):
    """The fields a browser would submit for the form with this id, as client.post data."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def _add(self, name: str, value: str) -> None:
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form" and attributes.get("id") == self.form_id:
            self.inside = True
            return
        if not self.inside:
            return
        name = attributes.get("name")
        if tag == "input" and name:
            kind = (attributes.get("type") or "text").lower()
            if kind in {"submit", "button", "image", "file", "reset"}:
                return
            if kind in {"checkbox", "radio"}:
                if "checked" in attributes:
                    self._add(name, attributes.get("value") or "on")
                return
            self._add(name, attributes.get("value") or "")
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in attributes:
            self._add(self._select, attributes.get("value") or "")
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            self._add(self._textarea, "".join(self._text).removeprefix("\n"))
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._text.append(data)


def form_data(html: str, form_id: str) -> dict[str, list[str]]:
    parser = FormFields(form_id)
    parser.feed(html)
    return parser.data
