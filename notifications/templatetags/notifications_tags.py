"""Template pieces other apps' pages include without importing this app in Python."""

from django import template

from ..selectors import announcements_for_home

register = template.Library()


@register.inclusion_tag("notifications/includes/home_announcements.html", takes_context=True)
def home_announcements(context):
    request = context["request"]
    programme = getattr(request, "programme", None)
    receipts = []
    if programme is not None and request.user.is_authenticated:
        receipts = announcements_for_home(programme=programme, user=request.user)
    return {"receipts": receipts, "programme": programme, "csrf_token": context.get("csrf_token")}


@register.simple_tag(takes_context=True)
def failed_email_count(context) -> int:
    """For the staff home page: emails that failed after every retry."""
    from ..models import OutboxMessage

    programme = getattr(context["request"], "programme", None)
    if programme is None:
        return 0
    return OutboxMessage.objects.filter(
        programme=programme, status=OutboxMessage.Status.FAILED
    ).count()
