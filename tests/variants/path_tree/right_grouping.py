"""Right: recursive grouping of component lists by their first name; rendering by generators."""

from __future__ import annotations

from collections.abc import Iterator


def _group(rows: list[list[str]]) -> dict:
    groups: dict[str, list[list[str]]] = {}
    for first, *rest in rows:
        groups.setdefault(first, [])
        if rest:
            groups[first].append(rest)
    return {name: _group(rest) for name, rest in groups.items()}


def build_tree(paths: list[str]) -> dict:
    rows = []
    for path in list(paths):
        if not isinstance(path, str):
            raise TypeError("paths must hold str")
        parts = [p for p in path.split("/") if p] if path.strip() else []
        if parts:
            rows.append(parts)
    return _group(rows)


def _lines(node: dict, prefix: str, indent: str) -> Iterator[str]:
    for name, child in node.items():
        yield prefix + name
        yield from _lines(child, prefix + indent, indent)


def render_tree(tree: dict, indent: str = "  ") -> str:
    return "\n".join(_lines(tree, "", indent))


def tree(paths: list[str]) -> str:
    return render_tree(build_tree(paths))
