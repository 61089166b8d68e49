"""A deterministic, fictional demo company ("Demo-Firma") written into a DuckDB file.

`write_demo(path, scale, seed, today)` fills every importable table, the catalogue, the
entitlement matrix, bonus plans and KAM pay for three full years before the current year plus
the current year to date (`small`), or four full years plus the current year (`large`). The
same seed and `today` give the same content in every table; nothing reads the wall clock except
`today` defaulting to `date.today()`.

Everything is generated vectorised with numpy and inserted from Arrow tables, so the large
company (5,000 accounts, more than 2 million order lines) takes seconds. The `xl` company (ten
times large) generates and writes its orders, shipments and service events month by month,
each month from its own generator seeded by (seed, month), so memory stays bounded and the
same seed still gives the same data.

Stories a user recognises at first look (see STORIES; the ids of the accounts and KAMs that
play them are stored in settings key 'demo' as JSON):

(a) ``slipping_key_account`` — one key account is quietly slipping away: through the last
    12 months its orders become rarer and smaller, its last order is more than 120 days ago.
(b) ``weekly_free_express`` — one C customer has received an express delivery every Friday
    for the last 12 months, never billed and never shown on an invoice (billing mode silent).
(c) ``exemplary_kam`` — one KAM's mandates are exemplary: complete every year (also this
    year), rated 90–100 %, surveys 9–10, praise quoting the KAM by name.
(d) ``at_risk_kam`` — one KAM's key accounts are all at risk: trailing 12-month revenue down
    by far more than 25 %, no order for 50+ days against a median gap of about a week,
    latest survey 2+ points below the one before, complaints, this year's mandate incomplete.

Giveaways everywhere: A, B and C accounts receive KEY-only services now and then, and
billed-policy services (custom packaging, training, express freight) are often not billed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
from numpy.random import PCG64, Generator

from kam_analytics import catalogue, db, schema
from kam_analytics.settings_store import upsert_setting
from kam_analytics.summaries import refresh_summaries, summary_sources
from kam_analytics.write_log import note_writes

STORIES = {
    "slipping_key_account": (
        "A key account quietly slipping away: fewer and smaller orders through the last "
        "12 months, last order more than 120 days ago."
    ),
    "weekly_free_express": (
        "A C customer receiving a free express delivery every Friday for the last 12 months, "
        "silent (never billed, never shown)."
    ),
    "exemplary_kam": (
        "A KAM with exemplary mandates: complete every year, rated 90-100 %, surveys 9-10."
    ),
    "at_risk_kam": (
        "A KAM whose key accounts are all at risk: revenue down, long gaps since the last "
        "order, falling satisfaction, incomplete mandate."
    ),
}

BONUS_DEFAULTS = {
    "w_retention": 0.6,
    "w_mandate": 0.3,
    "w_feedback": 0.1,
    "retention_gate": 0.5,
    "cap": 1.2,
}

_EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class _Scale:
    n_accounts: int
    n_key: int
    n_kams: int
    full_years: int
    order_factor: float  # multiplies the per-tier order rates
    service_factor: float  # multiplies the per-tier service rates
    group_children: tuple[int, ...] | None  # children per customer group (None: random)
    n_groups: int
    # Generate and write orders, shipments and service events month by month (bounded
    # memory) instead of all at once; each month draws from its own seeded generator.
    by_month: bool = False


SCALES = {
    "small": _Scale(120, 12, 10, 3, 1.0, 1.0, (2, 3, 4), 3),
    "large": _Scale(5000, 150, 40, 4, 3.4, 4.5, None, 40),
    # Ten times the large company (a big wholesaler's five years): 50,000 accounts, about
    # 22 million order lines, 8 million shipments, 2.3 million service events.
    "xl": _Scale(50_000, 1_500, 400, 4, 3.4, 4.5, None, 400, by_month=True),
}

TIER_SHARES = {"A": 0.20, "B": 0.33}  # of the non-key accounts; C is the rest

# Orders per year, lines per order beyond the first (Poisson mean), revenue per line (€),
# express share of shipments, surveys / praise / complaints per year.
_TIER_ORDERS = {"KEY": 40.0, "A": 20.0, "B": 10.0, "C": 4.0}
_TIER_EXTRA_LINES = {"KEY": 3.0, "A": 2.0, "B": 1.4, "C": 0.8}
_TIER_LINE_VALUE = {"KEY": 2300.0, "A": 1150.0, "B": 600.0, "C": 280.0}
_TIER_EXPRESS = {"KEY": 0.05, "A": 0.045, "B": 0.035, "C": 0.03}
_TIER_SURVEYS = {"KEY": 2.0, "A": 0.7, "B": 0.3, "C": 0.1}
_TIER_PRAISE = {"KEY": 0.6, "A": 0.25, "B": 0.1, "C": 0.05}
_TIER_COMPLAINTS = {"KEY": 0.4, "A": 0.25, "B": 0.12, "C": 0.06}

# Service events per account and year, by tier (EXPRESS_FREIGHT comes from shipments).
_SERVICE_RATES = {
    "SHORTAGE_SUPPLY": {"KEY": 3.0, "A": 0.3, "B": 0.08, "C": 0.02},
    "INNOVATION_WS": {"KEY": 1.0, "A": 0.08, "B": 0.02, "C": 0.0},
    "DEDICATED_CONTACT": {"KEY": 12.0, "A": 0.6, "B": 0.1, "C": 0.0},
    "CUSTOM_DEV": {"KEY": 0.3, "A": 0.03, "B": 0.0, "C": 0.0},
    "CUSTOM_PACKAGING": {"KEY": 4.0, "A": 2.0, "B": 0.6, "C": 0.08},
    "EXCL_MARKETING": {"KEY": 0.5, "A": 0.05, "B": 0.02, "C": 0.0},
    "GROUP_REPORTING": {"KEY": 1.0, "A": 0.05, "B": 0.0, "C": 0.0},
    "CENTRAL_BONUS": {"KEY": 1.0, "A": 0.1, "B": 0.02, "C": 0.0},
    "TRAINING": {"KEY": 2.0, "A": 1.0, "B": 0.4, "C": 0.12},
    "FOCUS_GROUP": {"KEY": 1.0, "A": 0.1, "B": 0.03, "C": 0.0},
    "SATISFACTION_SURVEY": {"KEY": 1.0, "A": 0.05, "B": 0.0, "C": 0.0},
}
_MAX_QUANTITY = {"TRAINING": 3, "CUSTOM_PACKAGING": 4, "SHORTAGE_SUPPLY": 2}

# How a service given under each policy was handled: P(silent), P(waived), P(billed).
_MODE_BY_POLICY = {
    "free": (0.6, 0.4, 0.0),
    "waived": (0.25, 0.75, 0.0),
    "billed": (0.2, 0.1, 0.7),
    "not_offered": (0.7, 0.2, 0.1),
}
_EXPRESS_MODES = {"KEY": (0.25, 0.7, 0.05), "other": (0.25, 0.1, 0.65)}
_MONTH_SEASON = np.array([0.9, 0.95, 1.0, 1.0, 1.0, 0.95, 0.85, 0.7, 1.0, 1.0, 1.0, 0.8])

_STEMS = (
    "Nordstahl",
    "Rheintec",
    "Elbwerk",
    "Alpenform",
    "Isartech",
    "Weserplast",
    "Mainkraft",
    "Saalemetall",
    "Harzholz",
    "Ruhrguss",
    "Moselpack",
    "Spreeoptik",
    "Donaulicht",
    "Neckartherm",
    "Emsbau",
    "Lahnsystem",
    "Oderflex",
    "Fuldatec",
    "Havelmed",
    "Innwerk",
    "Lechform",
    "Ilmtronic",
    "Werratex",
    "Allgäuplast",
    "Eifelstein",
    "Taunusdruck",
    "Ostseefrost",
    "Heidekorn",
    "Vogelsberg",
    "Schwarzwald-Präzision",
    "Bodenseetec",
    "Frankenguss",
    "Hanselog",
    "Kinzigbau",
    "Murgtal",
    "Jagsttec",
    "Kochertal",
    "Altmühlwerk",
    "Regnitztec",
    "Sauerland-Draht",
    "Westerwald-Keramik",
    "Odenwald-Holz",
    "Rhönquell",
    "Spessart-Metall",
    "Erzgebirgs-Technik",
    "Lausitz-Glas",
    "Uckerfeld",
    "Müritzwerk",
    "Brenner",
    "Hartwig",
    "Lindemann",
    "Kessler",
    "Albrecht",
    "Seidel",
    "Winkler",
    "Ostermann",
)
_INDUSTRIES = {
    "Maschinenbau": ("Maschinenbau", "Anlagenbau", "Antriebstechnik"),
    "Automobilzulieferer": ("Fahrzeugteile", "Automotive Components"),
    "Lebensmittel": ("Feinkost", "Backwaren", "Getränke"),
    "Chemie": ("Chemie", "Lacke und Farben"),
    "Bau": ("Baustoffe", "Haustechnik"),
    "Elektrotechnik": ("Elektrotechnik", "Schaltanlagen"),
    "Großhandel": ("Handelshaus", "Technischer Großhandel"),
    "Medizintechnik": ("Medizintechnik", "Labortechnik"),
    "Logistik": ("Logistik",),
    "Möbel": ("Möbelwerke", "Objekteinrichtung"),
    "Kunststoff": ("Kunststofftechnik", "Verpackungen"),
}
_LEGAL_FORMS = ("GmbH", "GmbH & Co. KG", "AG", "KG", "SE", "GmbH")
_CITIES = (
    ("DE", "Stuttgart"),
    ("DE", "München"),
    ("DE", "Hamburg"),
    ("DE", "Köln"),
    ("DE", "Düsseldorf"),
    ("DE", "Frankfurt am Main"),
    ("DE", "Nürnberg"),
    ("DE", "Hannover"),
    ("DE", "Bielefeld"),
    ("DE", "Dortmund"),
    ("DE", "Leipzig"),
    ("DE", "Dresden"),
    ("DE", "Chemnitz"),
    ("DE", "Ulm"),
    ("DE", "Augsburg"),
    ("DE", "Heilbronn"),
    ("DE", "Karlsruhe"),
    ("DE", "Mannheim"),
    ("DE", "Kassel"),
    ("DE", "Osnabrück"),
    ("DE", "Paderborn"),
    ("DE", "Regensburg"),
    ("DE", "Würzburg"),
    ("DE", "Bremen"),
    ("DE", "Erfurt"),
    ("DE", "Magdeburg"),
    ("DE", "Siegen"),
    ("DE", "Pforzheim"),
    ("DE", "Reutlingen"),
    ("DE", "Göttingen"),
    ("AT", "Linz"),
    ("AT", "Graz"),
    ("CH", "St. Gallen"),
    ("CH", "Basel"),
)
_FIRST = (
    "Katrin",
    "Jan",
    "Sabine",
    "Thomas",
    "Julia",
    "Markus",
    "Anna",
    "Stefan",
    "Claudia",
    "Michael",
    "Birgit",
    "Tobias",
    "Nicole",
    "Frank",
    "Melanie",
    "Andreas",
    "Sandra",
    "Jörg",
    "Petra",
    "Matthias",
)
_LAST = (
    "Möller",
    "Petersen",
    "Kraus",
    "Berger",
    "Hofmann",
    "Neumann",
    "Lehmann",
    "Wagner",
    "Schubert",
    "Koch",
    "Fuchs",
    "Zimmermann",
    "Krüger",
    "Hahn",
    "Schröder",
    "Lorenz",
    "Busch",
    "Thiel",
    "Vogel",
    "Weiß",
)
_CONTACT_ROLES = (
    "Leiter Einkauf",
    "Leiterin Einkauf",
    "Geschäftsführer",
    "Geschäftsführerin",
    "Head of Procurement",
    "Leiterin Supply Chain",
    "Technischer Leiter",
    "Strategischer Einkauf",
)
_OBJECTIVES = (
    "Anteil am Gesamtbedarf von 40 % auf 55 % steigern",
    "Rahmenvertrag um drei Jahre verlängern",
    "Neue Produktlinie beim Kunden einführen",
    "Zweiten Standort als Abnehmer gewinnen",
    "Reklamationsquote unter 1 % halten",
    "Gemeinsames Entwicklungsprojekt zur Serienreife bringen",
)
_MEASURES = (
    "Quartalsgespräch mit dem Einkauf, Kennzahlen im Konzernreporting",
    "Monatlicher Bericht zu Liefertreue und Reklamationen",
    "Gemeinsamer Projektplan mit Meilensteinen",
    "Jährliche Zufriedenheitsbefragung und Jahresgespräch",
)
_SUPPORT = (
    "Innendienst (fester Ansprechpartner) und Anwendungstechnik",
    "Produktmanagement und Marketing",
    "Geschäftsleitung beim Jahresgespräch",
    "Logistik für Engpassbelieferung und Expressversand",
)
# Comment pools. Each KAM's comments of a year are taken from a pool in turn (not at random),
# so a KAM's page never quotes the same sentence twice in a year while the pool lasts.
_SURVEY_COMMENTS = {
    "high": (
        "Sehr zufrieden mit Lieferzeit und Ansprechpartner.",
        "Top Betreuung, schnelle Reaktion bei Engpässen.",
        "Der Workshop hat uns sehr geholfen.",
        "Liefertreue deutlich besser als bei unseren anderen Lieferanten.",
        "Das Konzernreporting spart unserem Controlling jeden Monat Arbeit.",
        "Kompetente Beratung, auch bei kurzfristigen Änderungen.",
        "Die Musterteile kamen schneller als zugesagt.",
        "Wir fühlen uns als Partner ernst genommen.",
        "Angebote kommen zügig und sind sauber kalkuliert.",
        "Die Anwendungstechnik hat unser Problem vor Ort gelöst.",
        "Zuverlässig wie immer, gerne weiter so.",
        "Die Jahresplanung mit Ihnen hat uns Sicherheit gegeben.",
    ),
    "mid": (
        "Insgesamt gut, das Lieferavis könnte früher kommen.",
        "Solide Zusammenarbeit, die Preise sind ein Thema.",
        "Ansprechpartner gut erreichbar.",
        "Qualität stimmt, die Dokumentation ist manchmal lückenhaft.",
        "Rückrufe dauern gelegentlich zu lange.",
        "Gute Ware, aber die Verpackung könnte nachhaltiger sein.",
        "Zufrieden, würden uns mehr Informationen zu Neuheiten wünschen.",
        "Bestellportal funktioniert, ist aber umständlich.",
        "In der Urlaubszeit war die Vertretung schwer zu erreichen.",
        "Lieferungen meist pünktlich, Teillieferungen nerven.",
    ),
    "low": (
        "Lieferungen kamen mehrfach verspätet.",
        "Wir vermissen einen festen Ansprechpartner.",
        "Preiserhöhung nicht nachvollziehbar.",
        "Reklamationen dauern zu lange.",
        "Der Wettbewerb bietet uns bessere Konditionen an.",
        "Zu viele wechselnde Ansprechpartner im letzten Halbjahr.",
        "Auftragsbestätigungen kommen zu spät.",
        "Die Qualität hat in den letzten Monaten nachgelassen.",
    ),
}
_PRAISE = (
    "Danke für die Eillieferung am Freitag - hat unsere Produktion gerettet.",
    "Die Schulung vor Ort war hervorragend.",
    "{kam} kümmert sich vorbildlich um unsere Anliegen.",
    "Das individuelle Verpackungskonzept spart uns viel Zeit.",
    "Der Innovationsworkshop hat uns zwei neue Produktideen gebracht.",
    "Auch im Engpass wurden wir als Erste beliefert - das vergessen wir nicht.",
    "{kam} hat unser Reklamationsproblem in zwei Tagen gelöst.",
    "Die Marketingaktion hat unseren Abverkauf spürbar belebt.",
    "Endlich ein Reporting über alle unsere Standorte.",
    "Schnelle, unkomplizierte Hilfe bei der Umstellung unserer Linie.",
    "Das Jahresgespräch mit {kam} war offen und konstruktiv.",
    "Die Sonderanfertigung passt perfekt, danke an das ganze Team.",
    "Ihr Innendienst ist der beste, mit dem wir arbeiten.",
    "Die Fokusgruppe war ein echter Mehrwert für unsere Entwickler.",
    "Pünktlich, vollständig, fehlerfrei - so soll es sein.",
    "{kam} denkt mit und schlägt von sich aus Verbesserungen vor.",
    "Die Expresszustellung hat unseren Kundentermin gerettet.",
    "Danke für die schnelle Klärung der Rechnungsfrage.",
)
_COMPLAINTS = (
    "Falsche Menge geliefert, Nachlieferung erst nach einer Woche.",
    "Rechnung fehlerhaft, Gutschrift steht noch aus.",
    "Keine Rückmeldung auf unsere Anfrage.",
    "Beschädigte Ware erhalten.",
    "Lieferschein und Ware stimmten nicht überein.",
    "Liefertermin zweimal verschoben, ohne Vorwarnung.",
    "Die Ersatzteile waren nicht vorrätig.",
    "Telefonisch niemanden erreicht, drei Tage lang.",
    "Etiketten fehlten, die Ware konnte nicht eingelagert werden.",
    "Preis auf der Rechnung höher als im Angebot.",
    "Spedition kam außerhalb des Zeitfensters.",
    "Zertifikate zur Lieferung fehlten.",
    "Die Reklamation vom Vormonat ist immer noch offen.",
    "Palette falsch gepackt, Ware umgefallen.",
    "Bestellung wurde doppelt ausgeliefert.",
    "Das zugesagte Muster kam nie an.",
)


class _Rotation:
    """Texts of a pool handed out in turn per key (KAM, year, …): no repeat while it lasts."""

    def __init__(self) -> None:
        self.next: dict = {}

    def take(self, pool: tuple, key) -> str:
        """The next text of `pool` for `key`."""
        i = self.next.get((id(pool), key), 0)
        self.next[(id(pool), key)] = i + 1
        return pool[i % len(pool)]


def _ascii(text: str) -> str:
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"), ("Ä", "Ae"), ("Ö", "Oe")):
        text = text.replace(a, b)
    return text


def _day(d: dt.date) -> int:
    return (d - _EPOCH).days


def _year_of(day: int) -> int:
    """The calendar year of a day number (see _day)."""
    return (_EPOCH + dt.timedelta(days=day)).year


def _dates(days: np.ndarray) -> pa.Array:
    """Days since 1970-01-01 as an Arrow date32 array."""
    return pa.array(np.asarray(days, dtype=np.int32), type=pa.date32())


def _money(values: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(values, dtype=np.float64), 2)


def _pick(rng: Generator, probs: tuple[float, ...], n: int) -> np.ndarray:
    """n draws of indices 0..len(probs)-1 with the given probabilities."""
    p = np.asarray(probs, dtype=float)
    return np.searchsorted(np.cumsum(p / p.sum()), rng.random(n), side="right").clip(0, len(p) - 1)


def write_demo(
    path: str | os.PathLike,
    scale: str = "small",
    seed: int = 42,
    today: dt.date | None = None,
    with_users: bool = True,
) -> None:
    """Create (or overwrite) `path` with the fictional demo company; deterministic per seed/today.

    `with_users` also creates the documented demo sign-ins (users.seed_demo_users); their
    password hashes (random salts) and sign-up times are the only content that differs between
    two runs with the same seed and `today`.
    """
    if scale not in SCALES:
        from kam_analytics.errors import ConfigError, Reason

        raise ConfigError(Reason.DEMO_SCALE_UNKNOWN, scale=str(scale))
    today = today or dt.date.today()
    target = Path(path)
    sc = SCALES[scale]
    # The month-by-month company commits year by year (memory): it is built under another
    # name and renamed when complete, so `target` never holds half a company.
    path = target.with_name(target.name + ".building") if sc.by_month else target
    for p in {target, path}:
        for f in (p, Path(str(p) + ".wal")):
            if f.exists():
                f.unlink()
    if sc.by_month:
        data = _generate_by_month(sc, np.random.default_rng(PCG64(seed)), today)
    else:
        data = _generate(sc, np.random.default_rng(PCG64(seed)), today)
    con = db.connect(path)
    try:
        con.execute("BEGIN TRANSACTION")
        if sc.by_month:
            _write_by_month(con, sc, data, scale, seed, today)
        else:
            _write(con, data, scale, seed, today)
        # The summaries of the 10x company (22 M order lines, all in this transaction's last
        # year) do not fit in the app's 1 GB; the generator is a one-off command of its own.
        with db.lifted_memory_limit(con):
            refresh_summaries(con, summary_sources())
        # Same seed, same bytes: the database id (a random uuid elsewhere) is derived too.
        con.execute(
            "UPDATE schema_meta SET value = ? WHERE key = 'database_id'",
            [f"demo-{scale}-{seed}-{today.isoformat()}"],
        )
        # a new company: every table changed (a copy beside an older file at this path)
        note_writes(con, *(name for name in schema.ALL_TABLES if name != "schema_meta"))
        con.execute("COMMIT")
        if with_users:
            from kam_analytics.users import seed_demo_users

            seed_demo_users(con)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    if path != target:
        os.replace(path, target)
        wal = Path(str(path) + ".wal")
        if wal.exists():
            os.replace(wal, Path(str(target) + ".wal"))


# --- generation ---------------------------------------------------------------------------


def _generate(sc: _Scale, rng: Generator, today: dt.date) -> dict:
    """All tables as dicts of numpy arrays / lists (no database yet)."""
    year = today.year
    years = list(range(year - sc.full_years, year + 1))
    start = dt.date(years[0], 1, 1)
    d0, d_end = _day(start), _day(today)
    out: dict = {"years": years, "today": today}

    kams = _gen_kams(sc, rng, years)
    out["kams"] = kams
    acc = _gen_accounts(sc, rng, d0, d_end)
    out["accounts"] = acc
    orders = _gen_orders(sc, rng, acc, d0, d_end)
    out["orders"], out["shipments"] = orders
    out["service_events"] = _gen_services(sc, rng, acc, d0, d_end)
    out["mandates"] = _gen_mandates(rng, acc, years, kams)
    out["feedback"] = _gen_feedback(rng, acc, kams, d0, d_end)
    out["stories"] = _stories(acc, kams)
    return out


def _generate_by_month(sc: _Scale, rng: Generator, today: dt.date) -> dict:
    """_generate without orders, shipments and service events: _write_by_month makes them."""
    year = today.year
    years = list(range(year - sc.full_years, year + 1))
    d0, d_end = _day(dt.date(years[0], 1, 1)), _day(today)
    kams = _gen_kams(sc, rng, years)
    acc = _gen_accounts(sc, rng, d0, d_end)
    return {
        "years": years,
        "today": today,
        "d0": d0,
        "d_end": d_end,
        "kams": kams,
        "accounts": acc,
        "mandates": _gen_mandates(rng, acc, years, kams),
        "feedback": _gen_feedback(rng, acc, kams, d0, d_end),
        "stories": _stories(acc, kams),
    }


def _stories(acc: dict, kams: dict) -> dict:
    """The ids of the accounts and KAMs that play the stories."""
    return {
        "slipping_key_account": acc["id"][acc["story_slipping"]],
        "weekly_free_express": acc["id"][acc["story_express"]],
        "exemplary_kam": kams["id"][0],
        "at_risk_kam": kams["id"][1],
        "at_risk_accounts": [acc["id"][i] for i in acc["story_at_risk"]],
        "exemplary_accounts": [acc["id"][i] for i in acc["story_exemplary"]],
    }


def _gen_kams(sc: _Scale, rng: Generator, years: list[int]) -> dict:
    pairs = [(f, la) for la in _LAST for f in _FIRST]
    # The first ten are fixed (readable stories); further ones come from a seeded permutation.
    fixed = [(_FIRST[i], _LAST[i]) for i in range(10)]
    rest = [p for p in pairs if p not in fixed]
    order = rng.permutation(len(rest))
    names = (fixed + [rest[i] for i in order])[: sc.n_kams]
    base = np.round(rng.uniform(70_000, 95_000, sc.n_kams), -2)
    target = np.round(rng.uniform(12_000, 25_000, sc.n_kams), -2)
    return {
        "id": [f"KAM{i + 1:02d}" for i in range(sc.n_kams)],
        "name": [f"{f} {la}" for f, la in names],
        "email": [f"{_ascii(f).lower()}.{_ascii(la).lower()}@demo-firma.de" for f, la in names],
        "base_salary": base,
        "target_bonus": target,
        "years": years,
    }


def _gen_accounts(sc: _Scale, rng: Generator, d0: int, d_end: int) -> dict:
    n, nk = sc.n_accounts, sc.n_key
    n_a = int(round((n - nk) * TIER_SHARES["A"]))
    n_b = int(round((n - nk) * TIER_SHARES["B"]))
    tier = np.array(["KEY"] * nk + ["A"] * n_a + ["B"] * n_b + ["C"] * (n - nk - n_a - n_b))
    idx_a = np.arange(nk, nk + n_a)
    idx_b = np.arange(nk + n_a, nk + n_a + n_b)
    idx_c = np.arange(nk + n_a + n_b, n)

    # Names: unique (stem, business word, legal form) combinations.
    words = [(ind, w) for ind, ws in _INDUSTRIES.items() for w in ws]
    n_combos = len(_STEMS) * len(words) * len(_LEGAL_FORMS)
    # More accounts than combinations (xl): names repeat and get a number below.
    combos = rng.choice(n_combos, n, replace=n > n_combos)
    stem_i = combos // (len(words) * len(_LEGAL_FORMS))
    word_i = (combos // len(_LEGAL_FORMS)) % len(words)
    form_i = combos % len(_LEGAL_FORMS)
    word_i = _unique_names(stem_i, word_i, words)
    city_w = np.linspace(2.0, 0.5, len(_CITIES))
    city_i = _pick(rng, tuple(city_w), n)
    industry = np.array([words[i][0] for i in word_i], dtype=object)
    city = np.array([_CITIES[i][1] for i in city_i], dtype=object)
    country = np.array([_CITIES[i][0] for i in city_i], dtype=object)
    base_name = [f"{_STEMS[s]} {words[w][1]}" for s, w in zip(stem_i, word_i, strict=True)]
    name = np.array(
        [f"{b} {_LEGAL_FORMS[f]}" for b, f in zip(base_name, form_i, strict=True)], dtype=object
    )

    # KAMs: KAM01 (exemplary) gets key accounts 0-1, KAM02 (at risk) 2-3; the other key
    # accounts go round-robin to the other KAMs so that the two story KAMs hold only those.
    kam = np.full(n, -1)
    kam[:4] = [0, 0, 1, 1]
    kam[4:nk] = 2 + np.arange(nk - 4) % (sc.n_kams - 2)
    has_a = rng.random(n_a) < 0.85
    kam[idx_a[has_a]] = rng.integers(2, sc.n_kams, has_a.sum())
    has_b = rng.random(n_b) < 0.25
    kam[idx_b[has_b]] = rng.integers(2, sc.n_kams, has_b.sum())

    # Customer groups: parents are key accounts 5.., children are A/B accounts.
    parent = np.full(n, -1)
    children_counts = (
        list(sc.group_children) if sc.group_children else list(rng.integers(2, 5, sc.n_groups))
    )
    pool = rng.permutation(np.concatenate([idx_a[10:], idx_b[10:]]))
    pos = 0
    suffixes = ("Service GmbH", "Vertrieb GmbH", "Werk {city}", "Niederlassung {city}")
    for g, k in enumerate(children_counts):
        p = 5 + g
        for j in range(k):
            c = pool[pos]
            pos += 1
            parent[c] = p
            kam[c] = kam[p] if j % 2 == 0 else -1
            industry[c] = industry[p]
            name[c] = f"{base_name[p]} " + suffixes[j % len(suffixes)].format(city=city[c])
    # Two children of a group in one city would share a name: the later one gets a number.
    seen: dict[str, int] = {}
    for i, nm in enumerate(name):
        seen[nm] = seen.get(nm, 0) + 1
        if seen[nm] > 1:
            name[i] = f"{nm} {seen[nm]}"

    # Account size, customer since, lost accounts.
    size = rng.lognormal(0.0, 0.6, n)
    since = d0 - rng.integers(200, 12_000, n)
    new = rng.random(n) < 0.12
    new[:nk] = False
    since[new] = rng.integers(d0, max(d0 + 1, d_end - 60), new.sum())
    churn = np.full(n, d_end + 1)
    lost = np.zeros(n, dtype=bool)
    lost[np.concatenate([idx_b, idx_c])] = rng.random(len(idx_b) + len(idx_c)) < 0.05
    lost &= parent < 0
    story_express = idx_c[0]
    lost[story_express] = new[story_express] = False
    since[story_express] = d0 - 800
    lo = np.maximum(since + 30, d0 + 180)
    churn[lost] = lo[lost] + (rng.random(lost.sum()) * np.maximum(d_end - 120 - lo[lost], 1))
    churn = churn.astype(np.int64)
    trend = rng.normal(0.05, 0.05, n)  # yearly growth of order frequency
    trend[:5] = (0.15, 0.15, 0.0, 0.0, 0.0)  # exemplary accounts grow; the stories' are flat
    # Story accounts of a plausible, not extreme size, so the stories do not swamp the totals.
    size[:5] = (1.3, 1.1, 0.9, 0.8, 0.9)

    ids = np.array([f"K{10001 + i}" for i in rng.permutation(n)], dtype=object)
    return {
        "id": ids,
        "name": name,
        "tier": tier,
        "kam": kam,
        "parent": parent,
        "industry": industry,
        "city": city,
        "country": country,
        "since": since,
        "churn": churn,
        "lost": lost,
        "size": size,
        "trend": trend,
        "story_exemplary": [0, 1],
        "story_at_risk": [2, 3],
        "story_slipping": 4,
        "story_express": int(story_express),
    }


def _unique_names(stem_i: np.ndarray, word_i: np.ndarray, words: list) -> np.ndarray:
    """Business words such that no two accounts share stem and word ("Spreeoptik Feinkost AG"
    and "Spreeoptik Feinkost GmbH" read as one company): a repeat moves, without a random
    draw, to the next word of the same industry (else any word) free for that stem. When
    every word of a stem is taken (the large scales have more accounts than stem × word
    pairs), the repeat stays: the legal form and city still tell those accounts apart."""
    word_i = word_i.copy()
    used = set()
    for i, (stem, word) in enumerate(zip(stem_i, word_i, strict=True)):
        if (stem, word) in used:
            same = [w for w in range(len(words)) if words[w][0] == words[word][0]]
            others = [w for w in range(len(words)) if w not in same]
            word = next(
                (w for w in same[same.index(word) :] + same + others if (stem, w) not in used),
                word,
            )
            word_i[i] = word
        used.add((stem, word))
    return word_i


def _story_factor(acc: dict, a: np.ndarray, days: np.ndarray, d_end: int):
    """Order keep-probability and revenue multiplier of the story accounts (1 for others)."""
    keep = np.ones(len(a))
    value = np.ones(len(a))
    age = d_end - days  # days before today
    slip = a == acc["story_slipping"]
    frac = np.clip((365 - age) / (365 - 130), 0, 1)  # 0 a year ago -> 1 at 130 days ago
    keep[slip] = np.where(age[slip] < 130, 0.0, 1 - 0.9 * frac[slip])
    value[slip] = 1 - 0.6 * frac[slip]
    risk = np.isin(a, acc["story_at_risk"])
    frac = np.clip((365 - age) / (365 - 50), 0, 1)
    keep[risk] = np.where(age[risk] < 50, 0.0, 1 - 0.7 * frac[risk])
    value[risk] = 1 - 0.4 * frac[risk]
    return keep, value


def _gen_orders(
    sc: _Scale,
    rng: Generator,
    acc: dict,
    d0: int,
    d_end: int,
    period: tuple[int, int] | None = None,
    first_order: int = 1,
):
    """Orders and shipments of the days in `period` [p0, p1) (default: d0 to d_end), their
    order numbers counted from `first_order`."""
    p0, p1 = period or (d0, d_end + 1)
    n = len(acc["id"])
    n_days = p1 - p0
    tiers = acc["tier"]
    rate = np.array([_TIER_ORDERS[t] for t in tiers]) * sc.order_factor * acc["size"] ** 0.3
    # Candidates at 7/5 of the rate on every day, weekends dropped, then thinned by season,
    # the account's growth trend (0.6 at mid-period) and the stories.
    cand = rng.poisson(rate * 1.4 / (0.6 * _MONTH_SEASON.mean()) * n_days / 365.0)
    a = np.repeat(np.arange(n), cand)
    day = p0 + rng.integers(0, n_days, len(a))
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    month = (day.astype("datetime64[D]").astype("datetime64[M]").astype(int)) % 12
    years_from_mid = (day - (d0 + d_end) / 2) / 365.0
    p = _MONTH_SEASON[month] * np.minimum(0.6 * np.exp(acc["trend"][a] * years_from_mid), 1.0)
    story_keep, story_value = _story_factor(acc, a, day, d_end)
    p = p * story_keep
    ok = (
        (weekday < 5)
        & (day >= acc["since"][a])
        & (day < acc["churn"][a])
        & (rng.random(len(a)) < p)
    )
    a, day, story_value = a[ok], day[ok], story_value[ok]
    express_story = np.zeros(len(a), dtype=bool)

    # Story (b): an order with express delivery every Friday for the last 52 weeks.
    w = acc["story_express"]
    fridays = np.arange(d_end - 364, d_end + 1)
    fridays = fridays[(fridays + 3) % 7 == 4]
    # Story (d): the at-risk accounts' last order is 55-61 days ago (a Monday): a long gap,
    # yet still active (an order within 90 days).
    last = d_end - 55 - ((d_end - 55 + 3) % 7)
    risk = np.array(acc["story_at_risk"])
    extra_a = np.concatenate([np.full(len(fridays), w), risk])
    extra_day = np.concatenate([fridays, np.full(len(risk), last)])
    extra_express = np.concatenate([np.ones(len(fridays), bool), np.zeros(len(risk), bool)])
    inside = (extra_day >= p0) & (extra_day < p1)
    extra_a, extra_day, extra_express = extra_a[inside], extra_day[inside], extra_express[inside]
    a = np.concatenate([a, extra_a])
    day = np.concatenate([day, extra_day])
    story_value = np.concatenate([story_value, np.full(len(extra_a), 0.7)])
    express_story = np.concatenate([express_story, extra_express])

    order = np.lexsort((a, day))
    a, day, story_value, express_story = (
        a[order],
        day[order],
        story_value[order],
        express_story[order],
    )
    n_orders = len(a)
    tier_o = tiers[a]
    extra = np.select([tier_o == t for t in _TIER_EXTRA_LINES], list(_TIER_EXTRA_LINES.values()))
    n_lines = 1 + rng.poisson(extra)
    line_value = np.select([tier_o == t for t in _TIER_LINE_VALUE], list(_TIER_LINE_VALUE.values()))

    o_idx = np.repeat(np.arange(n_orders), n_lines)
    starts = np.cumsum(n_lines) - n_lines
    line_no = np.arange(len(o_idx)) - starts[o_idx] + 1
    revenue = (
        acc["size"][a][o_idx]
        * line_value[o_idx]
        * story_value[o_idx]
        * rng.lognormal(-0.2, 0.7, len(o_idx))
    )
    revenue = _money(np.maximum(revenue, 5.0))
    cogs = _money(revenue * rng.uniform(0.55, 0.78, len(o_idx)))
    orders = {
        "order_no": o_idx + first_order,
        "line_no": line_no,
        "a": a[o_idx],
        "day": day[o_idx],
        "net_revenue": revenue,
        "cost_of_goods": cogs,
    }

    # One shipment per order, 0-2 days later (never after today).
    ship_day = np.minimum(day + rng.integers(0, 3, n_orders), d_end)
    p_exp = np.select([tier_o == t for t in _TIER_EXPRESS], list(_TIER_EXPRESS.values()))
    express = (rng.random(n_orders) < p_exp) | express_story
    freight_cost = np.where(express, rng.uniform(65, 340, n_orders), rng.uniform(18, 120, n_orders))
    freight_cost = _money(freight_cost)
    # Standard freight: key and A accounts ship free, others pay a flat fee.
    flat = np.where(np.isin(tier_o, ["KEY", "A"]), 0.0, np.minimum(freight_cost, 14.90))
    mode = np.full(n_orders, -1)  # -1 standard (no billing mode), 0 silent, 1 waived, 2 billed
    key_ex = express & (tier_o == "KEY")
    oth_ex = express & (tier_o != "KEY")
    mode[key_ex] = _pick(rng, _EXPRESS_MODES["KEY"], key_ex.sum())
    mode[oth_ex] = _pick(rng, _EXPRESS_MODES["other"], oth_ex.sum())
    mode[express_story] = 0
    charged = np.where(mode == 2, freight_cost, np.where(express, 0.0, flat))
    shipments = {
        "order_no": np.arange(first_order, first_order + n_orders),
        "a": a,
        "day": ship_day,
        "express": express,
        "freight_cost": freight_cost,
        "freight_charged": _money(charged),
        "mode": mode,
    }
    return orders, shipments


def _gen_services(
    sc: _Scale,
    rng: Generator,
    acc: dict,
    d0: int,
    d_end: int,
    period: tuple[int, int] | None = None,
) -> dict:
    """Service events of the days in `period` [p0, p1) (default: d0 to d_end)."""
    p0, p1 = period or (d0, d_end + 1)
    codes = list(_SERVICE_RATES)
    cat = {row[0]: row for row in catalogue.DEFAULT_SERVICES}
    tiers = acc["tier"]
    n = len(tiers)
    start = np.maximum(acc["since"], p0)
    end = np.minimum(acc["churn"], p1)
    span = np.maximum(end - start, 0)
    # rate[account, service]
    rate = np.stack([[_SERVICE_RATES[c][t] for c in codes] for t in ("KEY", "A", "B", "C")])
    tier_i = np.select([tiers == t for t in ("KEY", "A", "B", "C")], [0, 1, 2, 3])
    lam = rate[tier_i] * sc.service_factor * (span / 365.0)[:, None]
    is_parent = np.isin(np.arange(n), acc["parent"][acc["parent"] >= 0])
    lam[is_parent, codes.index("GROUP_REPORTING")] *= 4  # quarterly for customer groups
    counts = rng.poisson(lam)
    flat = counts.ravel()
    pair = np.repeat(np.arange(flat.size), flat)
    a, s = pair // len(codes), pair % len(codes)
    day = start[a] + (rng.random(len(a)) * span[a]).astype(np.int64)
    order = np.lexsort((s, a, day))
    a, s, day = a[order], s[order], day[order]
    qty_max = np.array([_MAX_QUANTITY.get(c, 1) for c in codes])
    qty = 1 + (rng.random(len(a)) * qty_max[s]).astype(np.int64)
    unit_cost = np.array([cat[c][4] for c in codes], dtype=float)
    unit_value = np.array([cat[c][5] for c in codes], dtype=float)
    exclusive = [cat[c][6] for c in codes]
    policy_names = list(_MODE_BY_POLICY)
    pol = np.array(
        [
            [
                policy_names.index(catalogue.default_policy(c, t, ex))
                for c, ex in zip(codes, exclusive, strict=True)
            ]
            for t in ("KEY", "A", "B", "C")
        ]
    )[tier_i[a], s]
    mode = np.empty(len(a), dtype=np.int64)
    for i, pname in enumerate(policy_names):
        m = pol == i
        mode[m] = _pick(rng, _MODE_BY_POLICY[pname], m.sum())
    list_value = _money(unit_value[s] * qty)
    return {
        "a": a,
        "day": day,
        "code": pa.DictionaryArray.from_arrays(
            pa.array(s, pa.int32()), pa.array(codes, pa.string())
        ),
        "quantity": qty.astype(float),
        "cost": _money(unit_cost[s] * qty),
        "list_value": list_value,
        "billed_amount": np.where(mode == 2, list_value, 0.0),
        "mode": mode,
    }


def _gen_mandates(rng: Generator, acc: dict, years: list[int], kams: dict) -> dict:
    keys = np.flatnonzero(acc["tier"] == "KEY")
    rows = {k: [] for k in ("a", "year", "texts", "ratings")}
    current = years[-1]
    for a in keys:
        first = _FIRST[rng.integers(len(_FIRST))]
        last = _LAST[rng.integers(len(_LAST))]
        contact = f"{first} {last}, {_CONTACT_ROLES[rng.integers(len(_CONTACT_ROLES))]}"
        for y in years:
            texts = [
                contact,
                _OBJECTIVES[rng.integers(len(_OBJECTIVES))],
                _MEASURES[rng.integers(len(_MEASURES))],
                _SUPPORT[rng.integers(len(_SUPPORT))],
            ]
            noise = rng.normal(0, 8, 4)
            if a in acc["story_exemplary"]:
                ratings = rng.integers(90, 101, 4).astype(float)
            elif a in acc["story_at_risk"]:
                ratings = np.clip(np.round(52 + noise), 30, 70)
            else:
                ratings = np.clip(np.round(74 + rng.normal(0, 6) + noise), 40, 100)
            if y == current:
                ratings = [None] * 4
                if a in acc["story_exemplary"]:
                    answered = np.ones(4, dtype=bool)
                elif a in acc["story_at_risk"]:
                    answered = np.array([True, False, False, False])
                else:
                    # Most KAMs have written their mandate by now; a few answers are missing.
                    answered = rng.random(4) < 0.93
                texts = [t if ok else None for t, ok in zip(texts, answered, strict=True)]
            else:
                ratings = [float(r) for r in ratings]
            rows["a"].append(a)
            rows["year"].append(y)
            rows["texts"].append(texts)
            rows["ratings"].append(ratings)
    return rows


def _gen_feedback(rng: Generator, acc: dict, kams: dict, d0: int, d_end: int) -> dict:
    tiers = acc["tier"]
    n = len(tiers)
    start = np.maximum(acc["since"], d0)
    end = np.minimum(acc["churn"], d_end + 1)
    span_years = np.maximum(end - start, 0) / 365.0
    base = rng.normal(7.6, 0.8, n)
    base[acc["story_exemplary"]] = 9.5
    rows = {"a": [], "day": [], "score": [], "kind": [], "comment": []}

    def add(a, day, score, kind, comment):
        rows["a"].append(a)
        rows["day"].append(day)
        rows["score"].append(score)
        rows["kind"].append(kind)
        rows["comment"].append(comment)

    at_risk = set(acc["story_at_risk"])
    exemplary = set(acc["story_exemplary"])
    rotation = _Rotation()
    for kind, rates in (
        ("survey", _TIER_SURVEYS),
        ("praise", _TIER_PRAISE),
        ("complaint", _TIER_COMPLAINTS),
    ):
        lam = np.array([rates[t] for t in tiers]) * span_years
        if kind == "praise":
            lam[list(exemplary)] *= 3
        if kind == "complaint":
            lam[list(exemplary)] = 0
        counts = rng.poisson(lam)
        if kind == "survey":
            counts[list(at_risk)] = 0  # their surveys follow a fixed, falling timeline below
        a_all = np.repeat(np.arange(n), counts)
        days = start[a_all] + (rng.random(len(a_all)) * (end - start)[a_all]).astype(np.int64)
        noise = rng.normal(0, 0.9, len(a_all))
        picks = rng.integers(0, 4, len(a_all))
        for a, day, eps, pick in zip(a_all, days, noise, picks, strict=True):
            # The comment comes in turn from its pool per KAM and year (the random pick only
            # decides, for surveys, whether there is a comment at all), so no page repeats one.
            key = (int(acc["kam"][a]), _year_of(int(day)))
            if kind == "survey":
                sd = 0.4 if a in exemplary else 1.0
                score = float(np.clip(np.round(base[a] + eps * sd), 0, 10))
                band = "high" if score >= 9 else ("mid" if score >= 7 else "low")
                comment = None
                if band == "low" or pick < 3:
                    comment = rotation.take(_SURVEY_COMMENTS[band], key)
                add(a, day, score, kind, comment)
            elif kind == "praise":
                kam = kams["name"][acc["kam"][a]] if acc["kam"][a] >= 0 else "Ihr Innendienst"
                add(a, day, None, kind, rotation.take(_PRAISE, key).format(kam=kam))
            else:
                add(a, day, None, kind, rotation.take(_COMPLAINTS, key))
    for a in sorted(at_risk):
        k = 0
        while d_end - 30 - 180 * k >= max(start[a], d0):
            score = 4.0 if k == 0 else (6.0 if k == 1 else 8.0)
            band = "low" if score < 7 else "high"
            day = d_end - 30 - 180 * k
            key = (int(acc["kam"][a]), _year_of(day))
            add(a, day, score, "survey", rotation.take(_SURVEY_COMMENTS[band], key))
            k += 1
        for back in (60, 100):
            key = (int(acc["kam"][a]), _year_of(d_end - back))
            add(a, d_end - back, None, "complaint", rotation.take(_COMPLAINTS, key))
    order = np.lexsort((np.array(rows["a"]), np.array(rows["day"])))
    return {k: [v[i] for i in order] for k, v in rows.items()}


# --- writing ------------------------------------------------------------------------------


def _log_import(con, table: str, rows: int, scale: str, seed: int, today: dt.date) -> int:
    """One import_log row per demo table; returns its import_id."""
    import_id = con.execute("SELECT nextval('import_id_seq')").fetchall()[0][0]
    con.execute(
        "INSERT INTO import_log (import_id, file_name, sha256, sheet, profile, table_name,"
        " rows_inserted, rows_updated, rows_unchanged, rows_rejected, username, imported_at,"
        " status, notes) VALUES (?, ?, NULL, NULL, 'demo', ?, ?, 0, 0, 0, 'demo', ?, 'done', ?)",
        [
            import_id,
            f"Demo-Firma (seed {seed})",
            table,
            rows,
            dt.datetime.combine(today, dt.time(6, 0)),
            json.dumps({"demo": True, "scale": scale, "seed": seed}),
        ],
    )
    return import_id


def _insert(
    con, table: str, src: pa.Table, select: str, import_id: int, first_row: int = 1
) -> None:
    """INSERT INTO table SELECT <select>, import_id, source_row FROM the Arrow table; its
    rows are source rows first_row, first_row + 1, …"""
    rows = np.arange(first_row, first_row + src.num_rows, dtype=np.int32)
    src = src.append_column("source_row", pa.array(rows))
    con.register("_demo_src", src)
    try:
        cols = ", ".join(f'"{c}"' for c in schema.ALL_TABLES[table].column_names)
        con.execute(
            f'INSERT INTO "{table}" ({cols}, import_id, source_row) '
            f"SELECT {select}, ?, source_row FROM _demo_src ORDER BY source_row",
            [import_id],
        )
    finally:
        con.unregister("_demo_src")


def _write(con, data: dict, scale: str, seed: int, today: dt.date) -> None:
    acc_ids = _write_reference(con, data, scale, seed, today)
    o, s, e = data["orders"], data["shipments"], data["service_events"]
    _insert_orders(
        con, o, acc_ids, _log_import(con, "orders", len(o["order_no"]), scale, seed, today)
    )
    _insert_shipments(
        con, s, acc_ids, _log_import(con, "shipments", len(s["order_no"]), scale, seed, today)
    )
    _insert_services(
        con, e, acc_ids, _log_import(con, "service_events", len(e["a"]), scale, seed, today)
    )
    _write_people(con, data, scale, seed, today)


def _write_by_month(con, sc: _Scale, data: dict, scale: str, seed: int, today: dt.date) -> None:
    """_write for a company too large to hold: orders, shipments and service events are
    generated and inserted one calendar month at a time (see _generate_by_month), committed
    after every December (a transaction's index of its new rows is held in memory)."""
    acc_ids = _write_reference(con, data, scale, seed, today)
    acc, d0, d_end = data["accounts"], data["d0"], data["d_end"]
    imports = {t: _log_import(con, t, 0, scale, seed, today) for t in _BY_MONTH_TABLES}
    next_line, next_order, next_event = 1, 1, 1  # source rows continue across months
    for k, (p0, p1) in enumerate(_months(d0, d_end)):
        rng = Generator(PCG64(np.random.SeedSequence([seed, k])))
        o, s = _gen_orders(sc, rng, acc, d0, d_end, (p0, p1), next_order)
        e = _gen_services(sc, rng, acc, d0, d_end, (p0, p1))
        _insert_orders(con, o, acc_ids, imports["orders"], next_line)
        _insert_shipments(con, s, acc_ids, imports["shipments"], next_order)
        _insert_services(con, e, acc_ids, imports["service_events"], next_event)
        next_line += len(o["order_no"])
        next_order += len(s["order_no"])
        next_event += len(e["a"])
        if _year_of(p1) > _year_of(p0):
            con.execute("COMMIT")
            con.execute("BEGIN TRANSACTION")
    counts = {
        "orders": next_line - 1,
        "shipments": next_order - 1,
        "service_events": next_event - 1,
    }
    for table, import_id in imports.items():
        con.execute(
            "UPDATE import_log SET rows_inserted = ? WHERE import_id = ?",
            [counts[table], import_id],
        )
    _write_people(con, data, scale, seed, today)


_BY_MONTH_TABLES = ("orders", "shipments", "service_events")


def _months(d0: int, d_end: int) -> list[tuple[int, int]]:
    """Calendar months [first day, first day of the next) from day d0 through day d_end."""
    first = np.datetime64(_EPOCH + dt.timedelta(days=d0), "M")
    last = np.datetime64(_EPOCH + dt.timedelta(days=d_end), "M")
    starts = np.arange(first, last + 2).astype("datetime64[D]").astype(np.int64)
    return [
        (max(int(a), d0), min(int(b), d_end + 1))
        for a, b in zip(starts[:-1], starts[1:], strict=True)
    ]


def _write_reference(con, data: dict, scale: str, seed: int, today: dt.date):
    """Catalogue, matrix, plans, pay, KAMs and accounts; returns account index -> id array."""
    years, kams, acc = data["years"], data["kams"], data["accounts"]
    ids = acc["id"]

    catalogue.seed_catalogue(con)
    for y in years:
        catalogue.seed_matrix(con, y)
        con.execute(
            "INSERT INTO bonus_plans (year, w_retention, w_mandate, w_feedback, retention_gate,"
            " cap) VALUES (?, ?, ?, ?, ?, ?)",
            [y, *BONUS_DEFAULTS.values()],
        )
    for i, kam_id in enumerate(kams["id"]):
        for y in years:
            growth = 1.025 ** (y - years[-1])
            con.execute(
                "INSERT INTO kam_pay (kam_id, year, base_salary, target_bonus) VALUES (?, ?, ?, ?)",
                [
                    kam_id,
                    y,
                    round(float(kams["base_salary"][i]) * growth, 2),
                    float(kams["target_bonus"][i]),
                ],
            )

    imp = _log_import(con, "kams", len(kams["id"]), scale, seed, today)
    _insert(
        con,
        "kams",
        pa.table(
            {
                "kam_id": kams["id"],
                "name": kams["name"],
                "email": kams["email"],
                "base_salary": kams["base_salary"],
                "target_bonus": kams["target_bonus"],
            }
        ),
        "kam_id, name, email, base_salary, target_bonus",
        imp,
    )

    kam_ids = np.array(kams["id"] + [None], dtype=object)
    id_or_none = np.concatenate([ids, np.array([None], dtype=object)])
    order = np.argsort(ids)
    imp = _log_import(con, "accounts", len(ids), scale, seed, today)
    _insert(
        con,
        "accounts",
        pa.table(
            {
                "account_id": pa.array(list(ids[order]), pa.string()),
                "name": pa.array(list(acc["name"][order]), pa.string()),
                "tier": pa.array(list(acc["tier"][order]), pa.string()),
                "kam_id": pa.array(list(kam_ids[acc["kam"][order]]), pa.string()),
                "parent_id": pa.array(list(id_or_none[acc["parent"][order]]), pa.string()),
                "industry": pa.array(list(acc["industry"][order]), pa.string()),
                "country": pa.array(list(acc["country"][order]), pa.string()),
                "city": pa.array(list(acc["city"][order]), pa.string()),
                "customer_since": _dates(acc["since"][order]),
                "status": pa.array(
                    ["lost" if x else None for x in acc["lost"][order]], pa.string()
                ),
            }
        ),
        "account_id, name, tier, kam_id, parent_id, industry, country, city, customer_since,"
        " status",
        imp,
    )

    # Large tables carry account ids as dictionary arrays (index into the few thousand ids)
    # instead of millions of Python strings.
    id_dict = pa.array(list(ids), pa.string())

    def acc_ids(idx: np.ndarray) -> pa.Array:
        return pa.DictionaryArray.from_arrays(pa.array(idx, pa.int32()), id_dict)

    return acc_ids


def _insert_orders(con, o: dict, acc_ids, imp: int, first_row: int = 1) -> None:
    """Insert generated order lines (see _gen_orders)."""
    _insert(
        con,
        "orders",
        pa.table(
            {
                "order_no": o["order_no"],
                "line_no": o["line_no"],
                "account_id": acc_ids(o["a"]),
                "order_date": _dates(o["day"]),
                "net_revenue": o["net_revenue"],
                "cost_of_goods": o["cost_of_goods"],
            }
        ),
        "'AU' || lpad(CAST(order_no AS VARCHAR), 8, '0'), CAST(line_no AS VARCHAR),"
        " account_id, order_date,"
        " net_revenue, cost_of_goods, 'EUR', 1.0",
        imp,
        first_row,
    )


def _insert_shipments(con, s: dict, acc_ids, imp: int, first_row: int = 1) -> None:
    """Insert generated shipments (see _gen_orders)."""
    _insert(
        con,
        "shipments",
        pa.table(
            {
                "order_no": s["order_no"],
                "account_id": acc_ids(s["a"]),
                "ship_date": _dates(s["day"]),
                "express": s["express"],
                "freight_cost": s["freight_cost"],
                "freight_charged": s["freight_charged"],
                "mode": s["mode"],
            }
        ),
        "'LS' || lpad(CAST(order_no AS VARCHAR), 8, '0'),"
        " account_id, ship_date,"
        " CASE WHEN express THEN 'express' ELSE 'standard' END, freight_cost, freight_charged,"
        " CASE mode WHEN 0 THEN 'silent' WHEN 1 THEN 'waived' WHEN 2 THEN 'billed' END,"
        " mode = 1, 'AU' || lpad(CAST(order_no AS VARCHAR), 8, '0')",
        imp,
        first_row,
    )


def _insert_services(con, e: dict, acc_ids, imp: int, first_row: int = 1) -> None:
    """Insert generated service events (see _gen_services)."""
    _insert(
        con,
        "service_events",
        pa.table(
            {
                "account_id": acc_ids(e["a"]),
                "date": _dates(e["day"]),
                "code": e["code"],
                "quantity": e["quantity"],
                "cost": e["cost"],
                "list_value": e["list_value"],
                "billed_amount": e["billed_amount"],
                "mode": e["mode"],
            }
        ),
        "'LE' || lpad(CAST(source_row AS VARCHAR), 8, '0'), account_id, date, code, quantity,"
        " cost, list_value, billed_amount,"
        " CASE mode WHEN 0 THEN 'silent' WHEN 1 THEN 'waived' ELSE 'billed' END, mode = 1",
        imp,
        first_row,
    )


def _write_people(con, data: dict, scale: str, seed: int, today: dt.date) -> None:
    """Mandates, feedback and the stories' ids (settings key 'demo')."""
    ids = data["accounts"]["id"]
    m = data["mandates"]
    imp = _log_import(con, "mandates", len(m["a"]), scale, seed, today)
    texts = list(zip(*m["texts"], strict=True)) if m["a"] else [[]] * 4
    ratings = list(zip(*m["ratings"], strict=True)) if m["a"] else [[]] * 4
    _insert(
        con,
        "mandates",
        pa.table(
            {
                "account_id": pa.array([ids[a] for a in m["a"]], pa.string()),
                "year": pa.array(m["year"], pa.int32()),
                **{f"t{i}": pa.array(list(texts[i]), pa.string()) for i in range(4)},
                **{f"r{i}": pa.array(list(ratings[i]), pa.float64()) for i in range(4)},
            }
        ),
        "account_id, year, t0, t1, t2, t3, r0, r1, r2, r3",
        imp,
    )
    f = data["feedback"]
    imp = _log_import(con, "feedback", len(f["a"]), scale, seed, today)
    _insert(
        con,
        "feedback",
        pa.table(
            {
                "account_id": pa.array([ids[a] for a in f["a"]], pa.string()),
                "date": _dates(np.array(f["day"], dtype=np.int64)),
                "score": pa.array(f["score"], pa.float64()),
                "kind": pa.array(f["kind"], pa.string()),
                "comment": pa.array(f["comment"], pa.string()),
            }
        ),
        "'FB' || lpad(CAST(source_row AS VARCHAR), 6, '0'), account_id, date, score, kind, comment",
        imp,
    )

    stories = {k: (list(v) if isinstance(v, list) else str(v)) for k, v in data["stories"].items()}
    upsert_setting(
        con,
        "demo",
        {"scale": scale, "seed": seed, "today": today.isoformat(), **stories},
        "demo",
        updated_at=dt.datetime.combine(today, dt.time(6, 0)),
    )
