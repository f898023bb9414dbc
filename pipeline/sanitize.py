"""Scraped text is hostile: neutralise it before a terminal or a spreadsheet sees it.

``terminal_safe`` is for anything printed to a terminal (Rich tables, plain lines, error
messages that quote input): C0/C1 control characters — ESC and CSI above all, which can clear
the screen, move the cursor or forge output — and Unicode bidi overrides become visible
escapes (``\\x1b``, ``\\u202e``), so nothing a site sends can act on the analyst's terminal.
Rich markup in a value is escaped as well (``[bold]`` stays literal text).

``csv_safe`` is for every CSV cell: control characters as above, and a leading ``= + - @``
(or tab / CR) prefixed with ``'`` so that no spreadsheet runs the cell as a formula.
"""

from __future__ import annotations

import re
from typing import Any

# C0 controls except \t and \n, DEL, C1 controls, and the bidi embeddings / overrides / isolates.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROL_NO_NEWLINE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
CSV_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def neutralise(value: Any, *, newlines: bool = True) -> str:
    """``value`` as text with every control character shown as an escape (``\\x1b``).

    ``newlines=False`` escapes line breaks too (for one-line contexts: a table cell, a log line).
    """
    s = "" if value is None else str(value)
    return (_CONTROL if newlines else _CONTROL_NO_NEWLINE).sub(_visible, s)


def terminal_safe(value: Any, *, newlines: bool = False) -> str:
    """Text safe to print in a terminal through Rich: controls neutralised, markup escaped."""
    from rich.markup import escape

    return escape(neutralise(value, newlines=newlines))


def csv_safe(value: Any) -> str:
    """A CSV cell that no spreadsheet runs as a formula and that carries no control characters."""
    s = neutralise(value, newlines=True)
    return "'" + s if s.startswith(CSV_DANGEROUS) else s
