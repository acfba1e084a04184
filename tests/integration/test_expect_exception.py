"""--expect-exception NAME: every call must raise NAME, which is swallowed; a leak on the
error path is still found. Without it, a raising target is a target error (exit 3)."""

import unittest

from psleak_helpers import EXIT_CLEAN, EXIT_LEAK, EXIT_TARGET, EXIT_USAGE, PsleakTestCase


class ExpectException(PsleakTestCase):
    def test_expected_raise_is_clean(self):
        doc = self.psleak_json("run", "leakfix:raise_value_error", "--expect-exception", "ValueError",
                               expected_exit=EXIT_CLEAN)
        self.assertEqual(doc["verdict"]["status"], "clean")
        self.assertEqual(doc["target"]["expect_exception"], "ValueError")

    def test_expected_raise_is_clean_table(self):
        result = self.psleak("run", "leakfix:raise_value_error", "--expect-exception", "ValueError")
        self.assertExitCode(result, EXIT_CLEAN)
        self.assertEqual(result.stderr, "", result.describe())
        self.assertTrue(result.stdout_lines[-1].startswith("OK: no leak"), result.describe())

    def test_clean_then_raise_expected_is_clean(self):
        doc = self.psleak_json("run", "leakfix:clean_then_raise", "--expect-exception", "ValueError",
                               expected_exit=EXIT_CLEAN)
        self.assertEqual(doc["verdict"]["status"], "clean")

    def test_base_class_matches(self):
        # ValueError is an Exception: naming the base class is enough.
        doc = self.psleak_json("run", "leakfix:raise_value_error", "--expect-exception", "Exception",
                               expected_exit=EXIT_CLEAN)
        self.assertEqual(doc["verdict"]["status"], "clean")

    def test_leak_then_raise_is_leak(self):
        doc = self.psleak_json("run", "leakfix:leak_then_raise", "--expect-exception", "ValueError",
                               expected_exit=EXIT_LEAK)
        verdict = doc["verdict"]
        self.assertEqual(verdict["status"], "leak")
        self.assertEqual(verdict["kind"], "memory")
        self.assertLeakRuns(verdict["message"], len(doc["runs"]), doc["settings"]["retries"])
        heap = [g["per_call"] for g in verdict["growing"] if g["metric"] == "alloc_bytes"]
        self.assertTrue(heap, verdict)
        self.assertTrue(512 <= heap[0] <= 600, verdict)  # malloc(512) per call

    def test_no_raise_with_expectation_is_target_error(self):
        result = self.psleak("run", "leakfix:no_raise", "--expect-exception", "ValueError")
        self.assertExitCode(result, EXIT_TARGET)
        self.assertOneErrorLine(result, "ValueError", traceback_allowed=True)
        doc = self.psleak_json("run", "leakfix:no_raise", "--expect-exception", "ValueError",
                               expected_exit=EXIT_TARGET)
        self.assertErrorDocument(doc, "target", EXIT_TARGET, "ValueError")

    def test_other_exception_is_target_error(self):
        result = self.psleak("run", "leakfix:raise_value_error", "--expect-exception", "KeyError")
        self.assertExitCode(result, EXIT_TARGET)
        self.assertOneErrorLine(result, "ValueError", traceback_allowed=True)

    def test_unknown_exception_name_is_usage_error(self):
        result = self.psleak("run", "leakfix:raise_value_error", "--expect-exception", "NoSuchError")
        self.assertExitCode(result, EXIT_USAGE)
        self.assertOneErrorLine(result, "NoSuchError")
        doc = self.psleak_json("run", "leakfix:raise_value_error", "--expect-exception",
                               "NoSuchError", expected_exit=EXIT_USAGE)
        self.assertErrorDocument(doc, "usage", EXIT_USAGE, "NoSuchError")

    def test_unexpected_raise_is_target_error(self):
        result = self.psleak("run", "leakfix:clean_then_raise")
        self.assertExitCode(result, EXIT_TARGET)
        message = self.assertOneErrorLine(result, traceback_allowed=True)
        self.assertIn("ValueError", message, result.describe())
        self.assertIn("fixture error", message, result.describe())
        self.assertIn("leakfix:clean_then_raise", message, result.describe())

    def test_unexpected_raise_json(self):
        doc = self.psleak_json("run", "leakfix:clean_then_raise", expected_exit=EXIT_TARGET)
        self.assertErrorDocument(doc, "target", EXIT_TARGET, ("ValueError", "fixture error"))
        self.assertIn("ValueError", doc["verdict"]["details"] or "")


if __name__ == "__main__":
    unittest.main()
