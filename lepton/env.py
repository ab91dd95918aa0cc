"""Typed readers for LEPTON_* environment variables that fail loudly on bad values."""

import os

from django.core.exceptions import ImproperlyConfigured

#: Every LEPTON_* variable read through these helpers, in the order first read, with the
#: default the code gave: `manage.py lepton_env` lists them (.env.example, the README check).
READ = {}

_TRUE = {"1", "true", "on"}
_FALSE = {"0", "false", "off"}


def _read(name, default):
    READ.setdefault(name, default)
    return os.environ.get(name)


def env_str(name, default=""):
    raw = _read(name, default)
    return default if raw is None else raw


def env_bool(name, default):
    raw = _read(name, default)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r}: expected one of true/false, 1/0, on/off")


def _env_number(name, default, kind, minimum):
    raw = _read(name, default)
    if raw is None or raw == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r}: expected a {kind.__name__}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r}: must be at least {minimum}")
    return value


def env_int(name, default, minimum=None):
    return _env_number(name, default, int, minimum)


def env_float(name, default, minimum=None):
    return _env_number(name, default, float, minimum)


def env_list(name, default):
    raw = _read(name, default)
    if raw is None or raw.strip() == "":
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_mapping(name, default):
    """`key=value,key=value` into a dict."""
    mapping = dict(default)
    for item in env_list(name, []):
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ImproperlyConfigured(f"{name}: {item!r} is not key=value")
        mapping[key.strip()] = value.strip()
    return mapping
