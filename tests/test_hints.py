"""`nox -s hint`: a kata's hints one per call, in order, remembered in `.katas/hints.json`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from dojo import hints
from dojo.catalog import load_catalog

README = """# demo: a tiny kata

Double a number.

## Worked example

double(2) == 4

## Hints

### Hint 1
Multiply,
not add.

### Hint 2
Second hint.

```python
double = lambda x: 2 * x
```

### Hint 3
Third hint.

## Follow-up questions

1. **Why?** Because.
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    for name, text in {"demo": README, "bare": "# bare\n\nNo hints here.\n"}.items():
        folder = tmp_path / "katas" / name
        folder.mkdir(parents=True)
        (folder / "kata.toml").write_text('difficulty = "E"\n')
        (folder / "README.md").write_text(text)
    return tmp_path


def kata(root: Path, name: str = "demo"):
    return load_catalog(root)[name]


def run(root: Path, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = hints.main(list(argv), root=root, console=Console(file=out, width=200))
    return status, out.getvalue()


def test_each_call_shows_the_next_hint_in_order(root):
    shown = [hints.next_hint(root, kata(root)) for _ in range(3)]
    assert [h.number for h in shown] == [1, 2, 3]
    assert [h.total for h in shown] == [3, 3, 3]
    assert shown[0].text == "Multiply,\nnot add."
    assert shown[2].text == "Third hint."


def test_after_the_last_hint_there_is_none(root):
    for _ in range(3):
        hints.next_hint(root, kata(root))
    assert hints.next_hint(root, kata(root)) is None


def test_the_count_of_shown_hints_is_kept_per_kata_in_the_katas_folder(root):
    hints.next_hint(root, kata(root))
    hints.next_hint(root, kata(root))
    assert json.loads((root / ".katas" / "hints.json").read_text()) == {"demo": 2}
    assert hints.next_hint(root, kata(root)).number == 3


def test_a_corrupt_state_file_starts_again_from_the_first_hint(root):
    (root / ".katas").mkdir()
    (root / ".katas" / "hints.json").write_text("[1, 2")
    assert hints.next_hint(root, kata(root)).number == 1


def test_a_count_beyond_the_readmes_hints_means_all_were_shown(root):
    (root / ".katas").mkdir()
    (root / ".katas" / "hints.json").write_text('{"demo": 7}')
    assert hints.next_hint(root, kata(root)) is None
    assert [h.number for h in hints.seen(root, kata(root))] == [1, 2, 3]


def test_the_command_says_how_many_hints_are_left(root):
    run(root, "demo")
    status, out = run(root, "demo")
    assert status == 0
    assert "demo · hint 2 of 3" in out
    assert "1 more: `nox -s hint -- demo`" in out


def test_after_the_last_hint_the_command_says_there_are_no_more_and_how_many_there_were(root):
    for _ in range(3):
        run(root, "demo")
    status, out = run(root, "demo")
    assert status == 0
    assert "demo has no more hints: you have seen all 3." in out
    assert "--again" in out


def test_again_shows_the_hints_already_seen_without_revealing_a_new_one(root):
    run(root, "demo")
    run(root, "demo")
    status, out = run(root, "demo", "--again")
    assert status == 0
    assert "hint 1 of 3" in out and "hint 2 of 3" in out and "hint 3 of 3" not in out
    assert hints.next_hint(root, kata(root)).number == 3


def test_a_kata_without_hints_says_so(root):
    assert run(root, "bare") == (0, "bare has no hints in its README.\n")


def test_an_unknown_kata_is_refused_with_the_closest_name(root, capsys):
    status, _ = run(root, "dmeo")
    assert status == 2
    assert "unknown kata 'dmeo'. Did you mean: demo?" in capsys.readouterr().err


def test_a_hints_paragraphs_are_joined_into_lines_but_code_blocks_are_kept():
    text = "One\nparagraph.\n\n```python\na = 1\nb = 2\n```\n\n- a list\n- item"
    assert (
        hints.reflow(text) == "One paragraph.\n\n```python\na = 1\nb = 2\n```\n\n- a list\n- item"
    )
