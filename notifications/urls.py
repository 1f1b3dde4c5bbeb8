from django.urls import path

from . import views

app_name = "notifications"

# Mounted under /p/<programme_slug>/ ; ProgrammeMiddleware has checked membership already.
urlpatterns = [
    path("notifications/", views.notification_list_view, name="list"),
    path("notifications/read-all/", views.notification_read_all_view, name="read_all"),
    path("notifications/preferences/", views.preferences_view, name="preferences"),
    path("notifications/deliveries/", views.delivery_problems_view, name="deliveries"),
    path(
        "notifications/deliveries/<uuid:message_uuid>/retry/",
        views.delivery_retry_view,
        name="delivery_retry",
    ),
    path("notifications/webhooks/", views.webhook_deliveries_view, name="webhook_deliveries"),
    path(
        "notifications/webhooks/<uuid:delivery_uuid>/send/",
        views.webhook_send_again_view,
        name="webhook_send_again",
    ),
    path("notifications/<uuid:notification_uuid>/", views.notification_open_view, name="open"),
    path(
        "notifications/<uuid:notification_uuid>/read/",
        views.notification_read_view,
        name="read",
    ),
    path("announcements/", views.announcement_list_view, name="announcements"),
    path("announcements/new/", views.announcement_create_view, name="announcement_create"),
    path(
        "announcements/<uuid:announcement_uuid>/",
        views.announcement_detail_view,
        name="announcement",
    ),
    path(
        "announcements/<uuid:announcement_uuid>/dismiss/",
        views.announcement_dismiss_view,
        name="announcement_dismiss",
    ),
]
