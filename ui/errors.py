"""The one way an error reaches a user: its localised message and how to fix it.

Pages call `show_error(exc)` for anything they catch; app.py runs every page inside
`guarded()`, so an error a page does not catch is shown the same way. A `KamError` shows its
reason's text from locales/errors.toml in the session's language; anything else is a bug and
shows one generic message with a reference, while the traceback goes to the server log only.
Never `st.exception`, never `str(exc)`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import streamlit as st

from kam_analytics.db import translate_error
from kam_analytics.errors import KamError, Reason, localise_error
from ui.session import get_lang
from ui.text import plain

log = logging.getLogger("kam_analytics.app")


def error_texts(exc: BaseException) -> tuple[str, str]:
    """(message, hint) of an error as the page shows them, values escaped as plain text."""
    if not isinstance(exc, KamError):
        # a database fault during a page's own query (disk full, invalidated) is no bug
        fault = translate_error(exc)
        if fault is not None:
            return localise_error(fault, get_lang(), escape=plain)
        ref = uuid.uuid4().hex[:8]
        # The only place a bug's details go: the server log, with the reference the user sees.
        log.error("unexpected error (reference %s)", ref, exc_info=exc)
        exc = KamError(Reason.UNEXPECTED, ref=ref)
    return localise_error(exc, get_lang(), escape=plain)


def show_error(exc: BaseException, *, prefix: str | None = None, warning: bool = False) -> None:
    """Show an error: localised message and how to fix it (a bug: one generic message)."""
    message, hint = error_texts(exc)
    if prefix:
        message = f"{prefix}: {message}"
    text = f"{message}  \n{hint}" if hint else message
    (st.warning if warning else st.error)(text, icon=":material/error:")


@contextmanager
def errors_shown(prefix: str | None = None) -> Iterator[None]:
    """`with errors_shown():` any error inside is shown by `show_error` and the page goes on."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - Streamlit's stop/rerun are BaseExceptions, not caught
        show_error(exc, prefix=prefix)


def guarded(run: Callable[[], object]) -> None:
    """Run a page (or the whole app script): an error it does not catch is shown, then it stops."""
    try:
        run()
    except Exception as exc:  # noqa: BLE001 - st.stop/st.rerun derive from BaseException
        show_error(exc)
        st.stop()
