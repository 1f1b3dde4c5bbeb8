from django.urls import path

from . import views

app_name = "events"

# Mounted under /p/<programme_slug>/ ; ProgrammeMiddleware has checked membership already.

# Events, registration, the register, attendance and check-in.
event_patterns = [
    path("events/", views.event_list_view, name="list"),
    path("events/new/", views.event_edit_view, name="create"),
    path("events/<uuid:event_uuid>/", views.event_detail_view, name="event"),
    path("events/<uuid:event_uuid>/edit/", views.event_edit_view, name="edit"),
    path("events/<uuid:event_uuid>/publish/", views.event_publish_view, name="publish"),
    path("events/<uuid:event_uuid>/cancel/", views.event_cancel_view, name="cancel_event"),
    path("events/<uuid:event_uuid>/register/", views.register_view, name="register"),
    path("events/<uuid:event_uuid>/unregister/", views.unregister_view, name="unregister"),
    path("events/<uuid:event_uuid>/register-list/", views.register_list_view, name="register_list"),
    path(
        "events/<uuid:event_uuid>/register-list/<str:fmt>/",
        views.register_export_view,
        name="register_export",
    ),
    path(
        "events/registrations/<uuid:registration_uuid>/attendance/",
        views.attendance_view,
        name="attendance",
    ),
    path(
        "events/registrations/<uuid:registration_uuid>/evidence/",
        views.attendance_evidence_view,
        name="attendance_evidence",
    ),
    path("events/<uuid:event_uuid>/check-in-code/", views.checkin_code_view, name="checkin_code"),
    path("events/<uuid:event_uuid>/check-in/<str:code>/", views.checkin_view, name="checkin"),
]

# Calendars: each event's .ics and the page that manages a person's calendar feed.
calendar_patterns = [
    path(
        "events/<uuid:event_uuid>/calendar.ics",
        views.event_ics_view,
        name="event_ics",
    ),
    path("calendar/", views.calendar_view, name="calendar"),
    path("calendar/create/", views.calendar_create_view, name="calendar_create"),
    path("calendar/reset/", views.calendar_reset_view, name="calendar_reset"),
    path("calendar/revoke/", views.calendar_revoke_view, name="calendar_revoke"),
]

# The resource library and signposted opportunities.
library_patterns = [
    path("resources/", views.resource_list_view, name="resources"),
    path("resources/new/", views.resource_edit_view, name="resource_new"),
    path("resources/<uuid:resource_uuid>/", views.resource_detail_view, name="resource"),
    path("resources/<uuid:resource_uuid>/edit/", views.resource_edit_view, name="resource_edit"),
    path(
        "resources/<uuid:resource_uuid>/unpublish/",
        views.resource_unpublish_view,
        name="resource_unpublish",
    ),
    path(
        "resources/<uuid:resource_uuid>/publish/",
        views.resource_publish_view,
        name="resource_publish",
    ),
    path(
        "resources/<uuid:resource_uuid>/objectives/<uuid:objective_uuid>/link/",
        views.resource_link_view,
        name="resource_link",
    ),
    path(
        "resources/<uuid:resource_uuid>/objectives/<uuid:objective_uuid>/unlink/",
        views.resource_unlink_view,
        name="resource_unlink",
    ),
    path("opportunities/", views.opportunity_list_view, name="opportunities"),
    path("opportunities/new/", views.opportunity_edit_view, name="opportunity_new"),
    path(
        "opportunities/<uuid:opportunity_uuid>/",
        views.opportunity_detail_view,
        name="opportunity",
    ),
    path(
        "opportunities/<uuid:opportunity_uuid>/edit/",
        views.opportunity_edit_view,
        name="opportunity_edit",
    ),
    path(
        "opportunities/<uuid:opportunity_uuid>/publish/",
        views.opportunity_publish_view,
        name="opportunity_publish",
    ),
    path(
        "opportunities/<uuid:opportunity_uuid>/close/",
        views.opportunity_close_view,
        name="opportunity_close",
    ),
    path(
        "opportunities/<uuid:opportunity_uuid>/bookmark/",
        views.opportunity_bookmark_view,
        name="opportunity_bookmark",
    ),
    path(
        "opportunities/<uuid:opportunity_uuid>/unbookmark/",
        views.opportunity_unbookmark_view,
        name="opportunity_unbookmark",
    ),
    path(
        "opportunities/<uuid:opportunity_uuid>/applied/",
        views.opportunity_applied_view,
        name="opportunity_applied",
    ),
    path(
        "opportunities/<uuid:opportunity_uuid>/applied/undo/",
        views.opportunity_applied_undo_view,
        name="opportunity_applied_undo",
    ),
]

urlpatterns = event_patterns + calendar_patterns + library_patterns
