"""End-to-end benchmark (issue 15): what a user waits for in a real browser, per page and role.

    .venv/bin/python -m benchmarks.e2e [--large-db PATH] [--xl-db PATH] [--scales large,xl]

For each company (`large`: 5,000 accounts; `xl`: ten times that) and each role (management
as `leitung`, a KAM as `kam03`): a fresh streamlit server (127.0.0.1, a free port) on a copy
of the company with the demo users (tests/browser/conftest.running_app), warmed up the way
the deployment does (ui.warm_up), and one headless Debian chromium (Playwright). The user
signs in, then clicks every page of the role (ui/navigation.py PAGES) twice:

- **cold**: the first visit after the server started (the overview: sign-in submit until the
  overview is drawn, the page a user lands on);
- **warm**: the second visit;
- **filter**: on a page with a select box in its main area, right after the warm visit, the
  first select box set to its neighbouring option (the year, the account, …).

A click is timed until the page is idle and drawn: a script run has started and ended,
Streamlit's status widget is gone, and every visible chart (`.js-plotly-plot`) and table
(`stDataFrame` canvas) of the main area is rendered. The server's memory is the RSS of its
process tree, sampled every 0.2 s. Budgets: warm and filter ≤ 1.0 s and cold ≤ 2.0 s on
`large`; ≤ 1.5 s and ≤ 3.0 s on `xl`; server peak memory < 2 GB on `xl`. The table is
printed; everything goes to benchmarks/out/e2e.json; exit 1 when a budget is missed or a page
shows an error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).resolve().parent / "out"
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
KINDS = ("cold", "warm", "filter")
# seconds per scale and kind of click; a filter change is a warm click
BUDGETS = {
    "small": {"cold": 2.0, "warm": 1.0, "filter": 1.0},
    "large": {"cold": 2.0, "warm": 1.0, "filter": 1.0},
    "xl": {"cold": 3.0, "warm": 1.5, "filter": 1.5},
}
MEMORY_BUDGET_MB = {"xl": 2048}
USERS = {"management": "leitung", "kam": "kam03"}
TIMEOUT_MS = 180_000
LOST_CLICK_MS = 15_000  # no run started this long after a click: it was lost

# Installed before a timed click: notes when the app's script state becomes 'running', so
# that "idle" means the run the click started has finished (not the page before it).
WATCH_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  window.__e2eRan = false;
  if (window.__e2eObs) window.__e2eObs.disconnect();
  // A run that starts and ends before the observer's callback is still seen: through the
  // old value of the records (the current value alone missed fast runs on a busy machine).
  window.__e2eObs = new MutationObserver((records) => {
    const now = app.getAttribute('data-test-script-state');
    if (now === 'running' || records.some((r) => r.oldValue === 'running'))
      window.__e2eRan = true;
  });
  window.__e2eObs.observe(app, {
    attributes: true, attributeOldValue: true, attributeFilter: ['data-test-script-state'],
  });
}"""
# True when the run has ended, the status widget is gone and every visible chart and table
# of the main area is drawn.
DRAWN_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!window.__e2eRan || !app) return false;
  if (app.getAttribute('data-test-script-state') === 'running') return false;
  if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
  const main = document.querySelector('[data-testid="stMain"]');
  if (!main || main.querySelector('[data-testid="stSkeleton"]')) return false;
  for (const c of main.querySelectorAll('[data-testid="stPlotlyChart"]')) {
    if (!c.checkVisibility()) continue;
    const p = c.querySelector('.js-plotly-plot');
    if (!p || !p.querySelector('.main-svg') || getComputedStyle(p).visibility === 'hidden')
      return false;
  }
  for (const d of main.querySelectorAll('[data-testid="stDataFrame"]')) {
    if (d.checkVisibility() && !d.querySelector('canvas')) return false;
  }
  return true;
}"""
COUNT_JS = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  return {
    charts: main.querySelectorAll('[data-testid="stPlotlyChart"] .main-svg').length
      ? main.querySelectorAll('[data-testid="stPlotlyChart"]').length : 0,
    tables: main.querySelectorAll('[data-testid="stDataFrame"]').length,
  };
}"""
ERROR_SELECTOR = '[data-testid="stException"], [data-testid="stAlertContentError"]'


@dataclass
class Click:
    """One timed click."""

    role: str
    page: str  # navigation label key, e.g. nav_overview
    kind: str  # cold, warm, filter
    seconds: float | None  # None: not rendered within the timeout
    charts: int = 0
    tables: int = 0
    error: str | None = None


@dataclass
class ScaleResult:
    """Every click on one company plus the server's peak memory."""

    scale: str
    db: str
    clicks: list[Click] = field(default_factory=list)
    peak_mb: dict[str, float] = field(default_factory=dict)  # role -> MB
    errors: list[str] = field(default_factory=list)


def role_pages(role: str, only: set[str] | None = None) -> list:
    """The navigation entries the role may open, in navigation order (optionally a subset)."""
    from ui.navigation import PAGES

    return [
        e for e in PAGES if role in e.roles and (only is None or e.path in only or e.label in only)
    ]


# --- the server's memory -----------------------------------------------------------------


def _proc_table() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, RSS in bytes) of every process readable in /proc."""
    page = os.sysconf("SC_PAGE_SIZE")
    out = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                stat = f.read()
            with open(f"/proc/{entry.name}/statm") as f:
                rss = int(f.read().split()[1]) * page
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        out[int(entry.name)] = (ppid, rss)
    return out


def server_pid(port: int) -> int | None:
    """The pid of the streamlit server listening on `port` (found by its command line)."""
    marker = f"--server.port\0{port}\0".encode()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if b"streamlit" in cmd and marker in cmd + b"\0":
            return int(entry.name)
    return None


def tree_rss(root: int) -> int:
    """RSS in bytes of `root` and all its descendants."""
    table = _proc_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        if pid in table:
            total += table[pid][1]
        todo.extend(children.get(pid, []))
    return total


class MemorySampler:
    """Samples the RSS of a process tree in a thread; `peak` in bytes."""

    def __init__(self, root: int, every: float = 0.2):
        self.root, self.every, self.peak = root, every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss(self.root))
            self._stop.wait(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, tree_rss(self.root))


# --- the browser -------------------------------------------------------------------------


def wait_drawn(pg, started: float) -> float:
    """Seconds from `started` until the run a click started has ended and all is drawn."""
    pg.wait_for_function(DRAWN_JS, timeout=TIMEOUT_MS, polling="raf")
    return time.perf_counter() - started


def timed(pg, action) -> float:
    """Install the run watcher, do `action` (a click), wait until drawn; the seconds taken.

    A click that starts no run within LOST_CLICK_MS (it landed while a rerun repainted the
    sidebar, as a user's click can) is repeated once, as a user would; the time still counts
    from the first click, so a lost click costs what it costs the user.
    """
    pg.evaluate(WATCH_JS)
    started = time.perf_counter()
    action()
    try:
        pg.wait_for_function("() => window.__e2eRan", timeout=LOST_CLICK_MS, polling="raf")
    except Exception:  # noqa: BLE001 - no run started: the click was lost
        print(f"lost click repeated after {LOST_CLICK_MS / 1000:.0f} s", file=sys.stderr)
        action()
    return wait_drawn(pg, started)


def nav_link(pg, label: str):
    """The sidebar navigation link with exactly `label` (icons aside)."""
    nav = pg.get_by_test_id("stSidebarNav")
    return nav.get_by_role("link", name=re.compile(rf"^\W*{re.escape(label)}\W*$")).first


def record(pg, role: str, page: str, kind: str, action) -> Click:
    """One timed click with the page's chart/table counts and its error box (if any)."""
    try:
        seconds = timed(pg, action)
    except Exception as exc:  # noqa: BLE001 - a click that never renders is a result
        return Click(role, page, kind, None, error=f"not drawn: {str(exc)[:200]}")
    counts = pg.evaluate(COUNT_JS)
    error = None
    if pg.locator(ERROR_SELECTOR).count():
        error = pg.locator('[data-testid="stMain"]').inner_text()[:300]
    return Click(role, page, kind, seconds, counts["charts"], counts["tables"], error)


def change_filter(pg) -> bool:
    """Open the main area's first select box; False when the page has none (or it does not
    open). The click on the neighbouring option (`filter_option`) is what gets timed."""
    box = pg.locator('[data-testid="stMain"] [data-testid="stSelectbox"]')
    if box.count() == 0:
        return False
    try:
        box.first.locator('[role="combobox"]').click(timeout=10_000)
        pg.locator('[role="listbox"] [role="option"]').first.wait_for(timeout=10_000)
    except Exception:  # noqa: BLE001 - no filter change on this page, reported as '–'
        return False
    return True


def filter_option(pg):
    """The option after the selected one (the year before, the next account), else the one
    before it. Year lists run newest first with "Alle" on top: taking the option before the
    current year timed the heaviest view (all years) instead of a user's usual change."""
    options = pg.locator('[role="listbox"] [role="option"]')
    n = options.count()
    selected = next(
        (i for i in range(n) if options.nth(i).get_attribute("aria-selected") == "true"), 0
    )
    return options.nth(selected + 1 if selected + 1 < n else max(selected - 1, 0))


def sign_in_timed(pg, url: str, user: str) -> float:
    """Open the app, sign in; seconds from the submit until the landing page is drawn."""
    from kam_analytics.i18n import t
    from kam_analytics.users import demo_password

    pg.goto(url)
    field = pg.get_by_label(t("auth_username"), exact=True)
    field.wait_for(timeout=TIMEOUT_MS)
    field.fill(user)
    pg.get_by_label(t("auth_password"), exact=True).fill(demo_password(user))
    submit = pg.get_by_role("button", name=t("auth_submit"), exact=True)
    return timed(pg, submit.click)


def measure_role(browser, url: str, role: str, pages: list, warm: bool = True) -> list[Click]:
    """Sign in as the role's demo user; every page cold, then warm and a filter change."""
    from kam_analytics.i18n import t
    from ui.navigation import DEFAULT_PAGE

    ctx = browser.new_context(viewport={"width": 1500, "height": 1000})
    pg = ctx.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    clicks: list[Click] = []
    landing = next(e for e in role_pages(role) if e.path == DEFAULT_PAGE)
    try:
        try:
            seconds = sign_in_timed(pg, url, USERS[role])
            landed = Click(role, landing.label, "cold", seconds)
        except Exception as exc:  # noqa: BLE001 - reported
            ctx.close()
            return [Click(role, landing.label, "cold", None, error=f"sign-in: {exc}"[:300])]
        if any(e.path == DEFAULT_PAGE for e in pages):
            clicks.append(landed)
        current = landing.path

        def visit(entry, kind):
            nonlocal current
            if current == entry.path:  # a click on the open page starts no run: leave first
                other = next(e for e in role_pages(role) if e.path != entry.path)
                timed(pg, nav_link(pg, t(other.label)).click)
                current = other.path
            clicks.append(record(pg, role, entry.label, kind, nav_link(pg, t(entry.label)).click))
            current = entry.path

        for entry in pages:
            if entry.path != DEFAULT_PAGE:
                visit(entry, "cold")
        if warm:
            for entry in pages:
                visit(entry, "warm")
                if change_filter(pg):
                    option = filter_option(pg)
                    clicks.append(record(pg, role, entry.label, "filter", option.click))
    finally:
        ctx.close()
    return clicks


def measure_scale(
    scale: str,
    db_path: Path,
    roles: tuple[str, ...] = ("management", "kam"),
    only: set[str] | None = None,
    warm: bool = True,
    browser=None,
) -> ScaleResult:
    """Every role on its own fresh server on a copy of `db_path` (in `browser`, else a
    chromium of its own)."""
    if browser is None:
        from playwright.sync_api import sync_playwright

        from tests.browser.conftest import CHROMIUM_ARGS

        with sync_playwright() as p:
            own = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                return measure_scale(scale, db_path, roles, only, warm, own)
            finally:
                own.close()
    import subprocess

    from tests.browser.conftest import running_app

    result = ScaleResult(scale, str(db_path))
    for role in roles:
        with (
            tempfile.TemporaryDirectory(prefix=f"kam-e2e-{scale}-") as tmp,
            running_app(Path(tmp), db_path) as server,
        ):
            port = int(server.url.rsplit(":", 1)[1])
            with MemorySampler(server_pid(port)) as mem:
                subprocess.run(
                    [sys.executable, "-m", "ui.warm_up", server.url],
                    cwd=ROOT,
                    check=True,
                    timeout=600,
                )
                result.clicks += measure_role(
                    browser, server.url, role, role_pages(role, only), warm
                )
            result.peak_mb[role] = mem.peak / 2**20
            log = server.log_path.read_text(encoding="utf-8", errors="replace")
            # kept for every run: the worker's refresh of the read-only copy and any slow
            # query show there, and the temporary folder goes with the server
            OUT.mkdir(exist_ok=True)
            (OUT / f"e2e-{scale}-{role}-server.log").write_text(log, encoding="utf-8")
            if "Traceback" in log:
                result.errors.append(f"{role}: server log has a traceback")
    result.errors += [
        f"{c.role} {c.page} {c.kind}: {c.error}" for c in result.clicks if c.error is not None
    ]
    return result


# --- the table ---------------------------------------------------------------------------


def misses(results: list[ScaleResult]) -> list[str]:
    """Every missed budget and every error, in words."""
    out = []
    for r in results:
        for c in r.clicks:
            budget = BUDGETS[r.scale][c.kind]
            if c.seconds is None or c.seconds > budget:
                took = "not drawn" if c.seconds is None else f"{c.seconds:.2f} s"
                out.append(f"{r.scale} {c.role} {c.page} {c.kind}: {took} > {budget:.1f} s")
        limit = MEMORY_BUDGET_MB.get(r.scale)
        for role, mb in r.peak_mb.items():
            if limit is not None and mb >= limit:
                out.append(f"{r.scale} {role}: server peak {mb:,.0f} MB >= {limit:,} MB")
        out += [f"{r.scale} {e}" for e in r.errors]
    return out


def format_table(results: list[ScaleResult]) -> str:
    """Page x (cold, warm, filter) x scale in seconds, a '!' on a missed budget."""
    from kam_analytics.i18n import t

    head = ["role", "page"]
    for r in results:
        b = BUDGETS[r.scale]
        head += [f"{r.scale} {k} (≤{b[k]:.1f})" for k in KINDS]
    rows = []
    keys = []
    for r in results:
        for c in r.clicks:
            if (c.role, c.page) not in keys:
                keys.append((c.role, c.page))
    for role, page in keys:
        row = [role, t(page)]
        for r in results:
            for kind in KINDS:
                c = next(
                    (c for c in r.clicks if (c.role, c.page, c.kind) == (role, page, kind)),
                    None,
                )
                if c is None:
                    row.append("–")
                elif c.seconds is None:
                    row.append("n/a !")
                else:
                    mark = " !" if c.seconds > BUDGETS[r.scale][kind] or c.error else ""
                    row.append(f"{c.seconds:.2f}{mark}")
        rows.append(row)
    mem = ["", "server peak MB"]
    for r in results:
        limit = MEMORY_BUDGET_MB.get(r.scale)
        peak = max(r.peak_mb.values(), default=0.0)
        mark = " !" if limit is not None and peak >= limit else ""
        mem += [f"{peak:,.0f}{mark}" + (f" (<{limit:,})" if limit else ""), "", ""]
    rows.append(mem)
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]
    lines = [" | ".join(str(x).ljust(w) for x, w in zip(head, widths, strict=True))]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)


def to_json(results: list[ScaleResult], argv: list[str]) -> dict:
    """Everything measured, with the budgets and the conditions."""
    return {
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "argv": argv,
        "load_average": os.getloadavg(),
        "budgets": BUDGETS,
        "memory_budget_mb": MEMORY_BUDGET_MB,
        "scales": [
            {
                "scale": r.scale,
                "db": r.db,
                "peak_mb": r.peak_mb,
                "errors": r.errors,
                "clicks": [c.__dict__ for c in r.clicks],
            }
            for r in results
        ],
        "misses": misses(results),
    }


def ensure_db(scale: str, path: Path) -> Path:
    """The company's database, written with the demo generator when missing."""
    if not path.exists():
        from kam_analytics.demo import write_demo

        path.parent.mkdir(parents=True, exist_ok=True)
        print(f"writing the {scale} demo company to {path} …", flush=True)
        write_demo(path, scale=scale, seed=42)
    return path


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the table; exit 1 when a budget is missed or a page fails."""
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="large,xl", help="comma-separated: small,large,xl")
    parser.add_argument("--large-db", type=Path, default=OUT / "large.duckdb")
    parser.add_argument("--xl-db", type=Path, default=OUT / "xl.duckdb")
    parser.add_argument("--small-db", type=Path, default=OUT / "small.duckdb")
    parser.add_argument("--roles", default="management,kam")
    parser.add_argument("--pages", default=None, help="label keys or paths (default: all)")
    parser.add_argument("--out", type=Path, default=OUT / "e2e.json")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing (apt-get install chromium)", file=sys.stderr)
        return 2
    OUT.mkdir(exist_ok=True)
    only = set(args.pages.split(",")) if args.pages else None
    roles = tuple(args.roles.split(","))
    results = []
    for scale in args.scales.split(","):
        db_path = ensure_db(scale, getattr(args, f"{scale}_db"))
        print(f"{scale}: {db_path}", flush=True)
        results.append(measure_scale(scale, db_path, roles, only))
    print(format_table(results))
    report = to_json(results, argv)
    args.out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    for line in report["misses"]:
        print("MISSED", line)
    print(f"load average (1/5/15 min): {report['load_average']}")
    return 1 if report["misses"] else 0


if __name__ == "__main__":
    sys.exit(main())
