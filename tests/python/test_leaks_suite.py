"""--leaks on ordinary test suites: runs leaks_suite/ (a pytest suite and a unittest suite
that know nothing of psleak) under `psleak python -m pytest --leaks` and
`psleak test --leaks`, and leaks_control/ (psleak's markers and fixture), and checks
from pytest's --junitxml report, unittest's output and the --leaks-json document that
every test_leaky_<kind>_* test fails as a leak of its kind, every test_clean_* test
passes, the same suites pass without --leaks, and a clean test costs a few hundred
calls at most.

    PSLEAK_BINARY=<build>/app/psleak PSLEAK_FIXTURE_DIR=<build>/fixtures \\
    PSLEAK_MODULE_DIR=<build>/python \\
        /usr/bin/python3 -B tests/python/test_leaks_suite.py -v [LeaksUnderPytest]

ctest runs each class as its own test (python.leaks_*). The suites run with the fixture
directory as the current directory (leakfix imports from there); nothing is written to
the source tree.
"""

import json
import os
import re
import shutil
import sys
import tempfile
import unittest

from suite_runs import parse_junit, parse_unittest, run

HERE = os.path.dirname(os.path.abspath(__file__))
SUITE = os.path.join(HERE, "leaks_suite")
PYTEST_FILE = os.path.join(SUITE, "test_pytest_suite.py")
UNITTEST_FILE = os.path.join(SUITE, "test_unittest_suite.py")
CONTROL = os.path.join(HERE, "leaks_control", "test_control.py")

# pytest's options for a run that writes nothing next to the suites and ignores the
# caller's configuration.
PYTEST_QUIET_STATE = ["-p", "no:cacheprovider", "-o", "addopts=", "-o", "python_files=test_*.py"]

# The kind a test's name announces (test_leaky_<kind>_...), and the exception of that kind.
LEAKY_NAME = re.compile(r"test_leaky_(memory|fd|thread|pythread|refcount)_")
EXCEPTIONS = {"memory": "MemoryLeakError", "fd": "UnclosedFdError",
              "thread": "UnclosedNativeThreadError", "pythread": "UnclosedPythonThreadError",
              "refcount": "ReferenceLeakError", "gc": "UncollectableGarbageError"}

# What a clean test may cost under --leaks, in calls: warm-up 5, one call for the resource
# checks, at most 4 memory runs (30 + 45 + 60 + 75 calls), the reference counts read
# between them (one batch of 45 after a single run; 30 + 60 without the memory check).
CLEAN_TEST_CALLS_AT_MOST = 216

# Leaks too small for the allocator's statistics at --leaks' numbers of calls (a Python
# int a call, 48 bytes): found with psleak's hooks only.
SMALL_LEAKS = {"test_pytest_suite.test_leaky_memory_python_objects"}


def test_names(path):
    """{Class.test or module.test: kind or None} of the tests a sample file defines, from
    its source (parametrized tests under their pytest ids)."""
    module = os.path.splitext(os.path.basename(path))[0]
    names = {}
    owner = module
    with open(path) as source:
        for line in source:
            match = re.match(r"class (\w+)", line)
            if match:
                owner = match.group(1)
            match = re.match(r"(\s*)(?:async\s+)?def (test_\w+)", line)
            if not match:
                continue
            if not match.group(1):
                owner = module
            leaky = LEAKY_NAME.match(match.group(2))
            kind = leaky.group(1) if leaky else None
            assert (kind is None) == match.group(2).startswith("test_clean_"), match.group(2)
            if match.group(2) == "test_clean_parametrized":
                for size in (1, 4096):
                    names["%s.%s[%d]" % (owner, match.group(2), size)] = None
            else:
                names["%s.%s" % (owner, match.group(2))] = kind
    return names


def key_of(test_id):
    """The name test_names() gives a --leaks-json id: "path::Class::test" or
    "path::test" for pytest, "module.Class.test" for unittest."""
    if "::" in test_id:
        parts = test_id.split("::")
        owner = parts[1] if len(parts) == 3 else os.path.splitext(os.path.basename(parts[0]))[0]
        return "%s.%s" % (owner, parts[-1])
    return ".".join(test_id.split(".")[-2:])


class SuiteRun:
    """Runs a suite once per class (setUpClass); prints its output once, for
    ctest --output-on-failure."""

    @classmethod
    def start(cls, command, args, **run_options):
        cls.folder = tempfile.mkdtemp(prefix="psleak-leaks-")
        cls.json_path = os.path.join(cls.folder, "leaks.json")
        cls.junit_path = os.path.join(cls.folder, "junit.xml")
        args = [arg.format(json=cls.json_path, junit=cls.junit_path) for arg in args]
        result = run(args, **run_options)
        cls.code, cls.output = result[0], "".join(result[1:])
        cls.stderr = result[-1]
        sys.stdout.write("\n--- %s (exit status %s) ---\n%s--- end of output ---\n"
                         % (command, cls.code, cls.output))
        sys.stdout.flush()
        cls.command = command
        cls.document = None
        if os.path.exists(cls.json_path):
            with open(cls.json_path) as file:
                cls.document = json.load(file)
        cls.junit = parse_junit(cls.junit_path) if os.path.exists(cls.junit_path) else {}

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.folder, ignore_errors=True)

    def records(self):
        self.assertIsNotNone(self.document, "%s wrote no JSON" % self.command)
        return {key_of(record["id"]): record for record in self.document["tests"]}


class LeakChecks(SuiteRun):
    """What --leaks must find in leaks_suite/, whatever runs it. Subclasses set
    `expected` ({name: kind or None}) and `results` ({name: (status, exception)})."""

    def test_exit_status_is_one(self):
        self.assertEqual(self.code, 1, "%s: exit status %s" % (self.command, self.code))

    def test_every_test_ran(self):
        self.assertEqual(sorted(self.results), sorted(self.expected), self.command)

    def test_clean_tests_passed(self):
        wrong = {name: self.results.get(name) for name, kind in self.expected.items()
                 if kind is None and self.results.get(name, ("",))[0] != "ok"}
        self.assertEqual(wrong, {}, "%s: clean tests that did not pass" % self.command)

    def test_leaky_tests_failed_as_their_leak(self):
        wrong = {name: (self.results.get(name), EXCEPTIONS[kind])
                 for name, kind in self.expected.items()
                 if kind is not None and self.results.get(name) != ("FAIL", EXCEPTIONS[kind])}
        self.assertEqual(wrong, {}, "%s: leaky tests that did not fail as expected "
                         "(result, expected exception)" % self.command)

    def test_json_records_every_test(self):
        records = self.records()
        self.assertEqual(sorted(records), sorted(self.expected))
        wrong = {}
        for name, kind in self.expected.items():
            record = records[name]
            got = (record["status"], record.get("kind"))
            if got != (("leak", kind) if kind else ("clean", None)):
                wrong[name] = got
        self.assertEqual(wrong, {}, "tests whose JSON record is wrong (status, kind)")
        summary = self.document["summary"]
        leaking = sum(1 for kind in self.expected.values() if kind)
        self.assertEqual((summary["checked"], summary["leaking"], summary["not_checked"]),
                         (len(self.expected), leaking, 0))

    def test_clean_tests_cost_a_few_hundred_calls(self):
        calls = {name: record["calls"] for name, record in self.records().items()
                 if record["status"] == "clean"}
        sys.stdout.write("\ncalls per clean test under %s: %s\n" % (self.command, calls))
        self.assertTrue(calls)
        self.assertLessEqual(max(calls.values()), CLEAN_TEST_CALLS_AT_MOST, calls)

    def test_failures_carry_the_report(self):
        self.assertIn("Run # 1:", self.output)
        self.assertIn("/dev/null", self.output)  # the descriptor test_leaky_fd_* leaked
        self.assertIn("more times under the checks", self.output)
        self.assertRegex(self.output, r"\d+ tests checked: \d+ leaking, 0 not repeatable")


class LeaksUnderPytest(LeakChecks, unittest.TestCase):
    """`psleak python -m pytest --leaks` on both files of leaks_suite/."""

    @classmethod
    def setUpClass(cls):
        args = (["python", "-m", "pytest", "-v"] + PYTEST_QUIET_STATE
                + ["--leaks", "--leaks-json", "{json}", "--junitxml", "{junit}", SUITE])
        cls.start("psleak python -m pytest --leaks", args)
        cls.expected = dict(test_names(PYTEST_FILE), **test_names(UNITTEST_FILE))
        cls.results = cls.junit

    def test_junit_failure_names_the_leak(self):
        self.assertRegex(self.output, r"psleak --leaks\s*=+")  # the summary section
        # The failure shows where the test is and psleak's message, not psleak's code.
        self.assertRegex(self.output, r"test_pytest_suite\.py:\d+: test_leaky_memory_malloc\n"
                                      r"E   psleak\.MemoryLeakError: memory grew")
        self.assertNotIn("psleak_leaks.py", self.output)


class LeaksUnderPsleakTest(LeakChecks, unittest.TestCase):
    """`psleak test --leaks` on the unittest file of leaks_suite/."""

    @classmethod
    def setUpClass(cls):
        cls.start("psleak test --leaks", ["test", "-v", "--leaks", "--leaks-json", "{json}",
                                          UNITTEST_FILE], split=True)
        cls.expected = test_names(UNITTEST_FILE)
        # unittest's report is on stderr; what the tests print is on stdout.
        cls.results = parse_unittest(cls.stderr)


class SuitesPassWithoutLeaks(unittest.TestCase):
    """The same suites, without --leaks: every test passes."""

    def test_pytest(self):
        code, output = run(["python", "-m", "pytest", "-q"] + PYTEST_QUIET_STATE + [SUITE])
        expected = len(test_names(PYTEST_FILE)) + len(test_names(UNITTEST_FILE))
        self.assertEqual(code, 0, output)
        self.assertRegex(output, r"\b%d passed\b" % expected)
        self.assertNotIn("psleak --leaks", output)

    def test_psleak_test(self):
        code, output = run(["test", UNITTEST_FILE])
        self.assertEqual(code, 0, output)
        self.assertIn("Ran %d tests" % len(test_names(UNITTEST_FILE)), output)
        self.assertNotIn("psleak --leaks", output)


class LeaksControl(SuiteRun, unittest.TestCase):
    """leaks_control/: markers, the psleak fixture, tests --leaks cannot repeat."""

    @classmethod
    def setUpClass(cls):
        args = (["python", "-m", "pytest", "-v", "-rA"] + PYTEST_QUIET_STATE
                + ["--leaks", "--leaks-json", "{json}", "--junitxml", "{junit}", CONTROL])
        cls.start("psleak python -m pytest --leaks (control)", args)

    def outcome(self, name):
        return self.junit.get("test_control." + name)

    def record(self, name):
        return self.records().get("test_control." + name)

    def test_marker_options_are_used(self):
        self.assertEqual(self.outcome("test_leaky_with_own_options"), ("FAIL", "MemoryLeakError"))
        options = self.record("test_leaky_with_own_options")["options"]
        self.assertEqual((options["times"], options["warmup_times"], options["retries"]),
                         (20, 2, 4))

    def test_excluded_test_is_not_checked(self):
        self.assertEqual(self.outcome("test_excluded_leak"), ("ok", None))
        self.assertEqual(self.record("test_excluded_leak")["status"], "not-checked")
        self.assertIn("no_psleak: leaks on purpose", self.record("test_excluded_leak")["reason"])

    def test_checkers_choose_the_checks(self):
        self.assertEqual(self.outcome("test_fd_leak_not_checked"), ("ok", None))
        self.assertEqual(self.record("test_fd_leak_not_checked")["options"]["checks"], ["memory"])
        self.assertEqual(self.outcome("test_leaky_cycle_with_garbage_check"),
                         ("FAIL", "UncollectableGarbageError"))
        self.assertEqual(self.outcome("test_cycle_without_garbage_check"), ("ok", None))
        self.assertEqual(self.outcome("test_clean_tolerated_small_growth"), ("ok", None))

    def test_bad_marker_fails_the_test_in_one_line(self):
        self.assertEqual(self.outcome("test_bad_marker_option")[0], "FAIL")
        self.assertIn("@pytest.mark.psleak: unknown option time (known: times,", self.output)
        self.assertNotIn("During handling of the above exception", self.output)

    def test_test_that_cannot_run_twice_passes_as_not_repeatable(self):
        self.assertEqual(self.outcome("test_not_repeatable"), ("ok", None))
        record = self.record("test_not_repeatable")
        self.assertEqual(record["status"], "not-repeatable")
        self.assertIn("FileExistsError", record["message"])
        self.assertIn("NOT REPEATABLE", self.output)

    def test_tests_that_do_not_pass_are_not_checked(self):
        self.assertEqual(self.outcome("test_fails_normally")[0], "FAIL")
        self.assertIsNone(self.record("test_fails_normally"))
        self.assertEqual(self.outcome("test_expected_failure")[0], "skipped")  # xfailed
        self.assertIn("xfail", self.record("test_expected_failure")["reason"])

    def test_psleak_fixture_checks_explicitly(self):
        self.assertEqual(self.outcome("test_explicit_check_finds_leak"), ("FAIL", "MemoryLeakError"))
        self.assertEqual(self.outcome("test_explicit_check_clean"), ("ok", None))
        self.assertEqual(self.outcome("test_explicit_check_error_path"), ("FAIL", "MemoryLeakError"))
        self.assertEqual(self.outcome("test_explicit_check_resource"), ("FAIL", "UnclosedFdError"))
        self.assertIn("uses the psleak fixture", self.record("test_explicit_check_clean")["reason"])

    def test_setup_is_not_repeated_but_can_be_checked(self):
        self.assertEqual(self.outcome("test_setup_leak_not_repeated"), ("ok", None))
        self.assertEqual(self.record("test_setup_leak_not_repeated")["status"], "clean")
        self.assertEqual(self.outcome("test_setup_leak_checked_explicitly"),
                         ("FAIL", "MemoryLeakError"))

    def test_setup_is_repeated_on_request(self):
        self.assertEqual(self.outcome("test_setup_leak_repeated_on_request"),
                         ("FAIL", "MemoryLeakError"))
        self.assertEqual(self.outcome("test_clean_setup_repeated_on_request"), ("ok", None))
        self.assertIn("function-scoped fixtures set up and torn down with each call", self.output)
        self.assertEqual(self.record("test_clean_setup_repeated_on_request")["status"], "clean")


class LeaksOptions(unittest.TestCase):
    """The session budget, and bad option values."""

    def test_budget_leaves_later_tests_unchecked(self):
        folder = tempfile.mkdtemp(prefix="psleak-leaks-")
        self.addCleanup(shutil.rmtree, folder, True)
        path = os.path.join(folder, "leaks.json")
        code, output = run(["python", "-m", "pytest", "-q"] + PYTEST_QUIET_STATE
                           + ["--leaks", "--leaks-budget", "0.5", "--leaks-json", path,
                              PYTEST_FILE])
        with open(path) as file:
            records = json.load(file)["tests"]
        self.assertEqual(records[0]["status"] in ("clean", "leak"), True, records[0])
        unchecked = [r for r in records if r["status"] == "not-checked"]
        self.assertTrue(unchecked, output)
        self.assertTrue(all("--leaks-budget of 0.5 s" in r["reason"] for r in unchecked))
        self.assertEqual(len(records), len(test_names(PYTEST_FILE)))

    def test_pytest_options_need_leaks_and_a_writable_file(self):
        code, output = run(["python", "-m", "pytest"] + PYTEST_QUIET_STATE
                           + ["--leaks-json", "x.json", PYTEST_FILE])
        self.assertEqual(code, 4, output)  # pytest's usage error
        self.assertIn("--leaks-json needs --leaks", output)
        code, output = run(["python", "-m", "pytest"] + PYTEST_QUIET_STATE
                           + ["--leaks", "--leaks-json", "/nonexistent/dir/x.json", PYTEST_FILE])
        self.assertEqual(code, 4, output)
        self.assertIn("--leaks-json /nonexistent/dir/x.json: cannot write the file", output)
        code, output = run(["python", "-m", "pytest"] + PYTEST_QUIET_STATE
                           + ["--leaks", "--leaks-budget", "0", PYTEST_FILE])
        self.assertEqual(code, 4, output)
        self.assertIn("--leaks-budget", output)

    def test_plugin_is_loaded_once_and_can_be_turned_off(self):
        clean = ["-k", "test_clean_malloc", PYTEST_FILE]
        code, output = run(["python", "-m", "pytest", "-q", "-p", "psleak.pytest_plugin"]
                           + PYTEST_QUIET_STATE + ["--leaks"] + clean)
        self.assertEqual(code, 0, output)
        self.assertIn("1 tests checked", output)
        self.assertNotIn("warning", output)  # nothing about an already imported module
        code, output = run(["python", "-m", "pytest", "-q", "-p", "no:psleak.pytest_plugin"]
                           + PYTEST_QUIET_STATE + ["--leaks"] + clean)
        self.assertEqual(code, 4, output)
        self.assertIn("unrecognized arguments: --leaks", output)

    def test_memory_leak_test_cases_are_left_to_themselves(self):
        # sample_suite/ is made of MemoryLeakTestCase classes: --leaks changes nothing.
        sample = os.path.join(HERE, "sample_suite", "test_memleaks.py")
        code, output = run(["test", "--leaks", sample])
        self.assertEqual(code, 1, output)  # its leaky tests fail, as without --leaks
        self.assertRegex(output, r"psleak --leaks: 0 tests checked: .*; (\d+) not checked")
        self.assertRegex(output, r"not checked: \d+ tests, a MemoryLeakTestCase \(it checks")
        self.assertNotIn("more times under the checks", output)

    def test_psleak_test_of_a_file_runs_that_file_only(self):
        # As in CPython's Lib/test: next to the file, a package whose load_tests adds its
        # own tests whatever the pattern (discovery by the file's name would run them).
        folder = tempfile.mkdtemp(prefix="psleak-leaks-")
        self.addCleanup(shutil.rmtree, folder, True)
        os.mkdir(os.path.join(folder, "test_pkg"))
        with open(os.path.join(folder, "test_pkg", "__init__.py"), "w") as file:
            file.write("import unittest\n"
                       "class Other(unittest.TestCase):\n"
                       "    def test_other(self):\n"
                       "        self.fail('a test of another module ran')\n"
                       "def load_tests(loader, tests, pattern):\n"
                       "    return loader.loadTestsFromTestCase(Other)\n")
        with open(os.path.join(folder, "test_one.py"), "w") as file:
            file.write("import unittest\n"
                       "class One(unittest.TestCase):\n"
                       "    def test_one(self):\n"
                       "        pass\n")
        code, output = run(["test", "--leaks", os.path.join(folder, "test_one.py")])
        self.assertEqual(code, 0, output)
        self.assertIn("Ran 1 test", output)
        self.assertIn("psleak --leaks: 1 tests checked: 0 leaking", output)

    def test_psleak_test_options_are_usage_errors(self):
        for args, message in (
                (["--leaks-json", "x.json"], "--leaks-json requires --leaks"),
                (["--leaks", "--leaks-budget", "-1"], "--leaks-budget: -1 is not a number of seconds above 0"),
                (["--leaks", "--leaks-budget", "nan"], "--leaks-budget: nan is not a number of seconds above 0"),
                (["--leaks", "--leaks-budget", "0"], "--leaks-budget: 0 is not a number of seconds above 0"),
                (["--leaks", "--leaks-json", "/nonexistent/dir/x.json"],
                 "--leaks-json /nonexistent/dir/x.json: cannot write the file")):
            code, output = run(["test"] + args + [UNITTEST_FILE])
            self.assertEqual(code, 2, (args, output))
            self.assertIn(message, output)


# A test that Ctrl-C stops on its fourth call (the first of the checks' warm-up but two).
INTERRUPTED_TEST = """
import itertools
import unittest

_calls = itertools.count()


class TestStopped(unittest.TestCase):
    def test_stopped(self):
        if next(_calls) == 3:
            raise KeyboardInterrupt

    def test_zz_never_run(self):
        pass
"""


class LeaksInterrupted(unittest.TestCase):
    """Ctrl-C during the checks stops the run; what was found so far is reported."""

    def start(self):
        folder = tempfile.mkdtemp(prefix="psleak-leaks-")
        self.addCleanup(shutil.rmtree, folder, True)
        path = os.path.join(folder, "test_stopped.py")
        with open(path, "w") as file:
            file.write(INTERRUPTED_TEST)
        return path, os.path.join(folder, "leaks.json")

    def test_pytest(self):
        path, json_path = self.start()
        code, output = run(["python", "-m", "pytest", "-q"] + PYTEST_QUIET_STATE
                           + ["--leaks", "--leaks-json", json_path, path])
        self.assertEqual(code, 2, output)  # pytest's "interrupted"
        self.assertIn("KeyboardInterrupt", output)
        self.assertIn("0 tests checked", output)
        with open(json_path) as file:
            self.assertEqual(json.load(file)["tests"], [])

    def test_psleak_test(self):
        path, json_path = self.start()
        code, output = run(["test", "--leaks", "--leaks-json", json_path, path])
        self.assertEqual(code, 130, output)
        self.assertIn("psleak test: interrupted (Ctrl-C)", output)
        self.assertIn("psleak --leaks: 0 tests checked", output)
        self.assertNotIn("Traceback", output)
        with open(json_path) as file:
            self.assertEqual(json.load(file)["tests"], [])


class LeaksInSystemPython(unittest.TestCase):
    """The plugin in /usr/bin/python3, from the extension module (`-p psleak.pytest_plugin`):
    no allocation hooks there."""

    def run_pytest(self, env):
        module_dir = os.environ.get("PSLEAK_MODULE_DIR")
        if not module_dir:
            raise unittest.SkipTest("set PSLEAK_MODULE_DIR")
        folder = tempfile.mkdtemp(prefix="psleak-leaks-")
        self.addCleanup(shutil.rmtree, folder, True)
        junit = os.path.join(folder, "junit.xml")
        env = dict(env, PYTHONPATH=module_dir + os.pathsep + os.environ["PSLEAK_FIXTURE_DIR"])
        code, output = run(["-m", "pytest", "-q", "-p", "psleak.pytest_plugin"]
                           + PYTEST_QUIET_STATE + ["--leaks", "--junitxml", junit, PYTEST_FILE],
                           program=sys.executable, env=env)
        sys.stdout.write("\n--- exit status %s ---\n%s--- end of output ---\n" % (code, output))
        return code, output, parse_junit(junit)

    def check_outcomes(self, results, memory_checked):
        expected = test_names(PYTEST_FILE)
        wrong = {}
        for name, kind in expected.items():
            if kind is None or (kind == "memory" and not memory_checked):
                want = ("ok", None)
            elif name in SMALL_LEAKS and results.get(name) == ("ok", None):
                continue  # may pass: see SMALL_LEAKS
            else:
                want = ("FAIL", EXCEPTIONS[kind])
            if results.get(name) != want:
                wrong[name] = (results.get(name), want)
        self.assertEqual(wrong, {}, "tests with another outcome (got, expected)")

    def test_with_malloc_every_leak_is_found(self):
        code, output, results = self.run_pytest({"PYTHONMALLOC": "malloc"})
        self.assertEqual(code, 1)
        self.check_outcomes(results, memory_checked=True)

    def test_with_pymalloc_memory_is_not_checked(self):
        code, output, results = self.run_pytest({})
        self.assertEqual(code, 1)
        self.check_outcomes(results, memory_checked=False)
        self.assertIn("memory not checked: PYTHONMALLOC=malloc was not set", output)


if __name__ == "__main__":
    unittest.main()
