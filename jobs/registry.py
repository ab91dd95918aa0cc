"""The job-type registry: what a job type is, and the names users may run.

A job type is plain Python. It declares a params form (one schema that validates
the API, the CLI and the web form), splits params into JSON chunk payloads,
processes one payload on a worker and combines the partial results. It never
imports views or Celery tasks: the platform drives it (ARCHITECTURE §2).
"""

from dataclasses import dataclass
from importlib import import_module

from django import forms


class TransientError(Exception):
    """A failure worth retrying (a flaky dependency, a timeout upstream)."""


class PermanentError(Exception):
    """A failure that retrying cannot fix; the subtask fails at once."""


@dataclass(frozen=True)
class SubtaskContext:
    """What a running subtask may know about itself besides its payload."""

    job_id: int
    index: int
    attempt: int


class JobType:
    """Base class for job types. Subclass it and decorate with `@register`."""

    name: str = ""
    description: str = ""
    #: Resource class: the queue its subtasks are routed to.
    queue: str = "default"
    params_form: type[forms.Form] = forms.Form
    #: Retries after a transient error (so max_retries + 1 attempts in all).
    max_retries: int = 3
    #: Failed subtasks the job tolerates; 0 fails the job on the first one.
    max_failures: int = 0
    #: Seconds a subtask may run: past it, it fails with a `timeout` error (and its worker
    #: process survives); a subtask that ignores that is killed a few seconds later.
    #: None: LEPTON_DEFAULT_TIME_LIMIT_SECONDS.
    time_limit: float | None = None
    #: Whether a timeout is retried like a transient error.
    retry_timeouts: bool = False
    #: Submitted only by the platform itself (the canary): never listed, refused to users.
    internal: bool = False
    #: Seconds the combine step may run (its own message and limit, never the subtask's);
    #: None: LEPTON_DEFAULT_TIME_LIMIT_SECONDS.
    combine_time_limit: float | None = None

    def split(self, params):
        """Yield JSON-serialisable chunk payloads; a generator keeps huge jobs cheap to refuse."""
        raise NotImplementedError

    def process(self, payload, ctx: SubtaskContext):
        """Return the partial result (JSON) of one payload."""
        raise NotImplementedError

    def combine(self, partials, params):
        """Return the job result (JSON) from an iterable of partials in subtask order.
        `params` is a read-only mapping of the job's params, read from the database only
        if combine looks at it."""
        raise NotImplementedError


_registry: dict[str, JobType] = {}


def register(cls):
    """Class decorator: make a job type available by its `name`."""
    if not cls.name:
        raise ValueError(f"{cls.__qualname__} has no name")
    if cls.name in _registry and type(_registry[cls.name]) is not cls:
        raise ValueError(f"job type {cls.name!r} is registered twice")
    _registry[cls.name] = cls()
    return cls


def get(name):
    """The registered job type called `name`, or KeyError."""
    return _registry[name]


def find(name):
    """The registered job type called `name`, or None."""
    return _registry.get(name)


def all_types():
    """The job types users may see and submit, by name (internal ones left out)."""
    return [_registry[name] for name in sorted(_registry) if not _registry[name].internal]


def load(module_paths):
    """Import the modules that define job types (built-ins and LEPTON_JOB_TYPE_MODULES)."""
    for path in module_paths:
        import_module(path)
