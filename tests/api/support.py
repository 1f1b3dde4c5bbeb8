"""The partner API's routes as data, read from the router itself (config.api.router), so a new
endpoint or action is in every matrix of this suite the day it is added."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django_scopes import scopes_disabled

from config.api import router


@dataclass(frozen=True)
class Operation:
    """One method of one route of the partner API, and the viewset action behind it."""

    name: str  # the route's name, such as "opportunity-close"
    basename: str  # the router's basename, such as "opportunity"
    pattern: str  # such as "opportunities/<uuid:uuid>/close/"
    method: str  # "get", "post", "patch"
    action: str  # "list", "retrieve", "close"…
    viewset: type

    @property
    def takes_uuid(self) -> bool:
        return "<uuid:uuid>" in self.pattern

    @property
    def writes(self) -> bool:
        return self.method != "get"

    @property
    def is_list(self) -> bool:
        return self.method == "get" and not self.takes_uuid

    @property
    def scopes(self) -> tuple[str, ...]:
        """The scopes the action needs (any one of them), as the viewset declares them."""
        return tuple(self.viewset.action_scopes.get(self.action, self.viewset.required_scopes))

    def url(self, uuid=None) -> str:
        kwargs = {"uuid": uuid} if self.takes_uuid else {}
        return reverse(f"api:{self.name}", kwargs=kwargs)

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.pattern}"


def operations() -> list[Operation]:
    basenames = sorted({basename for _, _, basename in router.registry}, key=len, reverse=True)
    found = []
    for pattern in router.get_urls():
        basename = next(b for b in basenames if pattern.name.startswith(f"{b}-"))
        for method, action in pattern.callback.actions.items():
            found.append(
                Operation(
                    name=pattern.name,
                    basename=basename,
                    pattern=str(pattern.pattern),
                    method=method,
                    action=action,
                    viewset=pattern.callback.cls,
                )
            )
    return found


def call(client, operation: Operation, uuid=None, body=None, **extra):
    url = operation.url(uuid)
    if operation.method == "get":
        return client.get(url, **extra)
    return getattr(client, operation.method)(url, body or {}, format="json", **extra)


def state_of(programme) -> dict:
    """What a partner's request could change in a programme: its opportunities, its
    mentors' details and its audit trail."""
    from cohort.models import AuditEvent, Mentor
    from events.models import Opportunity

    with scopes_disabled():
        return {
            "opportunities": sorted(
                Opportunity.objects.filter(programme=programme).values_list(
                    "uuid", "title", "status", "closed_at", "deadline", "organisation_id"
                )
            ),
            "mentors": sorted(
                Mentor.objects.filter(programme=programme).values_list(
                    "uuid", "job_title", "expertise", "capacity"
                )
            ),
            "audit": AuditEvent.objects.filter(programme=programme).count(),
        }
