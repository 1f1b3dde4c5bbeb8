"""Outcome records, metric snapshots and the Patient Impact forecast (the metrics issue)."""
