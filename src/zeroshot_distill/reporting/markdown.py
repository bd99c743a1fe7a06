"""Markdown building blocks every report shares: number formats, table cells, inline code,
fenced blocks, one table renderer, and the self-contained HTML copy of a Markdown report."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

from markdown_it import MarkdownIt

from zeroshot_distill.reporting.plots import png_data_uri


def finite_or_none(value: Any) -> float | None:
    """The value as a finite float; ``None`` when missing, not a number, NaN or infinite."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) or math.isinf(number) else number


def fmt_pct(value: Any, digits: int = 1) -> str:
    """``0.7234`` -> ``72.3%``; missing -> ``n/a``."""
    number = finite_or_none(value)
    return "n/a" if number is None else f"{100 * number:.{digits}f}%"


def fmt_usd(value: Any) -> str:
    """Dollars with as many decimals as small amounts need; missing -> ``n/a``."""
    number = finite_or_none(value)
    if number is None:
        return "n/a"
    if number == 0:
        return "$0"
    if abs(number) < 0.01:
        return f"${number:.4f}"
    if abs(number) < 1000:
        return f"${number:,.2f}"
    return f"${number:,.0f}"


def fmt_num(value: Any, digits: int = 1) -> str:
    """A count or measurement with thousands separators (whole numbers without decimals);
    missing -> ``n/a``."""
    number = finite_or_none(value)
    if number is None:
        return "n/a"
    if number == int(number):
        return f"{int(number):,}"
    return f"{number:,.{digits}f}"


def fmt_score(value: Any) -> str:
    """A score in [0, 1] (F1, precision) with three decimals; missing -> ``n/a``."""
    number = finite_or_none(value)
    return "n/a" if number is None else f"{number:.3f}"


def label_text(value: Any) -> str:
    """A label as inline code; ``(no label)`` for ``None``."""
    return "(no label)" if value is None else inline_code(value)


def table_cell(value: Any) -> str:
    """Text safe inside a Markdown table cell."""
    text = "" if value is None else str(value)
    return " ".join(text.split()).replace("|", "\\|")


def inline_code(value: Any) -> str:
    """Inline code that survives backticks in the value."""
    text = " ".join(str(value).split())
    fence = "``" if "`" in text else "`"
    return f"{fence} {text} {fence}" if fence == "``" else f"`{text}`"


def fenced_block(text: str, info: str = "") -> str:
    """A fenced code block whose fence is longer than any backtick run in ``text``."""
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}{info}\n{text.rstrip()}\n{fence}"


def markdown_table(header: Sequence[Any], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table; every cell (header too) goes through :func:`table_cell`."""
    lines = [
        "| " + " | ".join(table_cell(h) for h in header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(table_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def shorten(text: Any, limit: int) -> str:
    """Whitespace collapsed, cut to ``limit`` characters with an ellipsis."""
    flat = " ".join(("" if text is None else str(text)).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 60em;
       margin: 2em auto; padding: 0 1em; line-height: 1.5; color: #1f2328; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #d0d7de; padding: 4px 10px; text-align: left; }
th { background: #f6f8fa; }
code { background: #f6f8fa; padding: 0 3px; border-radius: 3px; }
pre { background: #f6f8fa; padding: 0.8em; overflow-x: auto; white-space: pre-wrap; }
img { max-width: 100%; }
blockquote { border: 3px solid #cf222e; background: #ffebe9; margin: 1em 0; padding: 0.2em 1em;
             font-size: 1.1em; }
"""


def markdown_to_html(markdown: str, images: Mapping[str, bytes], *, title: str) -> str:
    """A self-contained HTML page from the Markdown report.

    Raw HTML in the Markdown is escaped (templates and rationales are model output); image
    links whose target is a key of ``images`` get that PNG as a ``data:`` URI.
    """
    parser = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = parser.parse(markdown)
    for token in tokens:
        for child in token.children or []:
            if child.type == "image" and child.attrGet("src") in images:
                child.attrSet("src", png_data_uri(images[str(child.attrGet("src"))]))
    body = parser.renderer.render(tokens, parser.options, {})
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"{body}</body>\n</html>\n"
    )
