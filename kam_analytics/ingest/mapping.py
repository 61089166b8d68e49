"""Which file column feeds which canonical column: synonyms, suggestions, value maps, constants
and computed columns (a small, safe arithmetic language over the file's headers)."""

from __future__ import annotations

import ast
import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kam_analytics import schema
from kam_analytics.errors import ConfigError

# Header synonyms per canonical column, German and English, as a person would type them.
# Compared after normalize_header (case, umlauts, punctuation and spaces ignored).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "account_id": (
        "Kundennummer",
        "Kunden-Nr.",
        "Kundennr",
        "Kunde Nr",
        "Kd.-Nr.",
        "KdNr",
        "Debitor",
        "Debitorennummer",
        "Debitor-Nr.",
        "Debitorenkonto",
        "Kundenkonto",
        "Auftraggeber",
        "Warenempfänger",
        "Customer No.",
        "Customer No",
        "Customer Number",
        "Customer ID",
        "CustomerID",
        "Customer Code",
        "Customer Key",
        "Account ID",
        "Account No.",
        "Account Number",
        "Sold-to",
        "Sold-to Party",
        "Sold-to party",
        "Kunde",
        "Customer",
        "Client ID",
        "Partner",
        "Partner ID",
        "Company ID",
        "Firmen-ID",
    ),
    "name": (
        "Name",
        "Kundenname",
        "Firma",
        "Firmenname",
        "Name 1",
        "Name1",
        "Customer Name",
        "Company",
        "Company Name",
        "CompanyName",
        "Account Name",
        "Bezeichnung",
        "Mitarbeiter",
        "Employee",
        "KAM Name",
        "Full Name",
    ),
    "tier": (
        "Kundenstufe",
        "Kundengruppe",
        "Kundenklasse",
        "Klassifizierung",
        "ABC",
        "ABC-Klasse",
        "ABC Klassifizierung",
        "Segment",
        "Tier",
        "Customer Tier",
        "Customer Class",
        "Classification",
        "Kategorie",
        "Customer Segment",
    ),
    "kam_id": (
        "KAM",
        "KAM-ID",
        "KAM ID",
        "KAM-Nr.",
        "Key Account Manager",
        "Betreuer",
        "Betreuer-ID",
        "Vertriebsmitarbeiter",
        "Außendienst",
        "Verkäufer",
        "Verkäufergruppe",
        "Sales Rep",
        "Sales Rep ID",
        "Account Manager",
        "Account Owner",
        "Owner",
        "Salesperson",
        "Employee ID",
        "EmployeeID",
        "Personalnummer",
    ),
    "parent_id": (
        "Konzern",
        "Konzern-Nr.",
        "Konzernnummer",
        "Muttergesellschaft",
        "Übergeordneter Kunde",
        "Parent",
        "Parent ID",
        "Parent Account",
        "Parent Account ID",
        "Group",
        "Group ID",
        "Hauptkunde",
    ),
    "industry": ("Branche", "Industrie", "Industry", "Sector", "Branchenschlüssel"),
    "country": ("Land", "Länderschlüssel", "Country", "Country Code", "Staat"),
    "city": ("Ort", "Stadt", "City", "Town", "Wohnort"),
    "customer_since": (
        "Kunde seit",
        "Kundenseit",
        "Erstellt am",
        "Angelegt am",
        "Customer Since",
        "Created On",
        "Created",
        "Start Date",
        "Onboarding Date",
    ),
    "status": ("Status", "Kundenstatus", "Account Status", "Active", "Aktiv"),
    "email": ("E-Mail", "Email", "E-Mail-Adresse", "Mail", "Email Address"),
    "base_salary": ("Grundgehalt", "Fixgehalt", "Gehalt", "Base Salary", "Salary", "Fixum"),
    "target_bonus": ("Zielbonus", "Bonus", "Target Bonus", "Zielprämie", "Variable"),
    "order_id": (
        "Auftrag",
        "Auftragsnummer",
        "Auftrags-Nr.",
        "Auftragsnr",
        "Kundenauftrag",
        "Verkaufsbeleg",
        "Bestellnummer",
        "Bestell-Nr.",
        "Beleg",
        "Belegnummer",
        "Beleg-Nr.",
        "Order ID",
        "OrderID",
        "Order No.",
        "Order No",
        "Order Number",
        "Order",
        "Sales Order",
        "Sales Order ID",
        "SalesOrderID",
        "Order Reference",
        "SO Number",
    ),
    "line_no": (
        "Position",
        "Pos",
        "Pos.",
        "Positionsnummer",
        "Pos.-Nr.",
        "Line",
        "Line No",
        "Line No.",
        "Line Number",
        "Item",
        "Line Item",
        "SalesOrderDetailID",
    ),
    "order_date": (
        "Auftragsdatum",
        "Bestelldatum",
        "Belegdatum",
        "Order Date",
        "OrderDate",
        "Date Ordered",
        "Erfassungsdatum",
        "Rechnungsdatum",
        "Invoice Date",
        "Fakturadatum",
        # A plain date column, last: only when the file names no more specific one.
        "Datum",
        "Date",
    ),
    "net_revenue": (
        "Umsatz",
        "Nettoumsatz",
        "Umsatz netto",
        "Netto-Umsatz",
        "Nettowert",
        "Nettobetrag",
        "Net Revenue",
        "Revenue",
        "Net Sales",
        "Sales",
        "Net Amount",
        "Net Value",
        "Amount",
        "Betrag",
        "Untaxed Amount",
        "Subtotal",
        "SubTotal",
        "Line Total",
        "LineTotal",
        "Umsatzerlöse",
        "Erlös",
        "Total",
        "Total Amount",
        "Order Total",
    ),
    "cost_of_goods": (
        "Wareneinsatz",
        "Herstellkosten",
        "Einstandswert",
        "Kosten der Ware",
        "Warenkosten",
        "Cost of Goods",
        "Cost of Goods Sold",
        "COGS",
        "Cost of Sales",
        "Product Cost",
    ),
    "currency": ("Währung", "Waehrung", "Währungsschlüssel", "Currency", "Curr", "Currency Code"),
    "shipment_id": (
        "Lieferschein-Nr.",
        "Lieferscheinnummer",
        "Lieferschein",
        "Lieferung",
        "Lieferungsnummer",
        "Lieferung-Nr.",
        "Sendungsnummer",
        "Versandnummer",
        "Sendung",
        "Shipment ID",
        "Shipment No.",
        "Shipment Number",
        "Shipment",
        "Delivery",
        "Delivery No.",
        "Delivery Number",
        "Delivery ID",
        "Tracking Number",
        "Outbound Delivery",
    ),
    "ship_date": (
        "Versanddatum",
        "Warenausgang",
        "Warenausgangsdatum",
        "WA-Datum",
        "Lieferdatum",
        "Ausgangsdatum",
        "Ship Date",
        "Shipped Date",
        "ShippedDate",
        "Shipping Date",
        "Delivery Date",
        "Goods Issue Date",
        "Dispatch Date",
        "Datum",
        "Date",
    ),
    "ship_mode": (
        "Versandart",
        "Versandbedingung",
        "Versandweg",
        "Lieferart",
        "Versandbed.",
        "Shipping Method",
        "Ship Mode",
        "Shipping Mode",
        "Ship Via",
        "ShipVia",
        "Shipping Condition",
        "Delivery Method",
        "Service Level",
        "Carrier Service",
    ),
    "freight_cost": (
        "Frachtkosten",
        "Fracht",
        "Versandkosten",
        "Frachtkosten netto",
        "Transportkosten",
        "Freight Cost",
        "Freight",
        "Shipping Cost",
        "Shipping Costs",
        "Freight Costs",
        "Transport Cost",
    ),
    "freight_charged": (
        "Fracht berechnet",
        "Berechnete Fracht",
        "Frachterlös",
        "Frachtberechnung",
        "Versandkosten berechnet",
        "Fracht fakturiert",
        "Freight Charged",
        "Freight Billed",
        "Shipping Charged",
        "Shipping Charge",
        "Freight Revenue",
        "Charged Freight",
    ),
    "billing_mode": (
        "Abrechnung",
        "Abrechnungsart",
        "Berechnungsart",
        "Berechnung",
        "Fakturierung",
        "Billing Mode",
        "Billing",
        "Billing Type",
        "Charge Type",
    ),
    "waiver": ("Verzicht", "Erlass", "Kulanz", "Waiver", "Waived", "Gutschrift"),
    "event_id": (
        "Leistungs-Nr.",
        "Leistungsnummer",
        "Vorgang",
        "Vorgangsnummer",
        "Ticket",
        "Event ID",
        "Event No.",
        "Activity ID",
        "Service ID",
        "Case ID",
    ),
    "date": (
        "Datum",
        "Leistungsdatum",
        "Erbracht am",
        "Befragungsdatum",
        "Date",
        "Service Date",
        "Activity Date",
        "Survey Date",
        "Created Date",
        "Submission Date",
        "Response Date",
        "Submitted",
    ),
    "service_code": (
        "Leistung",
        "Leistungsart",
        "Leistungscode",
        "Service",
        "Service Code",
        "Service Type",
        "Activity Type",
        "Art",
    ),
    "quantity": ("Menge", "Anzahl", "Quantity", "Qty", "Units", "Stück"),
    "cost": ("Kosten", "Interne Kosten", "Selbstkosten", "Cost", "Internal Cost"),
    "list_value": (
        "Listenwert",
        "Listenpreis",
        "Wert",
        "Preis",
        "List Value",
        "List Price",
        "Value",
        "Price",
    ),
    "billed_amount": (
        "Berechnet",
        "Berechneter Betrag",
        "Fakturiert",
        "Rechnungsbetrag",
        "Billed Amount",
        "Billed",
        "Invoiced",
        "Invoiced Amount",
        "Charged",
    ),
    "year": ("Jahr", "Geschäftsjahr", "Year", "Fiscal Year"),
    "contact": ("Ansprechpartner", "Kontakt", "Entscheider", "Contact", "Contact Person"),
    "objectives": ("Ziele", "Zielsetzung", "Objectives", "Goals"),
    "success_measures": ("Erfolgsmaßnahmen", "Maßnahmen", "Success Measures", "Measures"),
    "support": ("Unterstützung", "Interne Unterstützung", "Support", "Internal Support"),
    "contact_rating": ("Bewertung Kontakt", "Kontakt Bewertung", "Contact Rating"),
    "objectives_rating": ("Bewertung Ziele", "Ziele Bewertung", "Objectives Rating"),
    "success_measures_rating": ("Bewertung Maßnahmen", "Success Measures Rating"),
    "support_rating": ("Bewertung Unterstützung", "Support Rating"),
    "feedback_id": (
        "Feedback-ID",
        "Feedback-Nr.",
        "Rückmeldung",
        "Umfrage-ID",
        "Feedback ID",
        "Response ID",
        "Survey ID",
        "ResponseId",
    ),
    "score": (
        "Bewertung",
        "Punkte",
        "Note",
        "Zufriedenheit",
        "Score",
        "Rating",
        "NPS",
        "NPS Score",
        "Satisfaction",
        "Satisfaction Score",
        "CSAT",
    ),
    "kind": ("Art", "Typ", "Feedbackart", "Kind", "Type", "Feedback Type", "Category"),
    "comment": (
        "Kommentar",
        "Bemerkung",
        "Anmerkung",
        "Text",
        "Comment",
        "Comments",
        "Notes",
        "Feedback",
        "Freitext",
    ),
}

# Categorical values: file value (normalised) -> canonical value, per canonical column.
VALUE_SYNONYMS: dict[str, dict[str, str]] = {
    "ship_mode": {
        **dict.fromkeys(
            (
                "express",
                "overnight",
                "eilzustellung",
                "eilversand",
                "eil",
                "eilgut",
                "kurier",
                "courier",
                "expressfracht",
                "express freight",
                "next day",
                "next day air",
                "same day",
                "first class",
                "priority",
                "sprinter",
                "taxi",
                "direktfahrt",
                "24h",
                "2",
            ),
            "express",
        ),
        **dict.fromkeys(
            (
                "standard",
                "normal",
                "standardversand",
                "paket",
                "stückgut",
                "spedition",
                "ground",
                "economy",
                "regular",
                "second class",
                "standard class",
                "normalversand",
                "1",
            ),
            "standard",
        ),
    },
    "tier": {
        **dict.fromkeys(
            (
                "key",
                "key account",
                "keyaccount",
                "key-account",
                "ka",
                "schlüsselkunde",
                "schluesselkunde",
                "großkunde",
                "grosskunde",
                "strategic",
                "strategischer kunde",
                "top",
            ),
            "KEY",
        ),
        "a": "A",
        "a-kunde": "A",
        "a kunde": "A",
        "b": "B",
        "b-kunde": "B",
        "b kunde": "B",
        "c": "C",
        "c-kunde": "C",
        "c kunde": "C",
    },
    "billing_mode": {
        **dict.fromkeys(
            ("billed", "berechnet", "invoiced", "fakturiert", "charged", "in rechnung gestellt"),
            "billed",
        ),
        **dict.fromkeys(
            (
                "waived",
                "erlassen",
                "gutschrift",
                "credit note",
                "verzicht",
                "kulanz",
                "ausgewiesen",
            ),
            "waived",
        ),
        **dict.fromkeys(
            (
                "silent",
                "kostenlos",
                "free",
                "gratis",
                "ohne berechnung",
                "unberechnet",
                "free of charge",
                "foc",
            ),
            "silent",
        ),
    },
    "kind": {
        **dict.fromkeys(
            ("survey", "umfrage", "befragung", "zufriedenheitsbefragung", "nps"), "survey"
        ),
        **dict.fromkeys(("praise", "lob", "kompliment", "compliment", "positive"), "praise"),
        **dict.fromkeys(
            ("complaint", "beschwerde", "reklamation", "kritik", "negative"), "complaint"
        ),
    },
    "status": {
        **dict.fromkeys(("active", "aktiv", "ja", "yes", "true", "1", "bestehend"), "active"),
        **dict.fromkeys(
            (
                "lost",
                "verloren",
                "inaktiv",
                "inactive",
                "gekündigt",
                "churned",
                "no",
                "nein",
                "false",
                "0",
                "gesperrt",
            ),
            "lost",
        ),
    },
}


def normalize_header(text) -> str:
    """Header as compared: lower case, umlauts spelled out, only letters and digits."""
    s = str(text).strip().casefold()
    s = s.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    s = unicodedata.normalize("NFKD", s)
    return re.sub(r"[^a-z0-9]", "", s)


def normalize_value(value) -> str:
    """Categorical value as compared: trimmed, lower case, single spaces, '02' == '2'."""
    s = re.sub(r"\s+", " ", str(value).strip().casefold())
    if re.fullmatch(r"\d+(\.0+)?", s):
        return str(int(float(s)))
    return s


def _synonym_index() -> dict[str, list[tuple[int, str]]]:
    index: dict[str, list[tuple[int, str]]] = {}
    for col, names in SYNONYMS.items():
        for rank, name in enumerate((col, *names)):
            index.setdefault(normalize_header(name), []).append((rank, col))
    return index


_INDEX = _synonym_index()


def known_header(header) -> bool:
    """True when the header is a canonical name or a known synonym of one."""
    return normalize_header(header) in _INDEX


def suggest_columns(headers, table: str) -> dict[str, str]:
    """Best file header for each canonical column of `table` (canonical names first)."""
    cols = schema.IMPORTABLE_TABLES[table].column_names
    candidates = []
    for pos, header in enumerate(headers):
        for rank, col in _INDEX.get(normalize_header(header), ()):
            if col in cols:
                candidates.append((rank, pos, col, header))
    chosen: dict[str, str] = {}
    used: set[str] = set()
    for _rank, _pos, col, header in sorted(candidates):
        if col not in chosen and header not in used:
            chosen[col] = header
            used.add(header)
    return {c: chosen[c] for c in cols if c in chosen}


_REFERENCE_KEYS = {"account_id", "kam_id", "year", "line_no"}

# Event-like exports often carry no id of their own; the id is then derived from the row's
# content, so that re-importing the same rows still creates no duplicate.
DERIVED_KEYS = {"service_events": "event_id", "feedback": "feedback_id"}


def score_table(headers, table: str, provided=()) -> float:
    """How well the headers fit a table: required and key columns weigh most."""
    t = schema.IMPORTABLE_TABLES[table]
    found = set(suggest_columns(headers, table)) | set(provided)
    score = 0.0
    for col in t.columns:
        if col.name in found:
            score += 3 if col.name in t.key else (2 if col.required else 1)
            # A key of its own (order_id, shipment_id ...) says more about what a file is than
            # account_id, which every transaction export carries as a reference.
            if col.name in t.key and col.name not in _REFERENCE_KEYS:
                score += 3
    missing_required = [
        c for c in t.required_columns if c not in found and DERIVED_KEYS.get(table) != c
    ]
    return score - 2.5 * len(missing_required)


def detect_table(headers) -> tuple[str | None, dict[str, float]]:
    """The importable table the headers fit best (None if nothing fits), with all scores."""
    scores = {name: score_table(headers, name) for name in schema.IMPORTABLE_TABLES}

    def key_found(name):
        table = schema.IMPORTABLE_TABLES[name]
        found = suggest_columns(headers, name)
        return all(
            k in found or table.column(k).default or DERIVED_KEYS.get(name) == k for k in table.key
        )

    fitting = [n for n in scores if key_found(n) and scores[n] > 0]
    if not fitting:
        return None, scores
    return max(fitting, key=lambda n: scores[n]), scores


@dataclass
class Mapping:
    """A complete mapping of one file layout to one canonical table (a profile's content)."""

    table: str
    columns: dict[str, str] = field(default_factory=dict)  # canonical -> header in the file
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # column -> {file: canon}
    defaults: dict[str, object] = field(default_factory=dict)  # canonical -> constant
    computed: dict[str, str] = field(default_factory=dict)  # canonical -> expression
    read: dict[str, object] = field(default_factory=dict)  # sheet, null_values, decimal, ...
    name: str | None = None  # profile name (file stem) when loaded from or saved as a profile

    def provided(self) -> set[str]:
        """Canonical columns this mapping fills."""
        return set(self.columns) | set(self.defaults) | set(self.computed)

    def headers_used(self) -> set[str]:
        """File headers the mapping reads (mapped and referenced by expressions)."""
        used = set(self.columns.values())
        for expr in self.computed.values():
            used |= set(expression_headers(expr))
        return used

    def check(self) -> None:
        """Raise ConfigError for unknown tables/columns or invalid expressions."""
        if self.table not in schema.IMPORTABLE_TABLES:
            raise ConfigError(
                f"Unknown table {self.table!r}",
                f"Use one of: {', '.join(schema.IMPORTABLE_TABLES)}.",
                code="mapping_unknown_table",
                params={
                    "table": repr(self.table),
                    "tables": ", ".join(schema.IMPORTABLE_TABLES),
                },
            )
        names = set(schema.IMPORTABLE_TABLES[self.table].column_names)
        for section in (self.columns, self.defaults, self.computed, self.values):
            for col in section:
                if col not in names:
                    raise ConfigError(
                        f"Column {col!r} is not a column of table {self.table!r}",
                        f"Canonical columns of {self.table}: {', '.join(sorted(names))}.",
                        code="mapping_unknown_column",
                        params={
                            "column": repr(col),
                            "table": repr(self.table),
                            "table_name": self.table,
                            "columns": ", ".join(sorted(names)),
                        },
                    )
        for expr in self.computed.values():
            compile_expression(expr)


def auto_mapping(headers, table: str) -> Mapping:
    """The mapping suggested from header names alone."""
    return Mapping(table=table, columns=suggest_columns(headers, table))


def map_categories(text: pd.Series, column: str, user_map: dict | None = None) -> pd.Series:
    """Canonical category values; values that map to nothing become NA (reported as unknown)."""
    choices = {}
    col_choices = None
    for table in schema.IMPORTABLE_TABLES.values():
        if column in table.column_names:
            col_choices = table.column(column).choices
            break
    for choice in col_choices or ():
        choices[normalize_value(choice)] = choice
    lookup = {**choices, **VALUE_SYNONYMS.get(column, {})}
    for k, v in (user_map or {}).items():
        lookup[normalize_value(k)] = v
    uniques = text.dropna().unique()
    mapped = {u: lookup.get(normalize_value(u)) for u in uniques}
    return text.map(mapped).astype("str")


def map_service_codes(text: pd.Series, user_map: dict | None = None) -> pd.Series:
    """Service codes from codes or German/English catalogue names; unknown values pass through."""
    from kam_analytics.catalogue import DEFAULT_SERVICES

    lookup = {}
    for code, name_de, name_en, *_rest in DEFAULT_SERVICES:
        for label in (code, name_de, name_en):
            lookup[normalize_value(label)] = code
    for k, v in (user_map or {}).items():
        lookup[normalize_value(k)] = v
    uniques = text.dropna().unique()
    mapped = {u: lookup.get(normalize_value(u), u) for u in uniques}
    return text.map(mapped).astype("str")


# --- computed columns: arithmetic only -----------------------------------------------------

_BACKTICK = re.compile(r"`([^`]*)`")
_ALLOWED_BINOPS = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide}


def _prepare_expression(expr: str) -> tuple[str, dict[str, str]]:
    names: dict[str, str] = {}

    def repl(m):
        key = f"__c{len(names)}"
        names[key] = m.group(1)
        return key

    return _BACKTICK.sub(repl, expr), names


def compile_expression(expr: str) -> tuple[ast.AST, dict[str, str]]:
    """Parse an arithmetic expression over `backtick-quoted` headers; reject anything else."""
    code, names = _prepare_expression(str(expr))
    try:
        tree = ast.parse(code, mode="eval")
    except SyntaxError as exc:
        raise ConfigError(
            f"Cannot read the formula {expr!r}",
            "Use numbers, + - * / and parentheses, and quote headers with backticks: "
            "`Fracht netto` + `Maut`.",
            code="formula_syntax",
            params={"formula": repr(expr)},
        ) from exc
    for node in ast.walk(tree):
        ok = isinstance(
            node,
            ast.Expression
            | ast.BinOp
            | ast.UnaryOp
            | ast.Constant
            | ast.Name
            | ast.Load
            | ast.Add
            | ast.Sub
            | ast.Mult
            | ast.Div
            | ast.USub
            | ast.UAdd,
        )
        if isinstance(node, ast.Constant) and not isinstance(node.value, int | float):
            ok = False
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            ok = False
        if not ok:
            raise ConfigError(
                f"The formula {expr!r} contains something other than arithmetic",
                "Only numbers, `headers`, + - * / and parentheses are allowed.",
                code="formula_not_arithmetic",
                params={"formula": repr(expr)},
            )
        if isinstance(node, ast.Name) and node.id not in names:
            # A bare word: allowed as a header without spaces (UnitPrice * Quantity).
            names[node.id] = node.id
    return tree, names


def expression_headers(expr: str) -> list[str]:
    """The file headers an expression reads."""
    return list(compile_expression(expr)[1].values())


def evaluate_expression(expr: str, columns: dict[str, pd.Series], index) -> pd.Series:
    """Evaluate over parsed numeric columns (header -> float Series); missing counts as 0,
    all inputs missing gives missing."""
    tree, names = compile_expression(expr)
    present = pd.Series(False, index=index)
    for header in names.values():
        present |= columns[header].notna()

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            return columns[names[node.id]].fillna(0.0).to_numpy(dtype="float64")
        if isinstance(node, ast.UnaryOp):
            val = ev(node.operand)
            return -val if isinstance(node.op, ast.USub) else val
        if isinstance(node, ast.BinOp):
            with np.errstate(divide="ignore", invalid="ignore"):
                return _ALLOWED_BINOPS[type(node.op)](ev(node.left), ev(node.right))
        raise ConfigError(f"Unsupported formula {expr!r}", "Use arithmetic only.")

    result = ev(tree)
    out = pd.Series(np.broadcast_to(result, (len(index),)).astype("float64"), index=index)
    out = out.where(np.isfinite(out))
    if names:
        out = out.where(present)
    return out


def suggest_values(
    series: pd.Series, column: str, user_map: dict | None = None, limit: int = 100
) -> pd.DataFrame:
    """Distinct file values of a categorical column with their suggested canonical value."""
    from kam_analytics.ingest.parse import as_text

    text = as_text(series)
    counts = text.value_counts(dropna=True).head(limit)
    values = pd.Series(counts.index, dtype="str")
    mapped = map_categories(values, column, user_map)
    return pd.DataFrame(
        {
            "value": values,
            "canonical": mapped.where(mapped.notna(), None),
            "rows": counts.to_numpy(),
        }
    )


def mapping_table(mapping: Mapping) -> pd.DataFrame:
    """One row per canonical column: source header, constant, formula (for the page editor)."""
    table = schema.IMPORTABLE_TABLES[mapping.table]
    rows = []
    for col in table.columns:
        const = mapping.defaults.get(col.name)
        rows.append(
            {
                "column": col.name,
                "required": col.required,
                "source": mapping.columns.get(col.name),
                "constant": None if const is None else str(const),
                "formula": mapping.computed.get(col.name),
            }
        )
    return pd.DataFrame(rows)


def mapping_from_table(df: pd.DataFrame, table: str, base: Mapping | None = None) -> Mapping:
    """A Mapping from the page's editor rows (inverse of mapping_table)."""
    kinds = {c.name: c.kind for c in schema.IMPORTABLE_TABLES[table].columns}
    m = Mapping(
        table=table,
        values=dict(base.values) if base else {},
        read=dict(base.read) if base else {},
        name=base.name if base else None,
    )
    for rec in df.to_dict(orient="records"):
        col = rec["column"]
        src, const, formula = (rec.get(k) for k in ("source", "constant", "formula"))
        if isinstance(src, str) and src.strip():
            m.columns[col] = src
        elif isinstance(formula, str) and formula.strip():
            m.computed[col] = formula.strip()
        elif isinstance(const, str) and const.strip():
            value: object = const.strip()
            if kinds[col] in ("money", "number", "int"):
                try:
                    num = float(str(value).replace(",", "."))
                    value = int(num) if num.is_integer() else num
                except ValueError:
                    pass
            m.defaults[col] = value
    return m
