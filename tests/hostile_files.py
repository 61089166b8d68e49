"""Hostile and broken input files, written at test time (the bomb would be 2 MB in git).

`write_hostile(directory)` returns {name: path}; every file must be refused by the import with a
message naming it, quickly and within the memory limit (tests/test_ingest_guard.py,
tests/browser/test_hostile_upload.py).
"""

from __future__ import annotations

import random
import shutil
import zipfile
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Daten" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WB_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)


def _cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def _xlsx(path: Path, sheet_body, dimension: str | None = None) -> Path:
    """A minimal workbook with one sheet; `sheet_body` is XML text or an iterator of chunks."""
    # Level 1: the bomb is written in a few seconds; its ratio stays about 300:1.
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("xl/workbook.xml", _WORKBOOK)
        zf.writestr("xl/_rels/workbook.xml.rels", _WB_RELS)
        dim = f'<dimension ref="{dimension}"/>' if dimension else ""
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write((_SHEET_HEAD + dim + "<sheetData>").encode())
            chunks = [sheet_body] if isinstance(sheet_body, str) else sheet_body
            for chunk in chunks:
                fh.write(chunk.encode() if isinstance(chunk, str) else chunk)
            fh.write(b"</sheetData></worksheet>")
    return path


def _bomb_rows(total_bytes: int):
    """Sheet rows without cell references (allowed by OOXML) that compress about 1000:1."""
    row = b"<row><c><v>1</v></c></row>"
    block = row * (1_000_000 // len(row))
    for _ in range(total_bytes // len(block)):
        yield block


def _ods(path: Path, content: str) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", content)
    return path


def write_hostile(directory: Path) -> dict[str, Path]:
    """Write every hostile file into `directory`; {file name: path}."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(13)
    header = "".join(
        _cell(f"{c}1", h) for c, h in zip("ABC", ("Kundennr", "Name", "Umsatz"), strict=True)
    )
    files: dict[str, Path] = {}

    # 1.5 GB of sheet XML in about 2 MB.
    files["bomb.xlsx"] = _xlsx(d / "bomb.xlsx", _bomb_rows(1_500_000_000), "A1:A1")
    # 1.6 KB: the one cell at the last row and column; calamine would allocate 512 GB.
    files["huge_dimension.xlsx"] = _xlsx(
        d / "huge_dimension.xlsx",
        '<row r="1048576">' + _cell("XFD1048576", "x") + "</row>",
        "A1:XFD1048576",
    )
    # The same without a <dimension>: only the child process's memory limit stops it.
    files["huge_range_no_dimension.xlsx"] = _xlsx(
        d / "huge_range_no_dimension.xlsx",
        f'<row r="1">{header}</row><row r="1048576">{_cell("XFD1048576", "x")}</row>',
    )
    # One cell of 1 MB (Excel itself stops at 32,767 characters).
    files["long_cell.xlsx"] = _xlsx(
        d / "long_cell.xlsx",
        f'<row r="1">{header}</row><row r="2">{_cell("A2", "1")}{_cell("B2", "A" * 1_000_000)}'
        f"{_cell('C2', '5')}</row>",
        "A1:C2",
    )
    wide_header = ";".join(f"Spalte {i}" for i in range(5000))
    wide_row = ";".join(str(i) for i in range(5000))
    files["wide.csv"] = d / "wide.csv"
    files["wide.csv"].write_text(f"{wide_header}\n{wide_row}\n", encoding="utf-8")
    files["wide.xlsx"] = _xlsx(
        d / "wide.xlsx",
        '<row r="1">' + "".join(f"<c><v>{i}</v></c>" for i in range(5000)) + "</row>",
        "A1:GJH1",
    )
    files["long_cell.csv"] = d / "long_cell.csv"
    files["long_cell.csv"].write_text(
        "Kundennr;Name;Umsatz\n1;" + "A" * 1_000_000 + ";5\n", encoding="utf-8"
    )
    garbage = rnd.randbytes(50_000)
    for ext in ("xlsx", "xls", "ods", "csv"):
        files[f"garbage.{ext}"] = d / f"garbage.{ext}"
        files[f"garbage.{ext}"].write_bytes(garbage)
    # A zip that looks like a workbook but whose parts are cut off.
    good = _xlsx(d / "_good.xlsx", f'<row r="1">{header}</row>', "A1:C1").read_bytes()
    (d / "_good.xlsx").unlink()
    files["truncated.xlsx"] = d / "truncated.xlsx"
    files["truncated.xlsx"].write_bytes(good[: len(good) // 2])
    files["password_protected.xlsx"] = d / "password_protected.xlsx"
    shutil.copy(DATA / "password_protected.xlsx", files["password_protected.xlsx"])
    files["nul_bytes.csv"] = d / "nul_bytes.csv"
    files["nul_bytes.csv"].write_bytes(b"Kundennr;Name;Umsatz\n1;Me\x00ier;5\n")
    # NUL bytes far below the first 4 KB, where a sniffing look does not reach.
    files["nul_bytes_late.csv"] = d / "nul_bytes_late.csv"
    files["nul_bytes_late.csv"].write_bytes(
        b"Kundennr;Name;Umsatz\n" + b"1;Meier;5\n" * 2000 + b"2;Sch\x00ulz;7\n"
    )
    # A value cell repeated across every column of every row.
    files["repeated.ods"] = _ods(
        d / "repeated.ods",
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body>'
        '<office:spreadsheet><table:table table:name="Daten">'
        '<table:table-row table:number-rows-repeated="1048576">'
        '<table:table-cell table:number-columns-repeated="16384" office:value-type="float" '
        'office:value="1"><text:p>1</text:p></table:table-cell></table:table-row>'
        "</table:table></office:spreadsheet></office:body></office:document-content>",
    )
    return files
