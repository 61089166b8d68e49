"""Geometric and rendered layout checks of PowerPoint files (used by tests/test_deck_layout.py).

`text_overflows` measures every text box and table cell with the metrics of DejaVu Sans —
the font LibreOffice substitutes for Arial here, and wider than Arial, so a text that fits
here fits in PowerPoint too — and reports words wider than their box and paragraphs taller
than their frame. `rendered_overlaps` reads the word boxes of a PDF rendered by LibreOffice
(pdftotext -bbox) and reports words that overlap each other or leave the page.
"""

from __future__ import annotations

import html
import re
import subprocess
from functools import lru_cache
from pathlib import Path

from pptx import Presentation
from pptx.util import Emu

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
LINE_HEIGHT = 1.2  # line height as a multiple of the font size
EMU_PER_PT = 12700
FOOTER_TOP_PT = 7.0 * 72  # the footer line of every slide (slides.add_slide)


@lru_cache(maxsize=8)
def _font(bold: bool):
    from PIL import ImageFont

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(FONT_DIR / name), 100)


def text_width_pt(text: str, size_pt: float, bold: bool = False) -> float:
    """Width of `text` in points at `size_pt`."""
    return _font(bold).getlength(text) * size_pt / 100


def _paragraph_style(paragraph, default_size: float = 18.0) -> tuple[float, bool]:
    for run in paragraph.runs:
        if run.font.size is not None:
            return run.font.size.pt, bool(run.font.bold)
    return default_size, False


def _wrapped_lines(text: str, width_pt: float, size: float, bold: bool) -> tuple[int, str | None]:
    """Lines the text needs at `width_pt` and the first word too wide for a line (or None)."""
    lines, current, too_wide = 1, "", None
    for word in text.split():
        if text_width_pt(word, size, bold) > width_pt and too_wide is None:
            too_wide = word
        trial = f"{current} {word}".strip()
        if current and text_width_pt(trial, size, bold) > width_pt:
            lines += 1
            current = word
        else:
            current = trial
    return lines, too_wide


def _frame_problems(where: str, frame, width_emu: int, height_emu: int | None) -> list[str]:
    inner_w = (width_emu - (frame.margin_left or 0) - (frame.margin_right or 0)) / EMU_PER_PT
    problems, height = [], 0.0
    for paragraph in frame.paragraphs:
        if not paragraph.text:
            continue
        size, bold = _paragraph_style(paragraph)
        lines, too_wide = _wrapped_lines(paragraph.text, inner_w, size, bold)
        if too_wide:
            problems.append(f"{where}: word {too_wide!r} wider than its box")
        height += lines * size * LINE_HEIGHT
        space = paragraph.space_after
        height += space.pt if space is not None else 0
    if height_emu is not None:
        inner_h = (height_emu - (frame.margin_top or 0) - (frame.margin_bottom or 0)) / EMU_PER_PT
        if height > inner_h * 1.05:
            problems.append(
                f"{where}: text needs {height:.0f} pt, its box holds {inner_h:.0f} pt "
                f"({frame.text[:40]!r})"
            )
    return problems


def text_overflows(path) -> list[str]:
    """Every text that does not fit its box in the presentation at `path` (empty: all fit),
    and every text box that a table, grown by its wrapped rows, runs into."""
    problems = []
    for number, slide in enumerate(Presentation(str(path)).slides, start=1):
        tables = []  # (name, left, top, right, bottom) in points, with the rows as rendered
        for shape in slide.shapes:
            where = f"slide {number}, {shape.name}"
            if shape.has_text_frame and shape.text_frame.text:
                problems += _frame_problems(where, shape.text_frame, shape.width, shape.height)
            if shape.has_table:
                bottom = shape.top / EMU_PER_PT
                for r, row in enumerate(shape.table.rows):
                    row_h = row.height / EMU_PER_PT
                    for c, cell in enumerate(row.cells):
                        frame = cell.text_frame
                        width = shape.table.columns[c].width
                        margins = (cell.margin_left or 0) + (cell.margin_right or 0)
                        inner = (width - margins) / EMU_PER_PT
                        cell_h = (cell.margin_top or 0) / EMU_PER_PT
                        cell_h += (cell.margin_bottom or 0) / EMU_PER_PT
                        for paragraph in frame.paragraphs:
                            if not paragraph.text:
                                continue
                            size, bold = _paragraph_style(paragraph)
                            lines, too_wide = _wrapped_lines(paragraph.text, inner, size, bold)
                            if too_wide:
                                problems.append(
                                    f"{where} cell ({r}, {c}): word {too_wide!r} wider than "
                                    "its column"
                                )
                            cell_h += lines * size * LINE_HEIGHT
                        row_h = max(row_h, cell_h)
                    bottom += row_h
                if bottom > FOOTER_TOP_PT:
                    problems.append(f"{where}: table runs into the footer ({bottom:.0f} pt)")
                left = shape.left / EMU_PER_PT
                tables.append(
                    (
                        shape.name,
                        left,
                        shape.top / EMU_PER_PT,
                        left + shape.width / EMU_PER_PT,
                        bottom,
                    )
                )
        for shape in slide.shapes:
            if not (shape.has_text_frame and shape.text_frame.text):
                continue
            x0, y0 = shape.left / EMU_PER_PT, shape.top / EMU_PER_PT
            x1 = x0 + shape.width / EMU_PER_PT
            for name, t_left, t_top, t_right, t_bottom in tables:
                if x0 < t_right and x1 > t_left and t_top <= y0 < t_bottom - 1:
                    problems.append(
                        f"slide {number}: table {name} runs into {shape.text_frame.text[:40]!r}"
                    )
    return problems


_WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
)
_PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.S)


def pdf_words(pdf) -> list[list[tuple[float, float, float, float, str]]]:
    """Per page the word boxes (x0, y0, x1, y1, text) of a PDF, from pdftotext -bbox."""
    out = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = []
    for width, height, body in _PAGE.findall(out):
        words = [
            (float(a), float(b), float(c), float(d), html.unescape(w))
            for a, b, c, d, w in _WORD.findall(body)
        ]
        pages.append((float(width), float(height), words))
    return pages


def rendered_overlaps(pdf, tolerance: float = 0.5) -> list[str]:
    """Words of the rendered PDF that overlap another word or lie outside the page."""
    problems = []
    for number, (width, height, words) in enumerate(pdf_words(pdf), start=1):
        for x0, y0, x1, y1, text in words:
            if x0 < -tolerance or y0 < -tolerance or x1 > width + 1 or y1 > height + 1:
                problems.append(f"page {number}: {text!r} leaves the page")
        for i, a in enumerate(words):
            for b in words[i + 1 :]:
                dx = min(a[2], b[2]) - max(a[0], b[0])
                dy = min(a[3], b[3]) - max(a[1], b[1])
                # glyph boxes of neighbouring lines touch by a point or so; real collisions
                # overlap by a good part of a line
                if dx > tolerance and dy > min(a[3] - a[1], b[3] - b[1]) * 0.35:
                    problems.append(f"page {number}: {a[4]!r} overlaps {b[4]!r}")
    return problems


def emu_to_pt(value: int) -> float:
    """EMU (PowerPoint units) in points."""
    return Emu(value).pt
