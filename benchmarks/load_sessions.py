"""Sessions at load (issue 16): N browser sessions click through pages while an inbox import runs.

    .venv/bin/python -m benchmarks.load_sessions [--sessions 30] [--rounds 2] [--scale large]
                                                 [--think 20]

One streamlit server (127.0.0.1 only) on a copy of the demo company (`large`: 5,000 accounts,
2.2 million order lines; built once into benchmarks/out/large.duckdb) with the demo users.
The sessions are browser contexts of one headless Debian chromium (Playwright's async API):
a third are management (`leitung`), the rest KAMs (`kam01`…`kam10`). Each signs in, then
clicks through the pages of its role `--rounds` times, reading each page for `--think`
seconds on average (0 = click on at once, the worst case; a reader in a review meeting looks
at a page for 20 s or more; each pause is drawn between half and one and a half times it,
from a fixed seed, so runs compare). Once every session is signed in, a
100,000-row shipments export is dropped into the inbox; the app imports it meanwhile.

Click-to-rendered: from the click on the navigation link until the page's title is shown and
no script run is in progress. An error is a page showing an exception or an error box, or a
click not rendered within 120 s. Results: benchmarks/out/load.json and a table on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).resolve().parent / "out"
sys.path.insert(0, str(ROOT))

# (navigation label key, title key) per role; KAMs do not get the import page.
MANAGEMENT_PAGES = [
    ("nav_overview", "ov_title"),
    ("nav_services", "svc_title"),
    ("nav_giveaways", "gv_title"),
    ("nav_retention", "ret_title"),
    ("nav_bonus", "bonus_title"),
    ("nav_account", "acc_title"),
    ("nav_profitability", "pf_title"),
]
KAM_PAGES = [
    ("nav_overview", "ov_title"),
    ("nav_services", "svc_title"),
    ("nav_retention", "ret_title"),
    ("nav_bonus", "bonus_title"),
    ("nav_account", "acc_title"),
]
SETTLED_JS = (
    "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
    " && document.querySelector('[data-testid=\"stApp\"]')"
    "?.getAttribute('data-test-script-state') !== 'running'"
)
TIMEOUT_MS = 120_000


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


async def settle(pg) -> None:
    """Wait until no script run is in progress."""
    await pg.wait_for_timeout(200)
    await pg.wait_for_function(SETTLED_JS, timeout=TIMEOUT_MS)


async def run_session(
    browser, url: str, n: int, rounds: int, start_gate, signed_in, out, think: float = 0.0
):
    """One user: sign in, then click through the role's pages `rounds` times."""
    import random
    import re

    from kam_analytics.i18n import t
    from kam_analytics.users import demo_password

    user = "leitung" if n % 3 == 0 else f"kam{n % 10 + 1:02d}"
    pages = MANAGEMENT_PAGES if user == "leitung" else KAM_PAGES
    ctx = await browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = await ctx.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    await start_gate.wait()
    try:
        await pg.goto(url)
        await pg.get_by_label(t("auth_username"), exact=True).fill(user)
        await pg.get_by_label(t("auth_password"), exact=True).fill(demo_password(user))
        await pg.get_by_role("button", name=t("auth_submit"), exact=True).click()
        await pg.get_by_role("heading", name=t("ov_title"), exact=True).first.wait_for()
        await settle(pg)
    except Exception as exc:  # noqa: BLE001 - counted, reported
        out["errors"].append(
            {"session": n, "user": user, "page": "sign-in", "error": str(exc)[:300]}
        )
        signed_in()
        await ctx.close()
        return
    signed_in()
    nav = pg.get_by_test_id("stSidebarNav")
    pauses = random.Random(n)
    for _ in range(rounds):
        for label_key, title_key in pages:
            if think > 0:
                await asyncio.sleep(pauses.uniform(0.5 * think, 1.5 * think))
            label = t(label_key)
            link = nav.get_by_role("link", name=re.compile(rf"^\W*{re.escape(label)}\W*$")).first
            started = time.monotonic()
            try:
                await link.click()
                await pg.get_by_role("heading", name=t(title_key), exact=True).first.wait_for()
                await settle(pg)
                took = time.monotonic() - started
                broken = await pg.locator(
                    '[data-testid="stException"], [data-testid="stAlertContentError"]'
                ).count()
                if broken:
                    text = await pg.locator('[data-testid="stMain"]').inner_text()
                    out["errors"].append(
                        {"session": n, "user": user, "page": label_key, "error": text[:300]}
                    )
                out["clicks"].append(
                    {
                        "session": n,
                        "user": user,
                        "page": label_key,
                        "seconds": took,
                        "at": time.time(),
                    }
                )
            except Exception as exc:  # noqa: BLE001 - counted, reported
                out["errors"].append(
                    {"session": n, "user": user, "page": label_key, "error": str(exc)[:300]}
                )
    await ctx.close()


async def run_load(
    url: str, sessions: int, rounds: int, inbox: Path, export: Path, out: dict, think: float = 0.0
):
    """All sessions at once; the inbox file is dropped when every session has signed in."""
    from playwright.async_api import async_playwright

    from tests.browser.conftest import CHROMIUM_ARGS

    gate = asyncio.Event()
    count = {"n": 0}
    all_in = asyncio.Event()

    def signed_in():
        count["n"] += 1
        if count["n"] == sessions:
            all_in.set()

    async def drop_file():
        await all_in.wait()
        out["inbox_dropped_at"] = time.time()
        tmp = inbox / f"{export.name}.part"  # copied under a temporary name, then renamed
        shutil.copy(export, tmp)
        tmp.rename(inbox / export.name)
        while not list((inbox / "done").glob(f"*_{export.name}")) and not list(
            (inbox / "failed").glob(f"*_{export.name}")
        ):
            await asyncio.sleep(0.5)
        out["inbox_finished_at"] = time.time()
        out["inbox_outcome"] = (
            "done" if list((inbox / "done").glob(f"*_{export.name}")) else "failed"
        )

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        tasks = [
            run_session(browser, url, n, rounds, gate, signed_in, out, think)
            for n in range(sessions)
        ]
        dropper = asyncio.create_task(drop_file())
        gate.set()
        started = time.monotonic()
        await asyncio.gather(*tasks)
        out["sessions_seconds"] = time.monotonic() - started
        if not all_in.is_set():
            all_in.set()
        await asyncio.wait_for(dropper, timeout=900)
        await browser.close()


def summary(out: dict) -> dict:
    """Median and p90 of click-to-rendered, overall, per page and during the import."""
    secs = [c["seconds"] for c in out["clicks"]]
    by_page = {}
    for c in out["clicks"]:
        by_page.setdefault(c["page"], []).append(c["seconds"])
    t0, t1 = out.get("inbox_dropped_at"), out.get("inbox_finished_at")
    during = [c["seconds"] for c in out["clicks"] if t0 and t1 and t0 <= c["at"] <= t1]
    per_session = {}
    for c in out["clicks"]:
        per_session.setdefault(c["session"], []).append(c["seconds"])
    medians = [statistics.median(v) for v in per_session.values()]

    def stats(v):
        return {"n": len(v), "median": statistics.median(v), "p90": percentile(v, 0.9)} if v else {}

    return {
        "clicks": stats(secs),
        "during_import": stats(during),
        "median_session": statistics.median(medians) if medians else None,
        "pages": {k: stats(v) for k, v in sorted(by_page.items())},
        "errors": len(out["errors"]),
        "inbox_import_seconds": (t1 - t0) if t0 and t1 else None,
        "inbox_outcome": out.get("inbox_outcome"),
    }


def main(argv=None) -> int:
    """Run the load test and print the figures; exit 1 on any error or a refused inbox file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--scale", choices=("small", "large"), default="large")
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the inbox export")
    parser.add_argument(
        "--think", type=float, default=0.0, help="mean seconds a user reads a page (0: none)"
    )
    args = parser.parse_args(argv)

    from benchmarks.bench_import import make_file
    from tests.browser.conftest import running_app

    OUT.mkdir(exist_ok=True)
    source = OUT / f"{args.scale}.duckdb"
    if not source.exists():
        from kam_analytics.demo import write_demo

        write_demo(source, scale=args.scale, seed=42)
    export = make_file(args.rows)
    out = {
        "sessions": args.sessions,
        "rounds": args.rounds,
        "scale": args.scale,
        "think_seconds": args.think,
        "clicks": [],
        "errors": [],
    }
    # The export's shipping conditions 01/02 are codes the import never guesses: the inbox
    # takes the benchmark's profile for it by a file-name rule, as IT would set it up.
    from benchmarks.bench_import import PROFILE

    profiles = Path(tempfile.mkdtemp(prefix="kam-load-profiles-"))
    (profiles / "sap_shipments.toml").write_text(PROFILE, encoding="utf-8")
    (profiles / "inbox_rules.txt").write_text(
        "shipments_*.xlsx = sap_shipments\n", encoding="utf-8"
    )
    os.environ["KAM_PROFILES"] = str(profiles)
    with (
        tempfile.TemporaryDirectory(prefix="kam-load-") as tmp,
        running_app(Path(tmp), source) as server,
    ):
        subprocess.run(
            [sys.executable, "-m", "ui.warm_up", server.url], cwd=ROOT, check=True, timeout=600
        )
        inbox = server.db_path.parent / "inbox"
        deadline = time.time() + 600
        while not (inbox / "done").is_dir() and time.time() < deadline:
            time.sleep(0.5)
        out["load_average_before"] = os.getloadavg()
        asyncio.run(
            run_load(server.url, args.sessions, args.rounds, inbox, export, out, args.think)
        )
        out["load_average_after"] = os.getloadavg()
        log = server.log_path.read_text(encoding="utf-8", errors="replace")
        (OUT / "load-server.log").write_text(log, encoding="utf-8")
        out["server_tracebacks"] = log.count("Traceback")
    result = summary(out)
    result["server_tracebacks"] = out["server_tracebacks"]
    result["load_average"] = [out["load_average_before"], out["load_average_after"]]
    (OUT / "load.json").write_text(
        json.dumps({"summary": result, "raw": out}, indent=1, default=str), encoding="utf-8"
    )
    c, d = result["clicks"], result["during_import"]
    print(
        f"{args.sessions} sessions x {args.rounds} rounds on the {args.scale} company, "
        f"{args.think:g} s reading time per page"
    )
    print(f"clicks: {c.get('n')}  median {c.get('median', 0):.2f} s  p90 {c.get('p90', 0):.2f} s")
    if d:
        print(
            f"during the inbox import: {d['n']} clicks, median {d['median']:.2f} s, "
            f"p90 {d['p90']:.2f} s"
        )
    print(f"median of the session medians: {result['median_session'] or 0:.2f} s")
    for page, s in result["pages"].items():
        print(f"  {page:<20} n={s['n']:<4} median {s['median']:.2f} s  p90 {s['p90']:.2f} s")
    print(f"inbox import: {result['inbox_outcome']} in {result['inbox_import_seconds'] or 0:.1f} s")
    print(f"errors: {result['errors']}  server tracebacks: {result['server_tracebacks']}")
    print(f"machine load average (1/5/15 min) before and after: {result['load_average']}")
    for e in out["errors"][:10]:
        print("  ", e)
    clean = result["errors"] == 0 and result["server_tracebacks"] == 0
    return 0 if clean and result["inbox_outcome"] == "done" else 1


if __name__ == "__main__":
    sys.exit(main())
