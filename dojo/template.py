"""Building the learner's template tree (and the solved `reference` tree) from a commit.

    python -m dojo.template --out DIR [--solved] [--branch NAME] [--template-branch NAME]

The tree is HEAD's committed files, less what only maintainers need (the references, the
harness's own tests and their solution variants, CI scripts, maintainers' workflows), plus
the overlay in `template/` (the learner's README start, the grading workflow) and
`grading-manifest.json`. The build then checks its result: the tree's own grading reports
every kata not started (or, with --solved, solved), and no file in the template holds the
body of a reference function. `--branch NAME` commits the tree onto branch NAME of this
repository with git plumbing (no checkout, no network).
"""

from __future__ import annotations

import ast
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

from dojo import cli
from dojo.catalog import load_catalog
from dojo.stubs import TEMPLATE_SUBJECT
from dojo.tamper import write_manifest

REFERENCE_SUBJECT = "Reference solutions built from main at "
# what a learner's fork does not get (paths relative to the repository root)
MAINTAINERS_ONLY = (
    "references",
    "tests",
    "benchmarks",
    ".ci",
    "template",
    "CONTRIBUTING.md",
    ".github/workflows/ci.yml",
    ".github/workflows/template.yml",
    ".github/workflows/gpu.yml",
)
OVERLAY = "template"
README_SPLIT = "## The katas"
MAIN_ONLY = re.compile(r"<!-- main-only -->.*?<!-- /main-only -->\n?", re.S)
SHORTEST_BODY = 40  # characters: shorter reference bodies (`return self.w`) prove nothing


class TemplateError(RuntimeError):
    """The template cannot be built, or the tree built is wrong."""


def git(root: Path, *args: str, env: dict | None = None, text: bool = True):
    done = subprocess.run(
        ["git", *args],
        cwd=root,
        capture_output=True,
        text=text,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if done.returncode != 0:
        raise TemplateError(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def refuse_dirty(root: Path) -> None:
    dirty = git(root, "status", "--porcelain").splitlines()
    if dirty:
        shown = ", ".join(line[3:] for line in dirty[:5]) + (" ..." if len(dirty) > 5 else "")
        raise TemplateError(
            f"the work tree has uncommitted changes ({shown}); the template is built from "
            "HEAD, so commit or stash them first"
        )


def export(root: Path, commit: str, out: Path) -> None:
    """Write commit's files into out (which must be empty or absent)."""
    if out.exists() and any(out.iterdir()):
        raise TemplateError(f"{out} is not empty")
    out.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit], cwd=root, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(out, filter="data")


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def shape_tree(out: Path, solved: bool) -> None:
    """Turn an export of main into the learner's tree."""
    overlay = out / OVERLAY
    readme = (out / "README.md").read_text(encoding="utf-8")
    start = (overlay / "README.md").read_text(encoding="utf-8")
    if solved:
        for reference in sorted((out / "references").glob("*.py")):
            shutil.copyfile(reference, out / "katas" / reference.stem / reference.name)
    for source in sorted(overlay.rglob("*")):
        relative = source.relative_to(overlay)
        if source.is_file() and relative.as_posix() != "README.md":
            (out / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, out / relative)
    for name in MAINTAINERS_ONLY:
        _remove(out / name)
    _, _, rest = MAIN_ONLY.sub("", readme).partition(README_SPLIT)
    (out / "README.md").write_text(start.rstrip() + "\n\n" + README_SPLIT + rest, "utf-8")


def reference_bodies(references: dict[str, str]) -> dict[str, str]:
    """'<file>:<function>' -> the function's body (docstring dropped), whitespace collapsed."""
    bodies = {}
    for name, source in references.items():
        tree = ast.parse(source)
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                body = body[1:]
            text = " ".join(
                " ".join((ast.get_source_segment(source, stmt) or "").split()) for stmt in body
            )
            if len(text) >= SHORTEST_BODY:
                bodies[f"{name}:{node.name}"] = text
    return bodies


def leaked_bodies(out: Path, bodies: dict[str, str]) -> list[str]:
    """'<file of out> holds <reference>:<function>' for every leak found."""
    leaks = []
    for path in sorted(p for p in out.rglob("*") if p.is_file() and ".git" not in p.parts):
        try:
            text = " ".join(path.read_text(encoding="utf-8").split())
        except (UnicodeDecodeError, OSError):
            continue
        leaks += [
            f"{path.relative_to(out)} holds {where}" for where, b in bodies.items() if b in text
        ]
    return leaks


def check_grades(out: Path, solved: bool) -> None:
    """Grade the tree's katas with its own harness, as its `nox -s check` does."""
    report = out / ".katas" / "report.json"
    env = {k: v for k, v in os.environ.items() if k not in ("KATAS_IMPL", "GITHUB_STEP_SUMMARY")}
    env["PYTHONPATH"] = str(out)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "katas", "-q", "--tb=no", "-p", "no:cacheprovider"],
        cwd=out,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    want = "solved" if solved else "not_started"
    try:
        katas = json.loads(report.read_text(encoding="utf-8"))["katas"]
    except (OSError, ValueError, KeyError):
        raise TemplateError(f"the tree's grading wrote no report:\n{done.stdout[-2000:]}") from None
    finally:  # leave only the tree behind
        for litter in [out / ".katas", out / ".hypothesis", *out.rglob("__pycache__")]:
            _remove(litter)
    wrong = sorted(
        f"{name}: {entry['status']}" for name, entry in katas.items() if entry["status"] != want
    )
    missing = sorted(set(load_catalog(out)) - set(katas))
    problems = wrong + [f"{m}: absent" for m in missing]
    if problems or (done.returncode == 0) != solved:
        shown = ", ".join(problems) or f"exit status {done.returncode}"
        raise TemplateError(f"the tree's grading should show every kata {want}; it shows {shown}")


def build(root: Path, out: Path, solved: bool = False, commit: str = "HEAD") -> str:
    """Build and check the tree in out; return the full hash of the commit it came from."""
    source = git(root, "rev-parse", "--verify", f"{commit}^{{commit}}").strip()
    export(root, source, out)
    references = {p.name: p.read_text(encoding="utf-8") for p in (out / "references").glob("*.py")}
    shape_tree(out, solved)
    write_manifest(out, source)
    if not solved:
        leaks = leaked_bodies(out, reference_bodies(references))
        if leaks:
            raise TemplateError("reference code in the template: " + "; ".join(leaks[:10]))
    check_grades(out, solved)
    return source


def _tip(root: Path, branch: str) -> str | None:
    try:
        return git(root, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}").strip()
    except TemplateError:
        return None


def commit_branch(root: Path, out: Path, branch: str, message: str, parents: list[str]) -> str:
    """Commit the files of out as the next commit of branch (plumbing only)."""
    index = out.parent / f".{out.name}.index"
    env = {"GIT_INDEX_FILE": str(index)}
    try:
        git(root, f"--work-tree={out}", "add", "--all", "--force", ".", env=env)
        tree = git(root, "write-tree", env=env).strip()
    finally:
        index.unlink(missing_ok=True)
    args = [a for p in parents for a in ("-p", p)]
    commit = git(root, "commit-tree", tree, *args, "-m", message).strip()
    git(root, "update-ref", f"refs/heads/{branch}", commit)
    return commit


def publish(
    root: Path, out: Path, branch: str, solved: bool, source: str, template_branch: str
) -> str:
    """Commit the built tree onto branch. A template commit follows the branch's previous
    tip; a reference commit follows its previous tip and the template commit built from the
    same source, so both branches share the template's history line."""
    parents = [tip] if (tip := _tip(root, branch)) else []
    if solved:
        template = _tip(root, template_branch)
        subject = git(root, "log", "-1", "--format=%s", template).strip() if template else ""
        if subject != TEMPLATE_SUBJECT + source:
            raise TemplateError(
                f"branch {template_branch!r} was not built from {source[:12]}: build the "
                f"template first (--branch {template_branch})"
            )
        parents = [template, *parents]
        message = f"{REFERENCE_SUBJECT}{source}\n\nThe template with every stub solved."
    else:
        message = f"{TEMPLATE_SUBJECT}{source}\n\nEvery stub and test, no reference solutions."
    return commit_branch(root, out, branch, message, parents)


def main(argv: list[str] | None = None) -> int:
    parser = cli.Parser("template", description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="an empty or new folder")
    parser.add_argument("--solved", action="store_true", help="stubs replaced by references")
    parser.add_argument("--branch", help="commit the tree as the next commit of this branch")
    parser.add_argument(
        "--template-branch",
        default="template",
        help="with --solved --branch: the template branch it follows (default: template)",
    )
    args = parser.parse_args(argv)
    root = Path(git(Path.cwd(), "rev-parse", "--show-toplevel").strip())
    try:
        refuse_dirty(root)
        source = build(root, args.out.resolve(), args.solved)
        what = "reference tree (every kata solved)" if args.solved else "template tree"
        print(f"built the {what} from {source[:12]} in {args.out}; checked")
        if args.branch:
            commit = publish(
                root, args.out.resolve(), args.branch, args.solved, source, args.template_branch
            )
            print(f"committed it as {commit[:12]} on branch {args.branch}")
    except TemplateError as exc:
        print(f"template: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
