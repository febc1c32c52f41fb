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
    raise NotImplementedError


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
    raise NotImplementedError


def tree(paths: list[str]) -> str:
    """`render_tree(build_tree(paths))` with the default indent."""
    raise NotImplementedError
