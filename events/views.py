"""Pages of the events app: events and their registers, check-in, calendars, the resource
library and opportunities."""

# --- events and registration ---------------------------------------------------------------------


# --- calendars -----------------------------------------------------------------------------------


# --- resources and opportunities -----------------------------------------------------------------
