from django.contrib import admin
from django.urls import include, path

from cohort import views as cohort_views
from events import views as events_views
from notifications import views as notification_views

from . import health
from .api import urlpatterns_v1

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("", cohort_views.home, name="home"),
    path("admin/", admin.site.urls),
    # A person's own data, across every programme (UK GDPR subject access): beside allauth's
    # account pages, before them so allauth's patterns do not shadow it.
    path("accounts/data/", cohort_views.personal_data_view, name="account_personal_data"),
    path("accounts/", include("allauth.urls")),
    path(
        "invitations/<str:token>/",
        cohort_views.invitation_accept_view,
        name="invitation_accept",
    ),
    # Public recruitment pages: anyone may express interest while a call is open.
    path("apply/<uuid:call_uuid>/", cohort_views.apply_view, name="apply"),
    path(
        "apply/continue/<str:token>/",
        cohort_views.application_continue_view,
        name="application_continue",
    ),
    path("apply/<slug:slug>/", cohort_views.apply_programme_view, name="apply_programme"),
    path(
        "notifications/unsubscribe/<str:token>/",
        notification_views.unsubscribe_view,
        name="notifications_unsubscribe",
    ),
    # A person's calendar feed, read by their calendar app without a session: the secret token
    # is the credential (events.views.calendar_feed_view).
    path("calendar/<str:token>.ics", events_views.calendar_feed_view, name="calendar_feed"),
    path("p/<slug:programme_slug>/", include("cohort.urls")),
    path("p/<slug:programme_slug>/", include("notifications.urls")),
    path("p/<slug:programme_slug>/", include("pdp.urls")),
    path("p/<slug:programme_slug>/", include("mentoring.urls")),
    path("p/<slug:programme_slug>/", include("events.urls")),
    path("p/<slug:programme_slug>/", include("metrics.urls")),
    # The partner API: the tenant comes from the API key, not the path (DESIGN §4).
    path("api/v1/", include((urlpatterns_v1, "api"))),
]

handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
