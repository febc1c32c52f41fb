"""The learner's record in `.katas/history.json`: interviews taken, katas given up on.

One JSON list of records, oldest first; each record is a dict with at least `kind`
("interview", "give_up", ...), `kata` and `at` (an ISO 8601 UTC timestamp).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

HISTORY = Path(".katas") / "history.json"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def load(root: Path) -> list[dict]:
    path = root / HISTORY
    if not path.is_file():
        return []
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return []
    return records if isinstance(records, list) else []


def append(root: Path, record: dict) -> dict:
    """Add record (stamped with `at` unless it has one) and return it."""
    record = {"at": now_iso(), **record}
    records = [*load(root), record]
    path = root / HISTORY
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(records, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return record


def gave_up(root: Path, kata: str) -> bool:
    return any(r.get("kind") == "give_up" and r.get("kata") == kata for r in load(root))
