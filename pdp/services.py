"""Every write of the PDP app, each in a transaction and each kept in the plan's history."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from cohort.services import audit_log
from notifications.models import Kind
from notifications.services import notify

from .access import mentor_users
from .models import PDP, Action, CompetencyDomain, Evidence, Objective, PDPChange
from .uploads import check_evidence_file

OBJECTIVE_FIELDS = ["title", "rationale", "measure", "target_date", "domain"]


def _value(value):
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, CompetencyDomain):
        return value.name
    return value


def _snapshot(objective: Objective) -> dict:
    return {
        **{f: _value(getattr(objective, f)) for f in OBJECTIVE_FIELDS},
        "status": objective.status,
    }


def _record(pdp, *, actor, action, summary, objective=None, before=None, after=None):
    PDPChange.objects.create(
        programme=pdp.programme,
        pdp=pdp,
        objective=objective,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_label=getattr(actor, "display_name", "") or "system",
        action=action,
        summary=summary[:300],
        before=before or {},
        after=after or {},
    )


def pdp_for_fellow(*, fellow) -> PDP:
    """The fellow's plan for their cohort year, started empty the first time it is asked for."""
    pdp, _ = PDP.objects.get_or_create(fellow=fellow, defaults={"programme": fellow.programme})
    return pdp


def domain_save(*, programme, actor, data: dict, domain=None) -> CompetencyDomain:
    name = data["name"].strip()
    with transaction.atomic():
        duplicate = CompetencyDomain.objects.filter(programme=programme, name__iexact=name)
        if domain is not None:
            duplicate = duplicate.exclude(pk=domain.pk)
        if duplicate.exists():
            raise ValidationError({"name": "The framework already has a domain of that name."})
        creating = domain is None
        if creating:
            last = (
                CompetencyDomain.objects.filter(programme=programme)
                .order_by("-position")
                .values_list("position", flat=True)
                .first()
            )
            domain = CompetencyDomain(programme=programme, position=(last or 0) + 1)
        domain.name = name
        domain.descriptor = data.get("descriptor", "").strip()
        domain.full_clean()
        domain.save()
        audit_log(
            programme=programme,
            actor=actor,
            action="framework.domain_added" if creating else "framework.domain_changed",
            target=domain,
        )
    return domain


def domain_remove(*, domain, actor) -> None:
    with transaction.atomic():
        if domain.objectives.exists():
            raise ValidationError(
                f"Objectives already use “{domain.name}”, so it stays. Rename it instead."
            )
        audit_log(
            programme=domain.programme,
            actor=actor,
            action="framework.domain_removed",
            target=domain,
        )
        domain.delete()


def objective_save(*, pdp: PDP, actor, data: dict, objective=None) -> Objective:
    """Add an objective to a plan or change one. SMART: what, how it is measured, by when and
    in which domain are all required."""
    with transaction.atomic():
        creating = objective is None
        if creating:
            objective = Objective(
                programme=pdp.programme, pdp=pdp, position=pdp.objectives.count() + 1
            )
        before = {} if creating else _snapshot(objective)
        for field in OBJECTIVE_FIELDS:
            if field in data:
                setattr(objective, field, data[field])
        if objective.domain_id and objective.domain.programme_id != pdp.programme_id:
            raise ValidationError({"domain": "Choose a domain of this programme's framework."})
        objective.full_clean(exclude=["programme", "pdp"])
        objective.save()
        after = _snapshot(objective)
        changed = {k: v for k, v in after.items() if before.get(k) != v}
        if creating or changed:
            _record(
                pdp,
                actor=actor,
                action="objective.added" if creating else "objective.changed",
                summary=f"{'Added' if creating else 'Changed'} the objective “{objective.title}”",
                objective=objective,
                before={k: before.get(k) for k in changed} if not creating else {},
                after=changed,
            )
    return objective


def objective_set_status(*, objective: Objective, actor, status: str, reason: str = ""):
    """Move an objective on; dropping one needs the reason."""
    reason = (reason or "").strip()
    if status not in Objective.Status.values:
        raise ValidationError({"status": "Choose a status."})
    if status == Objective.Status.DROPPED and not reason:
        raise ValidationError({"reason": "Say why the objective is being dropped."})
    with transaction.atomic():
        before = objective.status
        if before == status and reason == objective.dropped_reason:
            return objective
        objective.status = status
        objective.dropped_reason = reason if status == Objective.Status.DROPPED else ""
        objective.save(update_fields=["status", "dropped_reason", "updated_at"])
        label = Objective.Status(status).label.lower()
        _record(
            objective.pdp,
            actor=actor,
            action="objective.status",
            summary=f"Marked “{objective.title}” {label}" + (f": {reason}" if reason else ""),
            objective=objective,
            before={"status": before},
            after={"status": status, **({"reason": reason} if reason else {})},
        )
    return objective


def action_add(*, objective: Objective, actor, text: str) -> Action:
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Describe the action."})
    with transaction.atomic():
        action = Action.objects.create(
            programme=objective.programme, objective=objective, text=text
        )
        _record(
            objective.pdp,
            actor=actor,
            action="action.added",
            summary=f"Added the action “{text}” to “{objective.title}”",
            objective=objective,
            after={"action": text},
        )
    return action


def action_toggle(*, action: Action, actor) -> Action:
    """Tick an action done (or not done again): this is what moves the objective's progress."""
    with transaction.atomic():
        action = Action.objects.select_for_update().get(pk=action.pk)
        action.done = not action.done
        action.done_at = timezone.now() if action.done else None
        action.save(update_fields=["done", "done_at"])
        objective = action.objective
        _record(
            objective.pdp,
            actor=actor,
            action="action.done" if action.done else "action.reopened",
            summary=f"{'Done' if action.done else 'Not done after all'}: “{action.text}”",
            objective=objective,
            before={"done": not action.done},
            after={"done": action.done},
        )
    return action


def evidence_add(*, objective: Objective, actor, data: dict) -> Evidence:
    """A note, a link or a file as evidence for an objective. A file is checked (size, type,
    and that its content matches its extension) and kept privately."""
    kind = data.get("kind")
    upload = data.get("file")
    evidence = Evidence(
        programme=objective.programme,
        objective=objective,
        kind=kind,
        title=(data.get("title") or "").strip(),
        note=(data.get("note") or "").strip(),
        url=(data.get("url") or "").strip(),
        added_by=actor,
    )
    if kind == Evidence.Kind.NOTE and not evidence.note:
        raise ValidationError({"note": "Write the note."})
    if kind == Evidence.Kind.LINK and not evidence.url:
        raise ValidationError({"url": "Give the address of the link, starting https://."})
    if kind == Evidence.Kind.FILE:
        if not upload:
            raise ValidationError({"file": "Choose the file to upload."})
        evidence.original_name, evidence.content_type = check_evidence_file(upload)
        evidence.size = upload.size
    with transaction.atomic():
        evidence.full_clean(exclude=["programme", "objective", "file"])
        if kind == Evidence.Kind.FILE:
            evidence.file.save(evidence.original_name, upload, save=False)
        evidence.save()
        _record(
            objective.pdp,
            actor=actor,
            action="evidence.added",
            summary=f"Added evidence “{evidence.title}” to “{objective.title}”",
            objective=objective,
            after={"evidence": evidence.title, "kind": kind},
        )
    return evidence


def evidence_attach_event(
    *, fellow, source_key: str, title: str, note: str, url: str, domain_ids, objective=None
) -> list[Evidence]:
    """An event the fellow attended becomes evidence, by itself, for each of their live
    objectives in the event's competency domains (or for the one objective given, when the
    fellow attaches it by hand). Idempotent: an objective holds one copy per source. A fellow
    with no plan yet has no objective to attach it to (the event page offers it later)."""
    pdp = PDP.objects.filter(fellow=fellow).first()
    if pdp is None:
        return []
    objectives = pdp.objectives.exclude(status=Objective.Status.DROPPED)
    if objective is not None:
        objectives = objectives.filter(pk=objective.pk)
    else:
        objectives = objectives.filter(domain_id__in=list(domain_ids))
    added = []
    with transaction.atomic():
        already = set(
            Evidence.objects.filter(objective__pdp=pdp, source_key=source_key).values_list(
                "objective_id", flat=True
            )
        )
        for target in objectives:
            if target.pk in already:
                continue
            evidence = Evidence.objects.create(
                programme=pdp.programme,
                objective=target,
                kind=Evidence.Kind.EVENT,
                title=title[:200],
                note=note,
                url=url,
                source_key=source_key,
            )
            _record(
                pdp,
                actor=None,
                action="evidence.added",
                summary=f"Attending “{title}” added as evidence to “{target.title}”",
                objective=target,
                after={"evidence": evidence.title, "kind": evidence.kind},
            )
            added.append(evidence)
    return added


def evidence_detach_event(*, fellow, source_key: str) -> int:
    """Take back what evidence_attach_event added (an attendance marked by mistake)."""
    pdp = PDP.objects.filter(fellow=fellow).first()
    if pdp is None:
        return 0
    with transaction.atomic():
        rows = list(
            Evidence.objects.filter(objective__pdp=pdp, source_key=source_key).select_related(
                "objective"
            )
        )
        for evidence in rows:
            _record(
                pdp,
                actor=None,
                action="evidence.removed",
                summary=f"“{evidence.title}” removed from “{evidence.objective.title}”: the "
                "attendance was corrected",
                objective=evidence.objective,
                before={"evidence": evidence.title, "kind": evidence.kind},
            )
            evidence.delete()
    return len(rows)


def pdp_submit(*, pdp: PDP, actor) -> PDP:
    """The fellow sends the plan to their mentor to agree."""
    with transaction.atomic():
        pdp = PDP.objects.select_for_update().get(pk=pdp.pk)
        if pdp.status == PDP.Status.SUBMITTED:
            raise ValidationError("The plan is already waiting for your mentor.")
        if not pdp.objectives.exclude(status=Objective.Status.DROPPED).exists():
            raise ValidationError("Add at least one objective before sending the plan.")
        before = pdp.status
        pdp.status = PDP.Status.SUBMITTED
        pdp.submitted_at = timezone.now()
        pdp.save(update_fields=["status", "submitted_at", "updated_at"])
        _record(
            pdp,
            actor=actor,
            action="pdp.submitted",
            summary="Sent the plan to the mentor to agree",
            before={"status": before},
            after={"status": pdp.status},
        )
        mentors = mentor_users(pdp.fellow)
        notify(
            programme=pdp.programme,
            recipients=mentors,
            kind=Kind.SIGN_OFF_REQUEST,
            title=f"{pdp.fellow} asks you to agree their Personal Development Plan",
            body="Read the objectives, then agree the plan or return it with comments.",
            link=reverse(
                "pdp:detail", kwargs={"programme_slug": pdp.programme.slug, "pdp_uuid": pdp.uuid}
            ),
            actor=actor,
        )
    return pdp


def pdp_review(*, pdp: PDP, actor, agree: bool, comments: str = "") -> PDP:
    """The mentor agrees the plan as it stands, or returns it with comments."""
    comments = (comments or "").strip()
    if not agree and not comments:
        raise ValidationError({"comments": "Say what the fellow should change."})
    with transaction.atomic():
        pdp = PDP.objects.select_for_update().select_related("fellow__user").get(pk=pdp.pk)
        if actor.pk not in {u.pk for u in mentor_users(pdp.fellow)}:
            raise ValidationError("Only the fellow's mentor can agree or return the plan.")
        if pdp.status != PDP.Status.SUBMITTED:
            raise ValidationError("The plan has not been sent to you to agree.")
        now = timezone.now()
        pdp.mentor_comments = comments
        if agree:
            pdp.status = PDP.Status.AGREED
            pdp.agreed_at = now
            pdp.agreed_by = actor
            pdp.agreed_snapshot = {
                str(o.uuid): _snapshot(o) for o in pdp.objectives.select_related("domain")
            }
        else:
            pdp.status = PDP.Status.RETURNED
        pdp.save()
        _record(
            pdp,
            actor=actor,
            action="pdp.agreed" if agree else "pdp.returned",
            summary=("Agreed the plan" if agree else "Returned the plan with comments")
            + (f": {comments}" if comments else ""),
            after={"status": pdp.status, **({"comments": comments} if comments else {})},
        )
        notify(
            programme=pdp.programme,
            recipients=[pdp.fellow.user],
            kind=Kind.MENTORSHIP,
            title=f"{actor.display_name} "
            + ("agreed your Personal Development Plan" if agree else "returned your plan"),
            body=comments,
            link=reverse(
                "pdp:detail", kwargs={"programme_slug": pdp.programme.slug, "pdp_uuid": pdp.uuid}
            ),
            actor=actor,
        )
    return pdp


def changes_since_agreement(pdp: PDP, objectives) -> dict[str, list[str]]:
    """For each objective (by uuid), what differs from what the mentor agreed."""
    if not pdp.agreed_snapshot:
        return {}
    # What was agreed; moving an objective on (its status) is progress, not a change to it.
    labels = {
        "title": "what",
        "rationale": "why",
        "measure": "measure",
        "target_date": "date",
        "domain": "domain",
    }
    changes = {}
    for objective in objectives:
        agreed = pdp.agreed_snapshot.get(str(objective.uuid))
        if agreed is None:
            changes[str(objective.uuid)] = ["added since the plan was agreed"]
            continue
        now = _snapshot(objective)
        diff = [labels[k] for k in labels if agreed.get(k) != now.get(k)]
        if diff:
            changes[str(objective.uuid)] = [f"{', '.join(diff)} changed since the plan was agreed"]
    return changes


def fulfilment(objectives) -> int | None:
    """The plan's fulfilment, 0 to 100: the mean progress of the objectives still pursued."""
    live = [o for o in objectives if o.status != Objective.Status.DROPPED]
    if not live:
        return None
    return round(sum(o.progress for o in live) / len(live))
