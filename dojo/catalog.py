"""The katas in this checkout: their folders and their kata.toml metadata."""

from __future__ import annotations

import ast
import difflib
import sys
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DIFFICULTIES = ("E", "M", "H")


@dataclass(frozen=True)
class Kata:
    """One kata's metadata, read from katas/<name>/kata.toml."""

    name: str
    folder: Path
    difficulty: str
    minutes: int
    tags: tuple[str, ...]
    forbidden: tuple[str, ...]
    numpy_only: tuple[str, ...]
    timeout: float

    @property
    def test_files(self) -> list[Path]:
        return sorted(self.folder.glob("test_*.py"))

    @property
    def uses_torch(self) -> bool:
        """Whether the stub imports torch (a torch kata: it runs on CUDA too)."""
        tree = ast.parse((self.folder / f"{self.name}.py").read_text(encoding="utf-8"))
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        return any(name == "torch" or name.startswith("torch.") for name in names)


class UnknownKata(ValueError):
    """A kata name that no folder under katas/ carries."""


def load_kata(folder: Path) -> Kata:
    meta = tomllib.loads((folder / "kata.toml").read_text(encoding="utf-8"))
    difficulty = meta.get("difficulty", "?")
    if difficulty not in DIFFICULTIES:
        raise ValueError(f"{folder}/kata.toml: difficulty must be one of {DIFFICULTIES}")
    guard = meta.get("guard", {})
    return Kata(
        name=folder.name,
        folder=folder,
        difficulty=difficulty,
        minutes=int(meta.get("minutes", 30)),
        tags=tuple(meta.get("tags", ())),
        forbidden=tuple(guard.get("forbidden", ())),
        numpy_only=tuple(guard.get("numpy_only", ())),
        timeout=float(meta.get("timeout", 20)),
    )


def load_catalog(root: Path) -> dict[str, Kata]:
    """Every kata under root/katas, by name, in alphabetical order."""
    folders = sorted(p.parent for p in (root / "katas").glob("*/kata.toml"))
    return {folder.name: load_kata(folder) for folder in folders}


def check_names(names: list[str], catalog: dict[str, Kata]) -> None:
    """Raise UnknownKata, suggesting the closest names, for any name not in the catalog."""
    for name in names:
        if name not in catalog:
            close = difflib.get_close_matches(name, list(catalog), n=3, cutoff=0.5)
            hint = f" Did you mean: {', '.join(close)}?" if close else ""
            raise UnknownKata(
                f"unknown kata '{name}'.{hint} The katas are the folders under katas/."
            )
