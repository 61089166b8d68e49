"""The KAM walk: a KAM signs in, opens every page the navigation offers and triggers every
download; no other KAM's account id, account name, KAM id, KAM name or pay/bonus figure may
appear anywhere (issue 6).

Two KAMs walk the small demo company: KAM06, whose group K10002 has child accounts without a
KAM of their own (K10009, K10081: visible to KAM06 only through the group), and KAM02, the
at-risk story KAM. The forbidden sets are read from the database (every account outside
`visible_accounts(kam)`, every other KAM), and matched as whole tokens, so "K10002" does not
match inside "K10002x" and "Seidel Chemie SE" not inside a longer name.

Pages run in AppTest after a real sign-in through the form; each page is rendered in its
default state and with every account/KAM/year picker option enumerated. What is collected: the
text of every element proto (markdown, captions, metrics, selectbox/multiselect options,
expander and tab labels), every dataframe/table cell and the plotly spec (the plotted data,
which is also what the chart's PNG/SVG download renders). AppTest does not expose download
bytes, so the downloads are built by the same library functions with the KAM's scope and their
text read back: XLSX (openpyxl), CSV, PPTX (python-pptx), PDF (pdftotext).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from google.protobuf import text_format
from pptx import Presentation
from streamlit.testing.v1 import AppTest

from kam_analytics import db, users
from kam_analytics.access import Scope, visible_account_ids
from kam_analytics.errors import AccessDeniedError, KamError, NotFoundError
from kam_analytics.glossary import key_accounts_label
from kam_analytics.i18n import fmt_eur, t
from kam_analytics.periods import default_as_of
from tests.conftest import open_each_tab

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 120
WALKERS = ("kam06", "kam02")
THIS_YEAR = dt.date.today().year


# --- the database and what each KAM may and may not see --------------------------------------


@pytest.fixture(scope="module")
def walk_db(demo_db, tmp_path_factory):
    """One copy of the demo database (with demo users) for the whole module; tests only read."""
    path = tmp_path_factory.mktemp("kamwalk") / "walk.duckdb"
    shutil.copy(demo_db, path)
    con = db.connect(path)
    try:
        users.seed_demo_users(con)
        plant_secrets(con)
    finally:
        con.close()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KAM_DB", str(path))
        yield path


# Free text and figures entered for KAM01's account K10012 (and KAM01's pay), which neither
# walker may ever see; and one praise on K10009, which KAM06 sees only through the group.
FOREIGN_SECRETS = {
    "Geheimkontakt Albrecht Einkauf",
    "Geheimziel Albrecht Rahmenvertrag",
    "Geheimlob Albrecht Lieferung",
    "99.999,99 €",
    "€99,999.99",
    "33.333,33 €",
    "€33,333.33",
}
GROUP_PRAISE = "Sichtbares Lob Ruhrguss Vertrieb"


def plant_secrets(con) -> None:
    """Data of other KAMs that is easy to recognise, entered the way the app enters it."""
    from kam_analytics.metrics.feedback import add_feedback
    from kam_analytics.metrics.mandates import save_mandate_answers
    from kam_analytics.settings_store import save_kam_pay

    kam01 = users.scope_for_user(con, "kam01")
    save_mandate_answers(
        con,
        kam01,
        "K10012",
        THIS_YEAR,
        {
            "contact": "Geheimkontakt Albrecht Einkauf",
            "objectives": "Geheimziel Albrecht Rahmenvertrag",
        },
    )
    today = dt.date.today()
    add_feedback(
        con,
        kam01,
        account_id="K10012",
        date=today,
        kind="praise",
        comment="Geheimlob Albrecht Lieferung",
    )
    # The pay override is logged (old -> new) in the audit log the settings page can show.
    save_kam_pay(con, Scope.everything("admin"), "KAM01", THIS_YEAR, 99999.99, 33333.33)
    kam06 = users.scope_for_user(con, "kam06")
    add_feedback(con, kam06, account_id="K10009", date=today, kind="praise", comment=GROUP_PRAISE)


@dataclass
class Facts:
    """What one KAM may see (own_*) and what must never appear for them (forbidden_*)."""

    scope: Scope
    own_ids: list[str]
    own_names: list[str]
    own_kam_name: str
    forbidden_ids: set[str]
    forbidden_names: set[str]
    forbidden_kam_ids: set[str]
    forbidden_kam_names: set[str]
    forbidden_figures: set[str]
    pattern: re.Pattern
    mask: re.Pattern

    def leaks(self, text: str) -> list[str]:
        """Forbidden tokens found in `text` (visible names masked first, see module doc)."""
        clean = self.mask.sub(" ", normalise(text))
        return sorted(set(self.pattern.findall(clean)))

    def missing_own(self, text: str) -> list[str]:
        """Own account ids that do not appear in `text`."""
        clean = normalise(text)
        return [a for a in self.own_ids if not re.search(rf"(?<!\w){a}(?!\w)", clean)]


def normalise(text: str) -> str:
    """One space for any whitespace or <br>; no backslashes (markdown and proto escapes)."""
    text = str(text).replace("\\", "")
    text = re.sub(r"<br\s*/?>", " ", text)
    return re.sub(r"\s+", " ", text)


def _alternation(tokens) -> str:
    return "|".join(re.escape(x) for x in sorted(tokens, key=len, reverse=True))


def _figures(value) -> set[str]:
    """How a money figure is printed in either language, to the cent.

    Whole hundreds are left out: catalogue prices are round, so a KAM's own service sums hit
    round salaries and targets of others by chance (22.100,00 € on a date-dependent demo).
    """
    if value is None or pd.isna(value) or abs(float(value)) < 100 or float(value) % 100 == 0:
        return set()
    return {normalise(fmt_eur(float(value), lang)) for lang in ("de", "en")}


def load_facts(path: Path, username: str) -> Facts:
    """The allowed and forbidden sets of one KAM user, read from the database."""
    from kam_analytics.metrics import bonus as bn

    con = db.connect(path)
    try:
        scope = users.scope_for_user(con, username)
        assert scope.role == "kam" and scope.kam_id
        own = visible_account_ids(con, scope)
        accounts = con.execute("SELECT account_id, name, kam_id FROM accounts").df()
        kams = con.execute("SELECT kam_id, name, email, base_salary, target_bonus FROM kams").df()
        prices = con.execute("SELECT cost, list_value FROM service_catalogue").fetchall()
        everyone = Scope.everything()
        standings = bn.compute_standings(con, year=THIS_YEAR, as_of=None, scope=everyone)
    finally:
        con.close()
    mine = accounts[accounts["account_id"].isin(own)]
    theirs = accounts[~accounts["account_id"].isin(own)]
    own_names = [n for n in mine["name"] if isinstance(n, str) and n]
    # KAMs of visible accounts (a child account of the KAM's group may have another KAM) are
    # shown with that account; every other KAM is forbidden.
    seen_kams = {scope.kam_id, *[k for k in mine["kam_id"] if isinstance(k, str)]}
    other = kams[~kams["kam_id"].isin(seen_kams)]
    forbidden_names = {n for n in theirs["name"] if isinstance(n, str) and n} - set(own_names)
    kam_names = {n for n in other["name"] if isinstance(n, str) and n}
    emails = {e for e in other["email"] if isinstance(e, str) and e}
    own_kam = kams[kams["kam_id"] == scope.kam_id].iloc[0]
    own_figs = _figures(own_kam["base_salary"]) | _figures(own_kam["target_bonus"])
    figures: set[str] = set()
    for row in other.itertuples():
        figures |= _figures(row.base_salary) | _figures(row.target_bonus)
    for s in standings:
        if s.kam_id == scope.kam_id:
            own_figs |= _figures(s.now.bonus) | _figures(s.best.bonus) | _figures(s.worst.bonus)
        elif s.kam_id not in seen_kams:
            figures |= _figures(s.now.bonus) | _figures(s.best.bonus) | _figures(s.worst.bonus)
    # Catalogue prices are shown to everyone (matrix, account page): another KAM's bonus that
    # happens to equal a list value is no leak.
    public = {fig for row in prices for value in row for fig in _figures(value)}
    figures -= own_figs | public
    secrets = FOREIGN_SECRETS if "K10009" in own else FOREIGN_SECRETS | {GROUP_PRAISE}
    forbidden = (
        {normalise(x) for x in secrets}
        | set(theirs["account_id"])
        | forbidden_names
        | set(other["kam_id"])
        | kam_names
        | emails
        | figures
    )
    return Facts(
        scope=scope,
        own_ids=list(own),
        own_names=own_names,
        own_kam_name=str(own_kam["name"]),
        forbidden_ids=set(theirs["account_id"]),
        forbidden_names=forbidden_names,
        forbidden_kam_ids=set(other["kam_id"]),
        forbidden_kam_names=kam_names,
        forbidden_figures=figures,
        pattern=re.compile(rf"(?<!\w){'(' + _alternation(forbidden) + ')'}(?!\w)"),
        mask=re.compile(rf"(?<!\w)(?:{_alternation(own_names)})(?!\w)"),
    )


@pytest.fixture(scope="module")
def facts(walk_db) -> dict[str, Facts]:
    return {name: load_facts(walk_db, name) for name in WALKERS}


def test_forbidden_sets_are_real(facts):
    """The demo gives the walk something to find: a group with KAM-less children, other KAMs."""
    f6, f2 = facts["kam06"], facts["kam02"]
    assert f6.own_ids == ["K10002", "K10009", "K10049", "K10056", "K10081", "K10096"]
    assert f2.own_ids == ["K10026", "K10038"]
    assert f6.own_kam_name == "Markus Neumann" and f2.own_kam_name == "Jan Petersen"
    assert len(f6.forbidden_ids) == 114 and len(f2.forbidden_ids) == 118
    assert f6.forbidden_kam_ids == {f"KAM{i:02d}" for i in range(1, 11)} - {"KAM06"}
    assert "Jan Petersen" in f6.forbidden_kam_names and "Markus Neumann" in f2.forbidden_kam_names
    # Target bonuses and base salaries of the others are there to be caught (cents, both languages)
    # The other KAMs' bonus standings are there to be caught (cents, both languages)
    assert len(f6.forbidden_figures) >= 20
    assert "12.700,00 €" not in f6.forbidden_figures  # whole hundreds: see _figures
    assert f2.leaks(f"„{GROUP_PRAISE}“ 33.333,33 €") == ["33.333,33 €", GROUP_PRAISE]
    assert f6.leaks(GROUP_PRAISE) == []
    # Token matching: a forbidden id inside a longer word is no leak, a whole one is
    assert f6.leaks("K100011 xK10001 KAM011") == []
    assert f6.leaks("Kunde K10001, KAM KAM01 (Katrin Möller)") == [
        "K10001",
        "KAM01",
        "Katrin Möller",
    ]
    # Visible names are masked first; escaped markdown and line breaks are normalised
    assert f2.leaks("Spreeoptik Feinkost GmbH") == []
    assert f2.leaks("Spreeoptik Backwaren<br>AG") == ["Spreeoptik Backwaren AG"]
    fig = sorted(f6.forbidden_figures)[0].replace(".", "\\.")
    assert f6.leaks(f"Albrecht Logistik KG, {fig}") == sorted(
        [sorted(f6.forbidden_figures)[0], "Albrecht Logistik KG"]
    )
    assert f6.leaks("0,K10012,Albrecht Logistik KG") == ["Albrecht Logistik KG", "K10012"]  # CSV


# --- the walk through the pages --------------------------------------------------------------


def element_text(at: AppTest) -> str:
    """Everything the current run shows: every element's proto text, table cells, chart data."""
    parts: list[str] = []
    for node in at._tree:
        proto = getattr(node, "proto", None)
        if proto is None:
            continue
        kind = type(node).__name__
        if kind in ("Dataframe", "Table"):
            frame = node.value
            if hasattr(frame, "data"):  # a Styler
                frame = frame.data
            parts.append(frame.to_csv())
            parts.append(" ".join(str(c) for c in frame.columns))
            continue
        try:
            parts.append(text_format.MessageToString(proto, as_utf8=True))
        except Exception:  # noqa: BLE001 - a proto without text form: the fields below suffice
            pass
        spec = getattr(proto, "spec", "")
        if spec:
            parts.append(json.dumps(json.loads(spec), ensure_ascii=False))
    return "\n".join(parts)


def sign_in(username: str) -> AppTest:
    """The app after a real sign-in through the form."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    at.text_input(key="auth_username").input(username)
    at.text_input(key="auth_password").input(users.demo_password(username))
    [b for b in at.button if b.label == t("auth_submit")][0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["scope"].username == username
    return at


def nav_pages(at: AppTest) -> list[str]:
    """The pages the navigation offers, as 'pages/x.py', in order."""
    paths = [info.get("script_path") for info in at._registered_pages.values()]
    return [f"pages/{Path(p).name}" for p in paths if p]


def _raw(option: str):
    """The value behind a picker's shown option: the id or year in front, None for 'all'."""
    first = option.split()[0]
    if option in (t("all", "de"), t("all", "en")):
        return None
    return int(first) if first.isdigit() else first


def _select_each(at: AppTest, key: str, record) -> None:
    """Choose every option of the selectbox `key` in turn, recording each run.

    Set through session_state: AppTest's select_index() cannot map a shown option back
    through a format_func like `dict.get`.
    """
    boxes = [s for s in at.selectbox if s.key == key]
    if not boxes:
        return
    for i, option in enumerate(boxes[0].options):
        at.session_state[key] = _raw(option)
        at.run()
        record(f"{key}={i}")


def _widen(at: AppTest, key: str, record) -> None:
    """Select every option of the multiselect `key` at once."""
    boxes = [m for m in at.multiselect if m.key == key]
    if boxes and boxes[0].options:
        at.session_state[key] = [_raw(o) for o in boxes[0].options]
        at.run()
        record(f"{key}=all")


def _all_years(at: AppTest, key: str, record) -> None:
    """The 'all years' option (index 0) of a year selectbox."""
    if [s for s in at.selectbox if s.key == key]:
        at.session_state[key] = None
        at.run()
        record(f"{key}=all")


# Per page: what to enumerate beyond the default state.
def _walk_page(at: AppTest, page: str, record) -> None:
    name = Path(page).stem
    if name == "overview":
        _select_each(at, "ov_year", record)
    elif name in ("services", "giveaways"):
        prefix = "svc" if name == "services" else "gv"
        _all_years(at, f"{prefix}_year", record)
        _widen(at, f"{prefix}_kams", record)
        for label in open_each_tab(at, f"pages/{name}.py"):
            record(f"tab={label}")
        _select_each(at, f"{prefix}_drill_account", record)
    elif name == "profitability":
        _all_years(at, "pf_year", record)
    elif name == "retention":
        _widen(at, "rt_tiers", record)
        _widen(at, "rt_trend", record)
        _select_each(at, "rt_year", record)
    elif name == "mandate":
        _select_each(at, "md_account", record)
    elif name == "bonus":
        _select_each(at, "bn_kam", record)
        for key in [m.key for m in at.multiselect if m.key and m.key.startswith("bn_lost_")]:
            _widen(at, key, record)
        _select_each(at, "bn_year", record)
    elif name == "account":
        _select_each(at, "acc_id", record)
    elif name == "matrix":
        _select_each(at, "mx_year", record)
    elif name == "settings":
        _select_each(at, "set_plan_year", record)


def walk(username: str) -> dict:
    """Sign in as `username`, open every page offered and enumerate its pickers."""
    at = sign_in(username)
    pages = nav_pages(at)
    shown: dict[str, str] = {"sidebar after sign-in": element_text(at)}
    problems: list[str] = []
    for page in pages:
        at.switch_page(page).run()

        def record(state: str, page=page) -> None:
            label = f"{page} · {state}"
            shown[label] = element_text(at)
            problems.extend(f"{label}: {e.value}" for e in at.exception)

        record("default")
        _walk_page(at, page, record)
    return {"pages": pages, "shown": shown, "problems": problems}


@pytest.fixture(scope="module")
def walks(walk_db, facts) -> dict[str, dict]:
    """Per KAM: the pages offered and the text of every run, keyed by 'page · state'."""
    return {username: walk(username) for username in WALKERS}


KAM_PAGES = [
    "pages/overview.py",
    "pages/changes.py",
    "pages/services.py",
    "pages/giveaways.py",
    "pages/matrix.py",
    "pages/profitability.py",
    "pages/retention.py",
    "pages/mandate.py",
    "pages/bonus.py",
    "pages/account.py",
    "pages/settings.py",
]


@pytest.mark.parametrize("username", WALKERS)
def test_kam_navigation_offers_the_kam_pages(walks, username):
    assert walks[username]["pages"] == KAM_PAGES
    assert walks[username]["problems"] == []


@pytest.mark.parametrize("username", WALKERS)
def test_walk_shows_no_other_kams_data(walks, facts, username):
    f = facts[username]
    found = {
        label: leaks for label, text in walks[username]["shown"].items() if (leaks := f.leaks(text))
    }
    assert found == {}


@pytest.mark.parametrize("username", WALKERS)
def test_walk_shows_the_kams_own_accounts(walks, facts, username):
    """The walk can fail: every own account id is shown somewhere, each page shows some data."""
    f = facts[username]
    shown = walks[username]["shown"]
    everything = "\n".join(shown.values())
    assert f.missing_own(everything) == []
    assert f.own_kam_name in everything
    if "K10009" in f.own_ids:  # the group child's praise reaches the group's KAM
        assert GROUP_PRAISE in everything
    # Each account page run shows one own account in its header; every own account gets one.
    headers = [text for label, text in shown.items() if label.startswith("pages/account.py · acc")]
    assert len(headers) == len(f.own_ids)
    for page in ("overview", "services", "profitability", "retention", "bonus", "account"):
        text = shown[f"pages/{page}.py · default"]
        assert any(a in text for a in f.own_ids), page


def test_bonus_picker_offers_only_the_own_kam(walks, facts):
    for username in WALKERS:
        f = facts[username]
        runs = [label for label in walks[username]["shown"] if label.startswith("pages/bonus.py")]
        assert "pages/bonus.py · bn_kam=0" in runs
        assert "pages/bonus.py · bn_kam=1" not in runs  # exactly one option: the KAM themself
        assert f.own_kam_name in walks[username]["shown"]["pages/bonus.py · bn_kam=0"]


def test_overview_counts_only_the_kams_key_accounts(walk_db):
    """Concrete: KAM06 has one key account (K10002), KAM02 two (K10026, K10038)."""
    for username, expected in (("kam06", "1"), ("kam02", "2")):
        at = sign_in(username)
        assert at.metric[0].label == key_accounts_label()
        assert at.metric[0].value == expected
        table = at.dataframe[0].value
        assert set(table[t("ov_col_account_id")]) <= set(
            {"kam06": ["K10002"], "kam02": ["K10026", "K10038"]}[username]
        )


# --- downloads ------------------------------------------------------------------------------


def xlsx_text(data: bytes) -> str:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    cells = []
    for sheet in book.worksheets:
        cells.append(sheet.title)
        for row in sheet.iter_rows(values_only=True):
            cells.extend(str(v) for v in row if v is not None)
    return "\n".join(cells)


def pptx_text(data: bytes) -> str:
    prs = Presentation(io.BytesIO(data))
    parts = []
    for slide in prs.slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                parts.append(shape.text_frame.text)
            if getattr(shape, "has_table", False) and shape.has_table:
                for row in shape.table.rows:
                    parts.extend(cell.text for cell in row.cells)
        if slide.has_notes_slide:
            parts.append(slide.notes_slide.notes_text_frame.text)
    parts.append(str(prs.core_properties.title or ""))
    return "\n".join(parts)


def pdf_text(data: bytes, tmp_path: Path) -> str:
    src = tmp_path / "doc.pdf"
    src.write_bytes(data)
    done = subprocess.run(
        ["pdftotext", "-layout", str(src), "-"], capture_output=True, text=True, check=True
    )
    return done.stdout


def page_tables(con, scope: Scope) -> dict[str, pd.DataFrame]:
    """The frames behind every page table (and table download), from the pages' own functions."""
    from kam_analytics.metrics import giveaways as gv
    from kam_analytics.metrics import mandates as md
    from kam_analytics.metrics import overview as ov
    from kam_analytics.metrics import profitability as pf
    from kam_analytics.metrics import retention as rt
    from kam_analytics.metrics import services as sv
    from kam_analytics.metrics.account import account_summary, select_account_options
    from kam_analytics.metrics.bonus import report_bonus
    from kam_analytics.metrics.giveaways import report_giveaways
    from kam_analytics.metrics.retention import report_retention
    from kam_analytics.metrics.services import report_services
    from kam_analytics.settings_store import get_kam_pay

    as_of = default_as_of(THIS_YEAR, dt.date.today())
    tables: dict[str, pd.DataFrame] = {
        "overview key accounts": ov.select_key_accounts(con, scope, THIS_YEAR, as_of),
        "overview revenue by month": ov.select_revenue_by_month(con, scope, THIS_YEAR, as_of),
        "overview value by tier": ov.select_service_value_by_tier(con, scope, THIS_YEAR, as_of),
        "profitability": pf.account_profitability(con, year=None, scope=scope),
        "tier-fit alerts": pf.tier_fit_alerts(con, year=None, scope=scope),
        "mandates": md.mandate_overview(con, year=THIS_YEAR, scope=scope),
        "kam pay": get_kam_pay(con, THIS_YEAR, scope),
        "account options": select_account_options(con, scope),
    }
    events = sv.select_service_events(con, scope, year=None)
    tables["service events"] = events
    summaries = sv.summarise_service_events(con, scope, year=None)
    for dim in ("account", "tier", "kam", "service", "month"):
        tables[f"services by {dim}"] = summaries[dim]
    found = gv.select_findings(con, scope, year=None)
    tables["giveaway findings"] = found
    for by in ("account_id", "kam_id", "service_code", "tier"):
        tables[f"giveaways by {by}"] = gv.totals_by(found, by)
    detail = rt.compute_retention(con, year=THIS_YEAR, as_of=None, scope=scope, tiers=None)
    tables["retention detail"] = detail
    tables["retention by kam"] = rt.summarize_retention(detail, ["kam_id", "kam_name"])
    tables["retention cohorts"] = rt.cohort_table(
        con, as_of=dt.date.today(), scope=scope, tiers=None
    )
    tables["revenue trend"] = rt.revenue_trend(
        con, account_ids=list(detail["account_id"]), until=dt.date.today(), scope=scope
    )
    for kind, fn in (
        ("services", report_services),
        ("giveaways", report_giveaways),
        ("retention", report_retention),
        ("bonus", report_bonus),
    ):
        tables[f"report {kind}"] = fn(con, year=None, as_of=None, scope=scope)
    for account_id in visible_account_ids(con, scope):
        s = account_summary(con, account_id=account_id, year=THIS_YEAR, scope=scope)
        for part in ("services", "revenue", "feedback", "entitlement"):
            tables[f"account {account_id} {part}"] = s[part]
        tables[f"account {account_id} info"] = pd.DataFrame([s["info"]])
    return tables


@pytest.mark.parametrize("username", WALKERS)
def test_table_downloads_show_no_other_kams_data(walk_db, facts, username):
    from kam_analytics.exports.tables import frame_to_csv_de, frame_to_xlsx

    f = facts[username]
    con = db.connect(walk_db)
    try:
        tables = page_tables(con, f.scope)
    finally:
        con.close()
    found, everything = {}, []
    for name, frame in tables.items():
        texts = [
            xlsx_text(frame_to_xlsx(frame, sheet_name=name[:31], title=name)),
            frame_to_csv_de(frame).decode("utf-8-sig"),
        ]
        for text in texts:
            everything.append(text)
            if leaks := f.leaks(text):
                found[name] = leaks
    assert found == {}
    assert f.missing_own("\n".join(everything)) == []
    # The pay table holds exactly the KAM's own row.
    assert list(tables["kam pay"]["kam_id"]) == [f.scope.kam_id]
    assert set(tables["report bonus"]["kam_id"]) == {f.scope.kam_id}


@pytest.mark.parametrize("username", WALKERS)
def test_bonus_statement_shows_only_the_own_bonus(walk_db, facts, username, tmp_path):
    from kam_analytics.exports.bonus_statement import statement_pdf, statement_xlsx
    from kam_analytics.metrics import bonus as bn

    f = facts[username]
    con = db.connect(walk_db)
    try:
        s = bn.get_standing(con, kam_id=f.scope.kam_id, year=THIS_YEAR, scope=f.scope)
        praise = [str(c) for c in bn.standing_praise(con, s, f.scope)["comment"]]
        # Asking for another KAM's standing finds nothing visible.
        other = sorted(f.forbidden_kam_ids)[0]
        with pytest.raises(NotFoundError):
            bn.get_standing(con, kam_id=other, year=THIS_YEAR, scope=f.scope)
    finally:
        con.close()
    for lang in ("de", "en"):
        pdf = pdf_text(statement_pdf(s, lang, praise=praise), tmp_path)
        book = xlsx_text(statement_xlsx(s, lang))
        for text in (pdf, book):
            assert f.leaks(text) == []
            assert f.own_kam_name in text or f.scope.kam_id in text
        # The statement shows the KAM's own bonus now (the PDF as text, the XLSX as a number).
        assert normalise(fmt_eur(s.now.bonus, lang)) in normalise(pdf)
        assert str(s.now.bonus) in book


def test_matrix_sheet_downloads_hold_no_account_data(walk_db, facts, tmp_path):
    from kam_analytics.exports import matrix_sheet as ms

    f = facts["kam02"]
    con = db.connect(walk_db)
    try:
        pdf = pdf_text(ms.matrix_pdf(con, THIS_YEAR, "de"), tmp_path)
        book = xlsx_text(ms.matrix_xlsx(con, THIS_YEAR, "de"))
    finally:
        con.close()
    for text in (pdf, book):
        assert f.leaks(text) == []
        assert "Expressfracht" in text


# --- decks ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium():
    from kam_analytics.exports import charts
    from tests.conftest import require_chromium

    require_chromium()
    yield
    charts.stop_server()


def test_customer_decks_show_only_the_account(walk_db, facts, chromium):
    """Every own account's deck (PPTX text and the data its charts plot) stays inside scope."""
    from kam_analytics.exports.deck import build_account_deck
    from kam_analytics.metrics.account_value import collect_account_data

    found, built = {}, []
    con = db.connect(walk_db)
    try:
        for username in WALKERS:
            f = facts[username]
            for account_id in f.own_ids:
                data = build_account_deck(con, account_id, THIS_YEAR - 1, scope=f.scope, lang="de")
                text = pptx_text(data)
                chart_data = collect_account_data(
                    con, account_id, THIS_YEAR - 1, scope=f.scope, lang="de"
                )
                frames = "\n".join(
                    v.to_csv() if isinstance(v, pd.DataFrame) else str(v)
                    for v in vars(chart_data).values()
                )
                if leaks := f.leaks(text) + f.leaks(frames):
                    found[(username, account_id)] = sorted(set(leaks))
                assert chart_data.account["account_id"] == account_id
                assert normalise(chart_data.account["name"]) in normalise(text), account_id
                built.append(account_id)
    finally:
        con.close()
    assert found == {}
    assert len(built) == 8


@pytest.mark.parametrize(
    ("username", "account_id"),
    [
        ("kam02", "K10012"),  # KAM01's key account
        ("kam02", "K10009"),  # child of KAM06's group, no KAM of its own
        ("kam06", "K10026"),  # KAM02's key account
        ("kam06", "K10001"),  # no KAM at all
    ],
)
def test_deck_of_a_foreign_account_is_refused(walk_db, facts, username, account_id):
    from kam_analytics.exports.deck import build_account_deck

    con = db.connect(walk_db)
    try:
        with pytest.raises(AccessDeniedError):
            build_account_deck(con, account_id, THIS_YEAR - 1, scope=facts[username].scope)
    finally:
        con.close()


def test_review_pack_is_refused_to_a_kam(walk_db, facts):
    from kam_analytics.exports.review_pack import build_review_pack

    con = db.connect(walk_db)
    try:
        with pytest.raises(AccessDeniedError):
            build_review_pack(con, THIS_YEAR - 1, scope=facts["kam02"].scope)
    finally:
        con.close()


def test_foreign_account_lookups_find_nothing(walk_db, facts):
    """Asking the library directly for another KAM's account yields an error or nothing."""
    from kam_analytics.metrics import mandates as md
    from kam_analytics.metrics import retention as rt
    from kam_analytics.metrics.account import account_summary
    from kam_analytics.metrics.feedback import list_feedback

    f = facts["kam02"]
    con = db.connect(walk_db)
    try:
        with pytest.raises(KamError):
            account_summary(con, account_id="K10012", year=THIS_YEAR, scope=f.scope)
        with pytest.raises(KamError):
            md.get_mandate(con, "K10012", THIS_YEAR, f.scope)
        trend = rt.revenue_trend(
            con, account_ids=["K10012", "K10026"], until=dt.date.today(), scope=f.scope
        )
        feedback = list_feedback(con, scope=f.scope, account_id="K10012")
    finally:
        con.close()
    assert set(trend["account_id"]) == {"K10026"}
    assert feedback.empty


def test_the_walk_would_see_a_leak(walk_db, facts):
    """The collector is not blind: with an unrestricted scope the same pages show forbidden data
    in the tables, the metrics, the chart specs and the picker options."""
    f = facts["kam06"]
    at = sign_in("kam06")
    at.session_state["scope"] = Scope("kam06", "management")  # pages read the scope from here
    at.switch_page("pages/overview.py").run()
    assert at.metric[0].value == "12"
    table = "\n".join(el.value.to_csv() for el in at.dataframe)
    assert set(f.leaks(table)) >= {"K10012", "K10026", "Katrin Möller", "Albrecht Logistik KG"}
    at.switch_page("pages/giveaways.py").run()
    charts = "\n".join(el.proto.spec for el in at.get("plotly_chart"))
    assert f.leaks(json.dumps(json.loads(charts), ensure_ascii=False)) != []
    assert "Katrin Möller" in f.leaks(element_text(at))  # the KAM filter's options
    at.switch_page("pages/bonus.py").run()
    assert "KAM01" in f.leaks(element_text(at))


# --- every scoped metrics function, called directly ------------------------------------------

SKIP = {
    "add_feedback",
    "save_mandate_answers",
    "save_mandate_ratings",
    "can_answer",
    "can_rate",
    # decorate or compare what the caller already holds; their scoping is tested with a KAM in
    # test_abc.py and test_changes.py
    "with_abc",
    "compare_states",
    "report_changes",
    # need an ended year (the walk asks for the running one); KAM scope: test_backtest.py
    "backtest_frame",
    "report_backtest",
    "backtest_thresholds",
}


def _as_text(value) -> str:
    """Any result of a metrics function as text: frames as CSV, containers recursively."""
    if isinstance(value, pd.DataFrame):
        return value.to_csv()
    if isinstance(value, dict):
        return "\n".join(f"{k}: {_as_text(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return "\n".join(_as_text(v) for v in value)
    if hasattr(value, "__dataclass_fields__"):
        return _as_text(vars(value))
    return str(value)


def scoped_functions():
    """(module, name, function) of every public kam_analytics.metrics function taking a scope."""
    import importlib
    import inspect
    import pkgutil

    import kam_analytics.metrics as metrics

    for info in pkgutil.iter_modules(metrics.__path__):
        module = importlib.import_module(f"kam_analytics.metrics.{info.name}")
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ != module.__name__ or name.startswith("_") or name in SKIP:
                continue
            if "scope" in inspect.signature(fn).parameters:
                yield info.name, name, fn


def test_every_scoped_metrics_function_keeps_to_the_kam(walk_db, facts):
    """Below the pages: each metrics function, asked with the KAM's scope for the KAM's own and
    for a foreign account/KAM, returns nothing of another KAM (or refuses with a KamError)."""
    import inspect

    f = facts["kam02"]
    today = dt.date.today()
    own = {"account_id": "K10026", "kam_id": "KAM02"}
    foreign = {"account_id": "K10012", "kam_id": "KAM01"}
    common = {
        "scope": f.scope,
        "year": THIS_YEAR,
        "as_of": today,
        "until": today,
        "start": dt.date(THIS_YEAR - 1, 1, 1),
        "end": today,
        "window": 90,
        "day": today,
        "limit": 50,
        "tiers": None,
        "account_ids": ["K10026", "K10038", "K10012", "K10002"],
        "kam_ids": ["KAM02", "KAM01", "KAM06"],
    }
    con = db.connect(walk_db)
    called, refused, found = [], [], {}
    try:
        for module, name, fn in scoped_functions():
            params = inspect.signature(fn).parameters
            for label, extra in (("own", own), ("foreign", foreign)):
                if label == "foreign" and not set(extra) & set(params):
                    continue
                args = {k: v for k, v in {**common, **extra}.items() if k in params and k != "con"}
                if "standing" in params:
                    args["standing"] = bn_standing(con, f.scope, extra["kam_id"])
                    if args["standing"] is None:
                        refused.append(f"{module}.{name}/{label}")
                        continue
                try:
                    result = fn(con, **args) if "con" in params else fn(**args)
                except KamError:
                    refused.append(f"{module}.{name}/{label}")
                    continue
                called.append(f"{module}.{name}/{label}")
                if leaks := f.leaks(_as_text(result)):
                    found[f"{module}.{name}/{label}"] = leaks
    finally:
        con.close()
    assert found == {}
    assert len(called) >= 45, called
    # Asking for a foreign account or KAM by id is refused outright where the function is
    # about one account or KAM.
    assert {
        "account.account_summary/foreign",
        "account.select_account_info/foreign",
        "bonus.get_standing/foreign",
        "mandates.get_mandate/foreign",
        "mandates.select_account_owner/foreign",
    } <= set(refused)
    assert not any(r.endswith("/own") for r in refused), refused


def bn_standing(con, scope: Scope, kam_id: str):
    """The KAM's standing, or None when `kam_id` is not visible to the scope."""
    from kam_analytics.metrics import bonus as bn

    try:
        return bn.get_standing(con, kam_id=kam_id, year=THIS_YEAR, scope=scope)
    except KamError:
        return None
