# psleak's pytest plugin, the module psleak.pytest_plugin. `psleak python -m pytest` loads
# it by itself; any Python that has the psleak module loads it with
# `-p psleak.pytest_plugin`. It gives:
#
# * --leaks: each test that passes is then run again and again under psleak's checks
#   (psleak_leaks.py), and fails as a leak when it leaks. What is repeated is the test's
#   call phase: its fixtures are set up once before the checks and torn down once after,
#   so that what they create per test (tmp_path, a socket, a thread) is there before and
#   after every call and is no leak. --leaks-json FILE, --leaks-budget SECONDS.
# * @pytest.mark.psleak(times=..., warmup_times=..., retries=..., tolerance=...,
#   checkers=..., setup=False): execute()'s options for one test (or a class, a module);
#   setup=True repeats the test's function-scoped fixtures with it, to find their leaks;
#   @pytest.mark.no_psleak(reason): the test is not checked.
# * the `psleak` fixture: psleak.check(fun, *args, **options) and
#   psleak.check_w_exc(exc, fun, *args, **options), execute()'s checks inside a test.
#
# This source is compiled into the psleak module and runs, at `import psleak`, in a module
# of its own whose `_psleak` is the psleak module. pytest is imported only once pytest
# calls the plugin, so that `import psleak` does not need it.

"""psleak's pytest plugin: --leaks, the psleak and no_psleak markers, the psleak fixture.

PYTEST_DONT_REWRITE (it has no asserts, and is imported with psleak, before pytest could
rewrite it)
"""

import functools
import sys
import types
import warnings

_MARKERS = (
    "psleak(times=None, warmup_times=None, retries=None, tolerance=None, checkers=None, "
    "setup=False): the options of psleak's checks of this test under --leaks "
    "(MemoryLeakTestCase.execute()'s; setup=True: its function-scoped fixtures repeated too)",
    "no_psleak(reason=None): --leaks does not check this test",
)

_REPEATED = ("psleak --leaks: the test's call phase was run %d more times under the checks, its "
             "fixtures set up once (@pytest.mark.no_psleak leaves a test out)")
_REPEATED_WITH_SETUP = ("psleak --leaks: the test was run %d more times under the checks, its "
                        "function-scoped fixtures set up and torn down with each call "
                        "(@pytest.mark.psleak(setup=True))")


def pytest_addoption(parser):
    group = parser.getgroup("psleak", "psleak: native memory and resource leaks")
    group.addoption("--leaks", action="store_true", default=False,
                    help="run each test that passes again and again under psleak's checks; "
                         "a test that leaks memory, descriptors, threads or references fails")
    group.addoption("--leaks-json", metavar="FILE", default=None,
                    help="with --leaks: write the results as JSON to FILE")
    group.addoption("--leaks-budget", metavar="SECONDS", type=float, default=None,
                    help="with --leaks: stop checking tests once the checks took this long "
                         "(the tests still run)")


def pytest_configure(config):
    for line in _MARKERS:
        config.addinivalue_line("markers", line)
    plugin_classes = _plugin_classes()
    config.pluginmanager.register(plugin_classes.Fixtures(), "psleak-fixtures")
    if config.getoption("leaks"):
        config.pluginmanager.register(plugin_classes.Leaks(config), "psleak-leaks")
    else:
        for option in ("--leaks-json", "--leaks-budget"):
            if config.getoption(option.lstrip("-").replace("-", "_")) is not None:
                raise _pytest().UsageError("%s needs --leaks" % option)


def _pytest():
    import pytest

    return pytest


@functools.lru_cache(maxsize=None)
def _plugin_classes():
    """The plugin's classes, made once pytest is there to decorate them."""
    pytest = _pytest()

    class Fixtures:
        @pytest.fixture
        def psleak(self):
            """psleak's checks inside a test: psleak.check(fun, *args, **options) fails the
            test if fun(*args) leaks; check_w_exc(exc, fun, *args, **options) for a
            function every call of which raises exc. The options are execute()'s."""
            return _ExplicitChecks()

    class Leaks:
        """--leaks: the checks of each test, and their report."""

        def __init__(self, config):
            self.config = config
            budget = config.getoption("leaks_budget")
            if budget is not None and not budget > 0:
                raise pytest.UsageError("--leaks-budget: %r is not a number of seconds above 0"
                                        % budget)
            self.json_path = config.getoption("leaks_json")
            if self.json_path:
                try:
                    _psleak._check_writable(self.json_path, "--leaks-json")
                except OSError as error:
                    raise pytest.UsageError(str(error)) from None
            self.session = _psleak._LeakSession("pytest --leaks", _REPEATED, budget=budget,
                                                passthrough=(pytest.exit.Exception,))

        def pytest_report_header(self, config):
            defaults = _psleak._LEAKS_DEFAULTS
            return ["psleak --leaks: each passing test's call phase is run again under the "
                    "checks (warm-up %d, runs of %d+ calls, checks: %s)"
                    % (defaults.warmup_times, defaults.times,
                       ", ".join(_psleak._check_names(defaults.checkers)))]

        @pytest.hookimpl(hookwrapper=True)
        def pytest_runtest_call(self, item):
            reason = self._reason_not_to_check(item)
            if reason is not None:
                self.session.skip(item.nodeid, reason)
                yield
                return
            # pytest calls item.runtest(): for this call phase, the test and then its checks.
            # (An instance's own runtest, another plugin's doing, is put back after.)
            own = item.__dict__.get("runtest")
            item.runtest = functools.partial(self._run_then_check, item, item.runtest)
            try:
                yield
            finally:
                if own is None:
                    del item.runtest
                else:
                    item.runtest = own

        def _reason_not_to_check(self, item):
            """Why a test is not checked, or None when it is (if it passes)."""
            if not isinstance(item, pytest.Function):
                return "not a Python test function (%s)" % type(item).__name__
            excluded = item.get_closest_marker("no_psleak")
            if excluded is not None:
                why = excluded.kwargs.get("reason") or (excluded.args[0] if excluded.args else "")
                return "excluded by @pytest.mark.no_psleak" + (": %s" % why if why else "")
            if item.get_closest_marker("xfail") is not None:
                return "marked xfail"
            if "psleak" in getattr(item, "fixturenames", ()):
                return "uses the psleak fixture (it checks what it calls itself)"
            if isinstance(getattr(item, "_testcase", None), _psleak.MemoryLeakTestCase):
                return "a MemoryLeakTestCase (it checks what it calls itself)"
            return None

        def _run_then_check(self, item, runtest):
            __tracebackhide__ = True
            runtest()
            if getattr(item, "_excinfo", None):
                return  # a unittest.TestCase that failed: pytest reports it
            try:
                options, with_setup = _marker_options(item)
            except (TypeError, ValueError) as error:
                bad_marker = str(error)
            else:
                bad_marker = None
            if bad_marker is not None:  # failed outside the except: one message, not two
                self.session.skip(item.nodeid, "bad marker: %s" % bad_marker)
                pytest.fail(bad_marker, pytrace=False)
            phase = _RepeatedCallPhase(item, runtest, with_setup)
            output = phase.take_output()
            try:
                fun = getattr(item, "obj", runtest)
                self.session.check(item.nodeid, fun, phase.watched_arguments(), phase, options,
                                   name=item.name,
                                   repeated=_REPEATED_WITH_SETUP if with_setup else None)
            finally:
                phase.give_output_back(output)

        @pytest.hookimpl(hookwrapper=True)
        def pytest_runtest_makereport(self, item, call):
            outcome = yield
            error = call.excinfo.value if call.excinfo is not None else None
            if call.when == "call" and getattr(error, "_psleak_leaks", False):
                outcome.get_result().longrepr = _LeakFailure(item, error)

        def pytest_terminal_summary(self, terminalreporter):
            terminalreporter.write_sep("=", "psleak --leaks")
            for line in self.session.summary_lines():
                terminalreporter.write_line(line)

        def pytest_sessionfinish(self, session):
            if self.json_path:
                self.session.write_json(self.json_path)

    return types.SimpleNamespace(Fixtures=Fixtures, Leaks=Leaks)


def _marker_options(item):
    """The test's options from its psleak markers (the closest's keywords win), validated,
    and whether its function-scoped fixtures are repeated with it (setup=True). Raises
    TypeError or ValueError."""
    given = {}
    for marker in reversed(list(item.iter_markers("psleak"))):
        if marker.args:
            raise TypeError("@pytest.mark.psleak takes keywords only (got %r)" % (marker.args,))
        given.update(marker.kwargs)
    with_setup = given.pop("setup", False)
    if not isinstance(with_setup, bool):
        raise TypeError("@pytest.mark.psleak: 'setup' must be True or False (got %r)"
                        % (with_setup,))
    return _psleak._leak_options(given, "@pytest.mark.psleak"), with_setup


class _RepeatedCallPhase:
    """One more run of a test's call phase (item.runtest()), as its checks call it. What
    pytest and its fixtures keep per call is emptied first, so that it does not pile up
    into a leak, or make the test fail the second time: the log records of the phase,
    the output captured (pytest's and capsys'/capfd's), the warnings recwarn recorded,
    and monkeypatch's changes made by the call before (undone after each call; those of
    the fixtures and of the first run stay). Warnings raised by the repeated calls are
    dropped (they were shown once), unless recwarn records them.

    With `with_setup` (@pytest.mark.psleak(setup=True)) each call first tears down the
    test's function-scoped fixtures and sets them up again, so that a leak in their code
    is found; fixtures of wider scope stay set up."""

    def __init__(self, item, runtest, with_setup=False):
        self.item = item
        self.runtest = runtest
        self.with_setup = with_setup
        pytest = _pytest()
        plugins = item.config.pluginmanager
        self.capture = plugins.get_plugin("capturemanager")
        logging_plugin = plugins.get_plugin("logging-plugin")
        self.log_handlers = [handler for handler in (
            getattr(logging_plugin, "caplog_handler", None),
            getattr(logging_plugin, "report_handler", None)) if hasattr(handler, "clear")]
        values = list((getattr(item, "funcargs", None) or {}).values())

        def of_type(name):
            kind = getattr(pytest, name, None)
            return [value for value in values if kind is not None and isinstance(value, kind)]

        self.captures = of_type("CaptureFixture")
        self.recorders = of_type("WarningsRecorder")
        self.monkeypatches = [patcher for patcher in of_type("MonkeyPatch")
                              if all(hasattr(patcher, name) for name in _MONKEYPATCH_STATE)]

    def watched_arguments(self):
        """The fixture values the test takes: the reference count check watches them."""
        funcargs = getattr(self.item, "funcargs", None) or {}
        names = getattr(getattr(self.item, "_fixtureinfo", None), "argnames", ())
        return {name: funcargs[name] for name in names if name in funcargs}

    def take_output(self):
        """What the first run printed, kept aside while the checks run (see
        give_output_back)."""
        if self.capture is None or not self.capture.is_globally_capturing():
            return None
        return self.capture.read_global_capture()

    def give_output_back(self, output):
        """Puts the first run's output back into pytest's capture, for its report."""
        if output is None:
            return
        out, err = output
        if out:
            sys.stdout.write(out)
        if err:
            sys.stderr.write(err)

    def _set_up_again(self):
        """Tears down what the test's own set-up made (the finalizers pytest keeps for the
        test item: its function-scoped fixtures), then sets it up afresh."""
        state = getattr(self.item.session, "_setupstate", None)
        entry = getattr(state, "stack", {}).get(self.item)
        if entry is None:
            raise RuntimeError("psleak: setup=True needs pytest's SetupState of pytest 7 "
                               "or later")
        finalizers = entry[0]
        while len(finalizers) > 1:  # the first is the item's own teardown, kept
            finalizers.pop()()
        self.item._initrequest()
        self.item.setup()

    def __call__(self):
        __tracebackhide__ = True
        if self.with_setup:
            self._set_up_again()  # new capsys, recwarn, monkeypatch: nothing to empty
            self.captures, self.recorders, self.monkeypatches = [], [], []
        for capture in self.captures:
            capture.readouterr()
        for recorder in self.recorders:
            recorder.clear()
        for handler in self.log_handlers:
            handler.clear()
        if self.capture is not None and self.capture.is_globally_capturing():
            self.capture.read_global_capture()
        saved = [_own_patches(patcher) for patcher in self.monkeypatches]
        try:
            testcase = getattr(self.item, "_testcase", None)
            if getattr(testcase, "_asyncioRunner", None) is not None:
                # An IsolatedAsyncioTestCase runs only with no event loop runner left
                # from the run before (closed, but still set).
                testcase._asyncioRunner = None
            # As pytest does for each test, warnings are shown again at each call (a
            # fresh catch_warnings forgets those already shown); recwarn records them, else
            # they are dropped.
            with warnings.catch_warnings(record=not self.recorders):
                self.runtest()
            problems = getattr(self.item, "_excinfo", None)
            if problems:  # a unittest.TestCase: its failure, or its skip, is kept there
                del self.item._excinfo
                raise problems[0].value
        finally:
            for patcher, state in zip(self.monkeypatches, saved):
                _undo_own_patches(patcher, state)


# The attributes of pytest's MonkeyPatch that hold what undo() reverts.
_MONKEYPATCH_STATE = ("_setattr", "_setitem", "_cwd", "_savesyspath")


def _own_patches(patcher):
    """Gives monkeypatch an empty record of changes for one call; returns the one set
    aside (the fixtures' changes and the first run's)."""
    saved = tuple(getattr(patcher, name) for name in _MONKEYPATCH_STATE)
    patcher._setattr, patcher._setitem, patcher._cwd, patcher._savesyspath = [], [], None, None
    return saved


def _undo_own_patches(patcher, saved):
    """Undoes the changes of one call, and puts the record set aside back."""
    patcher.undo()
    for name, value in zip(_MONKEYPATCH_STATE, saved):
        setattr(patcher, name, value)


class _ExplicitChecks:
    """The `psleak` fixture's value."""

    def check(self, fun, *args, **options):
        """execute()'s checks on fun(*args); the options are execute()'s keywords, with
        MemoryLeakTestCase's defaults."""
        __tracebackhide__ = True
        self._check(fun, args, None, options)

    def check_w_exc(self, exc, fun, *args, **options):
        """The same for a function every call of which must raise exc (the error path is
        checked); a call that returns normally fails the test."""
        __tracebackhide__ = True
        _psleak._require_exception_classes(exc, "check_w_exc")
        self._check(fun, args, exc, options)

    def _check(self, fun, args, expected, options):
        __tracebackhide__ = True
        if not callable(fun):
            raise TypeError("'fun' must be instance of Callable (got %r)" % (fun,))
        options = _psleak._validated_options(_psleak.MemoryLeakTestCase, **options)
        if options.checkers.memory and _psleak._pymalloc_hides_leaks():
            _pytest().skip(_psleak._PYMALLOC_SKIP)
        try:
            # Warnings point at the test's line: _raise_for, _check_callable, _check,
            # check or check_w_exc, the test.
            _psleak._check_callable(fun, args, {}, expected, options, warn_stacklevel=5)
        finally:
            _psleak._show_source_in_tracebacks()


class _CrashLine:
    """Where and what a leak failure is in one line (pytest's reprcrash): the test's
    definition, and the exception's first line."""

    def __init__(self, path, lineno, message):
        self.path = path
        self.lineno = lineno
        self.message = message

    def __str__(self):
        return "%s:%d: %s" % (self.path, self.lineno, self.message)


class _LeakFailure:
    """The failure report of a test that leaks under --leaks (pytest's longrepr): where
    the test is, then the exception's message, with psleak's table. The traceback would
    show psleak's own code only."""

    def __init__(self, item, error):
        path, line, _ = item.location
        name = "%s.%s" % (type(error).__module__, type(error).__name__)
        self.lines = ("%s: %s" % (name, error)).splitlines()
        self.reprcrash = _CrashLine(path, line + 1, self.lines[0])
        self.header = "%s:%d: %s" % (path, line + 1, item.name)

    def toterminal(self, writer):
        writer.line(self.header)
        for line in self.lines:
            writer.line("E   " + line, red=True, bold=True)

    def __str__(self):
        return "\n".join([self.header] + ["E   " + line for line in self.lines])
