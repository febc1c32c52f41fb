"""Every kata README has the sections the learner's loop reads: hints and follow-ups."""

from __future__ import annotations

import pytest

from dojo import readme
from tests.grading import KATAS, ROOT

SAMPLE = """# demo: a tiny kata

Difficulty E · 5 minutes

Double a number.

## Worked example

```python
## not a heading inside a code block
double(2) == 4
```

## Hints

### Hint 2
Second.

### Hint 1
First,
on two lines.

## Follow-up questions

1. **Why `x ** 2`, not `x * 2`?** It is not; this is
   a trap.
2. **Second question.** Short answer.
"""


def test_a_readme_parses_into_its_parts():
    parsed = readme.parse(SAMPLE)
    assert parsed.title == "demo: a tiny kata"
    assert parsed.problem.endswith("Double a number.")
    assert "## not a heading" in parsed.example
    assert parsed.hints == ("First,\non two lines.", "Second.")
    assert parsed.follow_ups == (
        readme.FollowUp("Why `x ** 2`, not `x * 2`?", "It is not; this is a trap."),
        readme.FollowUp("Second question.", "Short answer."),
    )


@pytest.mark.parametrize("kata", KATAS)
def test_every_kata_readme_has_hints_and_follow_ups(kata):
    parsed = readme.read(ROOT / "katas" / kata)
    assert parsed.title.startswith(kata) and parsed.problem and parsed.example
    assert 2 <= len(parsed.hints) <= 4
    assert 3 <= len(parsed.follow_ups) <= 5
    assert all(f.question and f.answer for f in parsed.follow_ups)
