"""Tables as text: a Markdown table (GitHub job summaries) and aligned plain columns (a
terminal or a pipe)."""

from __future__ import annotations

from collections.abc import Sequence


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table; cells have `|` escaped and line breaks as spaces."""

    def cell(text: str) -> str:
        return " ".join(text.split()).replace("|", "\\|")

    lines = [
        "| " + " | ".join(cell(item) for item in header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(cell(item) for item in row) + " |" for row in rows),
    ]
    return "\n".join(lines) + "\n"


def columns(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """Rows under their headers, each column as wide as its widest cell."""
    if not rows:
        return "  (none)\n"
    widths = [max(len(row[index]) for row in [headers, *rows]) for index in range(len(headers))]
    return "".join(
        "  "
        + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        + "\n"
        for row in [headers, *rows]
    )
