"""Helpers of the drivers that run sample suites through the psleak binary and read
their results (test_sample_suite.py, test_leaks_suite.py): the environment, the run,
and parsers of unittest's verbose output and of pytest's --junitxml report."""

import os
import re
import subprocess
import unittest
import xml.etree.ElementTree as ET


def environment():
    """This process's environment, without what would change how a suite runs."""
    env = dict(os.environ)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    for name in ("PYTEST_ADDOPTS", "PYTHONMALLOC", "PYTHONPATH"):
        env.pop(name, None)
    return env


def fixture_dir():
    """The build's fixture directory (leakfix is there), from PSLEAK_FIXTURE_DIR."""
    fixtures = os.environ.get("PSLEAK_FIXTURE_DIR")
    if not fixtures:
        raise unittest.SkipTest("set PSLEAK_BINARY and PSLEAK_FIXTURE_DIR")
    return fixtures


def run(args, timeout=600, program=None, env=None, split=False):
    """Runs psleak (or `program`) with args from the fixture directory, in environment()
    updated with `env`; returns (exit status, output), or with `split` (exit status,
    stdout, stderr)."""
    binary = program or os.environ.get("PSLEAK_BINARY")
    fixtures = fixture_dir()
    if not binary:
        raise unittest.SkipTest("set PSLEAK_BINARY and PSLEAK_FIXTURE_DIR")
    environ = environment()
    environ.update(env or {})
    proc = subprocess.run([binary] + args, cwd=fixtures, env=environ,
                          stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE if split else subprocess.STDOUT,
                          universal_newlines=True, errors="replace", timeout=timeout)
    if split:
        return proc.returncode, proc.stdout, proc.stderr
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


def skip_without_pytest():
    """Skips (unittest.SkipTest) when the Python psleak embeds cannot import pytest: a
    development machine may build psleak against a Python that has none."""
    code, output = run(["python", "-c", "import pytest"], timeout=120)
    if code != 0:
        last = (output.strip().splitlines() or ["no output"])[-1]
        raise unittest.SkipTest("pytest is not installed for the Python psleak embeds "
                                "(`psleak python -c 'import pytest'`: %s)" % last)


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
