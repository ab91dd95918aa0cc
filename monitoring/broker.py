"""A quick look at the broker that fails in about a second, not after kombu's retries.

kombu retries a refused connection for several seconds by default; a readiness probe or
a page must answer long before that.
"""

from celery import current_app

CONNECT_TIMEOUT_SECONDS = 2.0


def ping():
    """Connect once (one quick retry); raises the transport's error if the broker is down."""
    with current_app.connection_for_write() as connection:
        connection.ensure_connection(
            max_retries=1, interval_start=0, interval_step=0.2, timeout=CONNECT_TIMEOUT_SECONDS
        )
