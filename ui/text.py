"""Text from data (account names, comments, quotes, file and user names) shown as plain text.

Most Streamlit elements render Markdown: bold, links, `:red[...]` colours, `$...$` LaTeX,
emoji and icon short codes. Every text that comes from data goes through `plain()` before it
is put into such an element, so it shows exactly as it was typed.
"""

from __future__ import annotations

import re

# CommonMark's escapable punctuation plus Streamlit's own (`:` for colours/emoji, `$` for LaTeX);
# `@`, `/` and `.` too, so no bare e-mail address or web address becomes a link (GFM autolinks).
_SPECIAL = frozenset("\\`*_{}[]()#+-.!|<>~:$=&^\"'%@/")


# Streamlit's Markdown (remark-gfm) turns web and e-mail addresses in *text* into links even
# when every character is escaped; an invisible word joiner (U+2060) inside the trigger
# ("http:⁠//", "www⁠.", "⁠@") keeps them text without changing what the reader sees.
JOINER = "\u2060"
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?=@)", re.IGNORECASE)


def plain(text) -> str:
    """`text` with every Markdown special character escaped, so it renders literally."""
    if text is None:
        return ""
    out = []
    for ch in _AUTOLINK.sub(JOINER, str(text)):
        if ch in _SPECIAL:
            out.append("\\" + ch)
        elif ch in "\r\n\t":
            # A line break in a name must not start a heading, list or code block.
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def plain_all(values) -> list[str]:
    """`plain()` of each value (option labels, list items)."""
    return [plain(v) for v in values]
