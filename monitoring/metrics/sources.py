"""The metric sources /metrics renders: each is `families(now)` yielding prometheus_client
metric families. Other monitoring modules add theirs here."""

from monitoring.metrics import live, totals

SOURCES = [totals.families, live.families]
