"""Events, registrations, resources and opportunities (the events issue)."""
