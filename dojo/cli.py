"""Command lines of the learner's commands: errors in one line, positive numbers."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


class Parser(argparse.ArgumentParser):
    """`nox -s NAME --` arguments; a mistake is one line, `NAME: why (see --help)`, exit 2."""

    def __init__(self, name: str | None = None, **kwargs) -> None:
        # argparse makes subcommands' parsers with prog="nox -s VERB --" and no name
        kwargs.setdefault("prog", f"nox -s {name} --")
        super().__init__(**kwargs)
        self.name = name or self.prog.removeprefix("nox -s ").removesuffix(" --")

    def error(self, message: str):  # one line, not argparse's usage block
        self.exit(2, f"{self.name}: {message} (see --help)\n")


def positive(kind: type = float, unit: str = "") -> Callable[[str], float]:
    """An argparse type: a finite number above 0 (an int when kind is int or it is whole)."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            of = f" of {unit}" if unit else ""
            raise argparse.ArgumentTypeError(f"'{text}' is not a number{of}") from None
        if not 0 < value < math.inf:
            raise argparse.ArgumentTypeError(f"'{text}' {unit}: give a number above 0".strip())
        return int(value) if float(value).is_integer() else value

    return parse
