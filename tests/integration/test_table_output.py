"""The human-readable output of `psleak run` (no --json): one `Run #N:` line per run on
stdout as the runs finish, then the verdict line; --bytes prints raw byte counts."""

import re
import unittest

from psleak_helpers import EXIT_CLEAN, EXIT_LEAK, RUN_LINE, PsleakTestCase

UNITS = re.compile(r"\d (B|KiB|MiB|GiB|TiB)\b")
# heap=+1.0 KiB, mmap=+0 B, uss=-2.8 KiB (human) or heap=+205088 (raw)
HUMAN_FIELD = re.compile(r"\b(heap|mmap|uss|rss)=[+-]\d+(\.\d)? (B|KiB|MiB|GiB|TiB)\s")
RAW_FIELD = re.compile(r"\b(heap|mmap|uss|rss)=[+-]\d+\s")
CALLS = re.compile(r"\(calls=\s*(\d+), avg/call=([+-][^)]*)\)$")


class TableOutput(PsleakTestCase):
    def split(self, result):
        """(run lines, verdict line); checks nothing else is on stdout or stderr."""
        lines = result.stdout_lines
        where = result.describe()
        self.assertGreaterEqual(len(lines), 2, where)
        runs, verdict = lines[:-1], lines[-1]
        for line in runs:
            self.assertRegex(line, RUN_LINE, where)
        self.assertEqual([int(RUN_LINE.match(line).group(1)) for line in runs],
                         list(range(1, len(runs) + 1)), where)
        self.assertEqual(result.stderr, "", where)
        return runs, verdict

    def test_leak_table(self):
        result = self.psleak("run", "leakfix:leak_malloc_1k")
        self.assertExitCode(result, EXIT_LEAK)
        runs, verdict = self.split(result)
        where = result.describe()
        self.assertTrue(verdict.startswith("LEAK: "), where)
        self.assertLeakRuns(verdict[len("LEAK: "):], len(runs), 10, where)
        # Human units: the hooks' bytes, alloc +1.0 KiB/call.
        self.assertRegex(verdict, r"\balloc \+1\.0 KiB/call\b", where)
        for index, line in enumerate(runs):
            self.assertRegex(line, HUMAN_FIELD, where)
            for metric in ("heap", "mmap", "uss", "rss"):
                self.assertIn(f"{metric}=", line, where)
            calls = CALLS.search(line)
            self.assertIsNotNone(calls, where)
            # 200 calls first, then half as many more each run.
            self.assertEqual(int(calls.group(1)), 200 + 100 * index, where)
            self.assertEqual(calls.group(2), "+1.0 KiB", where)

    def test_clean_table(self):
        result = self.psleak("run", "leakfix:clean_malloc_1k")
        self.assertExitCode(result, EXIT_CLEAN)
        runs, verdict = self.split(result)
        where = result.describe()
        self.assertGreaterEqual(len(runs), 1, where)
        match = re.fullmatch(
            r"OK: no leak \(memory stable after (\d+) runs?, (\d+) calls\)", verdict)
        self.assertIsNotNone(match, where)
        self.assertEqual(int(match.group(1)), len(runs), where)
        total_calls = sum(int(CALLS.search(line).group(1)) for line in runs)
        self.assertEqual(int(match.group(2)), total_calls, where)

    def test_cache_table_stops_when_stable(self):
        result = self.psleak("run", "leakfix:cache_fill_then_stop")
        self.assertExitCode(result, EXIT_CLEAN)
        runs, verdict = self.split(result)
        where = result.describe()
        self.assertGreater(len(runs), 1, f"the cache grows during the first run{where}")
        self.assertLess(len(runs), 10, where)
        self.assertTrue(verdict.startswith(f"OK: no leak (memory stable after {len(runs)} runs"),
                        where)

    def test_bytes_leak(self):
        result = self.psleak("run", "leakfix:leak_malloc_1k", "--bytes")
        self.assertExitCode(result, EXIT_LEAK)
        runs, verdict = self.split(result)
        where = result.describe()
        self.assertTrue(verdict.startswith("LEAK: "), where)
        self.assertLeakRuns(verdict[len("LEAK: "):], len(runs), 10, where)
        for line in runs:
            self.assertNotRegex(line, UNITS, where)
            self.assertRegex(line, RAW_FIELD, where)
            avg = CALLS.search(line).group(2)
            self.assertRegex(avg, r"^[+-]\d+$", where)
        self.assertNotRegex(verdict, UNITS, where)
        heap = re.search(r"\balloc \+(\d+)/call\b", verdict)
        self.assertIsNotNone(heap, where)
        self.assertTrue(1000 <= int(heap.group(1)) <= 1200, where)

    def test_bytes_clean(self):
        result = self.psleak("run", "leakfix:clean_malloc_1k", "--bytes")
        self.assertExitCode(result, EXIT_CLEAN)
        runs, verdict = self.split(result)
        for line in runs:
            self.assertNotRegex(line, UNITS, result.describe())
            self.assertRegex(line, RAW_FIELD, result.describe())
        self.assertTrue(verdict.startswith("OK: no leak"), result.describe())

    def test_no_json_in_table_mode(self):
        result = self.psleak("run", "leakfix_py:clean_noop")
        self.assertExitCode(result, EXIT_CLEAN)
        self.assertNotIn("{", result.stdout, result.describe())


if __name__ == "__main__":
    unittest.main()
