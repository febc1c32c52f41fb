"""Tests for path_tree. The oracle is a naive walk over every path prefix, written here."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

INTERVIEW_PATHS = [
    "news/car/suv",
    "news/car/sedan",
    "news/sport/football",
    "blog/travel/japan",
    "news/car/suv",
    "blog/travel",
]

INTERVIEW_TREE = {
    "news": {
        "car": {"suv": {}, "sedan": {}},
        "sport": {"football": {}},
    },
    "blog": {"travel": {"japan": {}}},
}

INTERVIEW_RENDERING = """\
news
  car
    suv
    sedan
  sport
    football
blog
  travel
    japan"""


def prefixes_in_order(paths: list[str]) -> list[tuple[str, ...]]:
    """Every distinct non-empty prefix, in order of first appearance: the naive oracle."""
    seen: dict[tuple[str, ...], None] = {}
    for path in paths:
        if not path.strip():
            continue
        components = [c for c in path.split("/") if c != ""]
        for end in range(1, len(components) + 1):
            seen.setdefault(tuple(components[:end]), None)
    return list(seen)


def expected_rendering(paths: list[str], indent: str = "  ") -> str:
    prefixes = prefixes_in_order(paths)
    lines = []

    def visit(parent: tuple[str, ...]) -> None:
        for prefix in prefixes:
            if len(prefix) == len(parent) + 1 and prefix[:-1] == parent:
                lines.append(indent * len(parent) + prefix[-1])
                visit(prefix)

    visit(())
    return "\n".join(lines)


def nodes(tree: dict) -> list[tuple[str, ...]]:
    """Every node of a nested-dict tree as its path, in pre-order."""
    out = []
    for name, child in tree.items():
        out.append((name,))
        out.extend((name, *rest) for rest in nodes(child))
    return out


# the worked example of the README


def test_the_interview_example_builds_the_expected_tree(solution):
    assert solution.build_tree(INTERVIEW_PATHS) == INTERVIEW_TREE


def test_the_interview_example_keeps_children_in_order_of_first_appearance(solution):
    built = solution.build_tree(INTERVIEW_PATHS)
    assert list(built) == ["news", "blog"]
    assert list(built["news"]) == ["car", "sport"]
    assert list(built["news"]["car"]) == ["suv", "sedan"]


def test_the_interview_example_renders_exactly(solution):
    assert solution.render_tree(INTERVIEW_TREE) == INTERVIEW_RENDERING


def test_tree_builds_then_renders_the_interview_example(solution):
    assert solution.tree(INTERVIEW_PATHS) == INTERVIEW_RENDERING


# building


def test_an_empty_list_builds_an_empty_tree(solution):
    assert solution.build_tree([]) == {}


def test_a_single_name_is_a_leaf(solution):
    assert solution.build_tree(["readme"]) == {"readme": {}}


def test_duplicate_paths_add_no_node_twice(solution):
    assert solution.build_tree(["a/b", "a/b", "a/b"]) == {"a": {"b": {}}}


def test_a_path_that_is_a_prefix_of_another_adds_nothing(solution):
    assert solution.build_tree(["a/b/c", "a/b", "a"]) == {"a": {"b": {"c": {}}}}
    assert solution.build_tree(["a", "a/b", "a/b/c"]) == {"a": {"b": {"c": {}}}}


def test_children_are_not_sorted(solution):
    built = solution.build_tree(["z/y", "a/b", "z/a", "m"])
    assert list(built) == ["z", "a", "m"]
    assert list(built["z"]) == ["y", "a"]


def test_leading_trailing_and_doubled_slashes_are_skipped(solution):
    assert solution.build_tree(["/a//b/", "//a/c"]) == {"a": {"b": {}, "c": {}}}


def test_a_path_of_slashes_only_adds_nothing(solution):
    assert solution.build_tree(["///", "/"]) == {}


def test_blank_and_whitespace_only_paths_are_ignored(solution):
    assert solution.build_tree(["", "   ", "\t\n", "a"]) == {"a": {}}


def test_components_are_not_stripped(solution):
    assert solution.build_tree(["a/ b", "a/b", " a"]) == {"a": {" b": {}, "b": {}}, " a": {}}


def test_the_same_name_under_different_parents_makes_different_nodes(solution):
    assert solution.build_tree(["x/lib", "y/lib"]) == {"x": {"lib": {}}, "y": {"lib": {}}}


def test_a_child_may_share_its_parents_name(solution):
    assert solution.build_tree(["a/a/a"]) == {"a": {"a": {"a": {}}}}


def test_unicode_names_are_kept_as_they_are(solution):
    paths = ["新闻/汽车/越野车", "新闻/体育", "café/naïve", "emoji/🐍"]
    assert solution.build_tree(paths) == {
        "新闻": {"汽车": {"越野车": {}}, "体育": {}},
        "café": {"naïve": {}},
        "emoji": {"🐍": {}},
    }


def test_the_input_list_is_not_modified(solution):
    paths = ["b/a", "a", "/c/"]
    solution.build_tree(paths)
    assert paths == ["b/a", "a", "/c/"]


def test_a_tuple_or_generator_of_paths_is_accepted(solution):
    assert solution.build_tree(("a/b", "c")) == {"a": {"b": {}}, "c": {}}
    assert solution.build_tree(p for p in ["a/b", "c"]) == {"a": {"b": {}}, "c": {}}


@pytest.mark.parametrize("bad", [None, 3, b"a/b", ["a"]], ids=["None", "int", "bytes", "list"])
def test_a_path_that_is_not_a_str_raises_type_error(solution, bad):
    with pytest.raises(TypeError):
        solution.build_tree(["a/b", bad])


def test_a_deep_path_does_not_overflow_the_stack(solution):
    deep = "/".join(f"d{i}" for i in range(400))
    built = solution.build_tree([deep])
    for i in range(400):
        assert list(built) == [f"d{i}"]
        built = built[f"d{i}"]
    assert built == {}


# rendering


def test_an_empty_tree_renders_as_an_empty_string(solution):
    assert solution.render_tree({}) == ""


def test_rendering_has_no_trailing_newline(solution):
    assert solution.render_tree({"a": {"b": {}}}) == "a\n  b"


def test_rendering_uses_the_given_indent_per_level(solution):
    assert solution.render_tree({"a": {"b": {"c": {}}}}, indent="--") == "a\n--b\n----c"
    assert solution.render_tree({"a": {"b": {}}}, indent="") == "a\nb"


def test_rendering_is_pre_order(solution):
    built = {"r": {"x": {"x1": {}, "x2": {}}, "y": {}}, "s": {}}
    assert solution.render_tree(built) == "r\n  x\n    x1\n    x2\n  y\ns"


def test_rendering_does_not_modify_the_tree(solution):
    built = {"a": {"b": {}}, "c": {}}
    solution.render_tree(built)
    assert built == {"a": {"b": {}}, "c": {}}


def test_tree_of_nothing_is_an_empty_string(solution):
    assert solution.tree([]) == ""
    assert solution.tree(["", " "]) == ""


# properties

component = st.text(alphabet=st.sampled_from(list("ab ./-_é新🐍")), min_size=1, max_size=3).filter(
    lambda c: c.strip("/") == c and "/" not in c
)
path = st.lists(component, min_size=1, max_size=4).map("/".join) | st.builds(
    lambda parts, lead, trail: "/" * lead + "//".join(parts) + "/" * trail,
    st.lists(component, min_size=1, max_size=4),
    st.integers(0, 2),
    st.integers(0, 2),
)
path_lists = st.lists(path | st.sampled_from(["", "  ", "/"]), max_size=12)


@settings(max_examples=60)
@given(paths=path_lists)
def test_every_path_is_a_chain_of_nodes_in_the_tree(solution, paths):
    built = solution.build_tree(paths)
    for p in paths:
        node = built
        for name in (c for c in p.split("/") if c != ""):
            if not p.strip():
                break
            assert name in node, f"build_tree({paths!r}) lost {name!r} of {p!r}"
            node = node[name]


@settings(max_examples=60)
@given(paths=path_lists)
def test_the_nodes_are_exactly_the_distinct_prefixes_in_order_of_first_appearance(solution, paths):
    built = solution.build_tree(paths)
    expected = prefixes_in_order(paths)
    assert sorted(nodes(built)) == sorted(expected)
    # siblings in order of first appearance
    for prefix in [(), *expected]:
        children = [p[-1] for p in expected if len(p) == len(prefix) + 1 and p[:-1] == prefix]
        node = built
        for name in prefix:
            node = node[name]
        assert list(node) == children


@settings(max_examples=60)
@given(paths=path_lists, indent=st.sampled_from(["  ", "\t", "|-", ""]))
def test_rendering_matches_a_naive_walk_over_prefixes(solution, paths, indent):
    rendered = solution.render_tree(solution.build_tree(paths), indent=indent)
    assert rendered == expected_rendering(paths, indent)


@settings(max_examples=60)
@given(paths=path_lists)
def test_tree_is_render_tree_of_build_tree(solution, paths):
    assert solution.tree(paths) == expected_rendering(paths)
