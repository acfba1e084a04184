"""What psleak says when things go wrong outside the measured path: a target that
crashes psleak itself (no --isolate), a scan that matches nothing, --color, and the finer
points of --targets files."""

import os
import tempfile
import unittest

from psleak_helpers import EXIT_CLEAN, EXIT_CRASHED, EXIT_LEAK, EXIT_USAGE, PsleakTestCase


class CrashWithoutIsolation(PsleakTestCase):
    def test_segfault_says_so_and_exits_5(self):
        result = self.psleak("run", "leakfix:crash_segfault")
        where = result.describe()
        self.assertExitCode(result, EXIT_CRASHED)
        errors = [l for l in result.stderr_lines if l.startswith("psleak: error: ")]
        self.assertEqual(len(errors), 1, where)
        self.assertIn("SIGSEGV", errors[0], where)
        self.assertIn("--isolate", errors[0], where)

    def test_abort_with_json_still_prints_one_document(self):
        doc = self.psleak_json("run", "leakfix:crash_abort", expected_exit=EXIT_CRASHED)
        self.assertEqual(doc["verdict"]["kind"], "crash", str(doc))
        self.assertIn("SIGABRT", doc["verdict"]["message"], str(doc))
        self.assertEqual(doc["target"]["spec"], "leakfix:crash_abort", str(doc))


class EmptyScan(PsleakTestCase):
    def test_scan_that_matches_nothing_is_an_error(self):
        result = self.psleak("scan", "leakfix", "--include", "no_such_function_*")
        self.assertExitCode(result, EXIT_USAGE)
        self.assertIn("nothing to check", result.stderr, result.describe())


class Colour(PsleakTestCase):
    def test_always_colours_the_verdict(self):
        result = self.psleak("run", "leakfix:clean_malloc_1k", "--color", "always")
        self.assertExitCode(result, EXIT_CLEAN)
        self.assertIn("\x1b[1;32mOK\x1b[0m:", result.stdout, result.describe())

    def test_never_and_pipes_are_plain(self):
        for extra in (["--color", "never"], []):  # stdout is a pipe here: auto is plain
            result = self.psleak("run", "leakfix:leak_malloc_1k", *extra)
            self.assertExitCode(result, EXIT_LEAK)
            self.assertNotIn("\x1b[", result.stdout, result.describe())

    def test_no_color_wins_over_auto(self):
        result = self.psleak("run", "leakfix:leak_malloc_1k", env={"NO_COLOR": "1"})
        self.assertNotIn("\x1b[", result.stdout, result.describe())

    def test_bad_value_is_a_usage_error(self):
        result = self.psleak("run", "leakfix:clean_malloc_1k", "--color", "sometimes")
        self.assertExitCode(result, EXIT_USAGE)


class TargetsFileDetails(PsleakTestCase):
    def write(self, text, suffix=".txt"):
        handle, path = tempfile.mkstemp(suffix=suffix)
        with os.fdopen(handle, "w") as f:
            f.write(text)
        self.addCleanup(os.unlink, path)
        return path

    def test_hash_after_a_target_starts_a_comment(self):
        path = self.write("leakfix:clean_malloc_1k   # the clean twin\n")
        result = self.psleak("run", "--targets", path)
        self.assertExitCode(result, EXIT_CLEAN)

    def test_quoted_hash_is_not_a_comment(self):
        path = self.write("zlib:compress --args \"b'#' * 100\"\n")
        result = self.psleak("run", "--targets", path)
        self.assertExitCode(result, EXIT_CLEAN)

    def test_wrong_value_type_names_the_entry(self):
        path = self.write('[{"target": "zlib:compress", "args": "b\'x\'"}]', suffix=".json")
        result = self.psleak("run", "--targets", path)
        self.assertExitCode(result, EXIT_USAGE)
        self.assertIn("entry 1", result.stderr, result.describe())

    def test_unknown_key_names_it(self):
        path = self.write('[{"targt": "leakfix:clean_malloc_1k"}]', suffix=".json")
        result = self.psleak("run", "--targets", path)
        self.assertExitCode(result, EXIT_USAGE)
        self.assertIn("unknown key 'targt'", result.stderr, result.describe())

    def test_directory_is_not_a_targets_file(self):
        result = self.psleak("run", "--targets", tempfile.gettempdir())
        self.assertExitCode(result, EXIT_USAGE)
        self.assertIn("is a directory", result.stderr, result.describe())


if __name__ == "__main__":
    unittest.main()
