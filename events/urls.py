from django.urls import path  # noqa: F401

from . import views  # noqa: F401

app_name = "events"

# Mounted under /p/<programme_slug>/ ; ProgrammeMiddleware has checked membership already.

# Events, registration, the register, attendance and check-in.
event_patterns = []

# Calendars: each event's .ics and the page that manages a person's calendar feed.
calendar_patterns = []

# The resource library and signposted opportunities.
library_patterns = []

urlpatterns = event_patterns + calendar_patterns + library_patterns
