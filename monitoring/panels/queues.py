from monitoring import figures

TITLE = "Queues"
TEMPLATE = "monitoring/panels/queues.html"


def context(now):
    queues = list(figures.queue_figures(now).values())
    return {"queues": queues, "broker_down": any(q.depth is None for q in queues)}
