"""Health page panels, drawn in this order. Each module here has TITLE, TEMPLATE and
`context(now) -> dict`; a new panel is a module plus its name in PANELS."""

PANELS = ["alerts", "workers", "queues", "throughput", "charts", "latency", "healing", "canary", "feedback"]
