"""Start the cluster, rehearse, and take everything down again, whatever happens."""

import atexit
import signal
import threading

from tests.cluster import netns
from tests.cluster.rehearsal import rehearse
from tests.cluster.stack import Cluster


def run_rehearsal(config, env, log_dir, database_url):
    """The rehearsal's report. Namespaces and processes are removed in `finally`, at exit
    (should this process be ended some other way) and on SIGTERM."""
    netns.sweep_stale()
    cluster = Cluster(env, log_dir, database_url)
    atexit.register(cluster.stop)
    previous = _exit_on_sigterm()
    try:
        cluster.start()
        return rehearse(cluster, config)
    finally:
        cluster.stop()
        atexit.unregister(cluster.stop)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _exit_on_sigterm():
    """SIGTERM raises SystemExit, so `finally` runs; the previous handler, or None when not
    on the main thread (signals can be set only there)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def exit_now(signum, frame):
        raise SystemExit(128 + signum)

    return signal.signal(signal.SIGTERM, exit_now)
