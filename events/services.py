"""Every write of the events app, each in a transaction and each audited: events and their
registrations (the waiting list moves up by itself), attendance and check-in, calendar feeds
and reminders, the resource library and signposted opportunities."""

from __future__ import annotations

# --- events and registration ---------------------------------------------------------------------


# --- calendars and reminders ---------------------------------------------------------------------


# --- resources and opportunities -----------------------------------------------------------------

# This section's imports follow its first line rather than sit at the top of the file, so
# that the file's sections (events, calendars, the library) merge apart.
RESOURCE_FIELDS = [
    "kind",
    "title",
    "summary",
    "url",
    "provider",
    "duration_minutes",
    "credits",
    "credit_level",
]
OPPORTUNITY_FIELDS = [
    "kind",
    "title",
    "summary",
    "organisation",
    "funding",
    "amount",
    "url",
    "opens_on",
    "deadline",
    "eligibility",
    "tags",
    "professions",
    "sectors",
    "stages",
    "regions",
]
MAX_TAGS = 12
MAX_TAG_LENGTH = 40

from datetime import date  # noqa: E402

from django.core.exceptions import ValidationError  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from cohort.models import Fellow, Sector  # noqa: E402
from cohort.services import audit_log  # noqa: E402
from pdp.models import Objective, PDPChange  # noqa: E402

from .models import Opportunity, OpportunityInterest, Resource, ResourceObjective  # noqa: E402

NOTE_LENGTH = OpportunityInterest._meta.get_field("note").max_length


def _person(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def _audit_value(value):
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "pk"):
        return str(value)
    return value


def _changed(before: dict, after: dict) -> dict:
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def _same_programme(programme, value, field: str, message: str) -> None:
    if value is not None and value.programme_id != programme.pk:
        raise ValidationError({field: message})


# --- the resource library ---


def _resource_snapshot(resource: Resource) -> dict:
    return {f: _audit_value(getattr(resource, f)) for f in RESOURCE_FIELDS}


def resource_save(*, programme, actor, data: dict, resource: Resource | None = None) -> Resource:
    """Add a resource to the library or change one, with its competency domains."""
    with transaction.atomic():
        creating = resource is None
        if creating:
            resource = Resource(programme=programme, created_by=_person(actor))
            resource.is_published = bool(data.get("is_published", True))
        before = {} if creating else _resource_snapshot(resource)
        for name in RESOURCE_FIELDS:
            if name in data:
                value = data[name]
                setattr(resource, name, value.strip() if isinstance(value, str) else value)
        _same_programme(
            programme, resource.provider, "provider", "Choose an organisation of this programme."
        )
        domains = list(data.get("domains") or [])
        for domain in domains:
            _same_programme(
                programme, domain, "domains", "Choose domains of this programme's framework."
            )
        resource.full_clean()
        resource.save()
        old_domains = set() if creating else {d.name for d in resource.domains.all()}
        if "domains" in data:
            resource.domains.set(domains, through_defaults={"programme": programme})
        changes = _changed(before, _resource_snapshot(resource))
        new_domains = {d.name for d in domains} if "domains" in data else old_domains
        if new_domains != old_domains:
            changes["domains"] = [sorted(old_domains), sorted(new_domains)]
        if creating or changes:
            audit_log(
                programme=programme,
                actor=actor,
                action="resource.created" if creating else "resource.changed",
                target=resource,
                changes=changes,
            )
    return resource


def resource_set_published(*, resource: Resource, actor, published: bool) -> bool:
    """Publish a resource or take it out of the library (its links to plans stay, hidden);
    True when this changed anything."""
    with transaction.atomic():
        resource = Resource.objects.select_for_update().get(pk=resource.pk)
        if resource.is_published == published:
            return False
        resource.is_published = published
        resource.save(update_fields=["is_published", "updated_at"])
        audit_log(
            programme=resource.programme,
            actor=actor,
            action="resource.published" if published else "resource.unpublished",
            target=resource,
        )
    return True


def _plan_change(objective: Objective, *, actor, action: str, summary: str, resource) -> None:
    """Kept in the plan's own history too: a resource linked is part of the plan's story."""
    PDPChange.objects.create(
        programme=objective.programme,
        pdp=objective.pdp,
        objective=objective,
        actor=_person(actor),
        actor_label=getattr(actor, "display_name", "") or "system",
        action=action,
        summary=summary[:300],
        after={"resource": resource.title},
    )


def resource_link_objective(*, resource: Resource, objective: Objective, actor) -> bool:
    """Link a published resource to a live objective of a plan (the views let only the plan's
    fellow and staff do it). Linking twice changes nothing; True when a link was made."""
    if resource.programme_id != objective.programme_id:
        raise ValidationError("Choose an objective of this programme.")
    if not resource.is_published:
        raise ValidationError("This resource is not in the library, so it cannot be linked.")
    if objective.status == Objective.Status.DROPPED:
        raise ValidationError(
            f"“{objective.title}” was dropped: link resources to objectives you still pursue."
        )
    with transaction.atomic():
        _link, created = ResourceObjective.objects.get_or_create(
            resource=resource,
            objective=objective,
            defaults={"programme": resource.programme, "linked_by": _person(actor)},
        )
        if created:
            audit_log(
                programme=resource.programme,
                actor=actor,
                action="resource.linked",
                target=resource,
                changes={"objective": str(objective.uuid)},
            )
            _plan_change(
                objective,
                actor=actor,
                action="resource.linked",
                summary=f"Linked the resource “{resource.title}” to “{objective.title}”",
                resource=resource,
            )
    return created


def resource_unlink_objective(*, resource: Resource, objective: Objective, actor) -> bool:
    """Remove a resource from an objective; True when there was a link to remove."""
    with transaction.atomic():
        deleted, _ = ResourceObjective.objects.filter(
            programme=resource.programme, resource=resource, objective=objective
        ).delete()
        if deleted:
            audit_log(
                programme=resource.programme,
                actor=actor,
                action="resource.unlinked",
                target=resource,
                changes={"objective": str(objective.uuid)},
            )
            _plan_change(
                objective,
                actor=actor,
                action="resource.unlinked",
                summary=f"Unlinked the resource “{resource.title}” from “{objective.title}”",
                resource=resource,
            )
    return bool(deleted)


# --- signposted opportunities ---


def clean_tags(value) -> list[str]:
    """Tags as typed ("funding, AI, funding") to a tidy list: trimmed, each once whatever its
    case, in the order first given."""
    if isinstance(value, str):
        value = value.split(",")
    tags, seen = [], set()
    for raw in value or []:
        tag = " ".join(str(raw).split())
        if not tag or tag.casefold() in seen:
            continue
        if len(tag) > MAX_TAG_LENGTH:
            raise ValidationError(
                {"tags": f"Keep each tag to {MAX_TAG_LENGTH} characters: “{tag[:20]}…” is longer."}
            )
        seen.add(tag.casefold())
        tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise ValidationError({"tags": f"Give at most {MAX_TAGS} tags."})
    return tags


def _opportunity_snapshot(opportunity: Opportunity) -> dict:
    return {f: _audit_value(getattr(opportunity, f)) for f in [*OPPORTUNITY_FIELDS, "status"]}


def opportunity_save(
    *, programme, actor, data: dict, opportunity: Opportunity | None = None
) -> Opportunity:
    """Signpost an opportunity (as a draft) or change one. The dates must be in order, only
    internships are partner-funded or self-funding, and who it is for comes from the lists."""
    with transaction.atomic():
        creating = opportunity is None
        if creating:
            opportunity = Opportunity(programme=programme, created_by=_person(actor))
        before = {} if creating else _opportunity_snapshot(opportunity)
        for name in OPPORTUNITY_FIELDS:
            if name in data:
                value = data[name]
                setattr(opportunity, name, value.strip() if isinstance(value, str) else value)
        opportunity.tags = clean_tags(opportunity.tags)
        _same_programme(
            programme,
            opportunity.organisation,
            "organisation",
            "Choose an organisation of this programme.",
        )
        if any(s not in Sector.values for s in opportunity.sectors or []):
            raise ValidationError({"sectors": "Choose sectors from the list."})
        opportunity.full_clean()
        opportunity.save()
        changes = _changed(before, _opportunity_snapshot(opportunity))
        if creating or changes:
            audit_log(
                programme=programme,
                actor=actor,
                action="opportunity.created" if creating else "opportunity.changed",
                target=opportunity,
                changes=changes,
            )
    return opportunity


def opportunity_publish(*, opportunity: Opportunity, actor) -> Opportunity:
    """Show a draft to fellows, or reopen a closed one. One whose deadline has passed is not
    published: it would drop out again at once."""
    with transaction.atomic():
        opportunity = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
        if opportunity.status == Opportunity.Status.PUBLISHED:
            raise ValidationError("This opportunity is already published.")
        if opportunity.deadline and opportunity.deadline < timezone.localdate():
            raise ValidationError(
                {"deadline": "Its deadline has passed: change the deadline before publishing."}
            )
        reopening = opportunity.status == Opportunity.Status.CLOSED
        opportunity.status = Opportunity.Status.PUBLISHED
        opportunity.closed_at = None
        opportunity.full_clean()
        opportunity.save(update_fields=["status", "closed_at", "updated_at"])
        audit_log(
            programme=opportunity.programme,
            actor=actor,
            action="opportunity.reopened" if reopening else "opportunity.published",
            target=opportunity,
        )
    return opportunity


def opportunity_close(*, opportunity: Opportunity, actor, reason: str) -> Opportunity:
    """Take an opportunity down before its deadline (filled, withdrawn by the partner), with
    the reason, which the audit log keeps. Fellows' bookmarks and applications stay."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the opportunity is closing."})
    with transaction.atomic():
        opportunity = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
        if opportunity.status == Opportunity.Status.CLOSED:
            raise ValidationError("This opportunity is already closed.")
        before = opportunity.status
        opportunity.status = Opportunity.Status.CLOSED
        opportunity.closed_at = timezone.now()
        opportunity.save(update_fields=["status", "closed_at", "updated_at"])
        audit_log(
            programme=opportunity.programme,
            actor=actor,
            action="opportunity.closed",
            target=opportunity,
            changes={"status": [before, opportunity.status], "reason": reason},
        )
    return opportunity


def _require_fellow(opportunity: Opportunity, user) -> None:
    if not Fellow.objects.filter(programme=opportunity.programme_id, user=user).exists():
        raise ValidationError(
            "Only fellows bookmark opportunities and record that they have applied."
        )


def _interest_for(opportunity: Opportunity, user) -> OpportunityInterest:
    interest, _ = OpportunityInterest.objects.get_or_create(
        opportunity=opportunity, user=user, defaults={"programme": opportunity.programme}
    )
    return OpportunityInterest.objects.select_for_update().get(pk=interest.pk)


def opportunity_bookmark(*, opportunity: Opportunity, user, bookmarked: bool = True) -> bool:
    """Keep an open opportunity on one's list, or take it off. Idempotent: True only when the
    bookmark changed."""
    _require_fellow(opportunity, user)
    if bookmarked and not opportunity.is_open:
        raise ValidationError("This opportunity is not open, so it cannot be bookmarked.")
    with transaction.atomic():
        if (
            not bookmarked
            and not OpportunityInterest.objects.filter(
                opportunity=opportunity, user=user, bookmarked_at__isnull=False
            ).exists()
        ):
            return False
        interest = _interest_for(opportunity, user)
        if bool(interest.bookmarked_at) == bookmarked:
            return False
        interest.bookmarked_at = timezone.now() if bookmarked else None
        if interest.bookmarked_at is None and interest.applied_at is None and not interest.note:
            interest.delete()
        else:
            interest.save(update_fields=["bookmarked_at"])
        audit_log(
            programme=opportunity.programme,
            actor=user,
            action="opportunity.bookmarked" if bookmarked else "opportunity.unbookmarked",
            target=opportunity,
        )
    return True


def opportunity_record_applied(*, opportunity: Opportunity, user, note: str = "") -> bool:
    """A fellow records that they applied, with an optional note (a reference, who they
    spoke to). Recording it again only updates the note; True the first time."""
    _require_fellow(opportunity, user)
    note = (note or "").strip()
    if len(note) > NOTE_LENGTH:
        raise ValidationError({"note": f"Keep the note to {NOTE_LENGTH} characters."})
    if opportunity.status == Opportunity.Status.DRAFT:
        raise ValidationError("This opportunity is not published yet.")
    with transaction.atomic():
        interest = _interest_for(opportunity, user)
        first = interest.applied_at is None
        if not first and (not note or note == interest.note):
            return False
        if first:
            interest.applied_at = timezone.now()
        if note:
            interest.note = note
        interest.save(update_fields=["applied_at", "note"])
        audit_log(
            programme=opportunity.programme,
            actor=user,
            action="opportunity.applied" if first else "opportunity.applied_note",
            target=opportunity,
            changes={"note": note} if note else {},
        )
    return first


def opportunity_withdraw_applied(*, opportunity: Opportunity, user) -> bool:
    """Undo "I have applied" (a slip of the finger); True when there was one to undo."""
    with transaction.atomic():
        interest = (
            OpportunityInterest.objects.select_for_update()
            .filter(opportunity=opportunity, user=user, applied_at__isnull=False)
            .first()
        )
        if interest is None:
            return False
        interest.applied_at = None
        if interest.bookmarked_at is None:
            interest.delete()
        else:
            interest.save(update_fields=["applied_at"])
        audit_log(
            programme=opportunity.programme,
            actor=user,
            action="opportunity.applied_withdrawn",
            target=opportunity,
        )
    return True
