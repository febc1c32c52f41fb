"""A kata's blank stub, found in git: in a learner's fork, the stub of the template commit;
in the main checkout (which has references/ and keeps every stub blank), the stub at HEAD;
otherwise the stub's first committed version. Without any of those it is unknown."""

from __future__ import annotations

from pathlib import Path

from dojo import git

# the first line of the commit that `nox -s template -- --branch NAME` makes
TEMPLATE_SUBJECT = "Template built from main at "


class StubUnknown(LookupError):
    """The stub has no committed version (or there is no git): its blank text is unknown."""


def stub_path(root: Path, kata: str) -> Path:
    return root / "katas" / kata / f"{kata}.py"


def blank_stub(root: Path, kata: str) -> str:
    """The text of kata's stub before anyone wrote in it."""
    relative = f"katas/{kata}/{kata}.py"
    template = git.output(root, "log", "-1", "--format=%H", f"--grep=^{TEMPLATE_SUBJECT}", "HEAD")
    if template and template.strip():
        text = git.output(root, "show", f"{template.strip()}:{relative}")
        if text is not None:
            return text
    if (root / "references").is_dir():
        text = git.output(root, "show", f"HEAD:{relative}")
        if text is not None:
            return text
    first = git.output(root, "log", "--diff-filter=A", "--format=%H", "HEAD", "--", relative)
    if first and first.split():
        text = git.output(root, "show", f"{first.split()[-1]}:{relative}")
        if text is not None:
            return text
    raise StubUnknown(
        f"{relative} has no committed version, so its blank stub is unknown: this needs the "
        "repository's git history"
    )
