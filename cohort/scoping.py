"""django-scopes' ScopedManager, made strict about every way of reading.

Outside a scope, django-scopes' DisabledQuerySet refuses most reads but lets `exists()`,
`exclude()`, `distinct()` and a few others through, so `Fellow.objects.exists()` would answer
across every programme. Ours refuses those too: a query with no active scope raises.
"""

from django_scopes import ScopedManager as _LibraryScopedManager
from django_scopes.manager import DisabledQuerySet


class StrictDisabledQuerySet(DisabledQuerySet):
    error = DisabledQuerySet.error
    exists = error
    exclude = error
    distinct = error
    contains = error
    in_bulk = error
    bulk_update = error
    select_related = error
    prefetch_related = error
    defer = error
    alias = error
    extra = error
    explain = error
    select_for_update = error
    aiterator = error
    acount = error
    aexists = error
    aget = error
    afirst = error


# Named like django-scopes' factory so models read the same as in its documentation.
def ScopedManager(**scopes):
    library_manager = _LibraryScopedManager(**scopes)
    library_class = library_manager.__class__

    class StrictScopedManager(library_class):
        def get_queryset(self):
            queryset = super().get_queryset()
            if isinstance(queryset, DisabledQuerySet):
                return StrictDisabledQuerySet(
                    self.model, using=self._db, missing_scopes=queryset.missing_scopes
                )
            return queryset

    return StrictScopedManager()
