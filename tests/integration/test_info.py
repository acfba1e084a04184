"""`psleak info [--json]`: the allocator's statistics now, the embedded interpreter and
the platform."""

import re
import unittest

from psleak_helpers import PsleakTestCase, embedded_python, run_psleak

INFO_KEYS = ["schema_version", "psleak_version", "command", "allocator", "process",
             "interpreter", "platform"]


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


class InfoText(PsleakTestCase):
    def test_text(self):
        result = self.psleak("info")
        self.assertExitCode(result, 0)
        self.assertEqual(result.stderr, "", result.describe())
        out = result.stdout
        self.assertRegex(out, r"^psleak \d+\.\d+\.\d+", result.describe())
        for section in ("allocator:", "process:", "interpreter:", "platform:"):
            self.assertRegex(out, re.compile(rf"^{section}$", re.M), result.describe())
        self.assertRegex(out, re.compile(r"^  heap_used:\s+\d+(\.\d)? (B|KiB|MiB|GiB)$", re.M))
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
