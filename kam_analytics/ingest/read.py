"""Reading export files into a DataFrame of their data rows, as the user sees them in Excel.

xlsx/xlsm/xls via fastexcel (calamine, formula cells give their cached values), csv/txt with
the delimiter and encoding sniffed. Title rows above the header are skipped, empty rows and
total rows at the bottom dropped; every data row keeps its row number as shown in Excel.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from kam_analytics.errors import ImportBlockedError, Problem, Reason
from kam_analytics.ingest.guard import guarded_read
from kam_analytics.ingest.mapping import known_header, normalize_header
from kam_analytics.ingest.parse import DEFAULT_NULLS, per_distinct
from kam_analytics.ingest.xlsx_xml import (
    xlsx_first_row,
    xlsx_number_rows_of,
    xlsx_sheet_facts,
)

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
HEADER_SCAN_ROWS = 30
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_TOTAL = re.compile(
    r"^\s*(summe|gesamt|gesamtsumme|endsumme|gesamtbetrag|total|totals|grand total|sum|"
    r"subtotal|zwischensumme|insgesamt)\b",
    re.IGNORECASE,
)


@dataclass
class RawSheet:
    """The data rows of one sheet or CSV file, with Excel row numbers and reading notices."""

    file_name: str
    sheet: str | None
    frame: pd.DataFrame  # columns = headers as in the file (made unique), one row per data row
    rows: np.ndarray  # Excel row number of each frame row
    sha256: str
    sheet_names: list[str] = field(default_factory=list)
    header_row: int = 1  # Excel row number of the header
    decimal_hint: str | None = None
    notices: list[Problem] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None
    # Positions (in frame) of trailing rows labelled like totals ("Summe", "Total"): validation
    # decides whether they are totals (amounts equal the sums above, or no key) or data rows.
    total_candidates: list[int] = field(default_factory=list)
    hidden_rows: list[int] = field(default_factory=list)  # Excel rows hidden or filtered out
    # Per header: True where the cell was stored as a number in the workbook (its text is then
    # written with a decimal point, never a thousands separator). Only where it matters.
    number_cells: dict[str, np.ndarray] = field(default_factory=dict)
    # Workbooks: the file (xlsx), its sheet index and first used column, to tell number cells
    # from text cells in a column only when an import parses it (numbers_of). The bytes never
    # travel back from the reading child: the guard hands the parent's copy in (attach_source).
    workbook: bool = False
    workbook_data: bytes | None = field(default=None, repr=False)
    sheet_index: int | None = None
    first_column: int = 1
    xlsx_package: bool = False

    def detach_source(self) -> None:
        """Drop the file's bytes before the reading child sends the sheet (the parent has
        them and hands them back in with attach_source)."""
        self.workbook_data = None

    def attach_source(self, data: bytes) -> None:
        """Hand in the file's bytes after a guarded read (they are not sent back)."""
        if self.workbook and self.sheet_index is not None and data[:2] == b"PK":
            self.workbook_data = data

    def numbers_of(self, header: str | None) -> np.ndarray | None:
        """True where the header's cell was stored as a number, for a workbook column whose
        values read differently with either decimal separator ("1.234"), or whose number cells
        would otherwise decide how its text cells read ("1.38" beside "1,380"); else None."""
        if header is None or not self.workbook or header not in self.frame.columns:
            return None
        if header not in self.number_cells:
            shapes = per_distinct(self.frame[header], _number_shapes)
            ambiguous, commas, pointed = (shapes == k for k in (1, 2, 3))
            mask = None
            if ambiguous.any() or (commas.any() and pointed.any()):
                if self.sheet_index is not None and self.is_xlsx:
                    if self.workbook_data is None:
                        # Without the file the cell types are unknown: never guess "1.234".
                        raise RuntimeError("numbers_of needs the workbook (attach_source)")
                    column = self.first_column + self.headers.index(header)
                    found = xlsx_number_rows_of(self.workbook_data, self.sheet_index, column)
                    mask = np.isin(self.rows, list(found))
                elif not commas.any():
                    # .xls/.ods: no cell types at hand; a column without a comma is numbers.
                    mask = np.ones(len(self.frame), dtype=bool)
                else:
                    # .xls/.ods with commas: what a number cell writes ("1.38") reads the same
                    # with either separator, so taking it as a number cell changes no value,
                    # only its vote; "1.234" stays text and is read with the column's notation.
                    mask = pointed.to_numpy(dtype=bool)
            self.number_cells[header] = mask
        return self.number_cells.get(header)

    @property
    def is_xlsx(self) -> bool:
        """True for an xlsx/xlsm package (cell types readable from its sheet XML)."""
        return self.xlsx_package

    @property
    def headers(self) -> list[str]:
        """Column headers in file order."""
        return [str(c) for c in self.frame.columns]


def sha256_of(data: bytes) -> str:
    """Hex SHA-256 of the file content (used to recognise a re-import)."""
    return hashlib.sha256(data).hexdigest()


def _blocked(file_name, reason: Reason, sheet=None, **params) -> ImportBlockedError:
    problem = Problem(file_name, sheet, None, None, None, reason, params=params)
    return ImportBlockedError(problems=[problem])


def read_bytes(source) -> bytes:
    """The file content of a path or of bytes."""
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source)
    return Path(source).read_bytes()


# --- header detection ----------------------------------------------------------------------


def _is_number_like(text: str) -> bool:
    return bool(re.fullmatch(r"[-+(]?[\d.,' €$%-]+\)?", text)) or bool(
        re.fullmatch(r"\d{4}-\d{2}-\d{2}.*|\d{1,2}\.\d{1,2}\.\d{2,4}", text)
    )


def score_header_row(cells, known: set[str] = frozenset()) -> float:
    """How much a row looks like a header: distinct non-numeric texts, known names count most."""
    texts = [str(c).strip() for c in cells if c is not None and str(c).strip() != ""]
    if len(texts) < 2:
        return -1.0
    score = 0.0
    for t in texts:
        if _is_number_like(t):
            score -= 2
        elif known_header(t) or normalize_header(t) in known:
            score += 4
        else:
            score += 1
    if len(set(texts)) < len(texts):
        score -= len(texts) - len(set(texts))
    return score


def detect_header_row(rows, known: set[str] = frozenset()) -> int:
    """Index of the header among the first rows (title rows above it are skipped)."""
    best, best_score = 0, -1e9
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        s = score_header_row(row, known)
        if s > best_score:
            best, best_score = i, s
    return best


def _unique_headers(headers) -> list[str]:
    out, seen = [], {}
    for i, h in enumerate(headers):
        h = "" if h is None else str(h).strip()
        if h == "" or h.startswith("__UNNAMED__"):
            h = f"column_{i + 1}"
        if h in seen:
            seen[h] += 1
            h = f"{h}_{seen[h]}"
        else:
            seen[h] = 1
        out.append(h)
    return out


# --- cleaning ------------------------------------------------------------------------------


def _row_is_empty(frame: pd.DataFrame) -> pd.Series:
    # Narrow down column by column: after the first (mostly filled) column few rows remain.
    candidates = np.arange(len(frame))
    for col in frame.columns:
        if not len(candidates):
            break
        s = frame[col].iloc[candidates]
        if pd.api.types.is_string_dtype(s.dtype) or s.dtype == object:
            empty = s.isna() | (s.astype("str").str.strip() == "")
        else:
            empty = s.isna()
        candidates = candidates[empty.to_numpy(dtype=bool)]
    out = np.zeros(len(frame), dtype=bool)
    out[candidates] = True
    return pd.Series(out, index=frame.index)


def total_label(cells) -> str | None:
    """The total label of a row ("Summe", "Gesamt", "Total" as a whole cell or first word)."""
    for c in cells:
        if isinstance(c, str) and _TOTAL.match(c):
            return c.strip()
    return None


def _clean_rows(raw: RawSheet) -> RawSheet:
    """Drop empty rows anywhere; mark trailing rows labelled like totals for validation."""
    frame = raw.frame
    if frame.empty:
        return raw
    keep = ~_row_is_empty(frame).to_numpy()
    positions = np.flatnonzero(keep)
    if len(positions) != len(frame):
        raw.frame = frame.iloc[positions].reset_index(drop=True)
        raw.rows = raw.rows[positions]
    frame = raw.frame
    candidates = []
    pos = len(frame) - 1
    # Walk up from the bottom over rows labelled like totals (a subtotal above a grand total).
    while pos >= 0 and total_label(frame.iloc[pos].tolist()) is not None:
        candidates.append(pos)
        pos -= 1
    raw.total_candidates = sorted(candidates)
    return raw


# --- Excel ---------------------------------------------------------------------------------


def _excel_reader(data: bytes, file_name: str):
    import fastexcel

    # An all-empty column makes fastexcel log "Could not determine dtype"; it is harmless.
    logging.getLogger("fastexcel").setLevel(logging.ERROR)

    if data[:8] == _OLE_MAGIC and (
        "EncryptedPackage".encode("utf-16-le") in data
        or Path(file_name).suffix.lower() in (".xlsx", ".xlsm")
    ):
        raise _blocked(
            file_name,
            Reason.PASSWORD_PROTECTED,
            variant="info",
        )
    try:
        return fastexcel.read_excel(data)
    except Exception as exc:  # calamine raises its own error types
        text = str(exc)
        if "password" in text.lower() or "encrypt" in text.lower():
            raise _blocked(
                file_name,
                Reason.PASSWORD_PROTECTED,
                variant="resave",
            ) from exc
        raise _blocked(
            file_name,
            Reason.UNREADABLE_FILE,
            variant="excel",
        ) from exc


def _cell_text(v):
    if v is None or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    if isinstance(v, pd.Timestamp):
        return str(v)
    text = str(v).strip()
    return text or None


def _sheet_rows_as_text(frame: pd.DataFrame, n: int) -> list[list]:
    return [[_cell_text(v) for v in row] for row in frame.head(n).itertuples(index=False)]


def _load_sheet(reader, sheet, header_row):
    sh = reader.load_sheet(sheet, header_row=header_row, dtype_coercion="coerce")
    frame = sh.to_arrow().to_pandas()
    return sh, frame


def _load_text(reader, sheet) -> pd.DataFrame:
    """Every cell of the sheet's used range as text, no header. No type inference: fastexcel
    infers a column's type from its first 1,000 rows, and a text amount or date further down
    would become empty; reading text and parsing every value ourselves sees all of them."""
    sh = reader.load_sheet(sheet, header_row=None, dtypes="string")
    return sh.to_arrow().to_pandas()


def _names_match(frame: pd.DataFrame, expected) -> bool:
    names = [None if str(c).startswith("__UNNAMED__") else str(c).strip() for c in frame.columns]
    want = [None if v is None else str(v).strip() for v in expected]
    return [n for n in names if n] == [w for w in want if w]


def _find_header(reader, index, expected, h, first):
    """Absolute 0-based row of the header, and the sheet read with that header."""
    start = (first - 1 + h) if first else h
    tried = set()
    for k in [start, *range(h, h + 200)]:
        if k in tried:
            continue
        tried.add(k)
        _sh, frame = _load_sheet(reader, index, k)
        if _names_match(frame, expected):
            if first is None and h == 0:
                # Rows above the range repeat the first row as header: take the last match.
                while True:
                    _sh, nxt = _load_sheet(reader, index, k + 1)
                    if not _names_match(nxt, expected):
                        break
                    k, frame = k + 1, nxt
            return k, frame
    _sh, frame = _load_sheet(reader, index, h)
    return h, frame


# A value that reads differently with either decimal separator: "1.234" (1.234 or 1234).
_AMBIGUOUS_DOT = re.compile(r"-?\d{1,3}\.\d{3}")
# How a workbook writes a number cell with decimals as text.
_NUMBER_TEXT = re.compile(r"-?\d+\.\d+")


def _number_shapes(text: pd.Series) -> pd.Series:
    """Per cell text: 1 reads differently with either decimal separator ("1.234"), 2 has a
    comma, 3 is written the way a workbook writes a number cell ("1.38"), else 0."""
    ambiguous = text.str.fullmatch(_AMBIGUOUS_DOT.pattern).fillna(False).to_numpy(bool)
    commas = text.str.contains(",", regex=False).fillna(False).to_numpy(bool)
    # A number cell's text ("1.38") must not vote for a decimal point against a text
    # cell "1,380": only the cell types tell the two apart.
    pointed = text.str.fullmatch(_NUMBER_TEXT.pattern).fillna(False).to_numpy(bool)
    shape = np.select([ambiguous, commas, pointed], [1, 2, 3], 0).astype("int8")
    return pd.Series(shape, index=text.index)


def _choose_sheet(reader, names, known) -> int:
    best, index = -1e9, 0
    for i, name in enumerate(names):
        try:
            fr = _load_text(reader, name)
        except Exception:  # an empty or chart sheet
            continue
        rows = _sheet_rows_as_text(fr, HEADER_SCAN_ROWS)
        s = max((score_header_row(r, known) for r in rows), default=-1)
        s += min(len(fr), 1000) / 1000.0  # prefer sheets with data on ties
        if s > best:
            best, index = s, i
    return index


def _sheet_index(reader, names, sheet, file_name, known) -> int:
    if sheet is None:
        return _choose_sheet(reader, names, known) if len(names) > 1 else 0
    if isinstance(sheet, int) or (
        isinstance(sheet, str) and sheet.isdigit() and sheet not in names
    ):
        index = int(sheet) - 1 if int(sheet) >= 1 else 0
        if index >= len(names):
            raise _blocked(
                file_name,
                Reason.MISSING_SHEET,
                variant="number",
                number=sheet,
                sheets=", ".join(names),
            )
        return index
    lookup = {n.casefold().strip(): i for i, n in enumerate(names)}
    if str(sheet).casefold().strip() not in lookup:
        raise _blocked(
            file_name,
            Reason.MISSING_SHEET,
            sheet=str(sheet),
            variant="name",
            name=repr(sheet),
            sheets=", ".join(names),
        )
    return lookup[str(sheet).casefold().strip()]


def read_excel(
    data: bytes, file_name: str, sheet=None, known=frozenset(), header_row: int | None = None
) -> RawSheet:
    """One sheet of a workbook: chosen by name/number, else the one that looks most like data.
    `header_row` (the Excel row number) overrides the detected header."""
    reader = _excel_reader(data, file_name)
    names = list(reader.sheet_names)
    if not names:
        raise _blocked(file_name, Reason.EMPTY_FILE, variant="sheets")
    index = _sheet_index(reader, names, sheet, file_name, known)
    sheet_name = names[index]
    try:
        cells = _load_text(reader, index)
    except Exception as exc:
        raise _blocked(
            file_name,
            Reason.EMPTY_FILE,
            sheet=sheet_name,
            variant="sheet",
            name=repr(sheet_name),
        ) from exc
    candidates = _sheet_rows_as_text(cells, max(HEADER_SCAN_ROWS, (header_row or 0) + 1))
    h = detect_header_row(candidates, known) if candidates else 0
    facts = xlsx_sheet_facts(data, index) if data[:2] == b"PK" else None
    first = xlsx_first_row(data, index) if data[:2] == b"PK" else None
    if header_row:
        first = first or 1
        h = min(max(int(header_row) - first, 0), max(len(candidates) - 1, 0))
    if first is None:
        # fastexcel counts header_row from A1, calamine's range from the first non-empty row:
        # the absolute row whose names are the detected header tells where the range starts.
        header_abs, _frame = _find_header(
            reader, index, candidates[h] if candidates else [], h, first
        )
        first = header_abs + 1 - h
    header_excel_row = first + h
    headers = _unique_headers(candidates[h] if candidates else [])
    frame = cells.iloc[h + 1 :].reset_index(drop=True)
    frame.columns = headers
    frame = frame.astype("str").where(frame.notna()) if len(frame) else frame
    rows = np.arange(len(frame), dtype="int64") + header_excel_row + 1
    raw = RawSheet(
        file_name=file_name,
        sheet=sheet_name,
        frame=frame,
        rows=rows,
        sha256=sha256_of(data),
        sheet_names=names,
        header_row=header_excel_row,
    )
    raw.workbook = True
    if facts is not None:
        first_column, hidden = facts
        if hidden:
            raw.hidden_rows = [int(r) for r in rows[np.isin(rows, hidden)]]
        # A number cell's text always has a decimal point; a text cell "1.234" may mean 1234.
        raw.xlsx_package = True
        raw.sheet_index = index
        raw.workbook_data = data
        raw.first_column = first_column
    return _clean_rows(raw)


# --- CSV -----------------------------------------------------------------------------------


def decode_lines(data: bytes) -> tuple[str, list[int]]:
    """Text decoded line by line: UTF-8 where a line is UTF-8, else Windows-1252; with the
    (1-based) numbers of the lines that were not UTF-8."""
    out, stray = [], []
    for i, line in enumerate(data.split(b"\n"), 1):
        try:
            out.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            out.append(line.decode("cp1252", errors="replace"))
            stray.append(i)
    return "\n".join(out), stray


def decode_text(data: bytes) -> tuple[str, str]:
    """Text and encoding: UTF-8 (with or without BOM), else Windows-1252; a UTF-8 file with a
    few stray Windows-1252 lines is 'utf-8+cp1252' (see decode_lines)."""
    if data.startswith(b"\xef\xbb\xbf"):
        text, stray = decode_lines(data[3:])
        return text, "utf-8-sig" if not stray else "utf-8+cp1252"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # Some lines are not UTF-8. If any line with non-ASCII bytes is valid UTF-8, the file is
    # UTF-8 with stray bytes (a hand edit); otherwise it is a Windows-1252 file.
    for line in data.split(b"\n"):
        if max(line, default=0) > 127:
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                continue
            return decode_lines(data)[0], "utf-8+cp1252"
    return data.decode("cp1252", errors="replace"), "cp1252"


def sniff_delimiter(lines: list[str]) -> str:
    """The delimiter that splits the most sample lines into the same number of fields."""
    best, best_score = ";", -1
    for delim in (";", "\t", ",", "|"):
        counts = [len(r) - 1 for r in csv.reader(lines, delimiter=delim) if r]
        if not counts:
            continue
        width = max(set(counts), key=counts.count)
        if width == 0:
            continue
        score = counts.count(width) * 1000 + width
        if score > best_score:
            best, best_score = delim, score
    return best


def read_csv(
    data: bytes, file_name: str, known=frozenset(), header_row: int | None = None
) -> RawSheet:
    """A delimited text file; delimiter and encoding sniffed, title rows skipped (or the
    header taken from line `header_row`)."""
    text, encoding = decode_text(data)
    if not text.strip():
        raise _blocked(file_name, Reason.EMPTY_FILE)
    lines = text.splitlines()[: HEADER_SCAN_ROWS + 20]
    delim = sniff_delimiter(lines)
    sample = list(csv.reader(lines, delimiter=delim))
    h = detect_header_row(sample, known)
    if header_row:
        h = min(max(int(header_row) - 1, 0), max(len(sample) - 1, 0))
    headers = _unique_headers(sample[h])
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=delim,
            header=None,
            skiprows=h + 1,
            names=headers,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            index_col=False,
            engine="c",
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise _blocked(
            file_name,
            Reason.UNREADABLE_FILE,
            variant="table",
            detail=str(exc),
        ) from exc
    rows = np.arange(len(frame), dtype="int64") + h + 2
    raw = RawSheet(
        file_name=file_name,
        sheet=None,
        frame=frame,
        rows=rows,
        sha256=sha256_of(data),
        header_row=h + 1,
        decimal_hint={";": ",", ",": "."}.get(delim),
        encoding=encoding,
        delimiter=delim,
    )
    if encoding == "utf-8+cp1252":
        _lines, stray = decode_lines(data[3:] if data.startswith(b"\xef\xbb\xbf") else data)
        shown = ", ".join(map(str, stray[:20])) + (", …" if len(stray) > 20 else "")
        raw.notices.append(
            Problem(
                file_name,
                None,
                stray[0],
                None,
                None,
                Reason.MIXED_ENCODING,
                severity="warning",
                params={"count": len(stray), "rows": shown},
            )
        )
    return _clean_rows(raw)


@guarded_read  # untrusted bytes: limits checked, read in a child process (guard.py)
def read_source(
    source, file_name: str | None = None, sheet=None, known=frozenset(), header_row=None
) -> RawSheet:
    """Read a file (path or bytes) of any supported kind (`header_row` overrides detection)."""
    if file_name is None:
        file_name = Path(source).name if not isinstance(source, bytes | bytearray) else "upload"
    try:
        data = read_bytes(source)
    except OSError as exc:
        raise _blocked(
            file_name,
            Reason.UNREADABLE_FILE,
            variant="open",
            detail=exc.strerror,
        ) from exc
    if not data:
        raise _blocked(file_name, Reason.EMPTY_FILE)
    suffix = Path(file_name).suffix.lower()
    is_zip = data[:2] == b"PK"
    is_ole = data[:8] == _OLE_MAGIC
    if suffix in EXCEL_SUFFIXES or is_zip or is_ole:
        return read_excel(data, file_name, sheet=sheet, known=known, header_row=header_row)
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _blocked(
            file_name,
            Reason.UNREADABLE_FILE,
            variant="binary",
        )
    return read_csv(data, file_name, known=known, header_row=header_row)


@guarded_read
def list_sheets(source) -> list[str]:
    """Sheet names of a workbook (empty for CSV)."""
    data = read_bytes(source)
    if data[:2] != b"PK" and data[:8] != _OLE_MAGIC:
        return []
    return list(_excel_reader(data, "upload").sheet_names)


__all__ = ["RawSheet", "read_source", "list_sheets", "DEFAULT_NULLS"]
