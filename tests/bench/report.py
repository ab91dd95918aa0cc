"""Results: rows with their samples and targets, statistics, the table and the JSON file."""

import json
import os
import platform as python_platform
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

# --- Statistics ---------------------------------------------------------------------


def median(values):
    return statistics.median(values) if values else None


def percentile(values, pct):
    """The pct-th percentile, interpolated between the closest ranks."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * pct / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# --- Targets and rows ---------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    text: str
    check: Callable[["Row"], bool]


def ratio_at_least(x):
    return Target(f"ratio >= {x:g}", lambda row: row.ratio >= x)


def ratio_at_most(x):
    return Target(f"ratio <= {x:g}", lambda row: row.ratio <= x)


def lepton_at_least(x, unit=""):
    return Target(f"Lepton >= {x:g}{unit}", lambda row: row.lepton_median >= x)


def lepton_at_most(x, unit=""):
    return Target(f"Lepton <= {x:g}{unit}", lambda row: row.lepton_median <= x)


@dataclass
class Row:
    """One line of the table: Lepton's samples against a baseline's (raw Celery unless
    `baseline_label` names another), their medians, ratio and target."""

    name: str
    unit: str
    lepton: list
    baseline: list = field(default_factory=list)
    baseline_label: str = "raw"
    target: Target | None = None
    #: Lepton median / baseline median unless the scenario defines another ratio.
    ratio: float | None = None
    note: str = ""
    #: Figures beyond the samples (kept in the JSON file).
    detail: dict = field(default_factory=dict)
    #: Anything that makes the run itself wrong (a failed job, an HTTP error).
    errors: list = field(default_factory=list)

    def __post_init__(self):
        if self.ratio is None and self.lepton and self.baseline and self.baseline_median:
            self.ratio = self.lepton_median / self.baseline_median

    @classmethod
    def error(cls, name, message):
        return cls(name, "", [], baseline_label="", errors=[message])

    @property
    def lepton_median(self):
        return median(self.lepton)

    @property
    def baseline_median(self):
        return median(self.baseline)

    @property
    def result(self):
        if self.errors:
            return "ERROR"
        if self.target is None:
            return "info"
        return "PASS" if self.target.check(self) else "FAIL"

    def as_json(self):
        return {
            "scenario": self.name,
            "unit": self.unit,
            "baseline": self.baseline_label,
            "baseline_samples": self.baseline,
            "baseline_median": self.baseline_median,
            "lepton_samples": self.lepton,
            "lepton_median": self.lepton_median,
            "ratio": self.ratio,
            "target": self.target.text if self.target else None,
            "result": self.result,
            "note": self.note,
            "detail": self.detail,
            "errors": self.errors,
        }


# --- Output -------------------------------------------------------------------------


def machine(redis_client, database_engine):
    model = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": model,
        "python": python_platform.python_version(),
        "redis": redis_client.info("server")["redis_version"],
        "database": database_engine.rsplit(".", 1)[-1],
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def number(value):
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


COLUMNS = ("scenario", "unit", "baseline median", "Lepton median", "ratio", "target", "result")


def table(rows):
    lines = [COLUMNS]
    for row in rows:
        baseline = f"{number(row.baseline_median)} ({row.baseline_label})" if row.baseline else "-"
        ratio = f"{number(row.ratio)}x" if row.ratio is not None else "-"
        target = row.target.text if row.target else "-"
        lines.append((row.name, row.unit, baseline, number(row.lepton_median), ratio, target, row.result))
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS))]
    rule = "-+-".join("-" * width for width in widths)
    text = [" | ".join(cell.ljust(width) for cell, width in zip(line, widths)) for line in lines]
    out = [text[0], rule, *text[1:]]
    notes = [f"  {row.name}: {row.note}" for row in rows if row.note]
    errors = [f"  {row.name}: {error}" for row in rows for error in row.errors]
    if notes:
        out += ["", "Notes:", *notes]
    if errors:
        out += ["", "Errors:", *errors]
    return "\n".join(out)


def grid(headers, rows):
    """A plain text table: headers, a rule, then rows (cells are turned into text as given)."""
    lines = [tuple(headers), *[tuple(str(cell) for cell in row) for row in rows]]
    widths = [max(len(line[i]) for line in lines) for i in range(len(headers))]
    text = [" | ".join(cell.rjust(width) for cell, width in zip(line, widths)) for line in lines]
    return "\n".join([text[0], "-+-".join("-" * width for width in widths), *text[1:]])


def write_json(path, payload):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    return path
