"""Runs sample_suite/test_memleaks.py (a user's leak tests, written against the seed's
API only) under `psleak test` and under `psleak python -m pytest`, and checks from the
output that exactly the test_clean_* tests passed and that every test_leaky_* test failed
with the psleak exception of its leak.

    PSLEAK_BINARY=<build>/app/psleak PSLEAK_FIXTURE_DIR=<build>/fixtures \\
        /usr/bin/python3 -B tests/python/test_sample_suite.py -v [SampleSuiteUnderPsleakTest]

ctest runs each class as its own test (python.sample_suite_psleak_test,
python.sample_suite_pytest). The suites run with the fixture directory as the current
directory, so that `leakfix` and `leakfix_py` import; nothing is written to the source
tree (no __pycache__, no .pytest_cache).
"""

import os
import shutil
import sys
import tempfile
import unittest

from suite_runs import parse_junit, parse_unittest, run, skip_without_pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SUITE = os.path.join(HERE, "sample_suite", "test_memleaks.py")

# Every test of the sample suite: None if it must pass, else the psleak exception it
# must fail with.
EXPECTED = {
    "TestNativeMemory.test_clean_malloc": None,
    "TestNativeMemory.test_clean_realloc": None,
    "TestNativeMemory.test_clean_python_objects": None,
    "TestNativeMemory.test_clean_warming_cache": None,
    "TestNativeMemory.test_leaky_malloc": "MemoryLeakError",
    "TestNativeMemory.test_leaky_mmap": "MemoryLeakError",
    "TestNativeMemory.test_leaky_python_objects": "MemoryLeakError",
    "TestNativeMemory.test_leaky_python_list": "MemoryLeakError",
    "TestResources.test_clean_fd": None,
    "TestResources.test_clean_thread": None,
    "TestResources.test_clean_cycle": None,
    "TestResources.test_leaky_fd": "UnclosedFdError",
    "TestResources.test_leaky_socket": "UnclosedFdError",
    "TestResources.test_leaky_native_thread": "UnclosedNativeThreadError",
    "TestResources.test_leaky_python_thread": "UnclosedPythonThreadError",
    "TestResources.test_leaky_cycle": "UncollectableGarbageError",
    "TestOnlyMemory.test_clean_fd_leak_not_checked": None,
    "TestOnlyMemory.test_leaky_malloc_still_found": "MemoryLeakError",
    "TestErrorPaths.test_clean_raise": None,
    "TestErrorPaths.test_clean_then_raise": None,
    "TestErrorPaths.test_leaky_then_raise": "MemoryLeakError",
    "TestGenerated.test_leak_clean_calloc": None,
    "TestGenerated.test_leak_clean_noop": None,
    "TestGenerated.test_leak_leaky_calloc": "MemoryLeakError",
    "TestGenerated.test_leak_leaky_slow_growth": "MemoryLeakError",
}

# The naming rule the suite follows, checked so that the table and the file agree.
for _name, _error in EXPECTED.items():
    _method = _name.split(".")[1]
    assert ("leaky" in _method) == (_error is not None), _name
    assert ("clean" in _method) == (_error is None), _name


class SampleSuiteChecks:
    """The checks, shared by both runners. setUpClass runs the suite (see start()): it
    sets cls.command, cls.code, cls.output and cls.results, and prints the output once, for
    ctest --output-on-failure; the failure messages only summarise."""

    @classmethod
    def start(cls, command, args):
        cls.command = command
        cls.code, cls.output = run(args)
        sys.stdout.write("\n--- %s (exit status %s) ---\n%s--- end of output ---\n"
                         % (command, cls.code, cls.output))
        sys.stdout.flush()

    def summary(self, names):
        return "\n".join("  %-48s %s" % (name, self.results.get(name, "(did not run)"))
                         for name in names)

    def test_exit_status_is_one(self):
        self.assertEqual(self.code, 1, "%s: exit status %s, expected 1 (tests failed)"
                         % (self.command, self.code))

    def test_every_test_ran(self):
        missing = sorted(set(EXPECTED) - set(self.results))
        unexpected = sorted(set(self.results) - set(EXPECTED))
        self.assertEqual((missing, unexpected), ([], []),
                         "%s: tests missing / not expected" % self.command)

    def test_clean_tests_passed(self):
        wrong = [name for name, error in sorted(EXPECTED.items())
                 if error is None and self.results.get(name, ("",))[0] != "ok"]
        self.assertEqual(wrong, [], "%s: clean tests that did not pass:\n%s"
                         % (self.command, self.summary(wrong)))

    def test_leaky_tests_failed_with_their_exception(self):
        wrong = [name for name, error in sorted(EXPECTED.items())
                 if error is not None and self.results.get(name) != ("FAIL", error)]
        expected = "\n".join("  %-48s ('FAIL', %r)" % (name, EXPECTED[name]) for name in wrong)
        self.assertEqual(wrong, [], "%s: leaky tests that did not fail as expected:\n%s\n"
                         "expected:\n%s" % (self.command, self.summary(wrong), expected))

    def test_exceptions_carry_the_report(self):
        self.assertIn("psleak.MemoryLeakError: ", self.output)
        self.assertIn("Run # 1:", self.output)
        self.assertIn("/dev/null", self.output)  # the leaked descriptor of test_leaky_fd


class SampleSuiteUnderPsleakTest(SampleSuiteChecks, unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.start("psleak test -v " + SUITE, ["test", "-v", SUITE])
        cls.results = parse_unittest(cls.output)

    def test_summary_line(self):
        failures = sum(1 for error in EXPECTED.values() if error)
        self.assertIn("Ran %d tests" % len(EXPECTED), self.output)
        self.assertIn("FAILED (failures=%d)" % failures, self.output)


class SampleSuiteUnderPytest(SampleSuiteChecks, unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        skip_without_pytest()
        folder = tempfile.mkdtemp(prefix="psleak-pytest-")
        try:
            junit = os.path.join(folder, "junit.xml")
            args = ["python", "-m", "pytest", "-v", "-p", "no:cacheprovider", "-o", "addopts=",
                    "--junitxml", junit, SUITE]
            cls.start("psleak " + " ".join(args), args)
            cls.results = parse_junit(junit) if os.path.exists(junit) else {}
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def test_summary_line(self):
        failures = sum(1 for error in EXPECTED.values() if error)
        passes = len(EXPECTED) - failures
        self.assertRegex(self.output, r"=+ %d failed, %d passed in " % (failures, passes))

    def test_tracebacks_show_no_psleak_internals(self):
        # psleak's frames are hidden from pytest (__tracebackhide__): a failure shows the
        # test's line and the exception, not psleak's code or the report's dict. The one
        # psleak frame left is the test method auto_generate() made, shown with its line.
        self.assertNotIn("???", self.output)
        self.assertNotIn("'verdict'", self.output)
        generated = [name for name, error in EXPECTED.items()
                     if error and name.startswith("TestGenerated.")]
        psleak_lines = [line for line in self.output.splitlines() if "psleak_api.py" in line]
        self.assertEqual(len(psleak_lines), len(generated), "\n".join(psleak_lines))
        for line in psleak_lines:
            self.assertRegex(line, r"^psleak_api\.py:\d+: MemoryLeakError$")


if __name__ == "__main__":
    unittest.main()
