"""Where each key of a TOML file is written, so a validation error can name its line.

tomllib reports lines only for syntax errors. This scanner walks the (already valid) text and
records the line of every table header and every `key = value`, keyed by the path tomllib
gives the value: ("connector", 1, "max_kw"). Values inside inline tables and multi-line arrays
map to the line where their key starts.
"""

from __future__ import annotations

import re

Path = tuple[str | int, ...]

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(
    r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)
_INLINE_KEY = re.compile(r"""[{,]\s*([A-Za-z0-9_-]+|"[^"]*"|'[^']*')\s*=""")


def _parts(dotted: str) -> list[str]:
    parts = re.findall(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""", dotted)
    return [p[1:-1] if p[:1] in "\"'" else p for p in parts]


def key_lines(text: str) -> dict[Path, int]:
    lines: dict[Path, int] = {}
    arrays: dict[tuple[str, ...], int] = {}  # array-of-tables name -> last index
    table: Path = ()
    depth = 0  # open brackets of a multi-line array or inline table
    fence = ""  # the quotes of a multi-line string we are inside, if any
    for number, line in enumerate(text.splitlines(), start=1):
        if fence:
            if fence in line:
                fence = ""
            continue
        if depth > 0:
            depth += _balance(line)
            continue
        header = _HEADER.match(line)
        if header:
            names = tuple(_parts(header.group(2)))
            if header.group(1) == "[[":
                arrays[names] = arrays.get(names, -1) + 1
            table = _resolve(names, arrays)
            lines.setdefault(table, number)
            continue
        key = _KEY.match(line)
        if key:
            path = (*table, *_parts(key.group(1)))
            lines.setdefault(path, number)
            rest = line[key.end() :]
            for inner in _INLINE_KEY.finditer(rest):
                name = inner.group(1)
                name = name[1:-1] if name[:1] in "\"'" else name
                lines.setdefault((*path, name), number)
            depth = max(0, _balance(rest))
            fence = _opens_multiline(rest)
    return lines


def _opens_multiline(value: str) -> str:
    """The fence (triple quote) a value opens and does not close on this line, or ""."""
    for quote in ('"""', "'''"):
        at = value.find(quote)
        if at != -1 and value.count(quote, at) % 2 == 1:
            return quote
    return ""


def _resolve(names: tuple[str, ...], arrays: dict[tuple[str, ...], int]) -> Path:
    """[a.b] inside [[a]] means the last element of a: ("a", 2, "b")."""
    path: list[str | int] = []
    for i, name in enumerate(names):
        path.append(name)
        prefix = names[: i + 1]
        if prefix in arrays:
            path.append(arrays[prefix])
    return tuple(path)


def _balance(text: str) -> int:
    """Open minus closed brackets outside strings and comments."""
    count, quote = 0, ""
    for ch in text:
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            break
        elif ch in "[{":
            count += 1
        elif ch in "]}":
            count -= 1
    return count


def line_of(lines: dict[Path, int], path: Path) -> int | None:
    """The line of `path`, or of the nearest enclosing key or table that is written down."""
    for end in range(len(path), 0, -1):
        found = lines.get(path[:end])
        if found is not None:
            return found
    return None
