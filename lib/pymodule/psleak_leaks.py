# --leaks: every test of a suite that passes is then run again and again under the checks
# of MemoryLeakTestCase.execute() (warm-up, resource checks around one call, memory runs
# of growing size, reference counts), and fails as a leak when it leaks. Shared by the
# pytest plugin (psleak_pytest.py, the module psleak.pytest_plugin) and by
# `psleak test --leaks` (_run_tests, in psleak_api.py). This source is compiled into the
# module and runs in its namespace, after psleak_api.py.
#
# What one call of a test is: for pytest, the test's call phase, its fixtures set up once
# before the checks and torn down once after; for unittest, TestCase.run() (setUp, the
# test method, tearDown and the cleanups), its class and module fixtures set up once.

import contextlib
import json
import time

# execute()'s options for each test, unless a marker says otherwise. Kept small, so that
# a clean test costs a few hundred calls at most: warm-up 5, one call for the resource
# checks, one memory run of 30 calls when nothing grows (at most 4 runs, 30 + 45 + 60 +
# 75 calls, when something keeps moving), the reference counts read between the runs
# (one batch of 45 when a single run was enough and a count moved): 36 calls, 81, 216
# at most. With psleak's exact counters a leak of a block every two calls is
# still found; a test can ask for more calls with its marker. Objects left in reference
# cycles are the garbage collector's business in a test suite (a test that builds a mock
# or a class makes some): that check is asked for per test.
_LEAKS_DEFAULTS = types.SimpleNamespace(
    warmup_times=5, times=30, retries=4, tolerance=0, trim_callback=None,
    checkers=Checkers.exclude("gcgarbage"))
_LEAK_OPTION_NAMES = ("times", "warmup_times", "retries", "tolerance", "checkers",
                      "trim_callback")

# The kind of a leak by the exception it raised (the names of `psleak run --checks`).
_LEAK_KINDS = ((MemoryLeakError, "memory"), (ReferenceLeakError, "refcount"),
               (UnclosedFdError, "fd"), (UnclosedNativeThreadError, "thread"),
               (UnclosedPythonThreadError, "pythread"), (UncollectableGarbageError, "gc"))


def _leak_options(given, where):
    """A test's options: `given` (a marker's keywords) over the --leaks defaults,
    validated. `checkers` may also be check names ("memory", "fds", ...). Raises
    TypeError or ValueError starting with `where`."""
    __tracebackhide__ = True
    unknown = sorted(set(given) - set(_LEAK_OPTION_NAMES))
    if unknown:
        raise TypeError("%s: unknown option %s (known: %s)"
                        % (where, ", ".join(unknown), ", ".join(_LEAK_OPTION_NAMES)))
    given = dict(given)
    checkers = given.get("checkers")
    if isinstance(checkers, str):
        checkers = [checkers]
    try:
        if isinstance(checkers, (list, tuple, set, frozenset)):
            given["checkers"] = Checkers.only(*checkers)
        return _validated_options(_LEAKS_DEFAULTS, **given)
    except (TypeError, ValueError) as error:
        raise type(error)("%s: %s" % (where, error)) from None


def _leak_kind(error):
    for error_class, kind in _LEAK_KINDS:
        if isinstance(error, error_class):
            return kind
    return "leak"


def _one_line(error):
    """"ValueError: bad value": an exception in one line, for the summary."""
    text = str(error).strip()
    first = text.splitlines()[0] if text else ""
    return "%s: %s" % (type(error).__name__, first) if first else type(error).__name__


def _check_names(checkers):
    return [field.name for field in dataclasses.fields(checkers) if getattr(checkers, field.name)]


def _report_essentials(report):
    """What the JSON of --leaks keeps of the core's report: its settings, runs, findings
    and verdict (the run document's fields of the same names)."""
    if report is None:
        return None
    findings = [{key: finding[key] for key in ("check", "severity", "message", "items")}
                for finding in report["findings"]]
    return {"settings": report["settings"], "runs": report["runs"], "findings": findings,
            "verdict": report["verdict"]}


class _NotRepeatable(Exception):
    """A test failed (or was skipped) when run again; the message says how."""


class _LeakSession:
    """The --leaks run of one test suite: checks its tests one by one, keeps what it found
    (a record per test), and reports it: summary lines and a JSON document.

    `command` names the run in the JSON ("pytest --leaks"); `repeated` says what one call
    of a test is, for the leak's message; `budget`: seconds of checks after which the
    remaining tests are not checked (None: no limit); `passthrough`: exceptions that end
    the run instead of making a test not repeatable (KeyboardInterrupt always does).
    """

    def __init__(self, command, repeated, budget=None, passthrough=()):
        self.command = command
        self.repeated = repeated
        self.budget = budget
        self.passthrough = (KeyboardInterrupt,) + tuple(passthrough)
        self.records = []
        self.seconds = 0.0
        # Outside the psleak binary with pymalloc, memory cannot be measured (see
        # _PYMALLOC_SKIP); the other checks still can.
        self.memory_unchecked = _pymalloc_hides_leaks()

    def skip(self, test_id, reason):
        """Records a test that is not checked, and why."""
        self.records.append({"id": test_id, "status": "not-checked", "reason": reason})

    def budget_spent(self):
        return self.budget is not None and self.seconds >= self.budget

    def check(self, test_id, fun, kwargs, one_call, options, name, repeated=None):
        """Checks one test: one_call() is called as execute() calls a function, fun and
        the kwargs' values standing for it in the reference count check, `name` naming
        it in messages. Raises the leak's exception (its message saying what was
        repeated: `repeated`, else the session's); a test that fails when run again is recorded as not repeatable and
        passes."""
        __tracebackhide__ = True
        if self.budget_spent():
            self.skip(test_id, "the --leaks-budget of %g s was spent" % self.budget)
            return
        if self.memory_unchecked and options.checkers.memory:
            options = options._replace(
                checkers=dataclasses.replace(options.checkers, memory=False))
        calls = [0]

        def via(_bound):
            calls[0] += 1
            one_call()

        record = {"id": test_id, "options": {
            "warmup_times": options.warmup_times, "times": options.times,
            "retries": options.retries, "tolerance": options.tolerance,
            "checks": _check_names(options.checkers)}}
        started = time.perf_counter()
        try:
            _check_callable(fun, (), kwargs, None, options, via=via, name=name)
            record["status"] = "clean"
        except Error as leak:
            record.update(status="leak", kind=_leak_kind(leak),
                          message=str(leak).split("\n", 1)[0].rstrip(":"),
                          check=_report_essentials(getattr(leak, "_report", None)))
            leak.args = ("%s\n%s" % (leak, (repeated or self.repeated) % calls[0]),)
            leak._psleak_leaks = True  # for the pytest plugin's failure report
            raise
        except self.passthrough:
            raise
        except BaseException as error:
            record.update(status="not-repeatable",
                          message="%s (call %d of the check)" % (_one_line(error), calls[0]))
        finally:
            elapsed = time.perf_counter() - started
            self.seconds += elapsed
            record.update(calls=calls[0], seconds=round(elapsed, 3))
            if "status" in record:  # not when Ctrl-C or pytest.exit() ended the run
                self.records.append(record)
            _show_source_in_tracebacks()

    def _with_status(self, *statuses):
        return [record for record in self.records if record["status"] in statuses]

    def summary(self):
        checked = self._with_status("clean", "leak", "not-repeatable")
        calls = sum(record["calls"] for record in checked)
        return {"tests": len(self.records), "checked": len(checked),
                "clean": len(self._with_status("clean")),
                "leaking": len(self._with_status("leak")),
                "not_repeatable": len(self._with_status("not-repeatable")),
                "not_checked": len(self._with_status("not-checked")),
                "calls": calls, "seconds": round(self.seconds, 3)}

    def summary_lines(self):
        """The end-of-run report: counts, cost, then each leak, each test that could not
        be repeated, and why tests were not checked."""
        counts = self.summary()
        per_test = counts["calls"] // counts["checked"] if counts["checked"] else 0
        lines = ["%d tests checked: %d leaking, %d not repeatable, %d clean; %d not checked"
                 % (counts["checked"], counts["leaking"], counts["not_repeatable"],
                    counts["clean"], counts["not_checked"]),
                 "%d calls (%d per test checked) in %.1f s"
                 % (counts["calls"], per_test, counts["seconds"])]
        if self.memory_unchecked:
            lines.append("memory not checked: " + _PYMALLOC_SKIP)
        for record in self._with_status("leak"):
            lines.append("LEAK (%s) %s: %s" % (record["kind"], record["id"], record["message"]))
        for record in self._with_status("not-repeatable"):
            lines.append("NOT REPEATABLE %s: %s" % (record["id"], record["message"]))
        reasons = collections.Counter(record["reason"]
                                      for record in self._with_status("not-checked"))
        for reason, count in sorted(reasons.items()):
            lines.append("not checked: %d test%s, %s" % (count, "s" if count > 1 else "", reason))
        return lines

    def document(self):
        """The JSON document of --leaks-json."""
        defaults = _LEAKS_DEFAULTS
        return {
            "schema_version": 1,
            "psleak_version": __version__,
            "command": self.command,
            "settings": {"warmup_times": defaults.warmup_times, "times": defaults.times,
                         "retries": defaults.retries, "tolerance": defaults.tolerance,
                         "checks": _check_names(defaults.checkers),
                         "budget_seconds": self.budget,
                         "memory_checked": not self.memory_unchecked},
            "summary": self.summary(),
            "tests": self.records,
        }

    def write_json(self, path):
        with open(path, "w", encoding="utf-8") as file:
            json.dump(self.document(), file, indent=2)
            file.write("\n")


def _check_writable(path, option):
    """Raises OSError (saying which option) if `path` cannot be written: before the tests
    run, so that no result is lost to a typo."""
    try:
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as error:
        raise OSError("%s %s: cannot write the file (%s)"
                      % (option, path, error.strerror or error)) from None


# ---------------------------------------------------------------------------------------
# unittest: `psleak test --leaks`
# ---------------------------------------------------------------------------------------

_UNITTEST_REPEATED = ("psleak --leaks: the test (setUp, the test method, tearDown) was run %d "
                      "more times under the checks")


class _LeaksTestResult(unittest.TextTestResult):
    """unittest's text result, each test that passes then checked for leaks: its success,
    or its leak as a failure, is reported when the checks end (after TestCase.run()
    cleared its state, so that the test can run again)."""

    leak_session = None  # set on a subclass by _run_tests
    _passed = None

    def addSuccess(self, test):
        self._passed = test  # reported by stopTest, after the checks

    def stopTest(self, test):
        passed, self._passed = self._passed, None
        if passed is test:
            try:
                _check_unittest_case(self.leak_session, test)
            except Error as leak:
                self.addFailure(test, (type(leak), leak, None))
            else:
                super().addSuccess(test)
        super().stopTest(test)


def _check_unittest_case(session, test):
    __tracebackhide__ = True
    test_id = test.id()
    if isinstance(test, MemoryLeakTestCase):
        session.skip(test_id, "a MemoryLeakTestCase (it checks what it calls itself)")
        return
    # Each call: TestCase.run() into a result of our own, whose problems make the test
    # not repeatable; what the test prints or warns goes nowhere.
    collector = unittest.TestResult()
    # IsolatedAsyncioTestCase keeps its (open) event loop runner in this attribute until
    # run() returns, and run() refuses to start while it is set: each call gets its own,
    # and the first is put back for run() to close.
    first_runner = getattr(test, "_asyncioRunner", None)

    with open(os.devnull, "w", encoding="utf-8") as sink:
        def one_call():
            if first_runner is not None:
                test._asyncioRunner = None
            with warnings.catch_warnings(record=True), contextlib.redirect_stdout(sink), \
                    contextlib.redirect_stderr(sink):
                test.run(collector)
            problems = (collector.errors + collector.failures + collector.skipped
                        + [(case, "unexpected success") for case in collector.unexpectedSuccesses])
            if problems:
                del collector.errors[:], collector.failures[:], collector.skipped[:]
                del collector.unexpectedSuccesses[:]
                lines = [line for line in problems[0][1].strip().splitlines() if line.strip()]
                raise _NotRepeatable(lines[-1] if lines else "failed")

        try:
            session.check(test_id, test, {}, one_call, _leak_options({}, test_id),
                          name=test._testMethodName)
        finally:
            if first_runner is not None:
                test._asyncioRunner = first_runner


def _leaks_text_runner(verbosity, session):
    result_class = type("LeaksTestResult", (_LeaksTestResult,), {"leak_session": session})
    return unittest.TextTestRunner(verbosity=verbosity, resultclass=result_class)


# ---------------------------------------------------------------------------------------
# pytest: the plugin's entry point, offered by `psleak python`
# ---------------------------------------------------------------------------------------

_PYTEST_PLUGIN = "psleak.pytest_plugin"


class _PytestEntryPointFinder:
    """Lists, among the installed distributions, one named psleak whose pytest11 entry
    point is psleak's pytest plugin, so that pytest loads the plugin as it loads any
    installed one (`-p no:psleak.pytest_plugin` turns it off). Imports nothing."""

    @staticmethod
    def find_spec(*args, **kwargs):
        return None

    @staticmethod
    def find_distributions(context=None):
        name = getattr(context, "name", None)
        if name is not None and re.sub(r"[-_.]+", "-", name).lower() != "psleak":
            return iter(())
        import importlib.metadata as metadata
        import pathlib

        class Distribution(metadata.Distribution):
            def read_text(self, filename):
                if filename == "METADATA":
                    return "Metadata-Version: 2.1\nName: psleak\nVersion: %s\n" % __version__
                if filename == "entry_points.txt":
                    return "[pytest11]\n%s = %s\n" % (_PYTEST_PLUGIN, _PYTEST_PLUGIN)
                return None

            def locate_file(self, path):
                return pathlib.Path(path)  # it has no files: nothing to locate

        return iter((Distribution(),))


def _offer_pytest_plugin():
    """Makes pytest, in this process, load psleak's plugin: called by `psleak python`."""
    if not any(isinstance(finder, _PytestEntryPointFinder) for finder in sys.meta_path):
        sys.meta_path.append(_PytestEntryPointFinder())
