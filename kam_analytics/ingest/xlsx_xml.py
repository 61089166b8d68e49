"""What calamine does not tell about an xlsx sheet, read from its XML: where the used range
starts, hidden and filtered-out rows, which cells are stored as numbers."""

from __future__ import annotations

import io
import re
import zipfile


def xlsx_first_row(data: bytes, sheet_index: int) -> int:
    """Excel row number of the first cell with a value (calamine's range starts there)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            wb = zf.read("xl/workbook.xml").decode("utf-8", "replace")
            rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
            rids = re.findall(r"<(?:\w+:)?sheet\b[^>]*?r:id=\"([^\"]+)\"", wb)
            rid = rids[sheet_index]
            target = None
            for m in re.finditer(r"<Relationship\b[^>]*>", rels):
                tag = m.group(0)
                if f'Id="{rid}"' in tag:
                    target = re.search(r'Target="([^"]+)"', tag).group(1)
            if target is None:
                return 1
            target = target.lstrip("/")
            path = target if target.startswith("xl/") else "xl/" + target
            with zf.open(path) as fh:
                chunk = b""
                while len(chunk) < 4_000_000:
                    block = fh.read(65536)
                    if not block:
                        break
                    chunk += block
                    text = chunk.decode("utf-8", "ignore")
                    m = re.search(
                        r"<(?:\w+:)?c\b[^>]*\br=\"[A-Z]+(\d+)\"[^>]*>\s*<(?:\w+:)?(?:v|is)\b", text
                    )
                    if m:
                        return int(m.group(1))
    except (KeyError, IndexError, zipfile.BadZipFile, AttributeError):
        pass
    return 1


def xlsx_sheet_path(zf: zipfile.ZipFile, sheet_index: int) -> str | None:
    """Path of the sheet's XML part inside an xlsx package."""
    wb = zf.read("xl/workbook.xml").decode("utf-8", "replace")
    rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    rids = re.findall(r"<(?:\w+:)?sheet\b[^>]*?r:id=\"([^\"]+)\"", wb)
    rid = rids[sheet_index]
    for m in re.finditer(r"<Relationship\b[^>]*>", rels):
        tag = m.group(0)
        if f'Id="{rid}"' in tag:
            target = re.search(r'Target="([^"]+)"', tag).group(1).lstrip("/")
            return target if target.startswith("xl/") else "xl/" + target
    return None


_CHUNK = 1 << 22  # 4 MB of sheet XML at a time: memory stays flat for a sheet of any size


def iter_sheet_xml(data: bytes, sheet_index: int):
    """The sheet's XML in blocks that each end before a tag starts (no tag is cut in two);
    nothing when the workbook has no such sheet. Memory stays at a few MB for any sheet."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        path = xlsx_sheet_path(zf, sheet_index)
        if path is None:
            return
        fh = zf.open(path)
    except (KeyError, IndexError, zipfile.BadZipFile, AttributeError):
        return
    with zf, fh:
        tail = b""
        while True:
            block = fh.read(_CHUNK)
            if not block:
                break
            text = tail + block
            # '<' never occurs inside a tag (XML forbids it in attribute values).
            cut = text.rfind(b"<")
            if cut <= 0:
                tail = text
                continue
            yield text[:cut]
            tail = text[cut:]
        if tail:
            yield tail


_HIDDEN_ROW_B = re.compile(rb"<(?:\w+:)?row\b[^>]*?\bhidden=\"(?:1|true)\"[^>]*>")
_ROW_NUMBER_B = re.compile(rb'\br="(\d+)"')
_DIMENSION_B = re.compile(rb'<(?:\w+:)?dimension\b[^>]*\bref="([A-Z]+)\d+')
_CELL_COLUMN_B = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]+)\d+"')


def xlsx_sheet_facts(data: bytes, sheet_index: int) -> tuple[int, list[int]] | None:
    """The sheet's first used column and its hidden rows, in one streaming pass over its XML
    (never the whole XML in memory); None when the sheet's XML cannot be found."""
    first_column, hidden, found = None, [], False
    for block in iter_sheet_xml(data, sheet_index):
        found = True
        if first_column is None:
            m = _DIMENSION_B.search(block)
            if m:
                first_column = _column_number(m.group(1).decode())
        if b'hidden="' in block:  # the common case, found without a regex over every row
            for m in _HIDDEN_ROW_B.finditer(block):
                r = _ROW_NUMBER_B.search(m.group(0))
                if r:
                    hidden.append(int(r.group(1)))
    if not found:
        return None
    if first_column is None:
        # No <dimension>: the smallest column of any cell (a second pass, rare).
        cols = (
            _column_number(c.decode())
            for block in iter_sheet_xml(data, sheet_index)
            for c in _CELL_COLUMN_B.findall(block)
        )
        first_column = min(cols, default=1)
    return first_column, hidden


def xlsx_number_rows_of(data: bytes, sheet_index: int, column: int) -> set[int]:
    """Rows whose cell in `column` is stored as a number, streaming over the sheet's XML."""
    letters = _column_letters(column)
    pattern = re.compile(rf'<(?:\w+:)?c\b[^>]*?\br="{letters}(\d+)"([^>]*?)(/?)>'.encode())
    rows = set()
    for block in iter_sheet_xml(data, sheet_index):
        for m in pattern.finditer(block):
            if m.group(3) == b"/":
                continue  # an empty, styled cell
            t = re.search(rb'\bt="(\w+)"', m.group(0))
            if t is None or t.group(1) == b"n":
                rows.add(int(m.group(1)))
    return rows


def xlsx_sheet_xml(data: bytes, sheet_index: int) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            path = xlsx_sheet_path(zf, sheet_index)
            return zf.read(path).decode("utf-8", "ignore") if path else None
    except (KeyError, IndexError, zipfile.BadZipFile, AttributeError):
        return None


_HIDDEN_ROW = re.compile(r"<(?:\w+:)?row\b[^>]*?\bhidden=\"(?:1|true)\"[^>]*>")


def xlsx_hidden_rows(xml: str) -> list[int]:
    """Excel rows marked hidden (hidden by hand or filtered out by an autofilter)."""
    out = []
    if 'hidden="' not in xml:
        return out  # the common case, found without a regex over every row
    for m in _HIDDEN_ROW.finditer(xml):
        r = re.search(r'\br="(\d+)"', m.group(0))
        if r:
            out.append(int(r.group(1)))
    return out


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _column_letters(number: int) -> str:
    out = ""
    while number:
        number, rest = divmod(number - 1, 26)
        out = chr(65 + rest) + out
    return out


def xlsx_first_column(xml: str) -> int:
    """The first used column of a sheet (where calamine's range starts)."""
    m = re.search(r'<(?:\w+:)?dimension\b[^>]*\bref="([A-Z]+)\d+', xml)
    if m:
        return _column_number(m.group(1))
    cols = re.findall(r'<(?:\w+:)?c\b[^>]*?\br="([A-Z]+)\d+"', xml)
    return min((_column_number(c) for c in cols), default=1)


def xlsx_number_rows(xml: str, column: int) -> set[int]:
    """Rows whose cell in `column` is stored as a number (no t="s"/"str"/"inlineStr")."""
    letters = _column_letters(column)
    pattern = re.compile(rf'<(?:\w+:)?c\b[^>]*?\br="{letters}(\d+)"([^>]*?)(/?)>')
    rows = set()
    for m in pattern.finditer(xml):
        if m.group(3) == "/":
            continue  # an empty, styled cell
        t = re.search(r'\bt="(\w+)"', m.group(0))
        if t is None or t.group(1) == "n":
            rows.add(int(m.group(1)))
    return rows
