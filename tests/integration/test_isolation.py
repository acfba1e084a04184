"""`psleak run --isolate`, `--timeout` and `--max-growth`: the check runs in a child
process, so a target that segfaults, aborts or hangs gives a report (exit 5) naming the
signal and the run it died in, with the runs measured so far; a target that leaks very
fast is stopped with a leak verdict before it fills the machine."""

import time
import unittest

from psleak_helpers import (EXIT_CLEAN, EXIT_CRASHED, EXIT_LEAK, RUN_LINE, PsleakTestCase,
                            per_call_growth)

# leakfix:crash_on_call(400) segfaults on the process's 400th call: with the default 10
# warm-up calls, 1 resource-check call and runs of 200, 300, ... calls, during run 2.
CRASH_IN_RUN_2 = ["run", "leakfix:crash_on_call", "--args", "400", "--isolate"]


class Crashes(PsleakTestCase):
    def run_lines(self, result):
        return [line for line in result.stdout_lines if RUN_LINE.match(line)]

    def test_segfault_during_run_2(self):
        result = self.psleak(*CRASH_IN_RUN_2)
        where = result.describe()
        self.assertExitCode(result, EXIT_CRASHED)
        # Run 1 was measured and printed as it ended; the crash is the error line.
        self.assertEqual(result.stdout_lines, self.run_lines(result), where)
        self.assertEqual([int(RUN_LINE.match(l).group(1)) for l in self.run_lines(result)], [1],
                         where)
        errors = [line for line in result.stderr_lines if line.startswith("psleak: error: ")]
        self.assertEqual(len(errors), 1, where)
        message = errors[0]
        self.assertIn("SIGSEGV", message, where)
        self.assertIn("during run 2", message, where)
        self.assertIn("crashed", message, where)

    def test_segfault_json_keeps_run_1(self):
        doc = self.psleak_json(*CRASH_IN_RUN_2, expected_exit=EXIT_CRASHED)
        self.assertRunDocument(doc)
        where = str(doc)
        self.assertFields(doc["verdict"], {"status": "error", "kind": "crash"}, where)
        self.assertIn("SIGSEGV", doc["verdict"]["message"], where)
        self.assertIn("during run 2", doc["verdict"]["message"], where)
        self.assertEqual([r["run"] for r in doc["runs"]], [1], where)
        self.assertEqual(doc["runs"][0]["calls"], 200, where)
        self.assertIsNone(doc["calls_made"], where)  # the child could not tell
        self.assertEqual(doc["target"]["spec"], "leakfix:crash_on_call", where)
        self.assertEqual(doc["target"]["args"], ["400"], where)

    def test_abort(self):
        result = self.psleak("run", "leakfix:crash_abort", "--isolate")
        where = result.describe()
        self.assertExitCode(result, EXIT_CRASHED)
        self.assertEqual(self.run_lines(result), [], where)
        errors = [line for line in result.stderr_lines if line.startswith("psleak: error: ")]
        self.assertEqual(len(errors), 1, where)
        self.assertIn("SIGABRT", errors[0], where)
        self.assertIn("before run 1", errors[0], where)

    def test_abort_json(self):
        doc = self.psleak_json("run", "leakfix:crash_abort", "--isolate",
                               expected_exit=EXIT_CRASHED)
        self.assertRunDocument(doc)
        self.assertEqual(doc["verdict"]["kind"], "crash")
        self.assertIn("SIGABRT", doc["verdict"]["message"])
        self.assertEqual(doc["runs"], [])


class Hangs(PsleakTestCase):
    def test_timeout(self):
        start = time.monotonic()
        result = self.psleak("run", "leakfix:hang_forever", "--timeout", "2", timeout=30)
        seconds = time.monotonic() - start
        where = result.describe()
        self.assertExitCode(result, EXIT_CRASHED)
        self.assertGreaterEqual(seconds, 1.9, where)
        self.assertLess(seconds, 10, where)
        errors = [line for line in result.stderr_lines if line.startswith("psleak: error: ")]
        self.assertEqual(len(errors), 1, where)
        self.assertIn("--timeout 2 s", errors[0], where)

    def test_timeout_json(self):
        start = time.monotonic()
        doc = self.psleak_json("run", "leakfix:hang_forever", "--timeout", "2", timeout=30,
                               expected_exit=EXIT_CRASHED)
        self.assertLess(time.monotonic() - start, 10)
        self.assertRunDocument(doc)
        self.assertFields(doc["verdict"], {"status": "error", "kind": "timeout"}, str(doc))
        self.assertEqual(doc["runs"], [])


class MaxGrowth(PsleakTestCase):
    # leakfix:leak_fast leaks 4 MiB a call: 256 MiB are passed within run 1.
    ARGS = ["run", "leakfix:leak_fast", "--max-growth", "256M"]

    def test_stops_with_a_leak(self):
        result = self.psleak(*self.ARGS)
        where = result.describe()
        self.assertExitCode(result, EXIT_LEAK)
        runs = [line for line in result.stdout_lines if RUN_LINE.match(line)]
        self.assertGreaterEqual(len(runs), 1, where)
        self.assertLessEqual(len(runs), 2, where)
        verdict = result.stdout_lines[-1]
        self.assertTrue(verdict.startswith("LEAK: "), where)
        self.assertIn("--max-growth", verdict, where)
        self.assertIn("stopped", verdict, where)

    def test_json_few_calls(self):
        doc = self.psleak_json(*self.ARGS, "--isolate", expected_exit=EXIT_LEAK)
        self.assertRunDocument(doc)
        where = str(doc["verdict"])
        self.assertFields(doc["verdict"], {"status": "leak", "kind": "memory"}, where)
        self.assertIn("--max-growth", doc["verdict"]["message"], where)
        self.assertLessEqual(len(doc["runs"]), 2, where)
        # Stopped soon after the limit: far fewer calls than the 200 of a full run 1,
        # and not much more than 256 MiB of growth, counted from the start of the check
        # (the 10 warm-up calls and the resource checks' one call included).
        calls = sum(r["calls"] for r in doc["runs"])
        self.assertLess(calls, 200, where)
        self.assertGreaterEqual((calls + 11) * 4, 256 * 0.9, where)


class SameVerdictIsolated(PsleakTestCase):
    """--isolate changes where the check runs, not what it finds."""

    def test_clean(self):
        plain = self.psleak("run", "leakfix:clean_malloc_1k")
        isolated = self.psleak("run", "leakfix:clean_malloc_1k", "--isolate")
        self.assertExitCode(plain, EXIT_CLEAN)
        self.assertExitCode(isolated, EXIT_CLEAN)
        for result in (plain, isolated):
            self.assertTrue(result.stdout_lines[-1].startswith("OK: no leak"), result.describe())
            self.assertTrue(all(RUN_LINE.match(l) for l in result.stdout_lines[:-1]),
                            result.describe())
            self.assertEqual(result.stderr, "", result.describe())

    def test_leak_json(self):
        plain = self.psleak_json("run", "leakfix:leak_malloc_1k", expected_exit=EXIT_LEAK)
        isolated = self.psleak_json("run", "leakfix:leak_malloc_1k", "--isolate",
                                    expected_exit=EXIT_LEAK)
        for doc in (plain, isolated):
            self.assertRunDocument(doc)
        where = f"\nplain: {plain['verdict']}\nisolated: {isolated['verdict']}"
        for key in ("status", "kind", "exit_code"):
            self.assertEqual(plain["verdict"][key], isolated["verdict"][key], where)
        self.assertEqual(plain["verdict"].get("kinds"), isolated["verdict"].get("kinds"), where)
        self.assertEqual(len(plain["runs"]), len(isolated["runs"]), where)
        self.assertEqual([r["calls"] for r in plain["runs"]],
                         [r["calls"] for r in isolated["runs"]], where)
        for doc in (plain, isolated):
            self.assertAlmostEqual(per_call_growth(doc["verdict"], "alloc_bytes"), 1040, delta=64,
                                   msg=where)
        self.assertEqual(plain["target"], isolated["target"], where)
        self.assertEqual(plain["settings"], isolated["settings"], where)


if __name__ == "__main__":
    unittest.main()
