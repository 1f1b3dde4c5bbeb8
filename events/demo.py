"""The events app's part of `seed_demo`: a year of events for the CEP's first cohort, the
resource library and the opportunities partners signposted. Idempotent, like all the demo."""

from __future__ import annotations

# --- events, registrations and attendance --------------------------------------------------------


# --- calendars -----------------------------------------------------------------------------------


# --- resources and opportunities -----------------------------------------------------------------
