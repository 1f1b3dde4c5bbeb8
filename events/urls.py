from django.urls import path

from . import views

app_name = "events"

# Mounted under /p/<programme_slug>/ ; ProgrammeMiddleware has checked membership already.

# Events, registration, the register, attendance and check-in.
event_patterns = []

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
library_patterns = []

urlpatterns = event_patterns + calendar_patterns + library_patterns
