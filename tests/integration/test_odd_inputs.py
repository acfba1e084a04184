"""Odd inputs and environments: psleak must answer each with its documented exit code and,
with --json, exactly one JSON document.

* Text that is not UTF-8 (a binary --targets file, bytes in an argument or a path) and
  Python text with lone surrogates (an exception message, a repr, a file name).
* Numeric options out of their documented range, NaN and infinities.
* --targets files with CRLF line endings or a UTF-8 byte-order mark.
* A target that returns a coroutine or generator (its body never runs).
* A working directory whose inspect.py, json.py... would stand in for the standard
  library's modules psleak itself uses.
* A target that replaces gc.collect, threading.enumerate or traceback.format_exception.
* `psleak python` without arguments: a script on stdin, or the REPL on a terminal.
* Allocator hooks that cannot count (valgrind replaces malloc).
"""

import json
import os
import random
import shutil
import subprocess
import tempfile
import textwrap
import time
import unittest

from psleak_helpers import (EXIT_CLEAN, EXIT_LEAK, EXIT_TARGET, EXIT_USAGE, PsleakTestCase,
                            ScanAssertions, clean_environment, fixture_dir, psleak_binary)

REPLACEMENT = "\ufffd"


class TempDirTestCase(PsleakTestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory(prefix="psleak-odd-")
        self.addCleanup(tmp.cleanup)
        self.tmp = tmp.name

    def write(self, name, content, mode="w"):
        path = os.path.join(self.tmp, name)
        if "b" in mode:
            with open(path, mode) as f:
                f.write(content)
        else:
            with open(path, mode, encoding="utf-8", newline="") as f:
                f.write(textwrap.dedent(content))
        return path


# -- text that is not UTF-8 ---------------------------------------------------------------

ODD_TEXT_MODULE = """\
class Node:
    def __init__(self):
        self.other = None

    def __repr__(self):
        return "<Node \\udcff>"


def raise_surrogate():
    raise ValueError("bad \\udcff text")


def cycle_with_odd_repr():
    a = Node()
    b = Node()
    a.other = b
    b.other = a
"""


class NotUtf8Text(TempDirTestCase, ScanAssertions):
    def test_binary_targets_file_is_a_usage_error(self):
        rng = random.Random(11)
        path = self.write("garbage.bin", bytes(rng.randrange(256) for _ in range(2000)), "wb")
        result = self.psleak("run", "--targets", path)
        self.assertExitCode(result, EXIT_USAGE)
        self.assertOneErrorLine(result, ("--targets", "not UTF-8 text"))
        result = self.psleak("run", "--targets", path, "--json")
        self.assertExitCode(result, EXIT_USAGE)
        doc = self.assertOneJsonDocument(result)
        self.assertErrorDocument(doc, "usage", EXIT_USAGE, "not UTF-8 text", result)

    def test_targets_file_with_a_bad_byte_in_a_target(self):
        # Every word parses; the target's name holds a byte that is not UTF-8.
        path = self.write("one_bad_byte.txt", b"leakfix:no_raise\nleak\xfffix:no_raise\n", "wb")
        result = self.psleak("run", "--targets", path, "--json")
        self.assertExitCode(result, EXIT_USAGE)
        doc = self.assertOneJsonDocument(result)
        self.assertErrorDocument(doc, "usage", EXIT_USAGE, (":2:", "not UTF-8 text"), result)

    def test_bad_bytes_in_arguments_reach_json_as_replacement_characters(self):
        # "\udcff" is passed to the process as the byte 0xff (surrogateescape).
        for isolate in ([], ["--isolate"]):
            with self.subTest(isolate=isolate):
                result = self.psleak("run", "json:dumps", "--args", "'\udcff'", *isolate, "--json")
                self.assertExitCode(result, EXIT_USAGE)
                doc = self.assertOneJsonDocument(result)
                self.assertEqual(doc["verdict"]["kind"], "usage", result.describe())
                self.assertEqual(doc["target"]["args"], ["'" + REPLACEMENT + "'"], result.describe())
        result = self.psleak("run", "no\udcffsuch:f", "--json")
        self.assertExitCode(result, EXIT_TARGET)
        doc = self.assertOneJsonDocument(result)
        self.assertEqual(doc["target"]["spec"], "no" + REPLACEMENT + "such:f", result.describe())

    def test_lone_surrogate_in_exception_message_keeps_message_and_traceback(self):
        self.write("oddtext.py", ODD_TEXT_MODULE)
        result = self.psleak("run", "oddtext:raise_surrogate", cwd=self.tmp)
        self.assertExitCode(result, EXIT_TARGET)
        self.assertOneErrorLine(result, "ValueError: bad \\udcff text", traceback_allowed=True)
        self.assertIn('raise ValueError("bad \\udcff text")', result.stderr, result.describe())
        self.assertIn("oddtext.py", result.stderr, result.describe())
        doc = self.psleak_json("run", "oddtext:raise_surrogate", expected_exit=EXIT_TARGET,
                               cwd=self.tmp)
        self.assertIn("ValueError: bad \\udcff text", doc["verdict"]["message"])
        self.assertIn("Traceback (most recent call last)", doc["verdict"]["details"])
        self.assertIn("ValueError: bad \\udcff text", doc["verdict"]["details"])

    def test_lone_surrogate_in_repr_of_leaked_objects(self):
        self.write("oddtext.py", ODD_TEXT_MODULE)
        # Cycles are a warning unless --strict gc makes them a leak.
        doc = self.psleak_json("run", "oddtext:cycle_with_odd_repr", "--checks", "gc",
                               "--strict", "gc", expected_exit=EXIT_LEAK, cwd=self.tmp)
        gc_finding = [f for f in doc["findings"] if f["check"] == "gc"][0]
        self.assertIn("<Node \\udcff>", "\n".join(gc_finding["items"]), doc)

    def test_path_that_is_not_utf8_in_traceback(self):
        folder = os.path.join(os.fsencode(self.tmp), b"dir\xff")
        os.mkdir(folder)
        with open(os.path.join(folder, b"oddpath.py"), "w", encoding="utf-8") as f:
            f.write("def f():\n    raise KeyError('x')\n")
        setup = "import sys; sys.path.insert(0, %r)" % os.fsdecode(folder)
        doc = self.psleak_json("run", "-s", setup, "-e", "import oddpath; oddpath.f()",
                               expected_exit=EXIT_TARGET, cwd=self.tmp)
        self.assertIn("dir\\udcff", doc["verdict"]["details"], doc)
        self.assertIn("oddpath.py", doc["verdict"]["details"], doc)

    def test_scan_listing_with_odd_names(self):
        self.write("oddnames.py", """\
            __all__ = ["ok", "gone\\udcff"]

            def ok():
                return None
            """)
        result = self.psleak("scan", "oddnames", "--json", cwd=self.tmp)
        self.assertExitCode(result, EXIT_CLEAN)
        doc = self.assertOneJsonDocument(result)
        self.assertScanDocument(doc, where=result.describe())
        self.assertEqual([r["target"]["spec"] for r in doc["results"]], ["oddnames:ok"])
        self.assertEqual([s["target"] for s in doc["skipped"]], ["oddnames:gone\\udcff"])


# -- numeric options ------------------------------------------------------------------------

# (arguments after `run leakfix:no_raise`, the error message)
RANGE_CASES = [
    (["--calls", "99999999999999999999"], "--calls: 99999999999999999999 is not in 1..10000000"),
    (["--calls", "0"], "--calls: 0 is not in 1..10000000"),
    (["--calls", "abc"], "--calls: 'abc' is not a whole number in 1..10000000"),
    (["--warmup", "1000001"], "--warmup: 1000001 is not in 0..1000000"),
    (["--retries", "1001"], "--retries: 1001 is not in 1..1000"),
    (["--trace-top", "0"], "--trace-top: 0 is not in 1..1000"),
    (["--timeout", "nan"], "--timeout: 'nan' is not a number in 0..604800 seconds (0: no limit)"),
    (["--timeout", "inf"], "--timeout: 'inf' is not a number in 0..604800 seconds (0: no limit)"),
    (["--timeout=-inf"], "--timeout: '-inf' is not a number in 0..604800 seconds (0: no limit)"),
    (["--timeout", "1e400"], "--timeout: 1e400 is not in 0..604800 seconds (0: no limit)"),
    (["--timeout", "604801"], "--timeout: 604801 is not in 0..604800 seconds (0: no limit)"),
    (["--max-growth", "2000G"], "--max-growth: 2000G is not in 0..1024G"),
    (["--tolerance", "99999999999999999999"], "--tolerance: 99999999999999999999 is not in 0..1024G"),
    (["--targets", "x", "-j", "0"], "--jobs: 0 is not in 1..256"),
]


class NumericRanges(PsleakTestCase):
    def test_out_of_range_is_one_usage_error_line_naming_the_range(self):
        for args, message in RANGE_CASES:
            with self.subTest(args=args):
                result = self.psleak("run", "leakfix:no_raise", *args)
                self.assertExitCode(result, EXIT_USAGE)
                self.assertEqual(self.assertOneErrorLine(result), message, result.describe())

    def test_out_of_range_with_json_is_one_error_document(self):
        for args, message in RANGE_CASES:
            with self.subTest(args=args):
                result = self.psleak("run", "leakfix:no_raise", *args, "--json")
                self.assertExitCode(result, EXIT_USAGE)
                doc = self.assertOneJsonDocument(result)
                self.assertErrorDocument(doc, "usage", EXIT_USAGE, result=result)
                self.assertEqual(doc["verdict"]["message"], message, result.describe())

    def test_scan_takes_the_same_ranges(self):
        for args, message in [(["--timeout", "nan"], "--timeout: 'nan'"),
                              (["--calls", "10000001"], "--calls: 10000001 is not in 1..10000000")]:
            with self.subTest(args=args):
                result = self.psleak("scan", "leakfix", *args)
                self.assertExitCode(result, EXIT_USAGE)
                self.assertOneErrorLine(result, message)

    def test_the_ends_of_each_range_are_accepted(self):
        doc = self.psleak_json("run", "leakfix:no_raise", "--calls", "1", "--warmup", "0",
                               "--retries", "1000", "--trace-top", "1000", "--timeout", "604800",
                               "-j", "256", "--max-growth", "1024G", "--tolerance", "1024G",
                               "--checks", "fd", expected_exit=EXIT_CLEAN)
        self.assertEqual((doc["settings"]["calls"], doc["settings"]["warmup"],
                          doc["settings"]["retries"]), (1, 0, 1000))

    def test_help_names_the_ranges(self):
        result = self.psleak("run", "--help")
        for text in ("(1..10000000)", "(0..1000000)", "(1..1000)", "(1..256)", "604800"):
            self.assertIn(text, result.stdout, result.describe())


# -- --targets files from other editors -------------------------------------------------------

class TargetsFileEncodings(TempDirTestCase, ScanAssertions):
    def check_two_clean_targets(self, path):
        result = self.psleak("run", "--targets", path, "--calls", "50", "--json")
        self.assertExitCode(result, EXIT_CLEAN)
        doc = self.assertOneJsonDocument(result)
        self.assertScanDocument(doc, command="run", where=result.describe())
        self.assertEqual([(r["target"]["spec"], r["target"]["args"], r["verdict"]["status"])
                          for r in doc["results"]],
                         [("zlib:compress", ["b'x'"], "clean"),
                          ("leakfix:clean_malloc_1k", [], "clean")], result.describe())

    def test_text_form_with_crlf_and_byte_order_mark(self):
        path = self.write("targets.txt", "\ufeffzlib:compress --args \"b'x'\"\r\n"
                                         "# a comment\r\n\r\nleakfix:clean_malloc_1k\r\n")
        self.check_two_clean_targets(path)

    def test_text_form_with_crlf_only(self):
        path = self.write("targets.txt", "zlib:compress --args \"b'x'\"\r\nleakfix:clean_malloc_1k\r\n")
        self.check_two_clean_targets(path)

    def test_json_form_with_crlf_and_byte_order_mark(self):
        entries = [{"target": "zlib:compress", "args": ["b'x'"]},
                   {"target": "leakfix:clean_malloc_1k"}]
        text = "\ufeff" + json.dumps(entries, indent=1).replace("\n", "\r\n") + "\r\n"
        self.check_two_clean_targets(self.write("targets.json", text))


# -- coroutines and generators ------------------------------------------------------------------

UNRUN_MODULE = """\
async def coro():
    return 1


def gen():
    yield 1


async def agen():
    yield 1
"""


class UnrunBodies(TempDirTestCase):
    CASES = [
        ("unrun:coro", "coroutine", "asyncio.run(unrun.coro())"),
        ("unrun:gen", "generator", "list(unrun.gen())"),
        ("unrun:agen", "async generator", "async for x in unrun.agen()"),
    ]

    def test_refused_as_target_error_saying_how_to_check_the_body(self):
        self.write("unrun.py", UNRUN_MODULE)
        for spec, kind, advice in self.CASES:
            for extra in ([], ["--warmup", "0", "--checks", "memory"]):
                with self.subTest(spec=spec, extra=extra):
                    result = self.psleak("run", spec, *extra, cwd=self.tmp)
                    self.assertExitCode(result, EXIT_TARGET)
                    line = self.assertOneErrorLine(result, (spec, kind, "body never ran", advice))
                    self.assertNotIn("never awaited", result.stderr, result.describe())
                    self.assertTrue(line, result.describe())

    def test_json_document(self):
        self.write("unrun.py", UNRUN_MODULE)
        doc = self.psleak_json("run", "unrun:coro", expected_exit=EXIT_TARGET, cwd=self.tmp)
        self.assertEqual(doc["verdict"]["kind"], "target")
        self.assertIn("coroutine", doc["verdict"]["message"])
        self.assertEqual(doc["runs"], [])

    def test_the_advised_command_runs_the_body(self):
        # (The verdict itself is not the point: an event loop per call is noisy.)
        self.write("unrun.py", UNRUN_MODULE)
        result = self.psleak("run", "-s", "import asyncio, unrun",
                             "-e", "assert asyncio.run(unrun.coro()) == 1",
                             "--checks", "memory", "--json", cwd=self.tmp)
        doc = self.assertOneJsonDocument(result)
        self.assertIn(doc["verdict"]["status"], ("clean", "leak"), result.describe())
        self.assertTrue(doc["runs"], result.describe())

    def test_memory_leak_test_case_reports_it(self):
        self.write("unrun.py", UNRUN_MODULE)
        script = textwrap.dedent("""\
            import unittest, psleak, unrun
            class T(psleak.MemoryLeakTestCase):
                def test_coro(self):
                    self.execute(unrun.coro)
            unittest.main(argv=["t"])
            """)
        result = self.psleak("python", "-W", "error", "-c", script, cwd=self.tmp)
        self.assertEqual(result.returncode, 1, result.describe())
        self.assertIn("returned a coroutine object", result.stderr, result.describe())
        self.assertIn("execute(lambda: asyncio.run(f()))", result.stderr, result.describe())
        self.assertNotIn("never awaited", result.stderr, result.describe())


# -- the working directory cannot stand in for psleak's imports -----------------------------

# Modules psleak's own code imports (directly or through the standard library) that are
# not already loaded when Python starts, and gc, which is built in. Each raises if imported.
SHADOWED = ["inspect", "json", "traceback", "linecache", "threading", "types", "unittest",
            "warnings", "re", "tokenize", "ast", "enum", "functools", "collections", "gc",
            "importlib", "asyncio"]

OK_MODULE = """\
def ok():
    return None


def also_ok():
    return [1]
"""


class ShadowingWorkingDirectory(TempDirTestCase, ScanAssertions):
    def setUp(self):
        super().setUp()
        for name in SHADOWED:
            self.write(name + ".py",
                       "raise RuntimeError(\"the working directory's %s.py was imported\")\n" % name)
        self.write("okmod.py", OK_MODULE)

    def assertNoShadowImported(self, result):
        self.assertNotIn("working directory's", result.stdout + result.stderr, result.describe())

    def test_run(self):
        for extra in ([], ["--isolate"]):
            with self.subTest(extra=extra):
                doc = self.psleak_json("run", "okmod:ok", *extra, expected_exit=EXIT_CLEAN,
                                       cwd=self.tmp)
                self.assertEqual(doc["verdict"]["status"], "clean")

    def test_run_text_and_all_checks(self):
        result = self.psleak("run", "okmod:also_ok", cwd=self.tmp)
        self.assertExitCode(result, EXIT_CLEAN)
        self.assertNoShadowImported(result)

    def test_scan(self):
        result = self.psleak("scan", "okmod", cwd=self.tmp)
        self.assertExitCode(result, EXIT_CLEAN)
        self.assertNoShadowImported(result)
        table = self.assertScanTable(result)
        self.assertEqual(sorted(table.targets), ["okmod:also_ok", "okmod:ok"], result.describe())

    def test_python_with_memory_leak_test_case(self):
        script = textwrap.dedent("""\
            import psleak, okmod
            class T(psleak.MemoryLeakTestCase):
                def test_ok(self):
                    self.execute(okmod.ok)
            import unittest
            unittest.main(argv=["t"])
            """)
        result = self.psleak("python", "-c", script, cwd=self.tmp)
        self.assertEqual(result.returncode, 0, result.describe())
        self.assertNoShadowImported(result)
        self.assertIn("OK", result.stderr, result.describe())

    def test_test_command(self):
        tests = self.write("test_ok_leaks.py", textwrap.dedent("""\
            import psleak
            class T(psleak.MemoryLeakTestCase):
                def test_noop(self):
                    self.execute(lambda: None)
            """))
        result = self.psleak("test", tests, cwd=self.tmp)
        self.assertEqual(result.returncode, 0, result.describe())
        self.assertNoShadowImported(result)

    def test_a_target_error_is_formatted_by_the_standard_library(self):
        # psleak imports traceback only when an error needs formatting, after the working
        # directory went on sys.path: its traceback.py, linecache.py and tokenize.py must
        # still not stand in for the standard library's.
        self.write("raising.py", "def boom():\n    raise ValueError('boom from raising')\n")
        result = self.psleak("run", "raising:boom", cwd=self.tmp)
        self.assertExitCode(result, EXIT_TARGET)
        self.assertNoShadowImported(result)
        self.assertIn("Traceback (most recent call last)", result.stderr, result.describe())
        self.assertIn('raising.py", line 2, in boom', result.stderr, result.describe())
        self.assertIn("raise ValueError('boom from raising')", result.stderr, result.describe())

    def test_the_target_still_imports_from_its_directory(self):
        # A module psleak does not use itself is the target's business: asyncio.py here
        # is what `import asyncio` finds, as with python.
        result = self.psleak("run", "-e", "import asyncio", cwd=self.tmp)
        self.assertExitCode(result, EXIT_TARGET)
        self.assertIn("the working directory's asyncio.py was imported", result.stderr,
                      result.describe())


# -- a target that replaces the functions psleak's checks call ------------------------------

# Each uses leakfix_py (the fixtures) for the cycle it makes.
HIDING_MODULE = """\
import gc
import threading
import traceback

import leakfix_py

_blocked = threading.Event()


def hide_cycles_at_call():
    gc.collect = lambda *args, **kwargs: 0
    leakfix_py.leak_cycle()


def hide_threads_at_call():
    threading.Thread(target=_blocked.wait, name="hidden-thread", daemon=True).start()
    threading.enumerate = lambda: [threading.main_thread()]


def hide_traceback_at_call():
    traceback.format_exception = lambda *args, **kwargs: ["nothing to see\\n"]
    raise KeyError("still reported")
"""

HIDING_AT_IMPORT_MODULE = """\
import gc
from leakfix_py import leak_cycle as cycle

gc.collect = lambda *args, **kwargs: 0
gc.garbage = []
"""


class ReplacedInterpreterFunctions(TempDirTestCase):
    def setUp(self):
        super().setUp()
        self.write("hiding.py", HIDING_MODULE)
        self.write("hiding_at_import.py", HIDING_AT_IMPORT_MODULE)

    def psleak_json(self, *args, **kwargs):
        return super().psleak_json(*args, cwd=self.tmp, env={"PYTHONPATH": fixture_dir()},
                                   **kwargs)

    def test_gc_collect_replaced_during_a_call(self):
        doc = self.psleak_json("run", "hiding:hide_cycles_at_call", "--checks", "gc",
                               "--strict", "gc", expected_exit=EXIT_LEAK)
        self.assertEqual(doc["verdict"]["kind"], "gc", doc)
        self.assertIn("leakfix_py.Node", "\n".join(doc["findings"][0]["items"]), doc)

    def test_gc_collect_and_garbage_replaced_at_import(self):
        doc = self.psleak_json("run", "hiding_at_import:cycle", "--checks", "gc",
                               "--strict", "gc", expected_exit=EXIT_LEAK)
        self.assertEqual(doc["verdict"]["kind"], "gc", doc)

    def test_threading_enumerate_replaced(self):
        doc = self.psleak_json("run", "hiding:hide_threads_at_call", "--checks", "pythread",
                               expected_exit=EXIT_LEAK)
        self.assertEqual(doc["verdict"]["kind"], "pythread", doc)
        self.assertIn("hidden-thread", "\n".join(doc["findings"][0]["items"]), doc)

    def test_traceback_format_exception_replaced(self):
        doc = self.psleak_json("run", "hiding:hide_traceback_at_call", expected_exit=EXIT_TARGET)
        details = doc["verdict"]["details"]
        self.assertIn("Traceback (most recent call last)", details, doc)
        self.assertIn("hiding.py", details, doc)
        self.assertNotIn("nothing to see", details, doc)


# -- psleak python without arguments --------------------------------------------------------

class PythonWithoutArguments(PsleakTestCase):
    def python_with_stdin(self, script):
        return subprocess.run([psleak_binary(), "python"], input=script, cwd=fixture_dir(),
                              env=clean_environment(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=120, check=False)

    def test_reads_the_script_from_stdin(self):
        result = self.python_with_stdin("print(6 * 7)\n")
        self.assertEqual((result.returncode, result.stdout, result.stderr), (0, "42\n", ""))

    def test_stdin_script_exit_status_and_psleak_module(self):
        result = self.python_with_stdin(
            "import sys, psleak\nprint(psleak.malloc_info()['heap_used'] > 0)\nsys.exit(3)\n")
        self.assertEqual((result.returncode, result.stdout), (3, "True\n"), result.stderr)

    @unittest.skipUnless(shutil.which("tmux"), "tmux is not installed")
    def test_starts_the_repl_on_a_terminal(self):
        session = "psleak-repl-%d" % os.getpid()
        subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "30",
                        psleak_binary(), "python"], check=True, cwd=fixture_dir(),
                       env=clean_environment())
        self.addCleanup(subprocess.run, ["tmux", "kill-session", "-t", session],
                        stderr=subprocess.DEVNULL, check=False)

        def screen_until(text):
            # Polls the pane: the REPL's speed is not what is tested, only what it shows.
            deadline = time.monotonic() + 60
            while True:
                shown = subprocess.run(["tmux", "capture-pane", "-p", "-t", session],
                                       stdout=subprocess.PIPE, text=True, check=False).stdout
                if text in shown or time.monotonic() > deadline:
                    return shown
                time.sleep(0.1)

        # (capture-pane drops the prompt's trailing space)
        shown = screen_until("\n>>>")
        self.assertIn("\n>>>", shown)
        subprocess.run(["tmux", "send-keys", "-t", session, "print(6 * 7)", "Enter"], check=True)
        shown = screen_until("\n42\n")
        self.assertIn(">>> print(6 * 7)\n42\n>>>", shown)


# -- hooks that cannot count ----------------------------------------------------------------

class HooksThatCannotCount(PsleakTestCase):
    """Under valgrind, which replaces malloc, psleak's hooks count nothing: psleak says so
    and measures as with --no-hooks. Slow under valgrind: few, small runs."""

    def valgrind(self, *args):
        # For another Python than its own, psleak runs that version's runtime in its place
        # (exec): valgrind follows it only with --trace-children (not into the Python that
        # psleak asks for its version, which would only be slow).
        argv = ["valgrind", "-q", "--log-file=/dev/null", "--trace-children=yes",
                "--trace-children-skip=*python*", psleak_binary(), *args]
        return subprocess.run(argv, cwd=fixture_dir(), env=clean_environment(),
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, errors="replace", timeout=600,
                              check=False)

    WARNING = ("psleak: warning: the allocation counters do not see malloc (something else "
               "serves it, such as valgrind); measuring as with --no-hooks")

    def test_hooks_count_without_valgrind(self):
        doc = self.psleak_json("run", "leakfix:no_raise", "--checks", "fd",
                               expected_exit=EXIT_CLEAN)
        self.assertEqual(doc["settings"]["hooks"], {"counting": True, "problem": None})
        info = self.psleak("info", "--json")
        self.assertEqual(json.loads(info.stdout)["hooks"]["problem"], None)
        self.assertNotIn("warning", info.stderr)

    @unittest.skipUnless(shutil.which("valgrind"), "valgrind is not installed")
    def test_leak_found_without_counters_under_valgrind(self):
        result = self.valgrind("run", "leakfix:leak_malloc_1m", "--calls", "10", "--warmup", "1",
                               "--retries", "3", "--checks", "memory", "--json")
        self.assertEqual(result.returncode, EXIT_LEAK, result.stdout + result.stderr)
        self.assertEqual(result.stderr.splitlines(), [self.WARNING + " (allocator statistics and /proc)"])
        doc = json.loads(result.stdout)
        self.assertFalse(doc["settings"]["hooks"]["counting"], doc)
        self.assertIn("do not see malloc", doc["settings"]["hooks"]["problem"], doc)
        self.assertEqual(doc["verdict"]["status"], "leak", doc)
        for run in doc["runs"]:
            self.assertNotIn("allocs", run["deltas"], doc)  # the --no-hooks columns

    @unittest.skipUnless(shutil.which("valgrind"), "valgrind is not installed")
    def test_info_under_valgrind(self):
        result = self.valgrind("info", "--json")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        hooks = json.loads(result.stdout)["hooks"]
        self.assertFalse(hooks["counting"], hooks)
        self.assertIn("do not see malloc", hooks["problem"], hooks)
        result = self.valgrind("info")
        self.assertIn("(not counting: the allocation counters do not see malloc", result.stdout,
                      result.stdout + result.stderr)


if __name__ == "__main__":
    unittest.main()
