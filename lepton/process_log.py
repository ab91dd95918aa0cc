"""A child process's output, copied line by line into a size-rotated log file.

`make run`'s processes write to a pipe; a thread in the launcher copies each line to
`<name>.log`, which rolls over past `max_bytes` to `<name>.log.1`, `.2`, ... keeping
`backups` old files (the standard library's RotatingFileHandler does the rolling). The
processes themselves know nothing of files, so the same commands log to stdout in a
container.
"""

import logging
import threading
from logging.handlers import RotatingFileHandler


class ProcessLog:
    def __init__(self, path, max_bytes, backups):
        self.handler = RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
        self.handler.terminator = ""
        self.handler.setFormatter(logging.Formatter("%(message)s"))
        self._thread = None

    def follow(self, pipe):
        """Copy lines from `pipe` (binary) until it closes, in a thread of its own."""
        self._thread = threading.Thread(target=self._copy, args=(pipe,), daemon=True)
        self._thread.start()

    def _copy(self, pipe):
        with pipe:
            for line in iter(pipe.readline, b""):
                self.handler.emit(logging.makeLogRecord({"msg": line.decode("utf-8", errors="replace")}))

    def close(self, timeout=5):
        """Once the pipe has closed (its writers are gone), flush and close the file."""
        if self._thread is not None:
            self._thread.join(timeout)
        self.handler.close()
