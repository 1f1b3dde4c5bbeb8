"""Events jobs: thin wrappers around the services, safe to run twice."""

# --- reminders -----------------------------------------------------------------------------------
