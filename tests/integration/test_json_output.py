"""The JSON document of `psleak run --json` (schema in lib/report/json_report.cpp):
exactly one document on stdout, for a leak, a clean run and errors alike, whose parts
agree with each other and with the command line."""

import json
import time
import unittest

from psleak_helpers import (
    EXIT_CLEAN,
    EXIT_LEAK,
    EXIT_TARGET,
    EXIT_USAGE,
    METRICS,
    PsleakTestCase,
    embedded_python,
    run_psleak,
    run_python,
)


class LeakDocument(PsleakTestCase):
    """One leak run, looked at from every side."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        start = time.monotonic()
        cls.result = run_psleak("run", "leakfix:leak_malloc_1k", "--json")
        cls.wall = time.monotonic() - start
        cls.doc = json.loads(cls.result.stdout)

    def test_exit_code_and_single_document(self):
        self.assertExitCode(self.result, EXIT_LEAK)
        self.assertOneJsonDocument(self.result)
        self.assertEqual(self.result.stderr, "", self.result.describe())
        # Exactly one document: nothing but whitespace after it.
        decoder = json.JSONDecoder()
        _, end = decoder.raw_decode(self.result.stdout)
        self.assertEqual(self.result.stdout[end:].strip(), "")

    def test_shape(self):
        self.assertRunDocument(self.doc, self.result)

    def test_versions(self):
        version = run_psleak("--version")
        self.assertExitCode(version, 0)
        self.assertEqual(self.doc["psleak_version"], version.stdout.strip())
        self.assertEqual(self.doc["schema_version"], 1)

    def test_target(self):
        self.assertFields(self.doc["target"], {
            "spec": "leakfix:leak_malloc_1k",
            "expr": None,
            "setup": [],
            "args": [],
            "kwargs": {},
            "expect_exception": None,
        })

    def test_interpreter(self):
        interpreter = self.doc["interpreter"]
        self.assertKeysInOrder(interpreter, ["version", "executable", "prefix", "allocator"])
        expected = run_python("-c", "import sys, platform; print(platform.python_version()); "
                              "print(sys.prefix)").stdout.split()
        self.assertEqual(interpreter["version"], expected[0])
        self.assertEqual(interpreter["executable"], embedded_python())
        self.assertEqual(interpreter["prefix"], expected[1])
        self.assertEqual(interpreter["allocator"], "malloc")

    def test_platform(self):
        platform = self.doc["platform"]
        self.assertKeysInOrder(platform, ["system", "release", "machine", "libc"])
        self.assertEqual(platform["system"], "Linux")
        self.assertTrue(platform["release"])
        self.assertTrue(platform["machine"])
        self.assertTrue(platform["libc"].startswith("glibc "), platform)

    def test_default_settings(self):
        settings = self.doc["settings"]
        self.assertEqual(settings["warmup"], 10)
        self.assertEqual(settings["calls"], 200)
        self.assertEqual(settings["retries"], 10)
        self.assertTrue(all(settings["tolerance"][m] == 0 for m in METRICS), settings)
        self.assertTrue(all(v == 0 for v in settings["tolerance"].values()), settings)

    def test_runs(self):
        runs = self.doc["runs"]
        self.assertGreaterEqual(len(runs), 1)
        self.assertLessEqual(len(runs), 10)
        # 200 calls first, then half of that more in each later run.
        self.assertEqual([r["calls"] for r in runs], [200 + 100 * i for i in range(len(runs))])
        for run in runs:
            self.assertLessEqual(set(METRICS), set(run["deltas"]), run)
            per_call = run["per_call"]
            # bytes_per_call: what malloc holds (heap + mmap) per call.
            self.assertAlmostEqual(run["bytes_per_call"],
                                   per_call["heap_used"] + per_call["mmap_used"], places=6)

    def test_verdict(self):
        verdict = self.doc["verdict"]
        self.assertEqual(verdict["status"], "leak")
        self.assertEqual(verdict["kind"], "memory")
        self.assertIsNone(verdict["details"])
        self.assertEqual(verdict["exit_code"], EXIT_LEAK)
        last = self.doc["runs"][-1]
        metrics = [g["metric"] for g in verdict["growing"]]
        self.assertIn("alloc_bytes", metrics)  # with the hooks, the exact counters are the evidence
        self.assertEqual(len(metrics), len(set(metrics)))
        for growth in verdict["growing"]:
            self.assertEqual(growth["growth"], last["deltas"][growth["metric"]])
            self.assertAlmostEqual(growth["per_call"], last["per_call"][growth["metric"]], places=6)
        self.assertLeakRuns(verdict["message"], len(self.doc["runs"]), 10)

    def test_duration(self):
        duration = self.doc["duration_seconds"]
        self.assertGreater(duration, 0)
        self.assertLessEqual(duration, self.wall + 0.5)


class CleanDocument(PsleakTestCase):
    def test_clean_document(self):
        result = run_psleak("run", "leakfix:clean_malloc_1k", "--json")
        self.assertExitCode(result, EXIT_CLEAN)
        doc = self.assertOneJsonDocument(result)
        self.assertRunDocument(doc, result)
        verdict = doc["verdict"]
        self.assertEqual(verdict["status"], "clean")
        self.assertIsNone(verdict["kind"])
        self.assertIsNone(verdict["details"])
        self.assertEqual(verdict["growing"], [])
        self.assertEqual(verdict["exit_code"], EXIT_CLEAN)
        runs = doc["runs"]
        total = sum(r["calls"] for r in runs)
        plural = "s" if len(runs) != 1 else ""
        self.assertEqual(verdict["message"],
                         f"no leak (memory stable after {len(runs)} run{plural}, {total} calls)")

    def test_calls_made_counts_every_call(self):
        # Memory only: the warm-up and the runs' calls, nothing else.
        doc = self.psleak_json("run", "leakfix:clean_malloc_1k", "--checks", "memory",
                               "--warmup", "7", "--calls", "30", expected_exit=EXIT_CLEAN)
        self.assertEqual(doc["calls_made"], 7 + sum(r["calls"] for r in doc["runs"]))
        # With the resource checks: one more call around which descriptors, threads and
        # garbage are compared.
        doc = self.psleak_json("run", "leakfix:clean_malloc_1k", "--checks", "memory,fd",
                               "--warmup", "7", "--calls", "30", expected_exit=EXIT_CLEAN)
        self.assertEqual(doc["calls_made"], 7 + 1 + sum(r["calls"] for r in doc["runs"]))

    def test_target_description_with_everything(self):
        doc = self.psleak_json("run", "-s", "import zlib", "-s", "n = 9", "-e", "zlib.crc32(b'x')",
                               expected_exit=EXIT_CLEAN)
        self.assertFields(doc["target"], {
            "spec": None,
            "expr": "zlib.crc32(b'x')",
            "setup": ["import zlib", "n = 9"],
            "args": [],
            "kwargs": {},
            "expect_exception": None,
        })
        # raise_value_error takes no arguments, so each call raises TypeError: expected.
        doc = self.psleak_json("run", "leakfix:raise_value_error", "--args", "1", "--args", "'two'",
                               "--kwarg", "a=[3]", "--kwarg", "b=None",
                               "--expect-exception", "TypeError", expected_exit=EXIT_CLEAN)
        self.assertFields(doc["target"], {
            "spec": "leakfix:raise_value_error",
            "expr": None,
            "setup": [],
            "args": ["1", "'two'"],
            "kwargs": {"a": "[3]", "b": "None"},
            "expect_exception": "TypeError",
        })


class ErrorDocuments(PsleakTestCase):
    """Errors still give the full document, with what is known so far filled in."""

    def test_usage_error_document(self):
        result = run_psleak("run", "leakfix:no_raise", "--calls", "0", "--json")
        self.assertExitCode(result, EXIT_USAGE)
        doc = self.assertOneJsonDocument(result)
        self.assertRunDocument(doc, result)
        self.assertErrorDocument(doc, "usage", EXIT_USAGE, "--calls", result)
        self.assertIsNone(doc["verdict"]["details"])

    def test_target_error_document(self):
        result = run_psleak("run", "import_raises:f", "--json")
        self.assertExitCode(result, EXIT_TARGET)
        doc = self.assertOneJsonDocument(result)
        self.assertRunDocument(doc, result)
        self.assertErrorDocument(doc, "target", EXIT_TARGET, "import_raises", result)
        self.assertEqual(doc["target"]["spec"], "import_raises:f")
        # The interpreter was started, so it is described.
        self.assertIsNotNone(doc["interpreter"], result.describe())
        details = doc["verdict"]["details"]
        self.assertIn("Traceback (most recent call last)", details)
        self.assertIn("import_raises.py", details)
        self.assertIn("RuntimeError: import_raises: broken on purpose", details)

    def test_parse_error_document(self):
        # Even when the command line cannot be parsed: one document, command "run".
        result = run_psleak("run", "--bogus", "--json")
        self.assertExitCode(result, EXIT_USAGE)
        doc = self.assertOneJsonDocument(result)
        self.assertErrorDocument(doc, "usage", EXIT_USAGE, "--bogus", result)
        self.assertEqual(doc["command"], "run")
        self.assertEqual(doc["psleak_version"], run_psleak("--version").stdout.strip())


if __name__ == "__main__":
    unittest.main()
