"""Wrong: `node[name] = {}` on every component, so a later path wipes an earlier subtree."""

from __future__ import annotations


def build_tree(paths: list[str]) -> dict:
    root: dict = {}
    for path in paths:
        if not isinstance(path, str):
            raise TypeError(f"paths must hold str, got {type(path).__name__}: {path!r}")
        if not path.strip():
            continue
        node = root
        for name in path.split("/"):
            if name:  # "" comes from a leading, trailing or doubled "/"
                node[name] = {}
                node = node[name]
    return root


def render_tree(tree: dict, indent: str = "  ") -> str:
    lines: list[str] = []

    def visit(node: dict, depth: int) -> None:
        for name, child in node.items():
            lines.append(indent * depth + name)
            visit(child, depth + 1)

    visit(tree, 0)
    return "\n".join(lines)


def tree(paths: list[str]) -> str:
    return render_tree(build_tree(paths))
