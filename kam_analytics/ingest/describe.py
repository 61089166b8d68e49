"""The mapping an import used, in words: which column fed which canonical column and how sure
the match is, value mappings, filters, and the rows left out and why (CLI and page)."""

from __future__ import annotations

from kam_analytics.ingest.mapping import SYNONYMS, Mapping, normalize_header


def header_confidence(header: str, column: str, mapping: Mapping) -> str:
    """How a header came to feed a column: 'profile', 'exact' (the canonical name), 'synonym'
    (a known header), 'guess' (a generic one such as Date or Amount that may be something
    else)."""
    norm = normalize_header(header)
    if norm == normalize_header(column):
        return "exact"
    names = [normalize_header(n) for n in SYNONYMS.get(column, ())]
    if norm in names:
        generic = {"datum", "date", "amount", "betrag", "total", "value", "wert", "art", "kunde"}
        return "guess" if norm in generic else "synonym"
    return "profile"


def mapping_lines(mapping: Mapping, prepared=None) -> list[str]:
    """The mapping as lines: one per column, then value maps, defaults, formulas, filters,
    read options and the rows left out."""
    lines = [
        f"mapping to table {mapping.table}" + (f" (profile {mapping.name})" if mapping.name else "")
    ]
    for col, header in mapping.columns.items():
        lines.append(f"  {header!r} -> {col} [{header_confidence(header, col, mapping)}]")
    for col, value in mapping.defaults.items():
        lines.append(f"  constant {value!r} -> {col}")
    for col, expr in mapping.computed.items():
        lines.append(f"  formula {expr} -> {col}")
    for col, values in mapping.values.items():
        shown = ", ".join(f"{k!r} = {v!r}" for k, v in values.items())
        lines.append(f"  values of {col}: {shown}")
    for header, values in (mapping.filters.get("keep") or {}).items():
        lines.append(f"  keep rows where {header!r} is one of {values}")
    for header in mapping.filters.get("skip_empty") or []:
        lines.append(f"  skip rows where {header!r} is empty")
    options = {k: v for k, v in mapping.read.items() if not str(k).startswith("_")}
    if options:
        lines.append("  read options: " + ", ".join(f"{k} = {v!r}" for k, v in options.items()))
    if prepared is not None:
        for why, count in prepared.dropped.items():
            lines.append(f"  rows left out: {count} ({why})")
        if prepared.rows_rejected:
            lines.append(f"  rows imported once (identical duplicates): {prepared.rows_rejected}")
    return lines
