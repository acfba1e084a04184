"""`psleak run --targets FILE`: many targets for CI, each checked in its own process and
summed up in the scan table (or one JSON document). FILE holds one target a line,
written as `psleak run` arguments (quotes as in a shell, '#' comment lines, blank lines),
or a JSON array of {"target"|"expr", "args", "kwargs", "setup", "expect_exception"}."""

import json
import os
import tempfile
import unittest

from psleak_helpers import (EXIT_LEAK, EXIT_USAGE, PsleakTestCase, ScanAssertions)

TEXT_FILE = """\
# psleak targets for CI: one `psleak run` target a line

leakfix:clean_malloc_1k
zlib:compress --args "b'x' * 100" --kwarg level=9
    # an indented comment, then a line with leading blanks and a tab
  \tleakfix:leak_malloc_1k
-e 'len(x)' -s 'x = [1, 2]'
"""
# (target column, verdict) in the order of the file.
TEXT_ROWS = [
    ("leakfix:clean_malloc_1k", "clean"),
    ("zlib:compress", "clean"),
    ("leakfix:leak_malloc_1k", "LEAK"),
    ("-e len(x)", "clean"),
]

JSON_FILE = [
    {"target": "zlib:compress", "args": ["b'x' * 100"], "kwargs": {"level": "9"}},
    {"target": "leakfix:leak_malloc_1k"},
    {"expr": "len(x)", "setup": ["x = [1, 2]"]},
    {"target": "leakfix:raise_value_error", "expect_exception": "ValueError"},
]


class TargetsFile(PsleakTestCase, ScanAssertions):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory(prefix="psleak-targets-")
        self.addCleanup(tmp.cleanup)
        self.tmp = tmp.name

    def write(self, name, content):
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(content)
        return path

    # -- the text form ---------------------------------------------------------------------

    def test_text_file_table(self):
        path = self.write("targets.txt", TEXT_FILE)
        result = self.psleak("run", "--targets", path)
        where = result.describe()
        self.assertExitCode(result, EXIT_LEAK)
        table = self.assertScanTable(result)
        self.assertEqual([(r["target"], r["verdict"]) for r in table.rows], TEXT_ROWS, where)
        self.assertEqual(list(table.reasons), ["leakfix:leak_malloc_1k"], where)
        self.assertEqual(table.skipped, {}, where)
        self.assertEqual(table.summary_line.split(" (")[0],
                         "4 targets: 3 clean, 1 leak, 0 errors; 0 skipped", where)

    def test_text_file_json(self):
        path = self.write("targets.txt", TEXT_FILE)
        result = self.psleak("run", "--targets", path, "--json")
        where = result.describe()
        self.assertExitCode(result, EXIT_LEAK)
        doc = self.assertOneJsonDocument(result)
        self.assertEqual(result.stderr, "", where)
        self.assertScanDocument(doc, "run", where)
        self.assertEqual(doc["exit_code"], EXIT_LEAK, where)
        targets = [r["target"] for r in doc["results"]]
        # The quoted --args arrive as one Python expression, --kwarg as NAME=EXPR.
        self.assertFields(targets[1], {"spec": "zlib:compress", "args": ["b'x' * 100"],
                                       "kwargs": {"level": "9"}}, where)
        self.assertFields(targets[3], {"spec": None, "expr": "len(x)", "setup": ["x = [1, 2]"]},
                          where)
        self.assertEqual([r["verdict"]["status"] for r in doc["results"]],
                         ["clean", "clean", "leak", "clean"], where)

    def test_settings_apply_to_every_target(self):
        path = self.write("targets.txt", "leakfix:clean_malloc_1k\nleakfix:clean_calloc\n")
        result = self.psleak("run", "--targets", path, "--calls", "50", "--warmup", "3",
                             "-j", "2", "--json")
        where = result.describe()
        doc = self.assertOneJsonDocument(result)
        self.assertEqual(doc["exit_code"], 0, where)
        for run_doc in doc["results"]:
            self.assertFields(run_doc["settings"], {"calls": 50, "warmup": 3}, where)
            self.assertEqual(run_doc["runs"][0]["calls"], 50, where)

    # -- the JSON form ---------------------------------------------------------------------

    def test_json_array(self):
        path = self.write("targets.json", json.dumps(JSON_FILE, indent=2))
        result = self.psleak("run", "--targets", path)
        where = result.describe()
        self.assertExitCode(result, EXIT_LEAK)
        table = self.assertScanTable(result)
        self.assertEqual([(r["target"], r["verdict"]) for r in table.rows], [
            ("zlib:compress", "clean"),
            ("leakfix:leak_malloc_1k", "LEAK"),
            ("-e len(x)", "clean"),
            ("leakfix:raise_value_error", "clean"),
        ], where)

    def test_json_array_json_output(self):
        path = self.write("targets.json", json.dumps(JSON_FILE))
        result = self.psleak("run", "--targets", path, "--json")
        where = result.describe()
        doc = self.assertOneJsonDocument(result)
        self.assertScanDocument(doc, "run", where)
        self.assertEqual(doc["summary"]["leak"], 1, where)
        self.assertFields(doc["results"][0]["target"],
                          {"spec": "zlib:compress", "args": ["b'x' * 100"],
                           "kwargs": {"level": "9"}}, where)
        self.assertEqual(doc["results"][3]["target"]["expect_exception"], "ValueError", where)

    # -- errors: one line, exit 2, nothing checked -----------------------------------------

    def assertUsageError(self, args, *contains):
        result = self.psleak("run", *args)
        self.assertExitCode(result, EXIT_USAGE)
        return self.assertOneErrorLine(result, contains)

    def test_missing_file(self):
        path = os.path.join(self.tmp, "missing.txt")
        self.assertUsageError(["--targets", path], f"--targets {path}: cannot read the file")

    def test_unknown_option_names_file_and_line(self):
        path = self.write("targets.txt", "# header\nleakfix:clean_malloc_1k\n"
                                         "leakfix:leak_malloc_1k --calls 5\n")
        message = self.assertUsageError(["--targets", path], f"{path}:3: ", "--calls")
        self.assertIn("unknown option", message)

    def test_unterminated_quote(self):
        path = self.write("targets.txt", "leakfix:clean_malloc_1k\n\nzlib:compress --args \"b'x'\n")
        self.assertUsageError(["--targets", path], f"{path}:3: ", "unterminated")

    def test_two_targets_on_a_line(self):
        path = self.write("targets.txt", "leakfix:clean_malloc_1k leakfix:clean_calloc\n")
        self.assertUsageError(["--targets", path], f"{path}:1: ", "leakfix:clean_calloc")

    def test_option_without_value(self):
        path = self.write("targets.txt", "zlib:compress --args\n")
        self.assertUsageError(["--targets", path], f"{path}:1: ", "--args")

    def test_empty_file(self):
        path = self.write("targets.txt", "")
        self.assertUsageError(["--targets", path], path, "no targets")

    def test_only_comments(self):
        path = self.write("targets.txt", "# nothing yet\n\n   \n")
        self.assertUsageError(["--targets", path], path, "no targets")

    def test_invalid_json(self):
        path = self.write("targets.json", '[{"target": "leakfix:clean_malloc_1k"')
        self.assertUsageError(["--targets", path], path, "JSON")

    def test_json_entry_not_an_object(self):
        path = self.write("targets.json", '["leakfix:clean_malloc_1k"]')
        self.assertUsageError(["--targets", path], f"{path} entry 1")

    # Known bug: a value of the wrong type ends in "psleak: internal error:
    # [json.exception.type_error.302] ..." and exit 4, where a mistake in the user's file
    # is a usage error (2) naming the entry, as for the other mistakes above.
    def test_json_value_of_wrong_type(self):
        path = self.write("targets.json", '[{"target": "zlib:compress", "args": "b\'x\'"}]')
        self.assertUsageError(["--targets", path], f"{path} entry 1")

    def test_target_and_targets_file(self):
        path = self.write("targets.txt", "leakfix:clean_malloc_1k\n")
        self.assertUsageError(["leakfix:clean_malloc_1k", "--targets", path], "--targets")

    def test_usage_error_json(self):
        path = self.write("targets.txt", "leakfix:leak_malloc_1k --calls 5\n")
        doc = self.psleak_json("run", "--targets", path, expected_exit=EXIT_USAGE)
        self.assertErrorDocument(doc, "usage", EXIT_USAGE, f"{path}:1: ")


if __name__ == "__main__":
    unittest.main()
