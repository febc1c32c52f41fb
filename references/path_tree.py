"""Turn a list of slash-separated paths into a tree, and print the tree.

Fill in the three functions below. Run `nox -s check -- path_tree` to grade them.
"""

from __future__ import annotations


def build_tree(paths: list[str]) -> dict:
    """Build the nested-dict tree of `paths`.

    Every path is split on "/" into components; each component is a child of the one before
    it. A node is a dict from child name to child node; a leaf is `{}`.

    Conventions:
        - Children keep the order in which they first appear in `paths` (not sorted).
        - A path seen twice, or a path that is a prefix of another, adds no node twice.
        - Empty components (a leading or trailing "/", or "//") are skipped.
        - A blank or whitespace-only path is ignored; components are never stripped, so
          " a" and "a" are different names.

    Args:
        paths: the paths, e.g. ["news/car/suv", "news/sport"].

    Returns:
        The tree, e.g. {"news": {"car": {"suv": {}}, "sport": {}}}.

    Raises:
        TypeError: if an element of `paths` is not a str.
    """
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
    """Render `tree` one node per line, in pre-order (a node, then its children in order).

    A node at depth d (the top level is depth 0) is printed as `indent * d + name`. Lines are
    joined with "\\n"; there is no trailing newline, and an empty tree renders as "".

    Args:
        tree: a tree as built by `build_tree`.
        indent: the prefix added per level of depth.

    Returns:
        The rendered tree.
    """
    lines: list[str] = []

    def visit(node: dict, depth: int) -> None:
        for name, child in node.items():
            lines.append(indent * depth + name)
            visit(child, depth + 1)

    visit(tree, 0)
    return "\n".join(lines)


def tree(paths: list[str]) -> str:
    """`render_tree(build_tree(paths))` with the default indent."""
    return render_tree(build_tree(paths))
