"""Tests of the `psleak` Python module: malloc_info(), malloc_trim(), MemoryLeakTestCase
(execute, execute_w_exc, auto_generate, class attributes), Checkers and the exceptions.

ctest runs this module three ways (see CMakeLists.txt):

* python.module_in_binary: `psleak test` (the embedded interpreter, malloc allocator);
* python.module_system_python_malloc: /usr/bin/python3 -m unittest, PYTHONMALLOC=malloc;
* python.module_system_python_pymalloc: the same without PYTHONMALLOC (pymalloc).

The fixtures (`leakfix`, `leakfix_py`) must be importable: run from the fixture directory
or put it on PYTHONPATH. Under pymalloc, leaks of small Python objects can hide in
pymalloc's pools; the tests of those leaks accept a miss there (that is what psleak's
pymalloc warning says) and are strict everywhere else.
"""

import contextlib
import io
import os
import subprocess
import sys
import textwrap
import unittest
import warnings

import psleak
from psleak import Checkers, LeakTest, MemoryLeakTestCase

import leakfix
import leakfix_py

EMBEDDED = psleak._EMBEDDED_ALLOCATOR is not None
ALLOCATOR = psleak._EMBEDDED_ALLOCATOR or (
    "malloc" if os.environ.get("PYTHONMALLOC", "") in ("malloc", "malloc_debug") else "pymalloc")
PYMALLOC = ALLOCATOR == "pymalloc"

MiB = 1 << 20

# Every exception class psleak raises for a leak.
LEAK_ERRORS = (
    psleak.MemoryLeakError,
    psleak.UnclosedFdError,
    psleak.UnclosedHandleError,
    psleak.UnclosedNativeThreadError,
    psleak.UnclosedPythonThreadError,
    psleak.UncollectableGarbageError,
    psleak.ReferenceLeakError,
)


class Marker:
    """An argument with a recognisable repr, to find it in a refcount report."""

    def __repr__(self):
        return "<psleak-test-marker>"


class LeakAssertions:
    """assertLeaks / assertClean for MemoryLeakTestCase subclasses: the failure message
    names the function and carries psleak's whole report."""

    def assertLeaks(self, expected, fun, *args, **kwargs):
        name = getattr(fun, "__name__", repr(fun))
        try:
            self.execute(fun, *args, **kwargs)
        except psleak.Error as e:
            if type(e) is not expected:
                self.fail("%s: expected %s, got %s:\n%s"
                          % (name, expected.__name__, type(e).__name__, e))
            return str(e)
        self.fail("%s: expected %s, but execute() passed" % (name, expected.__name__))

    def assertClean(self, fun, *args, **kwargs):
        name = getattr(fun, "__name__", repr(fun))
        try:
            self.execute(fun, *args, **kwargs)
        except psleak.Error as e:
            self.fail("%s: expected no leak, got %s:\n%s" % (name, type(e).__name__, e))

    def assertSmallObjectLeak(self, fun, **kwargs):
        """A leak of small Python objects: MemoryLeakError with malloc; under pymalloc
        the leak may hide in pymalloc's pools (then the test only checks that execute()
        runs), but if something is reported it must be the memory leak."""
        if not PYMALLOC:
            return self.assertLeaks(psleak.MemoryLeakError, fun, **kwargs)
        try:
            self.execute(fun, **kwargs)
        except psleak.MemoryLeakError as e:
            return str(e)
        return None


# ---------------------------------------------------------------------------------------
# Each fixture through MemoryLeakTestCase.execute
# ---------------------------------------------------------------------------------------

class TestLeakyFixtures(LeakAssertions, MemoryLeakTestCase):
    """Every leak_* fixture fails execute() with the exception of its kind."""

    times = 100

    # Native memory: reported whatever the allocator, since it is malloc's own.
    def test_leak_malloc_1b(self):
        self.assertLeaks(psleak.MemoryLeakError, leakfix.leak_malloc_1b)

    def test_leak_malloc_1k(self):
        self.assertLeaks(psleak.MemoryLeakError, leakfix.leak_malloc_1k)

    def test_leak_malloc_1m(self):
        self.assertLeaks(psleak.MemoryLeakError, leakfix.leak_malloc_1m, times=10)

    def test_leak_mmap(self):
        # Never goes through malloc: seen by the kernel's numbers (and psleak's hooks).
        self.assertLeaks(psleak.MemoryLeakError, leakfix.leak_mmap, times=10)

    def test_leak_calloc(self):
        self.assertLeaks(psleak.MemoryLeakError, leakfix.leak_calloc)

    def test_leak_realloc(self):
        self.assertLeaks(psleak.MemoryLeakError, leakfix.leak_realloc)

    def test_grow_slowly_forever(self):
        # 64 bytes on every 4th call only: still a leak.
        self.assertLeaks(psleak.MemoryLeakError, leakfix.grow_slowly_forever)

    # Small Python objects: hidden by pymalloc's pools unless Python uses malloc.
    def test_leak_pylist(self):
        self.assertSmallObjectLeak(leakfix.leak_pylist, times=300)

    def test_leak_pylong(self):
        self.assertSmallObjectLeak(leakfix.leak_pylong, times=300)

    def test_leak_pydict(self):
        self.assertSmallObjectLeak(leakfix.leak_pydict, times=300)

    def test_leak_list_growth(self):
        # A pure-Python leak. The list's own buffer grows by realloc() now and then, so
        # some runs grow less than the run before: the detector must see through that.
        self.assertSmallObjectLeak(leakfix_py.leak_list_growth, times=300)

    # Resources.
    def test_leak_fd(self):
        message = self.assertLeaks(psleak.UnclosedFdError, leakfix.leak_fd)
        self.assertIn("/dev/null", message)

    def test_leak_socket(self):
        message = self.assertLeaks(psleak.UnclosedFdError, leakfix.leak_socket)
        self.assertIn("socket:", message)

    def test_leak_pthread(self):
        message = self.assertLeaks(psleak.UnclosedNativeThreadError, leakfix.leak_pthread)
        self.assertIn("leakfix-worker", message)

    def test_leak_pythread(self):
        message = self.assertLeaks(psleak.UnclosedPythonThreadError, leakfix_py.leak_pythread)
        self.assertIn("leakfix-pythread", message)

    def test_leak_cycle(self):
        message = self.assertLeaks(psleak.UncollectableGarbageError, leakfix_py.leak_cycle)
        self.assertIn("Node", message)

    def test_leak_incref(self):
        message = self.assertLeaks(psleak.ReferenceLeakError, leakfix.leak_incref, Marker())
        self.assertIn("<psleak-test-marker>", message)


class TestCleanFixtures(LeakAssertions, MemoryLeakTestCase):
    """Every clean_* twin passes execute()."""

    times = 100

    def test_clean_malloc_1b(self):
        self.assertClean(leakfix.clean_malloc_1b)

    def test_clean_malloc_1k(self):
        self.assertClean(leakfix.clean_malloc_1k)

    def test_clean_malloc_1m(self):
        self.assertClean(leakfix.clean_malloc_1m, times=20)

    def test_clean_mmap(self):
        self.assertClean(leakfix.clean_mmap, times=20)

    def test_clean_calloc(self):
        self.assertClean(leakfix.clean_calloc)

    def test_clean_realloc(self):
        self.assertClean(leakfix.clean_realloc)

    def test_clean_pylist(self):
        self.assertClean(leakfix.clean_pylist)

    def test_clean_pylong(self):
        self.assertClean(leakfix.clean_pylong)

    def test_clean_pydict(self):
        self.assertClean(leakfix.clean_pydict)

    def test_clean_fd(self):
        self.assertClean(leakfix.clean_fd)

    def test_clean_socket(self):
        self.assertClean(leakfix.clean_socket)

    def test_clean_pthread(self):
        self.assertClean(leakfix.clean_pthread)

    def test_clean_pythread(self):
        # c_threads left out: Thread.join() returns before the OS thread has exited, and
        # psleak's native thread check does not wait for it, so it reports the exiting
        # thread about half of the time (a known bug, see the report of this suite).
        self.assertClean(leakfix_py.clean_pythread, checkers=Checkers.exclude("c_threads"))

    def test_clean_incref(self):
        self.assertClean(leakfix.clean_incref, Marker())

    def test_clean_cycle(self):
        self.assertClean(leakfix_py.clean_cycle)

    def test_clean_noop(self):
        self.assertClean(leakfix_py.clean_noop)

    def test_no_raise(self):
        self.assertClean(leakfix.no_raise)

    def test_cache_fill_then_stop(self):
        # Grows for its first 300 calls, then never again: a cache, not a leak.
        self.assertClean(leakfix.cache_fill_then_stop)


class TestReports(LeakAssertions, MemoryLeakTestCase):
    """What the exception says."""

    times = 50

    def test_memory_leak_message_has_the_run_table(self):
        message = self.assertLeaks(psleak.MemoryLeakError, leakfix.leak_malloc_1k)
        lines = message.splitlines()
        self.assertFalse(lines[0].startswith("Run #"), message)  # the verdict comes first
        self.assertIn("Run # 1:", message)
        self.assertIn("Run # 2:", message)
        self.assertIn("calls=", message)

    def test_fd_leak_message_names_the_descriptor(self):
        message = self.assertLeaks(psleak.UnclosedFdError, leakfix.leak_fd)
        self.assertIn("/dev/null", message)

    def test_leaks_are_test_failures_not_errors(self):
        self.assertTrue(issubclass(psleak.MemoryLeakError, self.failureException))


class TestExceptions(unittest.TestCase):

    def test_error_is_an_assertion_error(self):
        self.assertTrue(issubclass(psleak.Error, AssertionError))

    def test_every_leak_error_is_a_psleak_error(self):
        for cls in LEAK_ERRORS:
            with self.subTest(cls=cls.__name__):
                self.assertTrue(issubclass(cls, psleak.Error))
                self.assertIsNot(cls, psleak.Error)

    def test_leak_errors_are_distinct(self):
        self.assertEqual(len(set(LEAK_ERRORS)), len(LEAK_ERRORS))
        for a in LEAK_ERRORS:
            for b in LEAK_ERRORS:
                if a is not b:
                    self.assertFalse(issubclass(a, b), (a, b))

    def test_public_names_exist(self):
        for name in psleak.__all__:
            with self.subTest(name=name):
                self.assertTrue(hasattr(psleak, name))


# ---------------------------------------------------------------------------------------
# auto_generate
# ---------------------------------------------------------------------------------------

def run_test_case(case):
    """Runs a TestCase class with unittest; returns (result, output)."""
    stream = io.StringIO()
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(case)
    result = unittest.TextTestRunner(stream=stream, verbosity=2).run(suite)
    return result, stream.getvalue()


class TestAutoGenerate(unittest.TestCase):

    def test_generated_methods_pass_and_fail(self):
        marker = Marker()

        class Generated(MemoryLeakTestCase):
            times = 50

            @classmethod
            def auto_generate(cls):
                return {
                    "a": LeakTest(leakfix.clean_malloc_1k),
                    "b": LeakTest(leakfix.leak_malloc_1k),
                    # arguments and execute() options are passed on
                    "c": LeakTest(leakfix.leak_incref, marker, times=20,
                                  checkers=Checkers.only("refcount")),
                    "d": LeakTest(leakfix.leak_fd, checkers=Checkers.only("memory"), times=10),
                }

        for name in ("test_leak_a", "test_leak_b", "test_leak_c", "test_leak_d"):
            self.assertTrue(callable(getattr(Generated, name, None)), name)
        result, output = run_test_case(Generated)
        self.assertEqual(result.testsRun, 4, output)
        self.assertEqual(result.errors, [], output)
        failed = {test.id().rsplit(".", 1)[-1]: text for test, text in result.failures}
        self.assertEqual(sorted(failed), ["test_leak_b", "test_leak_c"], output)
        self.assertIn("MemoryLeakError", failed["test_leak_b"])
        self.assertIn("Run # 1:", failed["test_leak_b"])
        self.assertIn("ReferenceLeakError", failed["test_leak_c"])
        self.assertIn("<psleak-test-marker>", failed["test_leak_c"])

    def test_auto_generate_must_return_leak_tests(self):
        with self.assertRaises(TypeError):
            class NotADict(MemoryLeakTestCase):
                @classmethod
                def auto_generate(cls):
                    return [LeakTest(leakfix.no_raise)]
        with self.assertRaises(TypeError):
            class NotALeakTest(MemoryLeakTestCase):
                @classmethod
                def auto_generate(cls):
                    return {"a": leakfix.no_raise}

    def test_leak_test_needs_a_callable(self):
        with self.assertRaises(TypeError):
            LeakTest(42)


# ---------------------------------------------------------------------------------------
# execute_w_exc
# ---------------------------------------------------------------------------------------

class TestExecuteWithException(LeakAssertions, MemoryLeakTestCase):

    times = 100

    def test_raising_function_passes(self):
        self.execute_w_exc(ValueError, leakfix.raise_value_error)

    def test_clean_then_raise_passes(self):
        self.execute_w_exc(ValueError, leakfix.clean_then_raise)

    def test_a_base_class_of_the_exception_matches(self):
        self.execute_w_exc(Exception, leakfix.raise_value_error, times=20)

    def test_leak_on_the_error_path(self):
        with self.assertRaises(psleak.MemoryLeakError) as cm:
            self.execute_w_exc(ValueError, leakfix.leak_then_raise)
        self.assertIn("Run # 1:", str(cm.exception))

    def test_no_exception_raised(self):
        # As the seed's self.fail(): a failed test (psleak.Error is an AssertionError),
        # though not a leak: no MemoryLeakError or other leak class.
        with self.assertRaises(psleak.Error) as cm:
            self.execute_w_exc(ValueError, leakfix.no_raise)
        self.assertIs(type(cm.exception), psleak.Error)
        self.assertIn("returned normally", str(cm.exception))
        self.assertIn("ValueError", str(cm.exception))

    def test_another_exception_raised(self):
        with self.assertRaises(Exception) as cm:
            self.execute_w_exc(KeyError, leakfix.raise_value_error)
        self.assertNotIsInstance(cm.exception, psleak.Error)
        self.assertIn("ValueError", str(cm.exception))

    def test_execute_of_a_raising_function_is_an_error_not_a_leak(self):
        with self.assertRaises(Exception) as cm:
            self.execute(leakfix.raise_value_error)
        self.assertNotIsInstance(cm.exception, psleak.Error)
        self.assertIn("fixture error", str(cm.exception))

    def test_bad_arguments(self):
        with self.assertRaises(TypeError):
            self.execute_w_exc("ValueError", leakfix.raise_value_error)
        with self.assertRaises(TypeError):
            self.execute_w_exc(ValueError, leakfix.raise_value_error, bogus=1)


# ---------------------------------------------------------------------------------------
# Checkers
# ---------------------------------------------------------------------------------------

class TestCheckers(LeakAssertions, MemoryLeakTestCase):

    times = 10

    def test_only_memory_skips_fds(self):
        self.assertClean(leakfix.leak_fd, checkers=Checkers.only("memory"))

    def test_exclude_fds(self):
        self.assertClean(leakfix.leak_fd, checkers=Checkers.exclude("fds"))

    def test_exclude_several(self):
        checkers = Checkers.exclude("fds", "c_threads", "py_threads", "gcgarbage", "refcount")
        self.assertClean(leakfix.leak_fd, checkers=checkers)
        self.assertClean(leakfix_py.leak_cycle, checkers=checkers)
        self.assertClean(leakfix.leak_incref, Marker(), checkers=checkers)

    def test_only_the_check_that_finds_it(self):
        cases = [
            ("fds", psleak.UnclosedFdError, leakfix.leak_fd, ()),
            ("c_threads", psleak.UnclosedNativeThreadError, leakfix.leak_pthread, ()),
            ("py_threads", psleak.UnclosedPythonThreadError, leakfix_py.leak_pythread, ()),
            ("gcgarbage", psleak.UncollectableGarbageError, leakfix_py.leak_cycle, ()),
            ("refcount", psleak.ReferenceLeakError, leakfix.leak_incref, (Marker(),)),
            ("memory", psleak.MemoryLeakError, leakfix.leak_malloc_1k, ()),
        ]
        for name, error, fun, args in cases:
            with self.subTest(check=name):
                self.assertLeaks(error, fun, *args, checkers=Checkers.only(name), times=50)

    def test_other_checks_do_not_see_it(self):
        self.assertClean(leakfix.leak_fd, checkers=Checkers.only("c_threads"))
        self.assertClean(leakfix.leak_pthread, checkers=Checkers.only("fds"))
        self.assertClean(leakfix_py.leak_cycle, checkers=Checkers.exclude("gcgarbage"))
        self.assertClean(leakfix.leak_incref, Marker(), checkers=Checkers.exclude("refcount"))

    def test_handles_is_a_no_op_here(self):
        self.assertClean(leakfix.leak_fd, checkers=Checkers.only("handles"))

    def test_class_attribute(self):
        class OnlyMemory(LeakAssertions, MemoryLeakTestCase):
            checkers = Checkers.only("memory")
            times = 10

            def runTest(self):
                pass

        OnlyMemory().assertClean(leakfix.leak_fd)

    def test_unknown_names(self):
        with self.assertRaises(ValueError) as cm:
            Checkers.only("memory", "no_such_check")
        self.assertIn("no_such_check", str(cm.exception))
        with self.assertRaises(ValueError):
            Checkers.exclude("fd")  # psleak run's name; here it is "fds"
        with self.assertRaises(ValueError):
            Checkers.only("threads")

    def test_not_a_checkers_object(self):
        with self.assertRaises(TypeError):
            self.execute(leakfix.no_raise, checkers="memory")


# ---------------------------------------------------------------------------------------
# malloc_info, malloc_trim
# ---------------------------------------------------------------------------------------

class TestMallocInfo(unittest.TestCase):

    KEYS = ("heap_used", "mmap_used", "heap_total")

    def check_info(self, info):
        self.assertIsInstance(info, dict)
        for key in self.KEYS:
            self.assertIn(key, info)
            self.assertIs(type(info[key]), int, key)
            self.assertGreaterEqual(info[key], 0, key)
        self.assertLessEqual(info["heap_used"], info["heap_total"], info)

    def test_fields(self):
        self.check_info(psleak.malloc_info())

    def test_mmap_used_follows_a_large_allocation(self):
        # 40 MiB: above glibc's largest dynamic mmap threshold (32 MiB), so malloc serves
        # it with mmap whatever earlier frees did to the threshold.
        size = 40 * MiB
        before = psleak.malloc_info()
        buffer = bytearray(size)
        during = psleak.malloc_info()
        del buffer
        after = psleak.malloc_info()
        self.check_info(during)
        grew = during["mmap_used"] - before["mmap_used"]
        self.assertGreaterEqual(grew, size, (before, during))
        self.assertLess(grew, size + MiB, (before, during))
        self.assertLess(abs(after["mmap_used"] - before["mmap_used"]), MiB, (before, after))

    def test_a_native_block_is_counted(self):
        # leak_malloc_1m's lost 1 MiB block: served by mmap at first, from the heap once
        # an earlier free() raised glibc's dynamic mmap threshold; counted either way.
        used = lambda info: info["heap_used"] + info["mmap_used"]
        before = used(psleak.malloc_info())
        leakfix.leak_malloc_1m()
        after = used(psleak.malloc_info())
        self.assertGreaterEqual(after - before, MiB)

    def test_malloc_trim_returns_a_bool(self):
        garbage = [bytes(100) for _ in range(20000)]
        del garbage
        self.assertIsInstance(psleak.malloc_trim(), bool)
        self.assertIsInstance(psleak.malloc_trim(), bool)

    def test_no_arguments(self):
        with self.assertRaises(TypeError):
            psleak.malloc_info(1)
        with self.assertRaises(TypeError):
            psleak.malloc_trim(0)


# ---------------------------------------------------------------------------------------
# Options: validation and class attributes
# ---------------------------------------------------------------------------------------

class TestOptions(LeakAssertions, MemoryLeakTestCase):

    times = 20

    def test_invalid(self):
        cases = [
            (dict(times=-1), ValueError, "times"),
            (dict(times=0), ValueError, "times"),
            (dict(times="x"), TypeError, "times"),
            (dict(times=1.5), TypeError, "times"),
            (dict(warmup_times=-1), ValueError, "warmup_times"),
            (dict(retries=0), ValueError, "retries"),
            (dict(retries=-3), ValueError, "retries"),
            (dict(tolerance=-1), ValueError, "tolerance"),
            (dict(tolerance="x"), TypeError, "tolerance"),
            (dict(tolerance={"foo": 1}), ValueError, "foo"),
            (dict(tolerance={"heap": -1}), ValueError, "heap"),
            (dict(trim_callback=5), TypeError, "trim_callback"),
        ]
        for kwargs, error, word in cases:
            with self.subTest(**kwargs):
                with self.assertRaises(error) as cm:
                    self.execute(leakfix.no_raise, **kwargs)
                self.assertIn(word, str(cm.exception))

    def test_fun_not_callable(self):
        with self.assertRaises(TypeError) as cm:
            self.execute(42)
        self.assertIn("42", str(cm.exception))

    def test_valid(self):
        self.assertClean(leakfix.no_raise, tolerance={"heap": 4096})
        self.assertClean(leakfix.no_raise, tolerance={"heap_used": 4096, "rss": 1 << 20})
        self.assertClean(leakfix.no_raise, tolerance=4096)
        self.assertClean(leakfix.no_raise, warmup_times=0, retries=1, times=1)

    def test_tolerance_covers_the_leak(self):
        # 20 KiB per run at most; a tolerance of 64 MiB on every metric hides it, in the
        # binary too (where psleak also counts blocks), as `psleak run --tolerance` does.
        self.assertClean(leakfix.leak_malloc_1k, tolerance=64 * MiB, retries=3)

    def test_trim_callback_is_called(self):
        calls = []
        self.assertClean(leakfix.no_raise, trim_callback=lambda: calls.append(1))
        self.assertGreater(len(calls), 0)

    def test_arguments_are_passed(self):
        seen = set()  # one entry however many calls: no growth of its own
        first, second = Marker(), Marker()
        self.assertClean(lambda *args: seen.add(args), first, second, times=5)
        self.assertEqual(seen, {(first, second)})


def _count_trim():
    _count_trim.calls += 1


_count_trim.calls = 0


class TestClassAttributes(unittest.TestCase):

    def test_times_and_retries(self):
        class Attributes(LeakAssertions, MemoryLeakTestCase):
            times = 50
            retries = 3

            def runTest(self):
                pass

        message = Attributes().assertLeaks(psleak.MemoryLeakError, leakfix.leak_malloc_1k)
        self.assertIn("Run # 3:", message)
        self.assertNotIn("Run # 4:", message)
        self.assertIn("calls=   50", message)

    def test_execute_arguments_override_attributes(self):
        class Attributes(LeakAssertions, MemoryLeakTestCase):
            times = 50
            retries = 3

            def runTest(self):
                pass

        message = Attributes().assertLeaks(psleak.MemoryLeakError, leakfix.leak_malloc_1k,
                                           times=40, retries=2)
        self.assertIn("calls=   40", message)
        self.assertIn("Run # 2:", message)
        self.assertNotIn("Run # 3:", message)

    def test_invalid_attribute(self):
        class Attributes(MemoryLeakTestCase):
            times = -5

            def runTest(self):
                pass

        with self.assertRaises(ValueError):
            Attributes().execute(leakfix.no_raise)

    def test_tolerance_attribute(self):
        class Attributes(LeakAssertions, MemoryLeakTestCase):
            tolerance = {"foo": 1}

            def runTest(self):
                pass

        with self.assertRaises(ValueError):
            Attributes().execute(leakfix.no_raise)

    def test_trim_callback_attribute(self):
        # A plain function in the class body is a callable, not a method of the test.
        class Attributes(LeakAssertions, MemoryLeakTestCase):
            trim_callback = _count_trim
            times = 5

            def runTest(self):
                pass

        before = _count_trim.calls
        Attributes().assertClean(leakfix.no_raise)
        self.assertGreater(_count_trim.calls, before)

    def test_verbosity_prints_the_runs(self):
        class Verbose(MemoryLeakTestCase):
            verbosity = 1
            times = 5

            def runTest(self):
                pass

        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr):
            Verbose().execute(leakfix.no_raise)
        self.assertIn("Run # 1:", stderr.getvalue())

    def test_defaults(self):
        self.assertEqual(MemoryLeakTestCase.warmup_times, 10)
        self.assertEqual(MemoryLeakTestCase.times, 200)
        self.assertEqual(MemoryLeakTestCase.retries, 10)
        self.assertEqual(MemoryLeakTestCase.tolerance, 0)
        self.assertIsNone(MemoryLeakTestCase.trim_callback)


# ---------------------------------------------------------------------------------------
# The pymalloc warning
# ---------------------------------------------------------------------------------------

WARNING_SCRIPT = textwrap.dedent("""
    import warnings
    warnings.simplefilter("always")  # so that Python itself would repeat it
    import leakfix, psleak

    class T(psleak.MemoryLeakTestCase):
        times = 5
        def runTest(self):
            pass

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            T().execute(leakfix.no_raise)
    for w in caught:
        print("WARNING %s: %s" % (w.category.__name__, w.message))
""")


def run_warning_script(pythonmalloc):
    env = dict(os.environ)
    env.pop("PYTHONMALLOC", None)
    if pythonmalloc:
        env["PYTHONMALLOC"] = pythonmalloc
    proc = subprocess.run([sys.executable, "-B", "-c", WARNING_SCRIPT], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=120)
    return proc.returncode, proc.stdout


@unittest.skipIf(EMBEDDED, "inside psleak the interpreter always uses malloc")
class TestPymallocWarning(unittest.TestCase):

    @unittest.skipIf(os.environ.get("PYTHONMALLOC"), "PYTHONMALLOC is set")
    def test_warned_once_under_pymalloc(self):
        code, output = run_warning_script(None)
        self.assertEqual(code, 0, output)
        warnings_seen = [line for line in output.splitlines() if line.startswith("WARNING ")]
        self.assertEqual(len(warnings_seen), 1, output)
        self.assertIn("RuntimeWarning", warnings_seen[0])
        self.assertIn("pymalloc", warnings_seen[0])

    def test_no_warning_with_pythonmalloc_malloc(self):
        code, output = run_warning_script("malloc")
        self.assertEqual(code, 0, output)
        self.assertNotIn("pymalloc", output)


class TestEmbedded(unittest.TestCase):

    @unittest.skipUnless(EMBEDDED, "only inside the psleak binary")
    def test_binary_uses_malloc_and_never_warns(self):
        self.assertEqual(psleak._EMBEDDED_ALLOCATOR, "malloc")

        class T(MemoryLeakTestCase):
            times = 5

            def runTest(self):
                pass

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            T().execute(leakfix.no_raise)
        self.assertEqual([str(w.message) for w in caught if "pymalloc" in str(w.message)], [])


if __name__ == "__main__":
    unittest.main()
