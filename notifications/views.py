"""The notification centre, preferences, announcements and delivery problems."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_scopes import scope, scopes_disabled

from cohort.models import Programme, Role
from cohort.views import PAGE_SIZE, ensure_errors_shown, role_required

from . import selectors, services, webhooks
from .forms import AnnouncementForm, PreferencesForm
from .models import (
    CONFIGURABLE_KINDS,
    MANDATORY_KINDS,
    Announcement,
    AnnouncementReceipt,
    Kind,
    Notification,
    OutboxMessage,
    WebhookDelivery,
)


def _own_notification(request, notification_uuid) -> Notification:
    return get_object_or_404(
        Notification,
        programme=request.programme,
        recipient=request.user,
        uuid=notification_uuid,
    )


def notification_list_view(request, programme_slug):
    unread_only = request.GET.get("show") == "unread"
    notifications = selectors.notification_list(
        programme=request.programme, user=request.user, unread_only=unread_only
    )
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    return TemplateResponse(
        request,
        "notifications/notification_list.html",
        {
            "page": page,
            "unread_only": unread_only,
            "querystring": "show=unread" if unread_only else "",
        },
    )


def notification_open_view(request, programme_slug, notification_uuid):
    """Mark the notification read and go to the record it is about. That page checks access
    itself, so a record the reader may no longer see answers 404 there."""
    notification = _own_notification(request, notification_uuid)
    services.notification_mark_read(notification=notification)
    if notification.link and url_has_allowed_host_and_scheme(notification.link, allowed_hosts=None):
        return redirect(notification.link)
    return redirect("notifications:list", programme_slug=request.programme.slug)


@require_POST
def notification_read_view(request, programme_slug, notification_uuid):
    services.notification_mark_read(notification=_own_notification(request, notification_uuid))
    return redirect("notifications:list", programme_slug=request.programme.slug)


@require_POST
def notification_read_all_view(request, programme_slug):
    count = services.notifications_mark_all_read(programme=request.programme, user=request.user)
    messages.success(
        request,
        f"Marked {count} notification{'s' if count != 1 else ''} as read."
        if count
        else "You had no unread notifications.",
    )
    return redirect("notifications:list", programme_slug=request.programme.slug)


def preferences_view(request, programme_slug):
    programme = request.programme
    current = services.deliveries_chosen(programme=programme, user=request.user)
    form = PreferencesForm(request.POST or None, current=current)
    if request.method == "POST" and form.is_valid():
        try:
            for kind in CONFIGURABLE_KINDS:
                services.preference_set(
                    programme=programme,
                    user=request.user,
                    kind=kind,
                    delivery=form.cleaned_data[kind],
                )
        except ValidationError as error:
            ensure_errors_shown(form, error)
        else:
            messages.success(request, "Your notification settings have been saved.")
            return redirect("notifications:preferences", programme_slug=programme.slug)
    return TemplateResponse(
        request,
        "notifications/preferences.html",
        {
            "form": form,
            "mandatory_kinds": [Kind(k).label for k in sorted(MANDATORY_KINDS)],
        },
        status=400 if form.errors else 200,
    )


@role_required(Role.STAFF)
def announcement_list_view(request, programme_slug):
    page = Paginator(selectors.announcement_list(programme=request.programme), PAGE_SIZE)
    return TemplateResponse(
        request,
        "notifications/announcement_list.html",
        {"page": page.get_page(request.GET.get("page"))},
    )


@role_required(Role.STAFF)
def announcement_create_view(request, programme_slug):
    programme = request.programme
    form = AnnouncementForm(request.POST or None, programme=programme)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            announcement = services.announcement_publish(
                programme=programme,
                author=request.user,
                title=data["title"],
                body=data["body"],
                audience=data["audience"],
                cohort=data.get("cohort"),
                role=data.get("role") or "",
            )
        except ValidationError as error:
            ensure_errors_shown(form, error)
        else:
            count = announcement.receipts.count()
            people = "person" if count == 1 else "people"
            messages.success(request, f"Announcement published to {count} {people}.")
            return redirect(
                "notifications:announcement",
                programme_slug=programme.slug,
                announcement_uuid=announcement.uuid,
            )
    return TemplateResponse(
        request,
        "notifications/announcement_form.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


def announcement_detail_view(request, programme_slug, announcement_uuid):
    """Recipients read it here (it counts as read); staff also see who it went to."""
    announcement = get_object_or_404(
        Announcement.objects.select_related("author", "cohort"),
        programme=request.programme,
        uuid=announcement_uuid,
    )
    is_staff = Role.STAFF in request.roles
    receipt = AnnouncementReceipt.objects.filter(
        announcement=announcement, user=request.user
    ).first()
    if receipt is None and not is_staff:
        raise Http404("Not an announcement for you.")
    if receipt is not None:
        services.announcement_mark_read(announcement=announcement, user=request.user)
    context = {"announcement": announcement, "receipt": receipt, "is_staff": is_staff}
    if is_staff:
        receipts = selectors.announcement_receipts(announcement=announcement)
        context["receipts"] = Paginator(receipts, 100).get_page(request.GET.get("page"))
        context["read_count"] = receipts.filter(read_at__isnull=False).count()
        context["recipient_count"] = receipts.count()
    return TemplateResponse(request, "notifications/announcement_detail.html", context)


@require_POST
def announcement_dismiss_view(request, programme_slug, announcement_uuid):
    announcement = get_object_or_404(
        Announcement, programme=request.programme, uuid=announcement_uuid
    )
    if not AnnouncementReceipt.objects.filter(
        announcement=announcement, user=request.user
    ).exists():
        raise Http404("Not an announcement for you.")
    services.announcement_dismiss(announcement=announcement, user=request.user)
    messages.success(request, f"“{announcement.title}” has been dismissed from your home page.")
    return redirect("cohort:home", programme_slug=request.programme.slug)


@role_required(Role.STAFF)
def delivery_problems_view(request, programme_slug):
    programme = request.programme
    page = Paginator(selectors.failed_messages(programme=programme), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return TemplateResponse(
        request,
        "notifications/deliveries.html",
        {"page": page, "counts": selectors.outbox_counts(programme=programme)},
    )


@require_POST
@role_required(Role.STAFF)
def delivery_retry_view(request, programme_slug, message_uuid):
    message = get_object_or_404(OutboxMessage, programme=request.programme, uuid=message_uuid)
    try:
        services.outbox_retry(message=message, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"The email to {message.to_email} will be sent again.")
    return redirect("notifications:deliveries", programme_slug=request.programme.slug)


@role_required(Role.STAFF)
def webhook_deliveries_view(request, programme_slug):
    """What the programme told its partners' webhook endpoints, and what became of it."""
    programme = request.programme
    status = request.GET.get("status", "")
    if status not in WebhookDelivery.Status.values:
        status = ""
    counts = selectors.webhook_counts(programme=programme)
    page = Paginator(
        selectors.webhook_deliveries(programme=programme, status=status), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return TemplateResponse(
        request,
        "notifications/webhook_deliveries.html",
        {
            "page": page,
            "status": status,
            "statuses": WebhookDelivery.Status.choices,
            "counts": [(label, counts[value]) for value, label in WebhookDelivery.Status.choices],
            "status_label": WebhookDelivery.Status(status).label if status else "",
            "querystring": f"status={status}" if status else "",
            "max_attempts": webhooks.MAX_ATTEMPTS,
        },
    )


@require_POST
@role_required(Role.STAFF)
def webhook_send_again_view(request, programme_slug, delivery_uuid):
    delivery = get_object_or_404(
        WebhookDelivery.objects.select_related("endpoint"),
        programme=request.programme,
        uuid=delivery_uuid,
    )
    try:
        webhooks.webhook_send_again(delivery=delivery, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"The {delivery.event} event will be sent again now.")
    return redirect("notifications:webhook_deliveries", programme_slug=request.programme.slug)


def unsubscribe_view(request, token):
    """The link in an optional email: switch that kind to in-app only, no sign-in needed."""
    data = services.unsubscribe_read(token)
    if data is None:
        return TemplateResponse(
            request,
            "notifications/unsubscribe.html",
            {"problem": "This unsubscribe link is not valid or has expired."},
            status=404,
        )
    with scopes_disabled():
        programme = Programme.objects.filter(pk=data["p"]).first()
        user = get_user_model().objects.filter(pk=data["u"]).first()
    kind = data["k"]
    if programme is None or user is None or kind not in CONFIGURABLE_KINDS:
        return TemplateResponse(
            request,
            "notifications/unsubscribe.html",
            {"problem": "This unsubscribe link is no longer valid."},
            status=404,
        )
    done = False
    if request.method == "POST":
        with scope(programme=programme):
            services.preference_set(programme=programme, user=user, kind=kind, delivery="in_app")
        done = True
    return TemplateResponse(
        request,
        "notifications/unsubscribe.html",
        {
            "programme": programme,
            "kind_label": Kind(kind).label,
            "done": done,
            "preferences_url": reverse(
                "notifications:preferences", kwargs={"programme_slug": programme.slug}
            ),
        },
    )
