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
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

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


def environment():
    env = dict(os.environ)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    for name in ("PYTEST_ADDOPTS", "PYTHONMALLOC", "PYTHONPATH"):
        env.pop(name, None)
    return env


def run(args, timeout=600):
    """Runs psleak with args from the fixture directory; returns (exit status, output)."""
    binary = os.environ.get("PSLEAK_BINARY")
    fixtures = os.environ.get("PSLEAK_FIXTURE_DIR")
    if not binary or not fixtures:
        raise unittest.SkipTest("set PSLEAK_BINARY and PSLEAK_FIXTURE_DIR")
    proc = subprocess.run([binary] + args, cwd=fixtures, env=environment(),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, errors="replace", timeout=timeout)
    return proc.returncode, proc.stdout


EXCEPTION_LINE = re.compile(r"^((?:\w+\.)*(\w*(?:Error|Exception)))(?::|$)")


def exception_name(traceback_text):
    """The class name of the exception a traceback ends with ("MemoryLeakError")."""
    text = traceback_text.rsplit("Traceback (most recent call last):", 1)[-1]
    for line in text.splitlines():
        match = EXCEPTION_LINE.match(line)
        if match:
            return match.group(2)
    return None


def class_and_test(test, where):
    """"Class.test" from the parts of unittest's "test (where)": `where` is
    "module.Class.test" from Python 3.11, "module.Class" before."""
    parts = where.split(".")
    if parts[-1] != test:
        parts.append(test)
    return ".".join(parts[-2:])


def parse_unittest(output):
    """{Class.test: (status, exception name)} from unittest's verbose output."""
    results = {}
    current = None
    for line in output.splitlines():
        match = re.match(r"^(test\w*) \(([\w.]+)\)", line)
        if match:
            current = class_and_test(match.group(1), match.group(2))
        if current and " ... " in line:
            status = line.rsplit(" ... ", 1)[1].strip()
            results[current] = (status, None)
            current = None
    for block in re.split(r"^={50,}$", output, flags=re.M):
        match = re.match(r"\s*(FAIL|ERROR): (test\w*) \(([\w.]+)\)", block)
        if match:
            name = class_and_test(match.group(2), match.group(3))
            results[name] = (match.group(1), exception_name(block))
    return results


def parse_junit(path):
    """{Class.test: (status, exception name)} from pytest's --junitxml report."""
    results = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        name = case.get("classname").split(".")[-1] + "." + case.get("name")
        status, error = "ok", None
        for tag in ("failure", "error"):
            element = case.find(tag)
            if element is not None:
                status = "FAIL" if tag == "failure" else "ERROR"
                error = exception_name(element.get("message") or "")
                if error is None:
                    error = exception_name(element.text or "")
        if case.find("skipped") is not None:
            status = "skipped"
        results[name] = (status, error)
    return results


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


def skip_without_pytest():
    """Skips (unittest.SkipTest) when the Python psleak embeds cannot import pytest: a
    development machine may build psleak against a Python that has none."""
    code, output = run(["python", "-c", "import pytest"], timeout=120)
    if code != 0:
        last = (output.strip().splitlines() or ["no output"])[-1]
        raise unittest.SkipTest("pytest is not installed for the Python psleak embeds "
                                "(`psleak python -c 'import pytest'`: %s)" % last)


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
