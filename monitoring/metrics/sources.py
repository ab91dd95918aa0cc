"""The metric sources /metrics renders: each is `families(now)` yielding prometheus_client
metric families. A module with metrics of its own adds its source here."""

from monitoring.alerting import metrics as alerting
from monitoring.metrics import live, totals

SOURCES = [totals.families, live.families, alerting.families]
