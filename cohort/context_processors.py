from django.utils.functional import SimpleLazyObject

from .models import Role
from .selectors import user_programmes


def programme(request):
    """The header's programme name, role navigation and programme switcher."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"current_programme": None, "user_programmes": []}
    current = getattr(request, "programme", None)
    roles = getattr(request, "roles", frozenset())
    return {
        "current_programme": current,
        "current_role": getattr(request, "role", None),
        "current_roles": roles,
        "is_programme_staff": Role.STAFF in roles,
        # A programme's pages have it from the middleware already; elsewhere it is evaluated
        # lazily, so only pages that draw the switcher pay its one query.
        "user_programmes": getattr(request, "user_programmes", None)
        or SimpleLazyObject(lambda: user_programmes(user=user)),
    }
