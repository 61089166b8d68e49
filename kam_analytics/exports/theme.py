"""One plotly theme for every chart: company colours and font, language number formats, footer.

Colours, font and company name come from settings_store.get_appearance (the owner of the
settings and their defaults: without stored values a sober blue-grey palette). Every chart
carries its title, the period and the data source inside the image, so a PNG pasted into a
slide still says what it shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import plotly.graph_objects as go

from kam_analytics.i18n import DEFAULT_LANGUAGE, t
from kam_analytics.settings_store import DEFAULT_COLORS, DEFAULT_FONT, get_appearance

TEXT_COLOR = "#222B36"
MUTED_COLOR = "#6C757D"
GRID_COLOR = "#E3E7EC"

# Plotly `separators`: first the decimal mark, then the thousands separator.
SEPARATORS = {"de": ",.", "en": ".,"}


@dataclass(frozen=True)
class Theme:
    """Colours and font of the company's charts and slides."""

    colors: tuple[str, ...] = DEFAULT_COLORS
    font: str = DEFAULT_FONT
    company: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def primary(self) -> str:
        """The main company colour (titles, the first series)."""
        return self.colors[0]

    @property
    def font_name(self) -> str:
        """The first font family, as office programs want one name."""
        return self.font.split(",")[0].strip().strip("'\"") or "Arial"

    def billing_colors(self) -> dict[str, str]:
        """Fixed colours for how a service was handled, the same in every chart."""
        return {
            "billed": self.colors[0],
            "waived": self.colors[1 % len(self.colors)],
            "silent": self.colors[3 % len(self.colors)],
        }


def load_theme(con=None) -> Theme:
    """The company theme from the appearance settings (defaults where none are stored)."""
    if con is None:
        return Theme()
    look = get_appearance(con)
    colors = tuple(look["theme_colors"])
    # Short custom palettes are topped up so that charts with many series stay distinct.
    if len(colors) < len(DEFAULT_COLORS):
        colors = colors + tuple(c for c in DEFAULT_COLORS if c not in colors)
    return Theme(colors=colors, font=look["theme_font"], company=look["company_name"])


def chart_footer(lang: str, period: str | None, source: str | None, company: str = "") -> str:
    """The line under every chart: period · source · company."""
    parts = []
    if period:
        parts.append(f"{t('exp_period', lang)}: {period}")
    if source:
        parts.append(f"{t('exp_source', lang)}: {source}")
    if company:
        parts.append(company)
    return "  ·  ".join(parts)


def apply_theme(
    fig: go.Figure,
    *,
    title: str | None = None,
    period: str | None = None,
    source: str | None = None,
    lang: str = DEFAULT_LANGUAGE,
    theme: Theme | None = None,
    subtitle: str | None = None,
) -> go.Figure:
    """Style `fig` in the company theme, with title, period and data source in the image.

    With a title, period and source go in the subtitle line right under it, where long or
    rotated axis labels can never collide with them; without a title (slide charts, where the
    slide carries the title) they go in a footer line under the plot.
    """
    theme = theme or Theme()
    source = source if source is not None else t("exp_source_default", lang)
    footer = chart_footer(lang, period, source, theme.company)
    sub_line = "  ·  ".join(x for x in (subtitle, footer) if x) if title else ""
    title_spec = {
        "text": f"<b>{title}</b>" if title else "",
        "x": 0.01,
        "xanchor": "left",
        "y": 0.97,
        "yanchor": "top",
        "font": {"size": 28, "color": theme.primary, "family": theme.font},
        "subtitle": {
            "text": sub_line,
            "font": {"size": 15, "color": MUTED_COLOR, "family": theme.font},
        },
    }
    fig.update_layout(
        template="plotly_white",
        colorway=list(theme.colors),
        separators=SEPARATORS.get(lang, SEPARATORS["de"]),
        font={"family": theme.font, "size": 18, "color": TEXT_COLOR},
        title=title_spec,
        paper_bgcolor="white",
        plot_bgcolor="white",
        margin={"l": 70, "r": 40, "t": 120 if title else 50, "b": 60 if title else 90},
        legend=_legend(below=bool(title)),
        hoverlabel={"font": {"family": theme.font}},
    )
    fig.update_xaxes(gridcolor=GRID_COLOR, linecolor="#B0B8C1", zerolinecolor="#B0B8C1")
    fig.update_yaxes(gridcolor=GRID_COLOR, linecolor="#B0B8C1", zerolinecolor="#B0B8C1")
    # Replace a footer from an earlier call instead of stacking a second one.
    kept = [a for a in (fig.layout.annotations or ()) if getattr(a, "name", None) != "footer"]
    fig.layout.annotations = kept
    if footer and not title:
        fig.add_annotation(
            name="footer",
            text=footer,
            xref="paper",
            yref="paper",
            x=0,
            y=0,
            xanchor="left",
            yanchor="top",
            yshift=-55,
            showarrow=False,
            align="left",
            font={"size": 14, "color": MUTED_COLOR, "family": theme.font},
        )
    return fig


def _legend(below: bool) -> dict:
    """A horizontal legend: under everything when the chart has a title, else over the plot.

    Under a titled chart the legend sits at the bottom edge of the figure (container
    coordinates), so plotly shrinks the plot to make room for it: however many rows its
    entries wrap onto, it can meet neither the title and subtitle above nor the axis titles.
    Without a title (slide charts) nothing is above the plot, so it stays at the top right.
    """
    if below:
        place = {"yref": "container", "y": 0.0, "yanchor": "bottom", "x": 0.0, "xanchor": "left"}
    else:
        place = {"yref": "paper", "y": 1.0, "yanchor": "bottom", "x": 1.0, "xanchor": "right"}
    return {"orientation": "h", "title": {"text": ""}, **place}


# Average advance of a character as a share of the font size (bold title, regular subtitle),
# measured on the default font with a little room to spare; plotly never wraps a title.
_TITLE_ADVANCE = 0.62
_SUBTITLE_ADVANCE = 0.55
_MIN_TITLE_SIZE = 16


def fit_title(fig: go.Figure, width: float) -> go.Figure:
    """Shrink the title (and subtitle) font until the line fits a chart `width` px wide."""
    title = fig.layout.title
    for part, advance, minimum in (
        (title, _TITLE_ADVANCE, _MIN_TITLE_SIZE),
        (title.subtitle, _SUBTITLE_ADVANCE, 11),
    ):
        text = re.sub(r"<[^>]+>", "", part.text or "")
        size = part.font.size
        if not text or not size:
            continue
        needed = advance * size * len(text)
        if needed > width:
            part.font.size = max(minimum, int(size * width / needed))
    return fig


def money_axis(fig: go.Figure, lang: str, axis: str = "y") -> go.Figure:
    """Format an axis as euros without cents: 12.500 € (German) or €12,500 (English)."""
    fmt = {"tickformat": ",.0f"}
    if lang == "en":
        fmt["tickprefix"] = "€"
    else:
        fmt["ticksuffix"] = " €"
    if axis == "x":
        fig.update_xaxes(**fmt)
    else:
        fig.update_yaxes(**fmt)
    return fig
