"""Template pieces the home pages and the PDP include without importing this app in Python
(dependencies point one way: cohort ← … ← events)."""

from django import template

register = template.Library()

# --- events and registration ---------------------------------------------------------------------


# --- calendars -----------------------------------------------------------------------------------


# --- resources and opportunities -----------------------------------------------------------------
