"""`psleak scan MODULE...`: every public callable that takes no arguments, each checked in
its own process; a summary table (or one JSON document), exit 1 if any leaks.

The scans here pick a few of leakfix's functions with --include (a leak, its clean twin,
the crashing ones, a hang bounded by --timeout) so that the module runs in seconds; a
throw-away module written to a temporary directory is scanned whole, and the standard
library (`psleak scan zlib time`) once, for false alarms."""

import os
import tempfile
import textwrap
import time
import unittest

from psleak_helpers import (EXIT_CLEAN, EXIT_CRASHED, EXIT_LEAK, EXIT_TARGET, EXIT_USAGE,
                            LEAK_MESSAGE, PsleakTestCase, ScanAssertions, run_psleak)

HANG_TIMEOUT = 4  # --timeout of the mixed scan, seconds
MIXED_SCAN = [
    "scan", "leakfix",
    "--include", "leak_malloc_1k", "--include", "clean_malloc_1k",
    "--include", "crash_*", "--include", "hang_forever",
    "--timeout", str(HANG_TIMEOUT), "-j", "2",
]
# (verdict word, kind) per target, in the order the scan finds them (sorted by name).
MIXED_ROWS = {
    "leakfix:clean_malloc_1k": ("clean", "-"),
    "leakfix:crash_abort": ("CRASH", "crash"),
    "leakfix:crash_segfault": ("CRASH", "crash"),
    "leakfix:hang_forever": ("TIMEOUT", "timeout"),
    "leakfix:leak_malloc_1k": ("LEAK", "memory"),
}
# crash_on_call matches crash_* but takes an argument.
MIXED_SKIPPED = {"leakfix:crash_on_call": "needs arguments (n)"}


class MixedScan(PsleakTestCase, ScanAssertions):
    """A leak, a clean function, two crashes and a hang, scanned once as a table and once
    as JSON."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        start = time.monotonic()
        cls.text = run_psleak(*MIXED_SCAN)
        cls.text_seconds = time.monotonic() - start
        start = time.monotonic()
        cls.json = run_psleak(*MIXED_SCAN, "--json")
        cls.json_seconds = time.monotonic() - start

    def test_exit_code_leak_takes_precedence(self):
        # A leak (1) wins over crashes and timeouts (5).
        self.assertExitCode(self.text, EXIT_LEAK)
        self.assertExitCode(self.json, EXIT_LEAK)

    def test_table_rows(self):
        table = self.assertScanTable(self.text)
        where = self.text.describe()
        self.assertEqual(table.targets, list(MIXED_ROWS), where)
        for target, (verdict, kind) in MIXED_ROWS.items():
            row = table.row(target)
            self.assertEqual((row["verdict"], row["kind"]), (verdict, kind), where)
            if verdict == "LEAK":
                self.assertEqual(row["growth"], "+1.0 KiB", where)
            else:
                self.assertEqual(row["growth"], "-", where)
            self.assertGreaterEqual(row["time"], 0, where)
        hang = table.row("leakfix:hang_forever")
        self.assertGreaterEqual(hang["time"], HANG_TIMEOUT - 0.05, where)
        self.assertLess(hang["time"], HANG_TIMEOUT + 5, where)

    def test_reason_lines(self):
        table = self.assertScanTable(self.text)
        where = self.text.describe()
        # One reason line per target that is not clean.
        self.assertEqual(sorted(table.reasons),
                         sorted(t for t, (v, _) in MIXED_ROWS.items() if v != "clean"), where)
        self.assertRegex(table.reasons["leakfix:leak_malloc_1k"], LEAK_MESSAGE, where)
        self.assertIn("alloc +1.0 KiB/call", table.reasons["leakfix:leak_malloc_1k"], where)
        self.assertRegex(table.reasons["leakfix:crash_segfault"],
                         r"^the target crashed: SIGSEGV \(signal 11\) before run 1\b", where)
        self.assertRegex(table.reasons["leakfix:crash_abort"],
                         r"^the target crashed: SIGABRT \(signal 6\) before run 1\b", where)
        self.assertIn(f"no verdict within --timeout {HANG_TIMEOUT} s",
                      table.reasons["leakfix:hang_forever"], where)
        self.assertIn("killed", table.reasons["leakfix:hang_forever"], where)

    def test_skipped_and_summary(self):
        table = self.assertScanTable(self.text)
        where = self.text.describe()
        # The table shows what was checked; what was skipped is one line counting it.
        self.assertEqual(table.skipped, {}, where)
        self.assertEqual(table.skipped_count_line,
                         "1 callable skipped (1 needs arguments): --show-skipped lists them", where)
        self.assertEqual(table.summary_line.split(" (")[0],
                         "5 targets: 1 clean, 1 leak, 3 errors; 1 skipped", where)
        self.assertFalse(table.summary["interrupted"], where)
        self.assertGreaterEqual(table.summary["seconds"], HANG_TIMEOUT - 0.1, where)

    def test_progress_rows_on_stderr(self):
        # A row as each target ends (on stderr, so that stdout is the table alone).
        where = self.text.describe()
        rows = [line for line in self.text.stderr_lines if line.startswith("leakfix:")]
        self.assertEqual(sorted(line.split()[0] for line in rows), sorted(MIXED_ROWS), where)
        # The hang ends last: the others do not wait for it (-j 2).
        self.assertTrue(rows[-1].startswith("leakfix:hang_forever "), where)

    def test_hang_does_not_stall_the_scan(self):
        # Bounded by one --timeout (the hang), not the sum over the targets, nor forever.
        for seconds, result in ((self.text_seconds, self.text), (self.json_seconds, self.json)):
            self.assertLess(seconds, HANG_TIMEOUT + 8, result.describe())
            self.assertLess(seconds, HANG_TIMEOUT * len(MIXED_ROWS), result.describe())

    def test_json_document(self):
        doc = self.assertOneJsonDocument(self.json)
        where = self.json.describe()
        self.assertEqual(self.json.stderr, "", where)
        self.assertScanDocument(doc, "scan", where)
        self.assertEqual(doc["modules"], ["leakfix"], where)
        self.assertEqual(doc["exit_code"], EXIT_LEAK, where)
        self.assertEqual(doc["summary"], {"targets": 5, "clean": 1, "leak": 1, "error": 3,
                                          "skipped": 1, "interrupted": False}, where)
        self.assertEqual(doc["skipped"],
                         [{"target": t, "reason": r, "kind": "arguments"}
                          for t, r in MIXED_SKIPPED.items()], where)
        self.assertEqual([r["target"]["spec"] for r in doc["results"]], list(MIXED_ROWS), where)
        results = {r["target"]["spec"]: r for r in doc["results"]}
        for result in results.values():
            self.assertEqual(result["command"], "run", where)

        leak = results["leakfix:leak_malloc_1k"]["verdict"]
        self.assertFields(leak, {"status": "leak", "kind": "memory", "exit_code": EXIT_LEAK}, where)
        self.assertGreaterEqual(len(results["leakfix:leak_malloc_1k"]["runs"]), 3, where)
        self.assertFields(results["leakfix:clean_malloc_1k"]["verdict"],
                          {"status": "clean", "exit_code": EXIT_CLEAN}, where)
        for target, signal in (("crash_segfault", "SIGSEGV"), ("crash_abort", "SIGABRT")):
            verdict = results["leakfix:" + target]["verdict"]
            self.assertFields(verdict, {"status": "error", "kind": "crash",
                                        "exit_code": EXIT_CRASHED}, where)
            self.assertIn(signal, verdict["message"], where)
        self.assertFields(results["leakfix:hang_forever"]["verdict"],
                          {"status": "error", "kind": "timeout", "exit_code": EXIT_CRASHED}, where)


class Filters(PsleakTestCase, ScanAssertions):
    def test_exclude_by_name(self):
        result = self.psleak("scan", "leakfix", "--include", "*_malloc_1k", "--exclude", "leak_*")
        self.assertExitCode(result, EXIT_CLEAN)
        table = self.assertScanTable(result)
        self.assertEqual([(r["target"], r["verdict"]) for r in table.rows],
                         [("leakfix:clean_malloc_1k", "clean")], result.describe())
        self.assertEqual(table.skipped, {}, result.describe())

    def test_exclude_by_spec(self):
        result = self.psleak("scan", "leakfix", "--include", "leakfix:*_malloc_1k",
                             "--exclude", "leakfix:clean_malloc_1k")
        self.assertExitCode(result, EXIT_LEAK)
        table = self.assertScanTable(result)
        self.assertEqual([(r["target"], r["verdict"]) for r in table.rows],
                         [("leakfix:leak_malloc_1k", "LEAK")], result.describe())

    def test_exclude_applies_to_skipped(self):
        result = self.psleak("scan", "leakfix", "--include", "crash_on_call",
                             "--include", "clean_malloc_1k", "--exclude", "crash_*",
                             "--show-skipped")
        self.assertExitCode(result, EXIT_CLEAN)
        table = self.assertScanTable(result)
        self.assertEqual(table.targets, ["leakfix:clean_malloc_1k"], result.describe())
        self.assertEqual(table.skipped, {}, result.describe())
        self.assertIsNone(table.skipped_count_line, result.describe())

    def test_show_skipped_lists_each_with_why(self):
        args = ["scan", "leakfix", "--include", "crash_on_call", "--include", "clean_malloc_1k"]
        listed = self.psleak(*args, "--show-skipped")
        self.assertExitCode(listed, EXIT_CLEAN)
        table = self.assertScanTable(listed)
        self.assertEqual(table.targets, ["leakfix:clean_malloc_1k"], listed.describe())
        self.assertEqual(table.skipped, MIXED_SKIPPED, listed.describe())
        self.assertIsNone(table.skipped_count_line, listed.describe())
        counted = self.assertScanTable(self.psleak(*args))
        self.assertEqual(counted.skipped, {})
        self.assertEqual(counted.skipped_count_line,
                         "1 callable skipped (1 needs arguments): --show-skipped lists them")


class WholeModule(PsleakTestCase, ScanAssertions):
    """A module written for the test, scanned without filters: what is a target, what is
    skipped and why, what is left out."""

    SOURCE = textwrap.dedent('''\
        """Written by psleak's test_scan.py."""
        import os                   # a module: not listed
        from os.path import join    # imported from elsewhere: skipped

        CONSTANT = 3                # not callable: not listed
        _kept = []


        def leaky():
            _kept.append(bytearray(4096))


        def clean():
            bytearray(4096)


        def defaults_only(a=1, *, b=2):
            return a + b


        def needs_args(a, b=1, *, c):
            return a


        class Thing:
            pass


        def _private():             # private: not listed
            _kept.append(bytearray(4096))
        ''')

    def test_scan_whole_module(self):
        with tempfile.TemporaryDirectory(prefix="psleak-scan-") as tmp:
            with open(os.path.join(tmp, "scanfix_tmp.py"), "w", encoding="utf-8") as f:
                f.write(self.SOURCE)
            # psleak puts its working directory first on sys.path.
            result = self.psleak("scan", "scanfix_tmp", "--show-skipped", cwd=tmp)
            counted = self.psleak("scan", "scanfix_tmp", cwd=tmp)
        where = result.describe()
        # Without --show-skipped, one line counts them by why, the most frequent first
        # (among equals, in the order the names sort).
        self.assertEqual(self.assertScanTable(counted).skipped_count_line,
                         "3 callables skipped (1 class, 1 imported from other modules, 1 needs "
                         "arguments): --show-skipped lists them", counted.describe())
        self.assertExitCode(result, EXIT_LEAK)
        table = self.assertScanTable(result)
        self.assertEqual([(r["target"], r["verdict"]) for r in table.rows], [
            ("scanfix_tmp:clean", "clean"),
            ("scanfix_tmp:defaults_only", "clean"),
            ("scanfix_tmp:leaky", "LEAK"),
        ], where)
        self.assertEqual(table.skipped, {
            "scanfix_tmp:Thing": "class (scan calls functions only)",
            "scanfix_tmp:join": "imported from posixpath",
            "scanfix_tmp:needs_args": "needs arguments (a, c)",
        }, where)
        self.assertEqual(list(table.reasons), ["scanfix_tmp:leaky"], where)
        self.assertEqual(table.summary_line.split(" (")[0],
                         "3 targets: 2 clean, 1 leak, 0 errors; 3 skipped", where)


class StandardLibrary(PsleakTestCase, ScanAssertions):
    def test_zlib_time_no_false_alarm(self):
        result = self.psleak("scan", "zlib", "time", "--show-skipped")
        where = result.describe()
        self.assertExitCode(result, EXIT_CLEAN)
        table = self.assertScanTable(result)
        self.assertGreaterEqual(len(table.rows), 5, where)
        for row in table.rows:
            self.assertEqual(row["verdict"], "clean", where)
            self.assertRegex(row["target"], r"^(zlib|time):\w+$", where)
        self.assertIn("time:monotonic", table.targets, where)
        self.assertEqual(table.reasons, {}, where)
        # zlib first, then time: the order of the command line.
        modules = [t.split(":")[0] for t in table.targets]
        self.assertEqual(modules, sorted(modules, key=["zlib", "time"].index), where)
        # What needs arguments is listed, with why. The parameters' names come from the
        # interpreter's own signatures, which differ between Python versions
        # (time.sleep(seconds) in 3.11, time.sleep(secs) in 3.12+).
        self.assertRegex(table.skipped.get("zlib:compress", ""), r"^needs arguments \(\w+\)$", where)
        self.assertRegex(table.skipped.get("time:sleep", ""), r"^needs arguments \(\w+\)$", where)
        self.assertTrue(table.skipped.get("zlib:error", "").startswith("class"), where)
        for target, reason in table.skipped.items():
            self.assertTrue(reason, where)
            self.assertNotIn(target, table.targets, where)
        self.assertEqual(table.summary["leak"], 0, where)
        self.assertEqual(table.summary["error"], 0, where)
        self.assertEqual(table.summary["clean"], len(table.rows), where)
        self.assertEqual(table.summary["skipped"], len(table.skipped), where)


class ListOnly(PsleakTestCase, ScanAssertions):
    """--list: what a scan would call, one target per line, calling nothing."""

    SOURCE = textwrap.dedent('''\
        """Written by psleak's test_scan.py: each function leaves a file when called."""
        import os


        def first():
            open(os.path.join(os.environ["SCANFIX_MARKS"], "first"), "w").close()


        def second():
            open(os.path.join(os.environ["SCANFIX_MARKS"], "second"), "w").close()


        def needs_one(a):
            open(os.path.join(os.environ["SCANFIX_MARKS"], "needs_one"), "w").close()
        ''')

    def setUp(self):
        tmp = tempfile.TemporaryDirectory(prefix="psleak-list-")
        self.addCleanup(tmp.cleanup)
        self.tmp = tmp.name
        self.marks = os.path.join(self.tmp, "marks")
        os.mkdir(self.marks)
        with open(os.path.join(self.tmp, "scanfix_list.py"), "w", encoding="utf-8") as f:
            f.write(self.SOURCE)

    def scan(self, *args):
        return self.psleak("scan", "scanfix_list", *args, cwd=self.tmp,
                           env={"SCANFIX_MARKS": self.marks})

    def test_prints_the_targets_and_calls_nothing(self):
        result = self.scan("--list")
        where = result.describe()
        self.assertExitCode(result, EXIT_CLEAN)
        self.assertEqual(result.stdout_lines, ["scanfix_list:first", "scanfix_list:second"], where)
        self.assertEqual(os.listdir(self.marks), [], "--list called a function")
        # What is skipped goes to stderr, counted (or listed with --show-skipped).
        self.assertIn("1 callable skipped (1 needs arguments): --show-skipped lists them",
                      result.stderr_lines, where)
        shown = self.scan("--list", "--show-skipped")
        self.assertEqual(shown.stdout_lines, result.stdout_lines, shown.describe())
        self.assertIn("  scanfix_list:needs_one                 needs arguments (a)",
                      shown.stderr_lines, shown.describe())
        # A scan without --list does call them: the marks can appear.
        scanned = self.scan("--checks", "memory", "--calls", "5", "--retries", "1")
        self.assertIn(scanned.returncode, (EXIT_CLEAN, EXIT_LEAK), scanned.describe())
        self.assertEqual(sorted(os.listdir(self.marks)), ["first", "second"], scanned.describe())

    def test_json(self):
        result = self.scan("--list", "--json", "--exclude", "second")
        where = result.describe()
        self.assertExitCode(result, EXIT_CLEAN)
        doc = self.assertOneJsonDocument(result)
        self.assertKeysInOrder(doc, ["schema_version", "psleak_version", "command", "list",
                                     "modules", "targets", "skipped", "errors", "interrupted",
                                     "exit_code"], where)
        self.assertEqual(doc["schema_version"], 1, where)
        self.assertEqual((doc["command"], doc["list"]), ("scan", True), where)
        self.assertEqual(doc["modules"], ["scanfix_list"], where)
        self.assertEqual(doc["targets"], ["scanfix_list:first"], where)
        self.assertEqual(doc["skipped"], [{"target": "scanfix_list:needs_one",
                                           "reason": "needs arguments (a)",
                                           "kind": "arguments"}], where)
        self.assertEqual((doc["errors"], doc["interrupted"], doc["exit_code"]),
                         ([], False, EXIT_CLEAN), where)
        self.assertEqual(result.stderr, "", where)
        self.assertEqual(os.listdir(self.marks), [])

    def test_output_is_a_targets_file(self):
        listing = self.psleak("scan", "leakfix", "--include", "*_malloc_1k", "--list")
        self.assertExitCode(listing, EXIT_CLEAN)
        self.assertEqual(listing.stdout_lines,
                         ["leakfix:clean_malloc_1k", "leakfix:leak_malloc_1k"], listing.describe())
        path = os.path.join(self.tmp, "targets.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.write(listing.stdout)
        result = self.psleak("run", "--targets", path, "--checks", "memory")
        self.assertExitCode(result, EXIT_LEAK)
        table = self.assertScanTable(result)
        self.assertEqual([(r["target"], r["verdict"]) for r in table.rows],
                         [("leakfix:clean_malloc_1k", "clean"), ("leakfix:leak_malloc_1k", "LEAK")],
                         result.describe())

    def test_module_that_cannot_be_imported(self):
        result = self.psleak("scan", "psleak_no_such_module", "leakfix",
                             "--include", "clean_malloc_1k", "--list")
        where = result.describe()
        self.assertExitCode(result, EXIT_TARGET)
        self.assertEqual(result.stdout_lines, ["leakfix:clean_malloc_1k"], where)
        self.assertIn("psleak: error: cannot import module 'psleak_no_such_module': "
                      "ModuleNotFoundError: No module named 'psleak_no_such_module'",
                      result.stderr_lines, where)
        doc = self.assertOneJsonDocument(self.psleak(
            "scan", "psleak_no_such_module", "--list", "--json"))
        self.assertEqual(doc["targets"], [])
        self.assertEqual([e["module"] for e in doc["errors"]], ["psleak_no_such_module"])
        self.assertIn("ModuleNotFoundError", doc["errors"][0]["message"])
        self.assertIn("Traceback", doc["errors"][0]["details"])
        self.assertEqual(doc["exit_code"], EXIT_TARGET)

    def test_nothing_matched_is_a_usage_error(self):
        result = self.psleak("scan", "leakfix", "--include", "no_such_function_*", "--list")
        self.assertExitCode(result, EXIT_USAGE)
        self.assertEqual(result.stdout, "", result.describe())
        self.assertIn("psleak: error: nothing to check: no callable of 1 module matched "
                      "(0 skipped)", result.stderr_lines, result.describe())

    def test_report_files_are_a_usage_error(self):
        for option in ("--junit", "--plot"):
            result = self.psleak("scan", "leakfix", "--list", option,
                                 os.path.join(self.tmp, "report"))
            self.assertExitCode(result, EXIT_USAGE)
            self.assertOneErrorLine(result, ("--list", option))
            self.assertFalse(os.path.exists(os.path.join(self.tmp, "report")))


class ModuleErrors(PsleakTestCase, ScanAssertions):
    def test_missing_module(self):
        result = self.psleak("scan", "psleak_no_such_module")
        where = result.describe()
        self.assertExitCode(result, EXIT_TARGET)
        table = self.assertScanTable(result)
        self.assertEqual([(r["target"], r["verdict"], r["kind"]) for r in table.rows],
                         [("psleak_no_such_module", "ERROR", "target")], where)
        self.assertEqual(
            table.reasons["psleak_no_such_module"],
            "cannot import module 'psleak_no_such_module': ModuleNotFoundError: "
            "No module named 'psleak_no_such_module'", where)
        self.assertEqual(table.summary["error"], 1, where)

    def test_module_raising_on_import_next_to_a_good_one(self):
        result = self.psleak("scan", "import_raises", "leakfix", "--include", "clean_malloc_1k")
        where = result.describe()
        self.assertExitCode(result, EXIT_TARGET)
        table = self.assertScanTable(result)
        self.assertEqual([(r["target"], r["verdict"]) for r in table.rows],
                         [("import_raises", "ERROR"), ("leakfix:clean_malloc_1k", "clean")], where)
        self.assertIn("RuntimeError", table.reasons["import_raises"], where)

    def test_leak_wins_over_module_error(self):
        result = self.psleak("scan", "psleak_no_such_module", "leakfix",
                             "--include", "leak_malloc_1k", "--json")
        where = result.describe()
        self.assertExitCode(result, EXIT_LEAK)
        doc = self.assertOneJsonDocument(result)
        self.assertScanDocument(doc, "scan", where)
        self.assertEqual(doc["modules"], ["psleak_no_such_module", "leakfix"], where)
        error = doc["results"][0]
        self.assertEqual(error["target"]["spec"], "psleak_no_such_module", where)
        self.assertFields(error["verdict"], {"status": "error", "kind": "target",
                                             "exit_code": EXIT_TARGET}, where)
        self.assertIn("ModuleNotFoundError", error["verdict"]["message"], where)
        self.assertEqual(doc["results"][1]["verdict"]["status"], "leak", where)
        self.assertEqual(doc["exit_code"], EXIT_LEAK, where)


class Usage(PsleakTestCase):
    def test_no_module(self):
        result = self.psleak("scan")
        self.assertExitCode(result, EXIT_USAGE)
        self.assertOneErrorLine(result)

    def test_no_module_json(self):
        result = self.psleak("scan", "--json")
        self.assertExitCode(result, EXIT_USAGE)
        doc = self.assertOneJsonDocument(result)
        self.assertErrorDocument(doc, "usage", EXIT_USAGE, result=result)

    def test_bad_jobs(self):
        result = self.psleak("scan", "leakfix", "-j", "0")
        self.assertExitCode(result, EXIT_USAGE)
        self.assertOneErrorLine(result, "--jobs")


if __name__ == "__main__":
    unittest.main()
