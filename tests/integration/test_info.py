"""`psleak info [--json]`: the allocator's statistics now, psleak's allocator hooks, the
embedded interpreter and the platform."""

import re
import unittest

from psleak_helpers import PsleakTestCase, embedded_python, run_psleak

INFO_KEYS = ["schema_version", "psleak_version", "command", "allocator", "hooks", "process",
             "interpreter", "platform"]
HOOKS_KEYS = ["counting", "live_blocks", "live_bytes", "mapped_bytes", "trace_unwinder"]


class InfoJson(PsleakTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.result = run_psleak("info", "--json")

    def setUp(self):
        self.assertExitCode(self.result, 0)
        self.doc = self.assertOneJsonDocument(self.result)

    def test_shape(self):
        self.assertKeysInOrder(self.doc, INFO_KEYS)
        self.assertEqual(self.doc["schema_version"], 1)
        self.assertEqual(self.doc["command"], "info")
        self.assertEqual(self.doc["psleak_version"], run_psleak("--version").stdout.strip())
        self.assertEqual(self.result.stderr, "")

    def test_allocator(self):
        allocator = self.doc["allocator"]
        self.assertKeysInOrder(allocator, ["available", "heap_used", "mmap_used", "heap_total"])
        self.assertIs(allocator["available"], True)
        self.assertGreater(allocator["heap_used"], 0)
        self.assertGreaterEqual(allocator["mmap_used"], 0)
        self.assertGreaterEqual(allocator["heap_total"], allocator["heap_used"])

    def test_hooks(self):
        hooks = self.doc["hooks"]
        self.assertKeysInOrder(hooks, HOOKS_KEYS)
        self.assertIs(hooks["counting"], True)
        # The interpreter is up: thousands of live blocks, all counted by the hooks.
        self.assertGreater(hooks["live_blocks"], 1000)
        self.assertGreater(hooks["live_bytes"], hooks["live_blocks"])
        self.assertGreaterEqual(hooks["mapped_bytes"], 0)
        self.assertIn(hooks["trace_unwinder"], ("libunwind", "backtrace"))

    def test_process(self):
        process = self.doc["process"]
        self.assertKeysInOrder(process, ["rss", "uss", "vms"])
        self.assertGreater(process["rss"], 0)
        self.assertGreater(process["uss"], 0)
        self.assertLessEqual(process["uss"], process["rss"])
        self.assertGreaterEqual(process["vms"], process["rss"])

    def test_interpreter(self):
        interpreter = self.doc["interpreter"]
        self.assertKeysInOrder(interpreter, ["version", "executable", "prefix", "allocator"])
        self.assertTrue(interpreter["version"].startswith("3."), interpreter)
        self.assertEqual(interpreter["executable"], embedded_python())
        self.assertEqual(interpreter["allocator"], "malloc")

    def test_platform(self):
        platform = self.doc["platform"]
        self.assertEqual(platform["system"], "Linux")
        self.assertTrue(platform["libc"].startswith("glibc "), platform)


class InfoOptions(PsleakTestCase):
    def test_pymalloc(self):
        result = self.psleak("info", "--json", "--pymalloc")
        self.assertExitCode(result, 0)
        doc = self.assertOneJsonDocument(result)
        self.assertEqual(doc["interpreter"]["allocator"], "pymalloc")


    def test_hooks_off(self):
        for how, args, env in (("--no-hooks", ["--no-hooks"], None),
                               ("PSLEAK_NO_HOOKS=1", [], {"PSLEAK_NO_HOOKS": "1"})):
            result = self.psleak("info", "--json", *args, env=env)
            self.assertExitCode(result, 0)
            hooks = self.assertOneJsonDocument(result)["hooks"]
            self.assertIs(hooks["counting"], False, how)
            self.assertIsNone(hooks["live_blocks"], how)
            text = self.psleak("info", *args, env=env)
            self.assertIn("  (not counting: --no-hooks or PSLEAK_NO_HOOKS)\n", text.stdout, how)


class InfoText(PsleakTestCase):
    def test_text(self):
        result = self.psleak("info")
        self.assertExitCode(result, 0)
        self.assertEqual(result.stderr, "", result.describe())
        out = result.stdout
        self.assertRegex(out, r"^psleak \d+\.\d+\.\d+", result.describe())
        for section in ("allocator:", "hooks:", "process:", "interpreter:", "platform:"):
            self.assertRegex(out, re.compile(rf"^{section}$", re.M), result.describe())
        self.assertRegex(out, re.compile(r"^  heap_used:\s+\d+(\.\d)? (B|KiB|MiB|GiB)$", re.M))
        self.assertRegex(out, re.compile(r"^  live_blocks:\s+\d+$", re.M))
        self.assertRegex(out, re.compile(r"^  trace unwinder: (libunwind|backtrace)$", re.M))
        self.assertRegex(out, re.compile(r"^  version:\s+3\.\d+", re.M))
        self.assertRegex(out, re.compile(r"^  allocator:\s+malloc$", re.M))
        self.assertNotIn("{", out)

    def test_text_bytes(self):
        result = self.psleak("info", "--bytes")
        self.assertExitCode(result, 0)
        heap = re.search(r"^  heap_used:\s+(\S+)$", result.stdout, re.M)
        self.assertIsNotNone(heap, result.describe())
        self.assertRegex(heap.group(1), r"^\d+$", result.describe())
        self.assertGreater(int(heap.group(1)), 0)


if __name__ == "__main__":
    unittest.main()
