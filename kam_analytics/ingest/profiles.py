"""Saved mappings ("profiles"): one TOML file per source layout, chosen automatically when a
file's headers contain every header the profile maps. Format: docs/IMPORT.md."""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path

from kam_analytics.errors import ConfigError, Reason
from kam_analytics.ingest.mapping import Mapping, normalize_header

DEFAULT_PROFILE_DIR = Path(__file__).resolve().parent.parent.parent / "data" / "profiles"
_SECTIONS = ("columns", "values", "defaults", "computed", "read", "filters")


def profile_dir() -> Path:
    """Folder of saved profiles: $KAM_PROFILES, else data/profiles/."""
    env = os.environ.get("KAM_PROFILES")
    return Path(env) if env else DEFAULT_PROFILE_DIR


def parse_profile(text: str, name: str | None = None) -> Mapping:
    """A Mapping from profile TOML text; raises ConfigError when it is not a valid profile."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(Reason.PROFILE_INVALID_TOML, name=name or "", detail=str(exc)) from exc
    unknown = set(data) - {"table", *_SECTIONS}
    if unknown:
        raise ConfigError(
            Reason.PROFILE_UNKNOWN_SECTIONS, name=name or "", sections=", ".join(sorted(unknown))
        )
    if "table" not in data:
        raise ConfigError(Reason.PROFILE_NO_TABLE, name=name or "")
    mapping = Mapping(
        table=str(data["table"]),
        columns={k: str(v) for k, v in data.get("columns", {}).items()},
        values={
            col: {str(k): str(v) for k, v in vals.items()}
            for col, vals in data.get("values", {}).items()
        },
        defaults=dict(data.get("defaults", {})),
        computed={k: str(v) for k, v in data.get("computed", {}).items()},
        read=dict(data.get("read", {})),
        name=name,
        filters=_filters(data.get("filters", {}), name),
    )
    mapping.check()
    return mapping


def _filters(data: dict, name) -> dict:
    """Row filters: keep = {header = [values]}, skip_empty = [headers]."""
    unknown = set(data) - {"keep", "skip_empty"}
    if unknown:
        raise ConfigError(
            Reason.PROFILE_UNKNOWN_FILTERS, name=name or "", filters=", ".join(sorted(unknown))
        )
    keep = {
        str(h): [str(v) for v in (vals if isinstance(vals, list) else [vals])]
        for h, vals in (data.get("keep") or {}).items()
    }
    skip = data.get("skip_empty") or []
    skip = [str(h) for h in (skip if isinstance(skip, list) else [skip])]
    out = {}
    if keep:
        out["keep"] = keep
    if skip:
        out["skip_empty"] = skip
    return out


def load_profile(path) -> Mapping:
    """Read a profile file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(Reason.PROFILE_UNREADABLE, path=str(path), detail=exc.strerror) from exc
    return parse_profile(text, name=path.stem)


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_value(str(key))


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def dump_profile(mapping: Mapping) -> str:
    """The profile TOML text of a mapping (the format of docs/IMPORT.md)."""
    lines = [f"table = {_toml_value(mapping.table)}"]
    if mapping.columns:
        lines += ["", "[columns]"]
        lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in mapping.columns.items()]
    for col, vals in mapping.values.items():
        if vals:
            lines += ["", f"[values.{_toml_key(col)}]"]
            lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in vals.items()]
    for section in ("defaults", "computed", "read"):
        items = getattr(mapping, section)
        if items:
            lines += ["", f"[{section}]"]
            lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in items.items()]
    if mapping.filters.get("skip_empty"):
        lines += ["", "[filters]", f"skip_empty = {_toml_value(mapping.filters['skip_empty'])}"]
    if mapping.filters.get("keep"):
        lines += ["", "[filters.keep]"]
        lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in mapping.filters["keep"].items()]
    return "\n".join(lines) + "\n"


def save_profile(mapping: Mapping, name: str, folder=None) -> Path:
    """Write the mapping as <folder>/<name>.toml and return the path."""
    mapping.check()
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name.strip()).strip("._")
    if not safe:
        raise ConfigError(Reason.PROFILE_NAME_EMPTY)
    folder = Path(folder) if folder else profile_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{safe}.toml"
    path.write_text(dump_profile(mapping), encoding="utf-8")
    mapping.name = safe
    return path


def list_profiles(folder=None) -> list[Mapping]:
    """Every valid saved profile (invalid files are skipped)."""
    folder = Path(folder) if folder else profile_dir()
    out = []
    for path in sorted(folder.glob("*.toml")) if folder.is_dir() else ():
        try:
            out.append(load_profile(path))
        except ConfigError:
            continue
    return out


def choose_profile(headers, folder=None, table: str | None = None) -> Mapping | None:
    """The saved profile whose headers are all present in the file (the most specific wins)."""
    present = {normalize_header(h) for h in headers}
    best, best_n = None, 0
    for profile in list_profiles(folder):
        if table and profile.table != table:
            continue
        used = {normalize_header(h) for h in profile.headers_used()}
        if used and used <= present and len(used) > best_n:
            best, best_n = profile, len(used)
    return best
