"""Static chart images (PNG, SVG, PDF) rendered by plotly + kaleido driving Debian's chromium.

The first export starts one kaleido server (one headless chromium) for the whole process, so
later images take well under a second instead of about five. Without chromium every function
raises ExportError with a plain-language message instead of failing deep inside kaleido.
"""

from __future__ import annotations

import threading
import warnings

import plotly.graph_objects as go

from kam_analytics.errors import ExportError, Reason

# Slide size (16:9) and A4 landscape at 96 px per inch (297 × 210 mm), in CSS pixels.
SLIDE_SIZE = (1920, 1080)
A4_LANDSCAPE = (1123, 794)

_server_lock = threading.Lock()
_server_started = False


def find_chromium() -> str | None:
    """Path of the chromium kaleido would use ($BROWSER_PATH, PATH, usual places), or None."""
    try:
        from choreographer.browsers.chromium import Chromium

        return Chromium.find_browser(skip_local=False)
    except Exception:  # noqa: BLE001 - any failure to look means "not available"
        return None


def chromium_available() -> bool:
    """True when a chromium for static chart images is installed."""
    return find_chromium() is not None


def require_chromium() -> str:
    """The chromium path, or ExportError saying how to install it."""
    path = find_chromium()
    if path is None:
        raise ExportError(Reason.CHROMIUM_MISSING)
    return path


def ensure_server() -> None:
    """Start the shared kaleido server once per process (first image ~4 s, then < 1 s)."""
    global _server_started
    if _server_started:
        return
    require_chromium()
    with _server_lock:
        if _server_started:
            return
        import kaleido

        kaleido.start_sync_server(silence_warnings=True)
        _server_started = True


def stop_server() -> None:
    """Stop the shared kaleido server (tests, command-line exit)."""
    global _server_started
    with _server_lock:
        if not _server_started:
            return
        import kaleido

        kaleido.stop_sync_server(silence_warnings=True)
        _server_started = False


def _render(fig: go.Figure, fmt: str, width: int, height: int, scale: float) -> bytes:
    ensure_server()
    try:
        with warnings.catch_warnings():
            # plotly warns that kaleido options are ignored while the shared server runs.
            warnings.simplefilter("ignore")
            return fig.to_image(format=fmt, width=width, height=height, scale=scale)
    except ExportError:
        raise
    except Exception as exc:  # noqa: BLE001 - kaleido/chromium failures become user errors
        raise ExportError(Reason.CHART_RENDER_FAILED, format=fmt.upper(), detail=str(exc)) from exc


def figure_to_png(fig: go.Figure, width: int = 1920, height: int = 1080, scale: float = 2) -> bytes:
    """PNG bytes of `fig`: width×height CSS pixels at `scale` (1920×1080@2 -> 3840×2160 px)."""
    return _render(fig, "png", width, height, scale)


def figure_to_svg(fig: go.Figure, width: int = 1920, height: int = 1080) -> bytes:
    """SVG bytes of `fig` at width×height."""
    return _render(fig, "svg", width, height, 1)


def figure_to_pdf(
    fig: go.Figure, width: int = A4_LANDSCAPE[0], height: int = A4_LANDSCAPE[1]
) -> bytes:
    """PDF bytes of `fig`, A4 landscape unless told otherwise (the entitlement matrix)."""
    return _render(fig, "pdf", width, height, 1)


def image_size(kind: str = "slide") -> tuple[int, int]:
    """Width and height in CSS pixels of an export kind: 'slide' (16:9) or 'a4' (landscape)."""
    return A4_LANDSCAPE if kind == "a4" else SLIDE_SIZE
