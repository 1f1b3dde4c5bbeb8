from django.urls import path

from . import views

app_name = "events"

# Mounted under /p/<programme_slug>/ ; ProgrammeMiddleware has checked membership already.

# Events, registration, the register, attendance and check-in.
event_patterns = []

# Calendars: each event's .ics and the page that manages a person's calendar feed.
calendar_patterns = []

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
