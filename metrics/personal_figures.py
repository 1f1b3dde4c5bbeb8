"""A fellow's own figures ("Your figures" on her home page, and each mentee's on her mentor's
home), and the counts of her outcome records by kind and status (her home's outcomes card),
kept in the cache between visits.

`selectors.people_figures` costs a dozen queries, a quarter of the fellow home's time, and its
answer changes only when one of the records it is made of changes, or the day does. So each
fellow's figures are kept for FIGURES_TIMEOUT under a key that names the day, her *version*
and her programme's *generation*:

- a change to one of her records (a registration, a connection, an outcome record, her PDP's
  objectives, her mentorship, meetings and milestones) gives her a new version;
- a change that can move many fellows' figures at once (an event's date or status, a cohort's
  meeting windows or dates, the programme's settings) gives the programme a new generation;

and the next visit computes them afresh. The receivers below hear every save and delete of
those models, whoever makes it (a service, the admin, an import), and mentoring's
`fellow_records_changed` for its conditional UPDATEs, which send no post_save.

A mark (version or generation) is replaced twice: at once, so that a page later in the same
request or test sees the change, and again when the transaction commits, so that a page that
read the old rows while the change was in flight cannot leave its answer under the new mark.
Marks are random tokens, not counters: replacing one is a single write, and a mark that
expires (after MARK_TIMEOUT, far longer than a kept figure lives) cannot bring back figures.

Keys carry the programme's UUID, never a sequential id: test databases and a restored copy
share a Redis with ids that mean other rows. When the cache is away (Redis down,
config/cache.py), nothing is kept and every visit computes; a change made then shows at the
latest FIGURES_TIMEOUT after Redis returns.
"""

from __future__ import annotations

import uuid
from datetime import date

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django_scopes import scopes_disabled

from cohort.models import Cohort, Fellow, Programme
from events.models import Event, Registration
from mentoring.models import Connection, Meeting, MeetingWindow, Mentorship, Milestone
from mentoring.signals import fellow_records_changed
from pdp.models import PDP, Objective

from .definitions import METRICS, ZERO
from .models import (
    CompanyRecord,
    FundingRecord,
    JobsRecord,
    PartnershipRecord,
    PatientReachRecord,
)
from .selectors import PERSONAL_METRICS, Figure, outcome_counts, people_figures

# How long a fellow's figures are kept: the backstop if a change ever went unheard.
FIGURES_TIMEOUT = 10 * 60
MARK_TIMEOUT = 2 * 24 * 60 * 60
UNMARKED = "0"


def _generation_key(programme_uuid) -> str:
    return f"figures:generation:{programme_uuid}"


def _version_key(programme_uuid, fellow_id: int) -> str:
    return f"figures:version:{programme_uuid}:{fellow_id}"


def _kept(programme: Programme, fellows, today: date, name: str, compute) -> dict[int, object]:
    """{fellow id: value} of what `compute(fellows)` makes ({fellow id: plain data}), from the
    cache for the fellows whose value is kept under their current marks and computed in one
    batch for the others: two cache reads, and the queries only when one is missing."""
    generation_key = _generation_key(programme.uuid)
    version_keys = {f.pk: _version_key(programme.uuid, f.pk) for f in fellows}
    marks = cache.get_many([generation_key, *version_keys.values()])
    generation = marks.get(generation_key, UNMARKED)
    value_keys = {
        pk: f"{name}:{programme.uuid}:{generation}:{pk}:{marks.get(key, UNMARKED)}:{today}"
        for pk, key in version_keys.items()
    }
    kept = cache.get_many(list(value_keys.values()))
    values = {pk: kept[key] for pk, key in value_keys.items() if key in kept}
    missing = [f for f in fellows if f.pk not in values]
    if missing:
        fresh = compute(missing)
        cache.set_many({value_keys[pk]: value for pk, value in fresh.items()}, FIGURES_TIMEOUT)
        values.update(fresh)
    return values


def _personal(programme: Programme, fellows, today: date) -> dict[int, dict]:
    """Each fellow's figures (as sums) and outcome counts, kept between visits as one entry:
    her home page shows both, and the verified records' counts and sums come from the same
    five queries."""

    def compute(missing):
        counts = outcome_counts(programme=programme, fellows=missing)
        figures = people_figures(programme, missing, today, outcomes=counts)
        return {
            pk: {
                "figures": {key: (f.numerator, f.denominator) for key, f in mine.items()},
                "outcomes": counts[pk],
            }
            for pk, mine in figures.items()
        }

    return _kept(programme, fellows, today, "personal", compute)


def cached_people_figures(
    programme: Programme, fellows, today: date
) -> dict[int, dict[str, Figure]]:
    """people_figures() of these fellows, kept between visits."""
    fellows = list(fellows)
    if not fellows:
        return {}
    return {
        pk: {
            key: Figure(METRICS[key], *kept["figures"].get(key, (ZERO, ZERO)))
            for key in PERSONAL_METRICS
        }
        for pk, kept in _personal(programme, fellows, today).items()
    }


def cached_outcome_counts(programme: Programme, fellow) -> dict[str, dict]:
    """Her outcome records by kind and status (her home page's outcomes card), kept between
    visits: five queries saved on every visit after the first."""
    return _personal(programme, [fellow], timezone.localdate())[fellow.pk]["outcomes"]


def _replace_marks(keys: list[str]) -> None:
    def replace():
        cache.set_many({key: uuid.uuid4().hex for key in keys}, MARK_TIMEOUT)

    replace()
    transaction.on_commit(replace)


def forget_fellows(programme_uuid, fellow_ids) -> None:
    """These fellows' figures are to be computed afresh."""
    keys = [_version_key(programme_uuid, pk) for pk in set(fellow_ids) if pk is not None]
    if keys:
        _replace_marks(keys)


def forget_programme(programme_uuid) -> None:
    """Every fellow's figures in this programme are to be computed afresh."""
    _replace_marks([_generation_key(programme_uuid)])


# --- who a changed row concerns -----------------------------------------------------------------


def _programme_uuid(instance):
    if type(instance).programme.is_cached(instance):
        return instance.programme.uuid
    return Programme.objects.filter(pk=instance.programme_id).values_list("uuid", flat=True).first()


def _fellows_of_users(programme_id: int, user_ids) -> list[int]:
    with scopes_disabled():
        return list(
            Fellow.objects.filter(programme_id=programme_id, user_id__in=user_ids).values_list(
                "pk", flat=True
            )
        )


def _fellow_of_mentorship(mentorship_id: int) -> list[int]:
    with scopes_disabled():
        return list(Mentorship.objects.filter(pk=mentorship_id).values_list("fellow_id", flat=True))


# Each model whose rows a fellow's figures are made of, and the fellows a row concerns.
FELLOWS_OF = {
    Registration: lambda r: _fellows_of_users(r.programme_id, [r.user_id]),
    Connection: lambda c: _fellows_of_users(c.programme_id, [c.requester_id, c.addressee_id]),
    FundingRecord: lambda r: [r.fellow_id],
    PartnershipRecord: lambda r: [r.fellow_id],
    PatientReachRecord: lambda r: [r.fellow_id],
    CompanyRecord: lambda r: [r.fellow_id],  # her outcome counts
    JobsRecord: lambda r: [r.fellow_id],
    PDP: lambda p: [p.fellow_id],
    Objective: lambda o: list(PDP.objects.filter(pk=o.pdp_id).values_list("fellow_id", flat=True)),
    Mentorship: lambda m: [m.fellow_id],
    Meeting: lambda m: _fellow_of_mentorship(m.mentorship_id),
    Milestone: lambda m: _fellow_of_mentorship(m.mentorship_id),
    Fellow: lambda f: [f.pk],  # her cohort may have changed
}
# The models whose rows move many fellows' figures at once.
PROGRAMME_WIDE = (Event, MeetingWindow, Cohort)


def _row_changed(sender, instance, **kwargs) -> None:
    if kwargs.get("raw"):  # loaddata: no related rows to look at yet
        return
    programme_uuid = _programme_uuid(instance)
    if programme_uuid is None:  # the programme itself is being deleted
        return
    if sender in PROGRAMME_WIDE:
        forget_programme(programme_uuid)
        return
    with scopes_disabled():
        fellow_ids = FELLOWS_OF[sender](instance)
    forget_fellows(programme_uuid, fellow_ids)


def _programme_changed(sender, instance, **kwargs) -> None:
    forget_programme(instance.uuid)  # meetings per year and alert days shape the windows


def _records_changed(sender, programme_id, fellow_ids, **kwargs) -> None:
    programme_uuid = (
        Programme.objects.filter(pk=programme_id).values_list("uuid", flat=True).first()
    )
    if programme_uuid is not None:
        forget_fellows(programme_uuid, fellow_ids)


def connect() -> None:
    """Listen for every change the figures depend on (MetricsConfig.ready)."""
    for model in [*FELLOWS_OF, *PROGRAMME_WIDE]:
        uid = f"metrics.personal_figures:{model._meta.label}"
        post_save.connect(_row_changed, sender=model, dispatch_uid=uid)
        post_delete.connect(_row_changed, sender=model, dispatch_uid=uid)
    post_save.connect(_programme_changed, sender=Programme, dispatch_uid="figures:programme")
    fellow_records_changed.connect(_records_changed, dispatch_uid="figures:mentoring")
