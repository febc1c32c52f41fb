"""A kata's hints, one at a time: `nox -s hint -- NAME` shows the next one not yet shown.

The hints are the `### Hint n` sections of the kata's README. How many of each kata's hints
were shown is kept in `.katas/hints.json` as {kata: shown_count}.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.rule import Rule

from dojo import cli, readme
from dojo.catalog import Kata, UnknownKata, check_names, load_catalog

ROOT = Path(__file__).resolve().parents[1]  # the repository this harness lives in
SHOWN = Path(".katas") / "hints.json"


@dataclass(frozen=True)
class Hint:
    kata: str
    number: int  # 1 for the first hint
    total: int
    text: str  # Markdown


def load_shown(root: Path) -> dict[str, int]:
    """{kata: how many of its hints were shown}; an unreadable file counts as none shown."""
    try:
        data = json.loads((root / SHOWN).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, int) and v > 0}


def _save_shown(root: Path, shown: dict[str, int]) -> None:
    path = root / SHOWN
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(dict(sorted(shown.items())), indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def _hints(kata: Kata) -> tuple[str, ...]:
    return readme.read(kata.folder).hints


def seen(root: Path, kata: Kata) -> list[Hint]:
    """The hints of kata shown so far, first to last."""
    hints = _hints(kata)
    count = min(load_shown(root).get(kata.name, 0), len(hints))
    return [Hint(kata.name, i + 1, len(hints), text) for i, text in enumerate(hints[:count])]


def next_hint(root: Path, kata: Kata) -> Hint | None:
    """The first hint of kata not shown yet, now counted as shown; None once all were."""
    hints = _hints(kata)
    shown = load_shown(root)
    count = min(shown.get(kata.name, 0), len(hints))
    if count == len(hints):
        return None
    shown[kata.name] = count + 1
    _save_shown(root, shown)
    return Hint(kata.name, count + 1, len(hints), hints[count])


def reflow(text: str) -> str:
    """Markdown with each paragraph on one line, for the terminal to wrap at its width;
    code blocks, list items and indented lines are kept as they are."""
    out: list[str] = []
    fence = False
    joinable = False  # whether the previous line is prose that a next prose line continues
    for line in text.splitlines():
        if line.startswith("```"):
            fence = not fence
            out.append(line)
            joinable = False
        elif fence or not line.strip() or line.startswith((" ", "\t", "- ", "* ", "|", "#")):
            out.append(line)
            joinable = False
        elif joinable:
            out[-1] += " " + line.strip()
        else:
            out.append(line)
            joinable = True
    return "\n".join(out)


def print_hint(console: Console, hint: Hint) -> None:
    console.print(Rule(f"{hint.kata} · hint {hint.number} of {hint.total}", align="left"))
    console.print(reflow(hint.text), markup=False)


def main(argv: list[str] | None = None, root: Path = ROOT, console: Console | None = None) -> int:
    parser = cli.Parser("hint", description="The next hint of a kata, one per call.")
    parser.add_argument("kata", help="the kata's name")
    parser.add_argument("--again", action="store_true", help="show the hints already shown")
    args = parser.parse_args(argv)
    catalog = load_catalog(root)
    try:
        check_names([args.kata], catalog)
    except UnknownKata as err:
        print(f"hint: {err}", file=sys.stderr)
        return 2
    kata = catalog[args.kata]
    console = console or Console(highlight=False)
    command = f"nox -s hint -- {kata.name}"
    if args.again:
        hints = seen(root, kata)
        for hint in hints:
            print_hint(console, hint)
        if not hints:
            console.print(f"No hint of {kata.name} was shown yet: `{command}` shows the first.")
        return 0
    hint = next_hint(root, kata)
    total = len(_hints(kata))
    if hint is None:
        console.print(
            f"{kata.name} has no more hints: you have seen all {total}. "
            f"`{command} --again` shows them again."
            if total
            else f"{kata.name} has no hints in its README."
        )
        return 0
    print_hint(console, hint)
    left = hint.total - hint.number
    console.print(
        f"{left} more: `{command}`" if left else "That was the last hint.",
        style="dim",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
