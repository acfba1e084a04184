"""What is called, and with what: --args, --kwarg, -s/--setup, -e/--expr."""

import unittest

from psleak_helpers import EXIT_CLEAN, EXIT_LEAK, EXIT_TARGET, PsleakTestCase


class Arguments(PsleakTestCase):
    def test_args_and_kwarg(self):
        doc = self.psleak_json("run", "zlib:compress", "--args", "b'x'*100", "--kwarg", "level=9",
                               expected_exit=EXIT_CLEAN)
        self.assertEqual(doc["verdict"]["status"], "clean")
        self.assertEqual(doc["target"]["spec"], "zlib:compress")
        self.assertEqual(doc["target"]["args"], ["b'x'*100"])
        self.assertEqual(doc["target"]["kwargs"], {"level": "9"})

    def test_dict_argument(self):
        doc = self.psleak_json("run", "json:dumps", "--args", "{'a': 1}", expected_exit=EXIT_CLEAN)
        self.assertEqual(doc["verdict"]["status"], "clean")
        self.assertEqual(doc["target"]["args"], ["{'a': 1}"])

    def test_several_args_in_order(self):
        # divmod(7, 2) is fine; divmod(2, 0) would raise: the order must be kept.
        doc = self.psleak_json("run", "builtins:divmod", "--args", "7", "--args", "2",
                               expected_exit=EXIT_CLEAN)
        self.assertEqual(doc["target"]["args"], ["7", "2"])
        result = self.psleak("run", "builtins:divmod", "--args", "2", "--args", "0")
        self.assertExitCode(result, EXIT_TARGET)
        self.assertOneErrorLine(result, "ZeroDivisionError", traceback_allowed=True)

    def test_args_really_passed(self):
        # A str is not bytes: proves the evaluated --args value reaches the call.
        result = self.psleak("run", "zlib:compress", "--args", "'not bytes'")
        self.assertExitCode(result, EXIT_TARGET)
        self.assertOneErrorLine(result, "TypeError", traceback_allowed=True)

    def test_kwarg_really_passed(self):
        result = self.psleak("run", "zlib:compress", "--args", "b'x'", "--kwarg", "level=99")
        self.assertExitCode(result, EXIT_TARGET)
        self.assertOneErrorLine(result, "Bad compression level", traceback_allowed=True)

    def test_args_see_setup_namespace(self):
        doc = self.psleak_json("run", "-s", "data = b'x' * 100", "zlib:compress", "--args", "data",
                               expected_exit=EXIT_CLEAN)
        self.assertEqual(doc["target"]["setup"], ["data = b'x' * 100"])


class Expressions(PsleakTestCase):
    def test_setup_and_expr_clean(self):
        doc = self.psleak_json("run", "-s", "import zlib", "-e", "zlib.compress(b'x' * 100)",
                               expected_exit=EXIT_CLEAN)
        target = doc["target"]
        self.assertIsNone(target["spec"])
        self.assertEqual(target["expr"], "zlib.compress(b'x' * 100)")
        self.assertEqual(target["setup"], ["import zlib"])
        self.assertEqual(doc["verdict"]["status"], "clean")

    def test_setup_and_expr_table(self):
        result = self.psleak("run", "-s", "import zlib", "-e", "zlib.compress(b'x' * 100)")
        self.assertExitCode(result, EXIT_CLEAN)
        self.assertTrue(result.stdout_lines[-1].startswith("OK: no leak"), result.describe())

    def test_long_option_names(self):
        doc = self.psleak_json("run", "--setup", "import zlib", "--expr", "zlib.crc32(b'abc')",
                               expected_exit=EXIT_CLEAN)
        self.assertEqual(doc["target"]["expr"], "zlib.crc32(b'abc')")

    def test_several_setups_in_order(self):
        doc = self.psleak_json("run", "-s", "import zlib", "-s", "data = zlib.compress(b'x')",
                               "-e", "zlib.decompress(data)", expected_exit=EXIT_CLEAN)
        self.assertEqual(doc["target"]["setup"], ["import zlib", "data = zlib.compress(b'x')"])

    def test_expr_leak_is_found(self):
        doc = self.psleak_json("run", "-s", "import leakfix", "-e", "leakfix.leak_malloc_1k()",
                               expected_exit=EXIT_LEAK)
        self.assertEqual(doc["verdict"]["kind"], "memory")
        self.assertLeakRuns(doc["verdict"]["message"], len(doc["runs"]), 10)

    def test_multi_statement_expr(self):
        doc = self.psleak_json("run", "-e", "import json; json.dumps([1, 2, 3])",
                               expected_exit=EXIT_CLEAN)
        self.assertEqual(doc["verdict"]["status"], "clean")

    def test_expr_raising_is_target_error(self):
        result = self.psleak("run", "-e", "raise KeyError('boom')")
        self.assertExitCode(result, EXIT_TARGET)
        self.assertOneErrorLine(result, "KeyError", traceback_allowed=True)

    def test_setup_raising_is_target_error(self):
        result = self.psleak("run", "-s", "raise KeyError('boom')", "-e", "pass")
        self.assertExitCode(result, EXIT_TARGET)
        message = self.assertOneErrorLine(result, "KeyError", traceback_allowed=True)
        self.assertIn("--setup", message)


if __name__ == "__main__":
    unittest.main()
