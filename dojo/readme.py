"""Reading a kata's README: its problem, worked example, hints and follow-up questions.

Every kata README has the same shape (CONTRIBUTING.md): a title, the problem, then
`## Worked example`, optionally `## Run the tests` and other sections, `## Hints` with
`### Hint 1`, `### Hint 2`, ..., and `## Follow-up questions`, a numbered list whose items
start with the question in bold and go on with its short answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_FOLLOW_UP = re.compile(r"^\d+\.\s+\*\*(?P<question>.+?[?.])\*\*(?=\s|$)\s*(?P<answer>.*)$", re.S)


@dataclass(frozen=True)
class FollowUp:
    question: str
    answer: str


@dataclass(frozen=True)
class KataReadme:
    title: str  # the first line without its '# '
    problem: str  # everything between the title and the first '## ' section
    example: str  # the body of '## Worked example'
    hints: tuple[str, ...]  # the bodies of '### Hint 1', '### Hint 2', ... in order
    follow_ups: tuple[FollowUp, ...]


def _sections(text: str, level: str) -> dict[str, str]:
    """Heading -> body for the headings of one level ('## ' or '### '); '' for the text
    before the first one."""
    parts: dict[str, str] = {}
    heading, body = "", []
    fence = False
    for line in text.splitlines():
        fence ^= line.startswith("```")
        if not fence and line.startswith(level):
            parts[heading] = "\n".join(body).strip()
            heading, body = line[len(level) :].strip(), []
        else:
            body.append(line)
    parts[heading] = "\n".join(body).strip()
    return parts


def _follow_ups(body: str) -> tuple[FollowUp, ...]:
    items = re.split(r"\n(?=\d+\.\s)", "\n" + body.strip())
    found = []
    for item in items:
        match = _FOLLOW_UP.match(item.strip())
        if match:
            answer = " ".join(match["answer"].split())
            found.append(FollowUp(" ".join(match["question"].split()), answer))
    return tuple(found)


def parse(text: str) -> KataReadme:
    top = _sections(text, "## ")
    head = top.get("", "")
    title, _, problem = head.partition("\n")
    hints = _sections(top.get("Hints", ""), "### ")
    numbered = sorted(
        (int(h.split()[-1]), body)
        for h, body in hints.items()
        if h.startswith("Hint ") and h.split()[-1].isdigit()
    )
    return KataReadme(
        title=title.removeprefix("# ").strip(),
        problem=problem.strip(),
        example=top.get("Worked example", ""),
        hints=tuple(body for _, body in numbered),
        follow_ups=_follow_ups(top.get("Follow-up questions", "")),
    )


def read(kata_folder: Path) -> KataReadme:
    return parse((kata_folder / "README.md").read_text(encoding="utf-8"))
