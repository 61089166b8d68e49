"""The whole import of one or several files: read, choose mapping, validate, then load.

Used by the page and by `python -m kam_analytics import`. All files are validated before any
is written; a blocking problem in any file means nothing is written.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path

from kam_analytics import schema, snapshots
from kam_analytics.errors import ImportBlockedError, Problem, Reason
from kam_analytics.exchange_rates import RateTable
from kam_analytics.ingest import load
from kam_analytics.ingest.mapping import (
    Mapping,
    auto_mapping,
    detect_table,
    merge_mapping,
    normalize_header,
)
from kam_analytics.ingest.profiles import choose_profile, load_profile
from kam_analytics.ingest.read import RawSheet, read_bytes, read_source, sha256_of
from kam_analytics.ingest.validate import (
    Prepared,
    add_orphan_warnings,
    prepare,
    select_catalogue_values,
)

# Load order so that accounts exist before the rows that refer to them.
TABLE_ORDER = ("kams", "accounts", "orders", "shipments", "service_events", "mandates", "feedback")


@dataclass
class FilePlan:
    """One file on its way in: what was read, the mapping used, and the validated rows."""

    file_name: str
    sha256: str = ""
    raw: RawSheet | None = None
    mapping: Mapping | None = None
    prepared: Prepared | None = None
    problems: list[Problem] = field(default_factory=list)
    previous_import_id: int | None = None

    @property
    def blocked(self) -> bool:
        """True when the file has blocking problems."""
        return any(p.severity == "error" for p in self.all_problems)

    @property
    def all_problems(self) -> list[Problem]:
        """Reading problems plus validation problems."""
        return self.problems + (self.prepared.problems if self.prepared else [])


def _known_headers(mapping: Mapping | None) -> set[str]:
    return {normalize_header(h) for h in mapping.headers_used()} if mapping else set()


def read_for_mapping(source, file_name, *, sheet=None, profile=None) -> RawSheet:
    """Read a file, telling header detection about the profile's headers."""
    if sheet is None and profile is not None:
        sheet = profile.read.get("sheet")
    header_row = profile.read.get("header_row") if profile is not None else None
    return read_source(
        source, file_name, sheet=sheet, known=_known_headers(profile), header_row=header_row
    )


def choose_mapping(raw: RawSheet, *, table=None, profile=None, profiles_dir=None) -> Mapping:
    """The profile given, else a saved profile whose headers all match, else the synonyms."""
    if profile is not None:
        return profile
    saved = choose_profile(raw.headers, profiles_dir, table=table)
    if saved is not None:
        return saved
    if table is None:
        table, scores = detect_table(raw.headers)
        if table is None:
            raise ImportBlockedError(
                problems=[
                    Problem(
                        raw.file_name,
                        raw.sheet,
                        raw.header_row,
                        None,
                        None,
                        Reason.UNKNOWN_TABLE,
                        params={"headers": ", ".join(raw.headers[:20])},
                    )
                ]
            )
    if table not in schema.IMPORTABLE_TABLES:
        from kam_analytics.errors import ConfigError

        raise ConfigError(
            Reason.MAPPING_UNKNOWN_TABLE,
            table=repr(table),
            tables=", ".join(schema.IMPORTABLE_TABLES),
        )
    return auto_mapping(raw.headers, table)


def plan_file(
    source,
    file_name: str | None = None,
    *,
    table: str | None = None,
    sheet=None,
    profile: Mapping | str | Path | None = None,
    mapping: Mapping | None = None,
    con=None,
    profiles_dir=None,
    known_accounts: set[str] | None = None,
    today: dt.date | None = None,
    catalogue: dict | None = None,
    rates: RateTable | None = None,
    reference_ids: set[str] | None = None,
) -> FilePlan:
    """Read and validate one file without writing; problems are collected, not raised."""
    if file_name is None:
        file_name = Path(source).name if isinstance(source, str | Path) else "upload"
    plan = FilePlan(file_name=file_name)
    if isinstance(profile, str | Path):
        profile = load_profile(profile)
    try:
        data = read_bytes(source)
        plan.sha256 = sha256_of(data)
        chosen = mapping or profile
        plan.raw = read_for_mapping(data, file_name, sheet=sheet, profile=chosen)
        if mapping is not None:
            plan.mapping = mapping  # the page's editor: complete as shown
        elif profile is not None:
            # A profile names what differs; the rest comes from the automatic mapping.
            plan.mapping = merge_mapping(auto_mapping(plan.raw.headers, profile.table), profile)
        else:
            plan.mapping = choose_mapping(
                plan.raw, table=table, profile=None, profiles_dir=profiles_dir
            )
        if table and plan.mapping.table != table and profile is None and mapping is None:
            plan.mapping = auto_mapping(plan.raw.headers, table)
    except ImportBlockedError as exc:
        plan.problems.extend(exc.problems)
        return plan
    except OSError as exc:
        plan.problems.append(
            Problem(
                file_name,
                None,
                None,
                None,
                None,
                Reason.UNREADABLE_FILE,
                params={"variant": "open_path", "detail": exc.strerror},
            )
        )
        return plan
    if known_accounts is None and con is not None:
        known_accounts = load.select_account_ids(con)
    if con is not None:
        catalogue = catalogue if catalogue is not None else select_catalogue_values(con)
        rates = rates if rates is not None else RateTable.from_db(con)
    plan.prepared = prepare(
        plan.raw,
        plan.mapping,
        known_accounts=known_accounts,
        today=today,
        catalogue=catalogue,
        rates=rates,
        reference_ids=reference_ids if reference_ids is not None else known_accounts,
    )
    if con is not None:
        plan.previous_import_id = load.select_done_import(con, plan.sha256, plan.mapping.table)
    return plan


def plan_files(con, sources, **kwargs) -> list[FilePlan]:
    """Plan several files; account ids in an accounts file of the batch count as known."""
    known = load.select_account_ids(con) if con is not None else set()
    if con is not None:
        kwargs.setdefault("catalogue", select_catalogue_values(con))
        kwargs.setdefault("rates", RateTable.from_db(con))
    # Ids known before the batch: a padded id that matches one only after normalising is told.
    kwargs.setdefault("reference_ids", set(known))
    plans = []
    for src in sources:
        name, data = src if isinstance(src, tuple) else (Path(src).name, src)
        plans.append(plan_file(data, name, con=None, **kwargs))
    for p in plans:
        if p.prepared is not None and p.prepared.table == "accounts":
            known |= set(p.prepared.frame["account_id"].dropna())
    for p in plans:
        if p.prepared is None:
            continue
        add_orphan_warnings(p.prepared, known)
        if con is not None:
            p.previous_import_id = load.select_done_import(con, p.sha256, p.mapping.table)
    return plans


def result_of(plan: FilePlan) -> load.ImportResult:
    """The ImportResult skeleton of a plan."""
    prepared = plan.prepared
    return load.ImportResult(
        file_name=plan.file_name,
        table=plan.mapping.table if plan.mapping else "",
        sheet=plan.raw.sheet if plan.raw else None,
        profile=plan.mapping.name if plan.mapping else None,
        sha256=plan.sha256,
        rows_in_file=len(plan.raw.frame) if plan.raw is not None else 0,
        rejected=prepared.rows_rejected if prepared else 0,
        problems=plan.all_problems,
        previous_import_id=plan.previous_import_id,
    )


log = logging.getLogger("kam_analytics.ingest")


def execute_plans(
    con,
    plans: list[FilePlan],
    *,
    username: str = "system",
    dry_run: bool = False,
    progress=None,
) -> list[load.ImportResult]:
    """Write every planned file (each in its own transaction), or raise if any is blocked."""
    blocked = [p for p in plans if p.blocked]
    if blocked:
        raise ImportBlockedError(
            problems=[pr for p in plans for pr in p.all_problems if pr.severity == "error"]
        )
    order = sorted(
        range(len(plans)),
        key=lambda i: (TABLE_ORDER.index(plans[i].mapping.table), i),
    )
    results: list[load.ImportResult | None] = [None] * len(plans)
    writes = not dry_run and any(p.previous_import_id is None for p in plans)
    # the key figures before the batch, for the change report (snapshots.py)
    before = _capture(con) if writes else None
    for n, i in enumerate(order):
        plan = plans[i]
        result = result_of(plan)

        def tick(share, text="", n=n, plan=plan):
            if progress:
                progress((n + share) / len(plans), f"{plan.file_name}: {text}")

        if plan.previous_import_id is not None:
            result.status = "noop"
        elif dry_run:
            counts = load.count_actions(
                con, plan.mapping.table, plan.prepared.frame, plan.prepared.columns
            )
            result.inserted, result.updated, result.unchanged = (
                counts["insert"],
                counts["update"],
                counts["same"],
            )
            result.status = "dry_run"
        else:
            load.write_rows(
                con,
                plan.mapping.table,
                plan.prepared.frame,
                plan.prepared.columns,
                result,
                username,
                progress=tick,
            )
        results[i] = result
        tick(1.0, result.status)
    written = [r.import_id for r in results if r.status == "done" and r.import_id is not None]
    after = _capture(con) if before is not None and written else None
    if after is not None:
        snapshots.insert_snapshot(con, written, before, after)
    return results


def _capture(con) -> dict | None:
    """The key figures for the change report, or None when they cannot be computed.

    The import itself is already right or refused; a failure here must not turn a committed
    import into an error. The batch then has no snapshot, and the change report says so.
    """
    try:
        return snapshots.capture_figures(con)
    except Exception:  # noqa: BLE001 - logged; the change report lacks this batch
        log.warning("key figures for the change report could not be captured", exc_info=True)
        return None


def import_files(con, sources, *, username="system", dry_run=False, progress=None, **kwargs):
    """Plan and write files in one call (raises ImportBlockedError with every problem)."""
    plans = plan_files(con, sources, **kwargs)
    return execute_plans(con, plans, username=username, dry_run=dry_run, progress=progress)
