"""Domain events of the mentoring app that later apps act on without mentoring importing them
(dependencies point one way: mentoring ← events, and metrics reads all)."""

from django.dispatch import Signal

# Sent after a write to fellows' mentoring records that bypasses save() — a conditional UPDATE
# (a meeting submitted, returned, signed or reopened; a milestone's outcome) or a bulk_create
# (mentorships published by matching) — so that whoever keeps figures derived from those
# records (metrics' per-fellow figures) can forget them: kwargs programme_id, fellow_ids.
fellow_records_changed = Signal()
