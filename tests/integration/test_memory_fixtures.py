"""Every leaky memory fixture is reported as a memory leak and every clean twin as clean,
three times in a row (the product promise), with a plausible per-call growth in the
metric the leak should show up in.

One test method per fixture (test_leak_malloc_1k, test_clean_malloc_1k, ...), each of
which runs psleak REPEAT times.
"""

import unittest

from psleak_helpers import (
    EXIT_CLEAN,
    EXIT_LEAK,
    PsleakTestCase,
    per_call_growth,
    total_per_call,
)

REPEAT = 3
DEFAULT_RETRIES = 10
KiB = 1024
MiB = 1024 * 1024


def heap_per_call(low, high):
    """The leak is in malloc's arena: its bytes grow by low..high per call, counted by the
    hooks (alloc_bytes) or, without them, by the allocator (heap_used)."""

    def check(test, doc, where):
        metric = "alloc_bytes" if "allocs" in doc["runs"][-1]["deltas"] else "heap_used"
        per_call = per_call_growth(doc["verdict"], metric)
        if per_call is None and metric == "alloc_bytes":
            # From Python 3.12 each run's bytes carry a few KiB of the interpreter's own
            # beside the calls' (32 B ints: 54, 42, 41 B/call over 200, 300, 400 calls),
            # so the verdict may rest on the count of blocks alone; the bytes over all
            # runs must still be the leak's.
            test.assertGreaterEqual(per_call_growth(doc["verdict"], "allocs") or 0, 1, where)
            per_call = total_per_call(doc, metric)
        test.assertIsNotNone(per_call, f"{metric} is not among the growing metrics{where}")
        test.assertGreaterEqual(per_call, low, where)
        test.assertLessEqual(per_call, high, where)

    check.__doc__ = f"heap_used per call in [{low}, {high}]"
    return check


def malloc_1m(test, doc, where):
    """mmap_used or vms grows by >= 1 MiB per call.

    A 1 MiB malloc is served by mmap, so malloc's mmap_used (or at least vms) grows, and
    the hooks count its bytes.
    """
    verdict = doc["verdict"]
    candidates = [per_call_growth(verdict, m) for m in ("mmap_used", "vms", "alloc_bytes")]
    candidates = [c for c in candidates if c is not None]
    test.assertTrue(candidates, f"neither mmap_used nor vms is growing{where}")
    test.assertGreaterEqual(max(candidates), MiB, where)
    # Only one byte of each block is touched: a page of RSS, not a MiB.
    rss = per_call_growth(verdict, "rss")
    if rss is not None:
        test.assertLess(rss, 64 * KiB, where)


def raw_mmap(test, doc, where):
    """mmap_used grows by exactly 64 KiB per call, rss and uss by about that much,
    heap_used not at all; with the hooks, the verdict names mmap_used alone.

    A raw 64 KiB mmap with every page written: malloc's statistics cannot see it, psleak's
    mmap hook counts it to the byte (without the hooks, only the kernel's figures show it). RSS and USS are the kernel's page counts, which
    other processes disturb (USS counts a file page as private only while no other process
    maps it), so they get a wide margin.
    """
    verdict = doc["verdict"]
    hooks = "allocs" in doc["runs"][-1]["deltas"]
    if hooks:
        test.assertEqual(per_call_growth(verdict, "mmap_used"), 64 * KiB, where)
    else:
        # Without the hooks nothing counts the mapping: the kernel's pages are the evidence.
        test.assertIsNone(per_call_growth(verdict, "mmap_used"), where)
    # The kernel's pages, as measured in the last run (on a busy machine one of the two
    # may wobble, so at least one).
    measured = {m: doc["runs"][-1]["per_call"].get(m) for m in ("uss", "rss")}
    test.assertTrue(any(v is not None and 48 * KiB <= v <= 80 * KiB for v in measured.values()),
                    f"rss/uss per call {measured}{where}")
    kernel = {m: per_call_growth(verdict, m) for m in ("uss", "rss")}
    kernel = {m: v for m, v in kernel.items() if v is not None}
    if hooks:
        # The hooks count the mapping: the pages are that same memory, not judged again.
        test.assertEqual(kernel, {}, f"kernel figures named beside mmap_used{where}")
    else:
        # Evidence when they grew in proportion over the last three runs; at least one.
        test.assertTrue(kernel, f"neither uss nor rss is growing{where}")
        for metric, per_call in kernel.items():
            test.assertGreaterEqual(per_call, 48 * KiB, f"{metric}{where}")
            test.assertLessEqual(per_call, 80 * KiB, f"{metric}{where}")
    test.assertIsNone(per_call_growth(verdict, "heap_used"), where)


def python_list_growth(test, doc, where):
    """heap_used grows by 16..128 bytes per call over all runs.

    One object() (a 32-byte malloc chunk, as psleak forces the malloc allocator) plus a
    list slot per call. The list's resizes make single runs lumpy, hence all runs.
    """
    per_call = total_per_call(doc, "heap_used")
    test.assertGreaterEqual(per_call, 16, where)
    test.assertLessEqual(per_call, 128, where)


LEAKY = {
    "leak_malloc_1b": ("leakfix:leak_malloc_1b", heap_per_call(16, 64)),
    "leak_malloc_1k": ("leakfix:leak_malloc_1k", heap_per_call(1000, 1200)),
    "leak_malloc_1m": ("leakfix:leak_malloc_1m", malloc_1m),
    "leak_mmap": ("leakfix:leak_mmap", raw_mmap),
    "leak_calloc": ("leakfix:leak_calloc", heap_per_call(256, 320)),
    "leak_realloc": ("leakfix:leak_realloc", heap_per_call(512, 600)),
    # A list object: 40 bytes + the 16-byte GC header.
    "leak_pylist": ("leakfix:leak_pylist", heap_per_call(48, 128)),
    # A two-digit int: 32 bytes.
    "leak_pylong": ("leakfix:leak_pylong", heap_per_call(28, 80)),
    # The dict, its keys table and the int value.
    "leak_pydict": ("leakfix:leak_pydict", heap_per_call(120, 600)),
    # malloc(64) every 4th call: about 20 bytes per call.
    "grow_slowly_forever": ("leakfix:grow_slowly_forever", heap_per_call(12, 40)),
    "leak_list_growth": ("leakfix_py:leak_list_growth", python_list_growth),
    "Thing_leak": ("pkgfix.sub:Thing.leak", python_list_growth),
}

CLEAN = {
    "clean_malloc_1b": "leakfix:clean_malloc_1b",
    "clean_malloc_1k": "leakfix:clean_malloc_1k",
    "clean_malloc_1m": "leakfix:clean_malloc_1m",
    "clean_mmap": "leakfix:clean_mmap",
    "clean_calloc": "leakfix:clean_calloc",
    "clean_realloc": "leakfix:clean_realloc",
    "clean_pylist": "leakfix:clean_pylist",
    "clean_pylong": "leakfix:clean_pylong",
    "clean_pydict": "leakfix:clean_pydict",
    "clean_noop": "leakfix_py:clean_noop",
    "no_raise": "leakfix:no_raise",
    "cache_fill_then_stop": "leakfix:cache_fill_then_stop",
    "Thing_clean": "pkgfix.sub:Thing.clean",
}


class LeakyFixtures(PsleakTestCase):
    """Each leak_* fixture: exit 1, verdict leak/memory, REPEAT times."""

    options = ()

    def check_leak(self, target, plausible):
        for attempt in range(1, REPEAT + 1):
            with self.subTest(target=target, attempt=attempt):
                result = self.psleak("run", target, "--json", *self.options)
                self.assertExitCode(result, EXIT_LEAK)
                doc = self.assertOneJsonDocument(result)
                self.assertRunDocument(doc, result)
                where = result.describe()
                verdict = doc["verdict"]
                self.assertEqual(verdict["status"], "leak", where)
                self.assertEqual(verdict["kind"], "memory", where)
                self.assertEqual(verdict["exit_code"], EXIT_LEAK, where)
                self.assertEqual(doc["settings"]["retries"], DEFAULT_RETRIES, where)
                self.assertLeakRuns(verdict["message"], len(doc["runs"]), DEFAULT_RETRIES, where)
                self.assertTrue(verdict["growing"], where)
                # The growing metrics are those of the last run, as measured (uss is
                # judged only as far as rss grew too, but shown as it was).
                last = doc["runs"][-1]["deltas"]
                for growth in verdict["growing"]:
                    self.assertEqual(growth["growth"], last[growth["metric"]], where)
                    self.assertGreater(growth["growth"], 0, where)
                plausible(self, doc, where)


class CleanFixtures(PsleakTestCase):
    """Each clean twin: exit 0, verdict clean, REPEAT times."""

    options = ()

    def check_clean(self, target):
        for attempt in range(1, REPEAT + 1):
            with self.subTest(target=target, attempt=attempt):
                result = self.psleak("run", target, "--json", *self.options)
                self.assertExitCode(result, EXIT_CLEAN)
                doc = self.assertOneJsonDocument(result)
                self.assertRunDocument(doc, result)
                where = result.describe()
                verdict = doc["verdict"]
                self.assertEqual(verdict["status"], "clean", where)
                self.assertIsNone(verdict["kind"], where)
                self.assertEqual(verdict["growing"], [], where)
                self.assertEqual(verdict["exit_code"], EXIT_CLEAN, where)
                self.assertGreaterEqual(len(doc["runs"]), 1, where)
                self.assertLess(len(doc["runs"]), DEFAULT_RETRIES, where)
                self.assertTrue(verdict["message"].startswith("no leak"), where)


def _add_tests():
    for name, (target, plausible) in LEAKY.items():
        def test(self, target=target, plausible=plausible):
            self.check_leak(target, plausible)

        test.__doc__ = f"{target} is a memory leak ({plausible.__doc__.splitlines()[0]})"
        setattr(LeakyFixtures, f"test_{name}", test)
    for name, target in CLEAN.items():
        def test(self, target=target):
            self.check_clean(target)

        test.__doc__ = f"{target} is clean"
        setattr(CleanFixtures, f"test_{name}", test)


_add_tests()


class LeakyFixturesWithoutHooks(LeakyFixtures):
    """The same leaks found from the allocator's statistics and /proc alone."""

    options = ("--no-hooks",)


class CleanFixturesWithoutHooks(CleanFixtures):
    """The same clean twins, clean from the allocator's statistics and /proc alone."""

    options = ("--no-hooks",)

if __name__ == "__main__":
    unittest.main()
