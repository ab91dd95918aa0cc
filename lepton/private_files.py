"""The data folder and the secrets in it are private to the user Lepton runs as (issue 9.10).

The folder is 0700 and the files Lepton creates there 0600: the SQLite database (SQLite
gives its -wal and -shm files the database file's mode), the generated secret key, the
Flower credentials. `make run` also sets umask 077 (lepton/run.py), so logs and beat's
schedule follow. Modes are only tightened on paths we own: a folder an operator
provides and shares on purpose is left alone.
"""

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path):
    path = Path(path)
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _tighten(path, DIR_MODE)
    return path


def private_file(path):
    """Create `path` empty with mode 0600 unless it exists (then tighten it)."""
    path = Path(path)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE))
    except FileExistsError:
        _tighten(path, FILE_MODE)
    return path


def write_private_once(path, text):
    """Write `text` to a new 0600 file; False (and nothing written) if it exists."""
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    return True


def _tighten(path, mode):
    info = path.stat()
    if info.st_uid == os.getuid() and info.st_mode & 0o777 != mode:
        path.chmod(mode)
