"""Grading a learner's checkout for a teacher or a fork's CI, with tamper evidence.

    python -m dojo.grade [--solutions DIR] [--assigned "NAME NAME"] [--require]

Run it from a trusted copy of the template (the upstream at a pinned commit) with
`--solutions` pointing at the learner's checkout: the tests, kata.toml files and harness that
decide the grade are then the trusted ones, the learner's copies are only compared with them,
and a changed test cannot turn a failing kata into a solved one. Run in the learner's own
checkout (no upstream known), the learner's copies are compared with the committed
`grading-manifest.json`, and every kata a changed file could affect is graded "failing:
tests modified", naming the files (a changed harness file affects every kata).

Every assigned kata (all, when none are named) is graded; the result goes to
DIR/.katas/report.json and, on GitHub Actions, to the job summary. The exit status is 0
unless --require is given and an assigned kata is not solved.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from dojo import cli, tamper
from dojo.catalog import UnknownKata, check_names, load_catalog
from dojo.report import DEFAULT_PATH


class GradeError(RuntimeError):
    """The grading itself failed (not a kata)."""


MODIFIED = "tests modified"


def parse_assigned(text: str, catalog: dict) -> list[str]:
    names = [n for n in text.replace(",", " ").split() if n]
    check_names(names, catalog)
    return sorted(set(names))


def run_tests(trusted: Path, solutions: Path, names: list[str], report: Path) -> int:
    """Grade solutions/katas with the tests and harness of trusted."""
    env = {k: v for k, v in os.environ.items() if k not in ("KATAS_IMPL", "GITHUB_STEP_SUMMARY")}
    env["PYTHONPATH"] = str(trusted)
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(trusted / "katas"),
        f"--impl={solutions / 'katas'}",
        f"--report={report}",
        "--rootdir",
        str(trusted),
        "-c",
        str(trusted / "pyproject.toml"),
        "-q",
        "--tb=no",
        "-rN",
        "-p",
        "no:cacheprovider",
        *[f"--kata={n}" for n in names],
    ]
    done = subprocess.run(command, cwd=trusted, env=env, capture_output=True, text=True)
    if not report.is_file():  # pytest itself failed: show why
        print(done.stdout[-3000:], done.stderr[-3000:], sep="\n", file=sys.stderr)
    return done.returncode


def mark_modified(katas: dict, changed: list[str]) -> None:
    """In the learner's own checkout: void every grade a changed file could have decided."""
    harness = [c for c in changed if tamper.kata_of(c) is None]
    for name, entry in katas.items():
        mine = harness + [c for c in changed if tamper.kata_of(c) == name]
        if mine:
            entry["tests_modified"] = mine
            if entry["status"] in ("solved", "not_started"):
                entry["status"] = "failing"
            entry["message"] = f"{MODIFIED}: {', '.join(mine)}"


def markdown(result: dict) -> str:
    lines = ["", "### Grade", ""]
    if result["tests_modified"]:
        how = (
            "graded with the upstream tests, so they did not count"
            if result["trusted"]
            else "every kata they could affect is marked failing"
        )
        lines += [f"**{MODIFIED}:** {', '.join(result['tests_modified'])} ({how}).", ""]
    lines += ["| kata | status | passed | failed | why |", "|---|---|---|---|---|"]
    for name, entry in result["katas"].items():
        why = entry.get("message", "").replace("|", "\\|")
        lines.append(
            f"| {name} | {entry['status']} | {entry['passed']} | {entry['failed']} | {why} |"
        )
    solved = sum(e["status"] == "solved" for e in result["katas"].values())
    lines += ["", f"{solved} of {len(result['katas'])} assigned katas solved.", ""]
    return "\n".join(lines)


def grade(trusted: Path, solutions: Path, assigned: list[str]) -> dict:
    """Grade; return the report (also written to solutions/.katas/report.json)."""
    manifest = tamper.load_manifest(trusted)
    same = trusted.resolve() == solutions.resolve()
    if manifest is None:  # a main checkout: the trusted files are the reference
        manifest = tamper.make_manifest(trusted, "this checkout")
    changed = tamper.changed_files(solutions, manifest)
    report = (solutions / DEFAULT_PATH).resolve()
    report.unlink(missing_ok=True)
    code = run_tests(trusted, solutions, assigned, report)
    if not report.is_file():
        raise GradeError(f"grading wrote no report (pytest exit status {code})")
    result = json.loads(report.read_text(encoding="utf-8"))
    names = assigned or sorted(load_catalog(trusted))
    result["katas"] = {n: result["katas"][n] for n in names if n in result["katas"]}
    if changed and same:
        mark_modified(result["katas"], changed)
    result["trusted"] = not same
    result["tests_modified"] = changed
    result["assigned"] = names
    result["summary"] = {
        "solved": sum(e["status"] == "solved" for e in result["katas"].values()),
        "total": len(result["katas"]),
    }
    report.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as f:
            f.write(markdown(result))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = cli.Parser("grade", description=__doc__.split("\n")[0])
    parser.add_argument("--solutions", type=Path, default=Path("."), help="the learner's checkout")
    parser.add_argument("--assigned", default="", help="kata names (space or comma separated)")
    parser.add_argument("--require", action="store_true", help="fail unless all are solved")
    parser.add_argument(
        "--trusted", metavar="REF", help="grade with the tests and harness of this git commit"
    )
    args = parser.parse_args(argv)
    if args.trusted:
        return _grade_with(args.trusted, args.solutions.resolve(), [*(argv or sys.argv[1:])])
    trusted = Path(__file__).resolve().parents[1]
    catalog = load_catalog(trusted)
    try:
        assigned = parse_assigned(args.assigned, catalog)
    except UnknownKata as exc:
        print(f"grade: assigned katas: {exc}", file=sys.stderr)
        return 2
    if not (args.solutions / "katas").is_dir():
        print(f"grade: {args.solutions} has no katas/ folder", file=sys.stderr)
        return 2
    try:
        result = grade(trusted, args.solutions, assigned)
    except GradeError as exc:
        print(f"grade: {exc}", file=sys.stderr)
        return 2
    for name, entry in result["katas"].items():
        print(f"{name:28} {entry['status']:12} {entry.get('message', '')[:90]}")
    if result["tests_modified"]:
        print(f"{MODIFIED}: {', '.join(result['tests_modified'])}")
    solved, total = result["summary"]["solved"], result["summary"]["total"]
    print(f"{solved} of {total} assigned katas solved")
    return 1 if args.require and solved < total else 0


def _grade_with(ref: str, solutions: Path, argv: list[str]) -> int:
    """Export ref of the solutions' repository and let its own harness grade them."""
    from dojo.template import TemplateError, export

    with tempfile.TemporaryDirectory() as tmp:
        try:
            export(solutions, ref, Path(tmp))
        except (TemplateError, subprocess.CalledProcessError):
            print(f"grade: --trusted {ref}: no such commit in {solutions}", file=sys.stderr)
            return 2
        i = argv.index("--trusted")
        rest = [*argv[:i], *argv[i + 2 :], "--solutions", str(solutions)]
        env = {**os.environ, "PYTHONPATH": tmp}
        command = [sys.executable, "-m", "dojo.grade", *rest]
        return subprocess.run(command, cwd=tmp, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
