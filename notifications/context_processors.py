from django.utils.functional import SimpleLazyObject

from .selectors import unread_count


def bell(request):
    """The unread count for the header bell: one query, and only on pages that show it."""
    programme = getattr(request, "programme", None)
    user = getattr(request, "user", None)
    if programme is None or user is None or not user.is_authenticated:
        return {"unread_notifications": 0}
    return {
        "unread_notifications": SimpleLazyObject(
            lambda: unread_count(programme=programme, user=user)
        )
    }
