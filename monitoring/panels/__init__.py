"""Health page panels, drawn in this order. Each module has TITLE, TEMPLATE and
`context(now) -> dict` (see /work/briefs: the monitoring layout)."""

PANELS = ["workers", "queues", "throughput", "charts", "latency", "healing"]
