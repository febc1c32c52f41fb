"""Right: explicit membership tests while building, and an explicit stack while rendering."""

from __future__ import annotations


def build_tree(paths: list[str]) -> dict:
    root: dict = {}
    for path in paths:
        if not isinstance(path, str):
            raise TypeError("paths must hold str")
        if path.isspace() or path == "":
            continue
        node = root
        for name in path.split("/"):
            if name == "":
                continue
            if name not in node:
                node[name] = {}
            node = node[name]
    return root


def render_tree(tree: dict, indent: str = "  ") -> str:
    lines = []
    stack = [(name, child, 0) for name, child in reversed(list(tree.items()))]
    while stack:
        name, node, depth = stack.pop()
        lines.append(f"{indent * depth}{name}")
        stack.extend((n, c, depth + 1) for n, c in reversed(list(node.items())))
    return "\n".join(lines)


def tree(paths: list[str]) -> str:
    return render_tree(build_tree(paths))
