"""A job's params as its combine step sees them: read from the database on first use.

Most combine steps never look at the params, and a job's params can be megabytes: the
500,000 numbers of a stats job took 0.16-0.22 s to read and decode, most of the time
between its last subtask and its end (issue 12). A combine that does look reads them
once, whole, as before.
"""

from collections.abc import Mapping

from jobs.models import JobParams


class StoredParams(Mapping):
    """A read-only mapping of one job's params."""

    __slots__ = ("_job_id", "_params")

    def __init__(self, job_id):
        self._job_id = job_id
        self._params = None

    def _loaded(self):
        if self._params is None:
            self._params = JobParams.objects.values_list("params", flat=True).get(job_id=self._job_id)
        return self._params

    def __getitem__(self, key):
        return self._loaded()[key]

    def __iter__(self):
        return iter(self._loaded())

    def __len__(self):
        return len(self._loaded())
