"""The inbox: a folder the running app imports from, also when nobody is signed in.

A file dropped into the inbox is imported once it has stopped changing: with the profile whose
file-name rule matches (rules in `<profiles>/inbox_rules.txt`, one `GLOB = profile` a line),
else the saved profile whose headers match, else the automatic mapping. It then moves to
`done/` or `failed/`, with its validation report beside it (text and CSV, German and English),
and the import history and the audit log name the source "Inbox".

Not picked up: hidden and temporary names (`.x`, `~$x`, `*.part`, `*.tmp`, `*.crdownload`),
and any file whose size or modification time changed since the previous scan or within the
last `settle` seconds (still being copied).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from kam_analytics import backup, db
from kam_analytics.audit import write_audit
from kam_analytics.errors import KamError, Problem, Reason
from kam_analytics.write_log import writing

INBOX_ENV = "KAM_INBOX"
SETTLE_ENV = "KAM_INBOX_SETTLE"
DEFAULT_SETTLE = 5.0  # seconds a file must stay unchanged before it is taken
RULES_FILE = "inbox_rules.txt"
SOURCE = "Inbox"  # the user name the history and the audit log show for inbox imports
SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv", ".txt")
TEMP_SUFFIXES = (".part", ".partial", ".tmp", ".temp", ".crdownload", ".download", "~")
REPORT_SUFFIXES = (".report.de.txt", ".report.en.txt", ".report.de.csv", ".report.en.csv")
LANGS = ("de", "en")

log = logging.getLogger(__name__)


def inbox_dir(db_path=None, con=None) -> Path:
    """The inbox folder: $KAM_INBOX, else setting inbox.folder, else inbox/ beside the database."""
    env = os.environ.get(INBOX_ENV)
    if env:
        return Path(env)
    if con is not None:
        from kam_analytics.settings_store import select_settings

        folder = select_settings(con, "inbox.folder").get("inbox.folder")
        if isinstance(folder, str) and folder.strip():
            return Path(folder.strip())
    return db.resolve_db_path(db_path).parent / "inbox"


def settle_seconds() -> float:
    """Seconds a file must stay unchanged before it is imported ($KAM_INBOX_SETTLE, default 5)."""
    try:
        return max(0.0, float(os.environ.get(SETTLE_ENV, DEFAULT_SETTLE)))
    except ValueError:
        return DEFAULT_SETTLE


def is_temporary(name: str) -> bool:
    """True for names of files still being written or of office lock files."""
    low = name.lower()
    return low.startswith((".", "~$")) or low.endswith(TEMP_SUFFIXES)


def read_rules(profiles_dir=None) -> list[tuple[str, str]]:
    """(glob, profile name) pairs of the inbox rules file, in file order."""
    from kam_analytics.ingest.profiles import profile_dir

    path = Path(profiles_dir or profile_dir()) / RULES_FILE
    if not path.is_file():
        return []
    rules = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if "=" not in line:
            continue
        pattern, profile = (part.strip().strip("\"'") for part in line.rsplit("=", 1))
        if pattern and profile:
            rules.append((pattern, profile))
    return rules


def match_profile(file_name: str, rules, profiles_dir=None) -> Path | None:
    """The profile file of the first rule whose glob matches the name (case-insensitive)."""
    from kam_analytics.ingest.profiles import profile_dir

    for pattern, profile in rules:
        if fnmatch.fnmatch(file_name.lower(), pattern.lower()):
            name = profile if profile.endswith(".toml") else f"{profile}.toml"
            return Path(profiles_dir or profile_dir()) / name
    return None


@dataclass
class Outcome:
    """What happened to one inbox file."""

    file_name: str
    status: str  # imported | refused | failed
    moved_to: Path | None = None
    import_ids: list[int] = field(default_factory=list)
    lines: dict[str, list[str]] = field(default_factory=dict)  # report text per language


class Inbox:
    """One inbox folder: watches files until they are stable, then imports them."""

    def __init__(self, folder: Path, db_path, profiles_dir=None, settle: float | None = None):
        self.folder = Path(folder)
        self.db_path = db_path
        self.profiles_dir = profiles_dir
        self.settle = settle_seconds() if settle is None else settle
        self._seen: dict[str, tuple[int, int]] = {}
        self.last_scan: dt.datetime | None = None

    def ensure_folders(self) -> None:
        """Create the inbox with its done/ and failed/ folders."""
        for sub in ("", "done", "failed"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)

    def waiting(self) -> list[Path]:
        """Candidate files in the inbox (not temporary, not reports), oldest first."""
        if not self.folder.is_dir():
            return []
        files = [
            p
            for p in self.folder.iterdir()
            if p.is_file() and not is_temporary(p.name) and not p.name.endswith(REPORT_SUFFIXES)
        ]
        return sorted(files, key=lambda p: (p.stat().st_mtime, p.name))

    def stable(self, now: float | None = None) -> list[Path]:
        """Files unchanged since the previous scan and for `settle` seconds (safe to read)."""
        now = time.time() if now is None else now
        ready, seen = [], {}
        for path in self.waiting():
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            sig = (st.st_size, st.st_mtime_ns)
            seen[path.name] = sig
            if self._seen.get(path.name) == sig and now - st.st_mtime >= self.settle:
                ready.append(path)
        self._seen = seen
        return ready

    def scan(self, con) -> list[Outcome]:
        """One pass: import every stable file; returns what happened to each."""
        self.ensure_folders()
        self.last_scan = dt.datetime.now()
        ready = self.stable()
        if not ready:
            return []
        return process_files(con, ready, self.db_path, self.folder, self.profiles_dir)


def _report_lines(plan, results, error: KamError | None, lang: str) -> list[str]:
    from kam_analytics.i18n import t
    from kam_analytics.ingest.messages import error_text, problem_text, result_text

    lines = []
    if error is not None:
        lines.append(error_text(error, lang))
    for result in results:
        lines.append(result_text(result, lang))
    if plan is not None:
        problems = plan.all_problems
        errors = sum(1 for p in problems if p.severity == "error")
        if errors:
            lines.append(t("inbox_report_blocked", lang, n=errors))
        lines += [problem_text(p, lang) for p in problems]
    return lines


def write_reports(target: Path, plan, results, error: KamError | None) -> dict[str, list[str]]:
    """The validation report beside a moved file: .report.{de,en}.{txt,csv}."""
    from kam_analytics.exports.tables import frame_to_csv_de
    from kam_analytics.i18n import t
    from kam_analytics.ingest.messages import localised_problems_frame

    texts = {}
    problems: list[Problem] = plan.all_problems if plan is not None else []
    for lang in LANGS:
        lines = _report_lines(plan, results, error, lang)
        head = t("inbox_report_title", lang, file=target.name.split("_", 1)[-1])
        texts[lang] = lines
        Path(f"{target}.report.{lang}.txt").write_text(
            "\n".join([head, "", *lines]) + "\n", encoding="utf-8"
        )
        Path(f"{target}.report.{lang}.csv").write_bytes(
            frame_to_csv_de(localised_problems_frame(problems, lang))
        )
    return texts


def _move(path: Path, folder: Path) -> Path:
    """Move into done/ or failed/ under a time-stamped name (monthly files share names)."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    target = folder / f"{stamp}_{path.name}"
    n = 1
    while target.exists():
        target = folder / f"{stamp}-{n}_{path.name}"
        n += 1
    shutil.move(str(path), target)
    return target


def update_import_source(con, import_ids: list[int], source: str) -> None:
    """Note the source (Inbox, cli) in the notes of these import_log rows."""
    with writing(con, "import_log"):
        for import_id in import_ids:
            con.execute(
                "UPDATE import_log SET notes = json_merge_patch(coalesce(notes, '{}'), ?) "
                "WHERE import_id = ?",
                [json.dumps({"source": source}), import_id],
            )


def _unexpected(exc: Exception) -> KamError:
    """The report's text for a failure that is a bug, not a problem of the file."""
    return KamError(Reason.INBOX_UNEXPECTED, kind=type(exc).__name__)


def _plan_all(con, paths: list[Path], profiles_dir) -> list:
    """Plan every file, files of the same profile choice together (accounts then count)."""
    from kam_analytics.ingest.pipeline import plan_files

    rules = read_rules(profiles_dir)
    groups: dict[Path | None, list[Path]] = {}
    for path in paths:
        groups.setdefault(match_profile(path.name, rules, profiles_dir), []).append(path)
    plans = {}
    for profile, group in groups.items():
        sources = [(p.name, p.read_bytes()) for p in group]
        kwargs = {"profile": profile} if profile else {}
        if profiles_dir and not profile:
            kwargs["profiles_dir"] = profiles_dir
        try:
            for path, plan in zip(group, plan_files(con, sources, **kwargs), strict=True):
                plans[path] = (plan, None)
        except KamError as exc:  # e.g. the rule names a profile that is missing or broken
            for path in group:
                plans[path] = (None, exc)
        except Exception as exc:  # noqa: BLE001 - refused, else the file is retried forever
            log.exception("inbox planning of %s failed", [p.name for p in group])
            for path in group:
                plans[path] = (None, _unexpected(exc))
    return [(path, *plans[path]) for path in paths]


def process_files(con, paths: list[Path], db_path, folder: Path, profiles_dir=None):
    """Import the given inbox files, each on its own; move each to done/ or failed/."""
    from kam_analytics.ingest.pipeline import TABLE_ORDER, execute_plans

    planned = _plan_all(con, paths, profiles_dir)

    def order(item):
        plan = item[1]
        table = plan.mapping.table if plan is not None and plan.mapping else None
        return TABLE_ORDER.index(table) if table in TABLE_ORDER else len(TABLE_ORDER)

    planned.sort(key=order)
    writes = [p for _, p, e in planned if p is not None and not p.blocked and e is None]
    if any(p.previous_import_id is None for p in writes):
        backup.auto_backup(con, db_path, "before-inbox")
    outcomes = []
    for path, plan, error in planned:
        results = []
        if error is None and plan is not None and not plan.blocked:
            try:
                results = execute_plans(con, [plan], username=SOURCE)
            except KamError as exc:
                error = exc
            except Exception as exc:  # noqa: BLE001 - one broken file must not stop the inbox
                log.exception("inbox import of %s failed", path.name)
                error = _unexpected(exc)
        ok = error is None and plan is not None and not plan.blocked
        target = _move(path, folder / ("done" if ok else "failed"))
        ids = [r.import_id for r in results if r.import_id is not None]
        update_import_source(con, ids, SOURCE)
        lines = write_reports(target, plan, results, error)
        status = "imported" if ok else "refused"
        write_audit(
            con,
            SOURCE,
            "inbox_import" if ok else "inbox_refused",
            path.name,
            None,
            {
                "source": SOURCE,
                "moved_to": f"{target.parent.name}/{target.name}",
                "import_ids": ids,
                "errors": 0
                if plan is None
                else sum(1 for p in plan.all_problems if p.severity == "error"),
            },
        )
        outcomes.append(Outcome(path.name, status, target, ids, lines))
    return outcomes


@dataclass
class EntryState:
    """One file of the inbox page section."""

    name: str
    state: str  # waiting | writing | done | failed
    at: dt.datetime
    size: int


def inbox_state(folder: Path, settle: float | None = None, recent: int = 10) -> list[EntryState]:
    """Files waiting in the inbox and the newest outcomes in done/ and failed/."""
    settle = settle_seconds() if settle is None else settle
    folder = Path(folder)
    now = time.time()
    out = []
    if folder.is_dir():
        for p in sorted(folder.iterdir()):
            if not p.is_file() or p.name.endswith(REPORT_SUFFIXES):
                continue
            st = p.stat()
            young = now - st.st_mtime < settle
            state = "writing" if is_temporary(p.name) or young else "waiting"
            if p.name.startswith("~$") or p.name.startswith("."):
                continue
            out.append(
                EntryState(p.name, state, dt.datetime.fromtimestamp(st.st_mtime), st.st_size)
            )
    done = []
    for sub in ("done", "failed"):
        d = folder / sub
        if d.is_dir():
            for p in d.iterdir():
                if p.is_file() and not p.name.endswith(REPORT_SUFFIXES):
                    st = p.stat()
                    # ctime: when it was moved here (the move keeps the modification time)
                    at = dt.datetime.fromtimestamp(st.st_ctime)
                    done.append(EntryState(p.name.split("_", 1)[-1], sub, at, st.st_size))
    done.sort(key=lambda e: e.at, reverse=True)
    return out + done[:recent]
