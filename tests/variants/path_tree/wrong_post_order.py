"""Wrong: children are printed before their parent (post-order)."""

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
                node = node.setdefault(name, {})  # dicts keep insertion order
    return root


def render_tree(tree: dict, indent: str = "  ") -> str:
    lines: list[str] = []

    def visit(node: dict, depth: int) -> None:
        for name, child in node.items():
            visit(child, depth + 1)
            lines.append(indent * depth + name)

    visit(tree, 0)
    return "\n".join(lines)


def tree(paths: list[str]) -> str:
    return render_tree(build_tree(paths))
