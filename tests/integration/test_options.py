"""Options that shape the check and the output: --calls, --warmup, --retries,
--tolerance, --pymalloc, --bytes, -v; and --version, --help."""

import re
import unittest

from psleak_helpers import EXIT_CLEAN, EXIT_LEAK, METRICS, RUN_LINE, PsleakTestCase

KiB = 1024
MiB = 1024 * 1024


class CheckSettings(PsleakTestCase):
    def test_calls_warmup_retries(self):
        doc = self.psleak_json("run", "leakfix:leak_malloc_1k", "--calls", "50", "--warmup", "0",
                               "--retries", "4", expected_exit=EXIT_LEAK)
        self.assertEqual(doc["settings"]["calls"], 50)
        self.assertEqual(doc["settings"]["warmup"], 0)
        self.assertEqual(doc["settings"]["retries"], 4)
        runs = len(doc["runs"])
        self.assertEqual([r["calls"] for r in doc["runs"]], [50, 75, 100, 125][:runs])
        self.assertLeakRuns(doc["verdict"]["message"], runs, 4)

    def test_odd_calls(self):
        # Each later run adds half of --calls, rounded down. (1 MiB per call: a few calls
        # are enough to stand out from the noise.)
        doc = self.psleak_json("run", "leakfix:leak_malloc_1m", "--calls", "5", "--retries", "3",
                               expected_exit=EXIT_LEAK)
        self.assertEqual([r["calls"] for r in doc["runs"]], [5, 7, 9])

    def test_retries_bound_the_runs_of_a_clean_target(self):
        doc = self.psleak_json("run", "leakfix:cache_fill_then_stop", "--retries", "20",
                               expected_exit=EXIT_CLEAN)
        self.assertLessEqual(len(doc["runs"]), 20)
        self.assertEqual(doc["settings"]["retries"], 20)

    def test_retries_cap_the_runs(self):
        # Two runs are too few to see proportional growth: growth that has not stopped
        # after --retries 2 runs is a leak.
        result = self.psleak("run", "leakfix:leak_malloc_1k", "--retries", "2")
        self.assertExitCode(result, EXIT_LEAK)
        runs = [line for line in result.stdout_lines if RUN_LINE.match(line)]
        self.assertEqual(len(runs), 2, result.describe())
        self.assertTrue(result.stdout_lines[-1].startswith("LEAK: memory kept increasing after 2 runs ("),
                        result.describe())

    def test_one_retry(self):
        doc = self.psleak_json("run", "leakfix:leak_malloc_1k", "--retries", "1",
                               expected_exit=EXIT_LEAK)
        self.assertEqual(len(doc["runs"]), 1)
        self.assertLeakRuns(doc["verdict"]["message"], 1, 1)


class Tolerance(PsleakTestCase):
    def test_global_tolerance_hides_a_small_leak(self):
        # leak_malloc_1b leaks ~32 B/call: ~6 KiB in the first run, well under 1 MiB.
        doc = self.psleak_json("run", "leakfix:leak_malloc_1b", "--tolerance", "1MiB",
                               expected_exit=EXIT_CLEAN)
        tolerance = doc["settings"]["tolerance"]
        self.assertEqual({m: tolerance[m] for m in METRICS}, {m: MiB for m in METRICS})
        self.assertEqual(doc["verdict"]["status"], "clean")

    def test_metric_tolerance(self):
        doc = self.psleak_json("run", "leakfix:leak_malloc_1k", "--tolerance", "heap=10M",
                               expected_exit=EXIT_LEAK)
        tolerance = doc["settings"]["tolerance"]
        self.assertEqual(tolerance["heap_used"], 10 * MiB)
        self.assertEqual({m: tolerance[m] for m in METRICS if m != "heap_used"},
                         {m: 0 for m in METRICS if m != "heap_used"})
        # heap_used no longer counts; the leak still shows in the other metrics.
        growing = [g["metric"] for g in doc["verdict"]["growing"]]
        self.assertNotIn("heap_used", growing)
        self.assertTrue(growing)

    def test_metric_names_and_units(self):
        doc = self.psleak_json("run", "leakfix_py:clean_noop", "--tolerance", "4K",
                               "--tolerance", "heap_used=100", "--tolerance", "mmap=2KiB",
                               "--tolerance", "arena=1mb", "--tolerance", "uss=1G",
                               expected_exit=EXIT_CLEAN)
        tolerance = doc["settings"]["tolerance"]
        self.assertEqual({m: tolerance[m] for m in METRICS}, {
            "heap_used": 100,
            "mmap_used": 2 * KiB,
            "heap_total": MiB,
            "rss": 4 * KiB,
            "uss": 1024 * MiB,
            "vms": 4 * KiB,
        })


class Allocator(PsleakTestCase):
    def test_malloc_by_default(self):
        doc = self.psleak_json("run", "leakfix_py:clean_noop", expected_exit=EXIT_CLEAN)
        self.assertEqual(doc["interpreter"]["allocator"], "malloc")

    def test_pymalloc(self):
        doc = self.psleak_json("run", "leakfix_py:clean_noop", "--pymalloc", expected_exit=EXIT_CLEAN)
        self.assertEqual(doc["interpreter"]["allocator"], "pymalloc")

    def test_pymalloc_still_sees_native_leaks(self):
        doc = self.psleak_json("run", "leakfix:leak_malloc_1k", "--pymalloc", expected_exit=EXIT_LEAK)
        self.assertEqual(doc["interpreter"]["allocator"], "pymalloc")
        self.assertEqual(doc["verdict"]["kind"], "memory")


class Output(PsleakTestCase):
    def test_bytes_in_json_message(self):
        doc = self.psleak_json("run", "leakfix:leak_malloc_1k", "--bytes", expected_exit=EXIT_LEAK)
        message = doc["verdict"]["message"]
        self.assertRegex(message, r"\balloc \+\d+/call\b")
        self.assertNotRegex(message, r"\d (B|KiB|MiB)\b")

    def test_human_units_in_json_message(self):
        doc = self.psleak_json("run", "leakfix:leak_malloc_1k", expected_exit=EXIT_LEAK)
        self.assertIn("alloc +1.0 KiB/call", doc["verdict"]["message"])

    def test_verbose_logs_to_stderr_only(self):
        result = self.psleak("run", "leakfix_py:clean_noop", "-v", "--json")
        self.assertExitCode(result, EXIT_CLEAN)
        self.assertOneJsonDocument(result)
        self.assertIn("psleak: info:", result.stderr, result.describe())
        result = self.psleak("run", "leakfix_py:clean_noop", "-v")
        self.assertExitCode(result, EXIT_CLEAN)
        self.assertNotIn("psleak: info:", result.stdout, result.describe())
        self.assertTrue(result.stdout_lines[-1].startswith("OK: no leak"), result.describe())

    def test_quiet_by_default(self):
        result = self.psleak("run", "leakfix_py:clean_noop")
        self.assertExitCode(result, EXIT_CLEAN)
        self.assertEqual(result.stderr, "", result.describe())


class VersionAndHelp(PsleakTestCase):
    def test_version(self):
        result = self.psleak("--version")
        self.assertExitCode(result, 0)
        self.assertRegex(result.stdout.strip(), r"^\d+\.\d+\.\d+")
        self.assertEqual(len(result.stdout_lines), 1, result.describe())

    def test_help(self):
        result = self.psleak("--help")
        self.assertExitCode(result, 0)
        self.assertIn("Usage:", result.stdout)
        self.assertRegex(result.stdout, re.compile(r"^\s+run\s", re.M))
        self.assertRegex(result.stdout, re.compile(r"^\s+info\s", re.M))

    def test_run_help(self):
        result = self.psleak("run", "--help")
        self.assertExitCode(result, 0)
        for option in ("--args", "--kwarg", "--setup", "--expr", "--expect-exception", "--calls",
                       "--warmup", "--retries", "--tolerance", "--json", "--bytes", "--python",
                       "--pymalloc"):
            self.assertIn(option, result.stdout, option)

    def test_info_help(self):
        result = self.psleak("info", "--help")
        self.assertExitCode(result, 0)
        self.assertIn("--json", result.stdout)


if __name__ == "__main__":
    unittest.main()
