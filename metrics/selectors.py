"""Reads of the metrics app that more than one page needs. Each takes the tenant explicitly."""

from cohort.models import Programme

from .models import OutcomeStatus
from .services import OUTCOME_KINDS


def waiting_counts(*, programme: Programme) -> dict[str, int]:
    """How many records of each kind wait for verification (one query per kind)."""
    return {
        slug: kind.model.objects.filter(programme=programme, status=OutcomeStatus.REPORTED).count()
        for slug, kind in OUTCOME_KINDS.items()
    }
