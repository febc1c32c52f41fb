"""The pytest plugin: wires choosing, importing, guarding, timing out, collecting, reporting."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from dojo import outcomes, report, sandbox
from dojo.catalog import Kata, UnknownKata, check_names, load_catalog
from dojo.errors import GradingError, NotRun
from dojo.frames import Origins
from dojo.guard import Guard
from dojo.impl import ENV_VAR, Impl, ImplError, choose_impl
from dojo.loader import Solution, import_solution


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("katas", "grading katas")
    group.addoption(
        "--impl",
        default=None,
        help=f"what to grade: stubs (default), references, or a solutions folder; "
        f"${ENV_VAR} does the same",
    )
    group.addoption(
        "--kata", action="append", default=[], metavar="NAME", help="grade only this kata"
    )
    group.addoption(
        "--no-shrink",
        action="store_true",
        help="stop each property test at its first failing example (for runs meant to fail)",
    )
    group.addoption(
        "--report",
        default=report.DEFAULT_PATH.as_posix(),
        help="where to write the JSON report, relative to the repository ('none' for nowhere)",
    )


def pytest_configure(config: pytest.Config) -> None:
    catalog = load_catalog(config.rootpath)
    for name in catalog:
        config.addinivalue_line("markers", f"{name}: the tests of the {name} kata")
    try:
        impl = choose_impl(config.getoption("impl"), config.rootpath, config.invocation_params.dir)
        check_names(config.getoption("kata"), catalog)
    except (ImplError, UnknownKata) as exc:
        raise pytest.UsageError(str(exc)) from None
    _load_hypothesis_profile(shrink=not config.getoption("no_shrink"))
    grader = Grader(config, impl, catalog)
    config.stash[GRADER] = grader
    config.pluginmanager.register(grader, "dojo-grader")
    config.add_cleanup(sandbox.guard_process_exit(grader.origins.solution_is_calling))


def _load_hypothesis_profile(shrink: bool) -> None:
    """`ci` (derandomised) when CI is set, else `dev`; neither has a deadline, since the
    first torch call in a process takes tens of milliseconds, nor an example database.
    Without shrink, a property test stops at its first failing example."""
    try:
        from hypothesis import Phase, settings
    except ImportError:  # hypothesis is a dev dependency; kata tests that need it import it
        return
    # the explain phase costs seconds per failing test and tells a learner little
    phases = [p for p in Phase if p is not Phase.explain and (shrink or p is not Phase.shrink)]
    settings.register_profile("dev", deadline=None, database=None, phases=phases)
    settings.register_profile(
        "ci", deadline=None, database=None, phases=phases, derandomize=True, print_blob=True
    )
    settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(scope="module")
def solution(request: pytest.FixtureRequest) -> Solution:
    """The module under test: the kata's file from the folder chosen with --impl."""
    grader = request.config.stash[GRADER]
    kata = grader.kata_of(request.node.path)
    if kata is None:
        raise pytest.UsageError(f"{request.node.path} is not inside a kata folder")
    module = import_solution(kata, grader.impl)
    return Solution(module, Path(module.__file__), grader.running_guard, kata.numpy_only)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport | None:
    """A stub's NotImplementedError and a timeout get a one-line report: no traceback to
    render, which would cost more than the test itself (and a timeout's traceback may stop
    in the middle of a line, which pytest cannot render)."""
    kata = item.config.stash[GRADER].kata_of(item.path)
    if kata is None or call.excinfo is None:
        return None
    if call.excinfo.errisinstance(NotImplementedError):
        return _plain_report(item, call, f"{kata.name}: not implemented yet")
    if outcomes.is_timeout(call.excinfo.value):
        return _plain_report(item, call, f"{kata.name}: {call.excinfo.value}")
    return None


def _plain_report(item: pytest.Item, call: pytest.CallInfo, text: str) -> pytest.TestReport:
    """A failed report whose whole story is text."""
    return pytest.TestReport(
        item.nodeid,
        item.location,
        dict.fromkeys(item.keywords, 1),
        "failed",
        text,
        call.when,
        [(f"Captured {key} {when}", text) for when, key, text in item._report_sections],
        call.duration,
        call.start,
        call.stop,
        item.user_properties,
    )


_SNAPSHOT = pytest.StashKey[dict]()


class Grader:
    """The hooks that grade kata tests, with what they know during one pytest session."""

    def __init__(self, config: pytest.Config, impl: Impl, catalog: dict[str, Kata]) -> None:
        self.config = config
        self.rootdir = config.rootpath
        self.impl = impl
        self.catalog = catalog
        self.selected: list[str] = config.getoption("kata")
        self.origins = Origins(impl.root)
        self.guard: Guard | None = None  # the guard of the test now running
        self.hung: dict[str, str] = {}  # kata -> the test that timed out
        self.results: dict[str, outcomes.KataResult] = {}
        self.collected: set[str] = set()  # node ids of kata tests meant to run
        self.reported: set[str] = set()  # node ids of kata tests with a report

    def kata_of(self, path: Path) -> Kata | None:
        try:
            name = Path(path).relative_to(self.rootdir / "katas").parts[0]
        except (ValueError, IndexError):
            return None
        return self.catalog.get(name)

    def running_guard(self) -> Guard | None:
        return self.guard

    # collection
    def pytest_ignore_collect(self, collection_path: Path) -> bool | None:
        kata = self.kata_of(collection_path)
        if kata is not None and self.selected and kata.name not in self.selected:
            return True
        return None

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            kata = self.kata_of(item.path)
            if kata is None:
                continue
            item.add_marker(kata.name)
            if item.get_closest_marker("timeout") is None:
                item.add_marker(pytest.mark.timeout(kata.timeout))

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Kata tensors are small: on one thread torch is as fast, and never fights another
        process (xdist's workers, a loaded machine) for the cores."""
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(1)
        self._expect(item.nodeid for item in session.items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids: list[str]) -> None:
        self._expect(ids)

    def _expect(self, nodeids) -> None:
        if self.config.option.collectonly:  # nothing is meant to run
            return
        self.collected.update(
            n for n in nodeids if n.startswith("katas/") and n.split("/")[1] in self.catalog
        )

    # running
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        kata = self.kata_of(item.path)
        if kata is None:
            return
        item.stash[_SNAPSHOT] = sandbox.snapshot()
        if kata.name in self.hung:
            raise NotRun(f"not run: {self.hung[kata.name]} timed out before it")

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item):
        kata = self.kata_of(item.path)
        if kata is None:
            return (yield)
        self.guard = Guard(kata, self.origins)
        with self.guard.active():
            return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item):
        result = yield
        if _SNAPSHOT in item.stash:
            changed = sandbox.restore(item.stash[_SNAPSHOT])
            if changed:
                raise sandbox.StateChanged(
                    "the solution changed global torch state: "
                    + ", ".join(changed)
                    + " (the grader put it back)"
                )
        return result

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        kata = self.kata_of(item.path)
        try:
            rep = yield
        except Exception as err:  # pytest could not render the failure: report it plainly
            if kata is None or call.excinfo is None:
                raise
            exc = call.excinfo.value
            rep = _plain_report(
                item, call, f"{type(exc).__name__}: {exc} (no traceback: {type(err).__name__})"
            )
        if kata is None:
            return rep
        gpu = item.get_closest_marker("gpu") is not None
        if rep.skipped:
            rep.user_properties = [*rep.user_properties, ("dojo", ["skipped", "", gpu])]
            return rep
        exc = call.excinfo.value if call.excinfo else None
        limit = item.get_closest_marker("timeout")
        outcome, message = outcomes.classify(exc, limit.args[0] if limit else kata.timeout)
        if call.when == "call":
            if self.guard is not None and self.guard.violations:
                # a forbidden call that the solution caught and swallowed still counts
                outcome, message = outcomes.FORBIDDEN, self.guard.violations[0]
            self.guard = None
        if outcome == outcomes.BROKEN and message.startswith("timed out"):
            if item.get_closest_marker("speed"):
                # too slow for a speed test is a failure of that test, not a hang
                why = (getattr(item, "obj", None).__doc__ or "").strip().split("\n")[0]
                outcome, message = outcomes.FAILED, f"{message.split(' (')[0]}: {why}"
            else:
                self.hung.setdefault(kata.name, item.name)
        if rep.failed and (
            isinstance(exc, GradingError | sandbox.StateChanged)
            or outcome == outcomes.NOT_IMPLEMENTED
            or outcomes.is_timeout(exc)
        ):
            rep.longrepr = f"{kata.name}: {message}"
        rep.sections = [(title, sandbox.cut(text)) for title, text in rep.sections]
        rep.user_properties = [*rep.user_properties, ("dojo", [outcome, message, gpu])]
        return rep

    # collecting (on the controller, under xdist)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        props = dict(report.user_properties)
        if "dojo" not in props:
            return
        self.reported.add(report.nodeid)
        outcome, message, gpu = props["dojo"]
        name = report.nodeid.split("/")[1]
        result = self.results.setdefault(
            name, outcomes.KataResult(name, self.catalog[name].difficulty)
        )
        if report.skipped:
            result.gpu_skipped += gpu
        elif report.when != "call" and report.passed:
            # a setup or teardown that passed says nothing of the test (it may be skipped)
            result.seconds += report.duration
        else:
            result.record(report.nodeid, outcome, message, report.duration, gpu)

    # reporting
    def _ordered(self) -> list[outcomes.KataResult]:
        return [r for name, r in self.results.items() if r.tests]

    def pytest_sessionfinish(self) -> None:
        if hasattr(self.config, "workerinput"):
            return
        # a test that never reported (-x, Ctrl-C, a crash of pytest itself) was not run
        for nodeid in sorted(self.collected - self.reported):
            name = nodeid.split("/")[1]
            self.results.setdefault(
                name, outcomes.KataResult(name, self.catalog[name].difficulty)
            ).record(nodeid, outcomes.NOT_RUN, "not run: the session stopped before it", 0.0)
        if not self.results:
            return
        target = self.config.getoption("report")
        if target != "none":
            report.write_json(self._ordered(), self.impl.label, self.rootdir / target)
        report.append_step_summary(self._ordered(), self.impl.label)

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if hasattr(self.config, "workerinput") or not self.results:
            return
        tw = terminalreporter._tw
        terminalreporter.write(
            report.terminal_table(self._ordered(), self.impl.label, tw.fullwidth, tw.hasmarkup)
        )


GRADER = pytest.StashKey[Grader]()
