"""Every write of the events app, each in a transaction and each audited: events and their
registrations (the waiting list moves up by itself), attendance and check-in, calendar feeds
and reminders, the resource library and signposted opportunities."""

from __future__ import annotations

# --- events and registration ---------------------------------------------------------------------


# --- calendars and reminders ---------------------------------------------------------------------


# --- resources and opportunities -----------------------------------------------------------------
