"""A report's blocks as Markdown and as HTML: headings ("h1", "h2"), paragraphs ("p"), tables
("table", header, body), figures ("figure", caption, file name) and lists ("list", items). The
text may hold the inline Markdown the report writes (**bold**, `code`), which the HTML renders
rather than printing."""

from __future__ import annotations

import html
import re


def markdown_table(header: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in body])


def markdown(blocks: list[tuple]) -> str:
    lines = []
    for kind, *content in blocks:
        if kind in ("h1", "h2"):
            lines += [f"{'#' * int(kind[1])} {content[0]}", ""]
        elif kind == "p":
            lines += [content[0], ""]
        elif kind == "table":
            lines += [markdown_table(*content), ""]
        elif kind == "figure":
            caption, name = content
            lines += [f"### {caption}", "", f"![{caption}]({name})", ""]
        else:  # list
            lines += [f"- {item}" for item in content[0]] + [""]
    return "\n".join(lines)


def to_html(blocks: list[tuple]) -> str:
    parts = [
        "<!doctype html><meta charset='utf-8'><title>mattebench report</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}</style>",
    ]
    for kind, *content in blocks:
        if kind in ("h1", "h2"):
            parts.append(f"<{kind}>{_inline(content[0])}</{kind}>")
        elif kind == "p":
            parts.append(f"<p>{_inline(content[0])}</p>")
        elif kind == "table":
            header, body = content
            head = "".join(f"<th>{_inline(h)}</th>" for h in header)
            rows = "".join(
                "<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>" for r in body
            )
            parts.append(f"<table><tr>{head}</tr>{rows}</table>")
        elif kind == "figure":
            caption, name = content
            parts.append(f"<h3>{html.escape(caption)}</h3><img src='{html.escape(name)}'>")
        else:  # list
            parts.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in content[0]) + "</ul>")
    return "\n".join(parts) + "\n"


def _inline(text: str) -> str:
    """The Markdown the report writes inline (**bold**, `code`), as HTML."""
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html.escape(text))
    return re.sub(r"`(.+?)`", r"<code>\1</code>", text)
