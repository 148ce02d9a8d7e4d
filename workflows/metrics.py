"""Prometheus metrics of the worker's activities (exposed by the worker process)."""

from prometheus_client import Counter

EVENTS_APPENDED = Counter("groeiruimte_events_appended_total", "Events appended to the log", ["type"])
NOTIFICATIONS = Counter(
    "groeiruimte_notifications_total", "Notifications delivered or failed", ["purpose", "outcome"]
)
