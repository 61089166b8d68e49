"""Static chart images: PNG and SVG of the stated size, theme and language number formats."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET

import plotly.graph_objects as go
import pytest

from kam_analytics.errors import ExportError
from kam_analytics.exports import charts, theme
from kam_analytics.settings_store import DEFAULT_COLORS, DEFAULT_FONT
from tests.conftest import require_chromium


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def sample_figure(lang: str = "de") -> go.Figure:
    fig = go.Figure(go.Bar(x=["Workshop", "Training"], y=[12500.5, 3400.0]))
    theme.apply_theme(fig, title="Leistungswert", period="2025", lang=lang)
    return theme.money_axis(fig, lang)


@pytest.fixture(scope="module")
def chromium():
    require_chromium()
    yield
    charts.stop_server()


def test_png_is_slide_size_at_twice_the_scale(chromium):
    data = charts.figure_to_png(sample_figure(), width=1920, height=1080, scale=2)
    assert png_size(data) == (3840, 2160)


def test_png_a4_landscape(chromium):
    w, h = charts.image_size("a4")
    assert (w, h) == (1123, 794)
    data = charts.figure_to_png(sample_figure(), width=w, height=h, scale=1)
    assert png_size(data) == (1123, 794)


def test_svg_parses_with_the_right_size(chromium):
    data = charts.figure_to_svg(sample_figure(), width=1920, height=1080)
    root = ET.fromstring(data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.attrib["width"] == "1920"
    assert root.attrib["height"] == "1080"
    text = data.decode("utf-8")
    # title, period and source are inside the image; German thousands separator on the axis
    assert "Leistungswert" in text
    assert "Zeitraum: 2025" in text
    assert "Quelle: KAM Analytics" in text
    assert "12.000 €" in text


def test_svg_english_number_format(chromium):
    text = charts.figure_to_svg(sample_figure("en")).decode("utf-8")
    assert "€12,000" in text
    assert "Period: 2025" in text


def test_pdf_is_a_pdf(chromium):
    data = charts.figure_to_pdf(sample_figure())
    assert data.startswith(b"%PDF")


def test_theme_layout():
    fig = sample_figure("de")
    assert fig.layout.separators == ",."
    assert sample_figure("en").layout.separators == ".,"
    assert fig.layout.colorway[0] == "#1F3A5F"
    assert fig.layout.font.family.startswith("Liberation Sans")
    # with a title, period and source are the subtitle line under it
    assert fig.layout.title.text == "<b>Leistungswert</b>"
    assert fig.layout.title.subtitle.text == (
        "Zeitraum: 2025  ·  Quelle: KAM Analytics, CRM-/ERP-Exporte"
    )
    assert [a for a in fig.layout.annotations if a.name == "footer"] == []


def test_theme_footer_without_title():
    fig = go.Figure(go.Bar(x=["a"], y=[1]))
    theme.apply_theme(fig, period="2025", lang="de")
    footers = [a.text for a in fig.layout.annotations if a.name == "footer"]
    assert footers == ["Zeitraum: 2025  ·  Quelle: KAM Analytics, CRM-/ERP-Exporte"]
    # applying the theme twice keeps one footer
    theme.apply_theme(fig, period="2026", lang="de")
    assert [a.text for a in fig.layout.annotations if a.name == "footer"] == [
        "Zeitraum: 2026  ·  Quelle: KAM Analytics, CRM-/ERP-Exporte"
    ]


def test_theme_from_settings(con):
    con.execute(
        "INSERT INTO settings (key, value) VALUES ('theme_colors', ?), ('theme_font', ?), "
        "('company_name', ?)",
        ['["#004488", "#BB5566", "not a colour"]', '"DejaVu Sans, sans-serif"', '"Muster AG"'],
    )
    th = theme.load_theme(con)
    assert th.colors[:2] == ("#004488", "#BB5566")
    assert "not a colour" not in th.colors
    assert len(th.colors) == 2 + len(DEFAULT_COLORS)
    assert th.font_name == "DejaVu Sans"
    fig = theme.apply_theme(go.Figure(), title="T", period="2025", lang="en", theme=th)
    assert fig.layout.colorway[0] == "#004488"
    assert fig.layout.title.subtitle.text == (
        "Period: 2025  ·  Source: KAM Analytics, CRM/ERP exports  ·  Muster AG"
    )


def test_default_theme_without_settings(con):
    th = theme.load_theme(con)
    assert th.colors == DEFAULT_COLORS
    assert th.font == DEFAULT_FONT


def test_missing_chromium_is_a_plain_error(monkeypatch):
    monkeypatch.setattr(charts, "find_chromium", lambda: None)
    monkeypatch.setattr(charts, "_server_started", False)
    assert charts.chromium_available() is False
    with pytest.raises(ExportError) as info:
        charts.figure_to_png(sample_figure())
    assert info.value.message.startswith("Chromium is not installed")
    assert "apt-get install -y chromium" in info.value.hint
    assert info.value.code == "chromium_missing"
