"""Every LEPTON_* variable in one list: what the code reads, what the README documents,
and the .env.example generated from both.

The names come from the code (lepton.env.READ, filled as settings are read, plus the
`${LEPTON_*}` that docker-compose.yml interpolates); each one's default and meaning come
from its row in the README's configuration table, the single place they are written.
`python manage.py lepton_env --check` fails while the two disagree, and
`python manage.py lepton_env --example > .env.example` regenerates the example.
"""

import re
from dataclasses import dataclass
from pathlib import Path

from lepton.env import READ

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
COMPOSE_FILE = ROOT / "docker-compose.yml"
EXAMPLE = ROOT / ".env.example"

_NAME = re.compile(r"`(LEPTON_\w+)`")
_COMPOSE_VARIABLE = re.compile(r"\$\{(LEPTON_\w+)(:?[?-])?")
_LITERAL = re.compile(r"^`([^`]*)`$")
_SECTION = re.compile(r"^\*\*(.+)\*\*$")

#: Placeholder of a variable docker-compose refuses to start without.
REQUIRED_PLACEHOLDER = "change-me"


@dataclass
class Row:
    name: str
    default: str
    meaning: str
    section: str


def documented(readme=README):
    """{name: Row} from the README's configuration table, in table order."""
    rows, section, in_table = {}, "", False
    for line in readme.read_text().splitlines():
        if line.startswith("## "):
            in_table = line.strip() == "## Configuration"
            continue
        if not in_table or not line.startswith("|") or line.startswith("| ---"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0] == "variable":
            continue
        names_cell, default_cell, meaning = cells
        if heading := _SECTION.match(names_cell):
            section = heading.group(1)
            continue
        names = _NAME.findall(names_cell)
        defaults = _split_defaults(default_cell, len(names))
        for name, default in zip(names, defaults):
            rows[name] = Row(name, default, meaning, section)
    return rows


def _split_defaults(cell, count):
    """`a` / `b` or `a`, `b` for a row of several names; the same text for each otherwise."""
    if count > 1:
        for separator in (" / ", ", "):
            parts = cell.split(separator)
            if len(parts) == count:
                return parts
    return [cell] * count


def compose_variables(compose_file=COMPOSE_FILE):
    """{name: required?} of the LEPTON_* variables docker-compose.yml interpolates."""
    found = {}
    for name, operator in _COMPOSE_VARIABLE.findall(compose_file.read_text()):
        found[name] = found.get(name, False) or operator.endswith("?")
    return found


def read_by_code():
    """Names the settings (and anything else using lepton.env) read, plus compose's."""
    return set(READ) | set(compose_variables())


def drift(readme=README):
    """(read but undocumented, documented but never read)."""
    code, docs = read_by_code(), set(documented(readme))
    return sorted(code - docs), sorted(docs - code)


def render_example(readme=README):
    """The text of .env.example: every documented variable with its default and meaning;
    the ones docker-compose requires set to a placeholder, the rest commented out."""
    required = {name for name, needed in compose_variables().items() if needed}
    lines = [
        "# Lepton's environment: every LEPTON_* variable, its default and meaning.",
        "# Generated from the README's configuration table by",
        "#   python manage.py lepton_env --example > .env.example",
        "# Copy to .env (docker-compose reads it) and set at least the uncommented values.",
    ]
    section = None
    for row in documented(readme).values():
        if row.section != section:
            section = row.section
            lines += ["", f"# --- {section} ---"]
        literal = _LITERAL.match(row.default)
        lines.append(f"# {row.meaning}" + ("" if literal else f" (default: {row.default})"))
        if row.name in required:
            lines.append(f"{row.name}={REQUIRED_PLACEHOLDER}")
        else:
            lines.append(f"#{row.name}={literal.group(1) if literal else ''}")
    return "\n".join(lines) + "\n"
