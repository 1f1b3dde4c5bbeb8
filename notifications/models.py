"""Notifications: the outbox, in-app centre, preferences and announcements (issue 10)."""
