"""One psleak for every Python it was built for: like every integration module, this one
runs once per Python (ctest passes PSLEAK_PYTHON, which the psleak command honours), and
checks that the check runs in that Python, that `--python` before the command and
`psleak info` agree with it, and what differs between versions: from 3.12 None, True and
False are immortal, so a reference taken to them and never given back leaks nothing."""

import os
import tempfile
import unittest

from psleak_helpers import (
    EXIT_CLEAN,
    EXIT_LEAK,
    EXIT_USAGE,
    PsleakTestCase,
    embedded_python,
    make_foreign_venv,
    run_python,
)


class ChosenPython(PsleakTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.version = run_python(
            "-c", "import sys; print('%d.%d' % sys.version_info[:2])").stdout.strip()
        cls.version_tuple = tuple(int(part) for part in cls.version.split("."))

    def test_check_runs_in_that_python(self):
        doc = self.psleak_json("run", "leakfix:no_raise", expected_exit=EXIT_CLEAN)
        self.assertEqual(doc["interpreter"]["version"].rsplit(".", 1)[0], self.version)
        self.assertEqual(doc["interpreter"]["executable"], embedded_python())

    def test_python_option_before_the_command(self):
        doc = self.psleak_json("--python", embedded_python(), "run", "leakfix:no_raise",
                               expected_exit=EXIT_CLEAN)
        self.assertEqual(doc["interpreter"]["version"].rsplit(".", 1)[0], self.version)

    def test_python_command_follows_the_choice(self):
        code = "import sys; print('%d.%d' % sys.version_info[:2])"
        for args in (["python", "-c", code], ["--python", embedded_python(), "python", "-c", code]):
            with self.subTest(args=args):
                result = self.psleak(*args)
                self.assertExitCode(result, EXIT_CLEAN)
                self.assertEqual(result.stdout.strip(), self.version, result.describe())

    def test_info_lists_the_runtimes(self):
        runtimes = self.info()["runtimes"]
        self.assertEqual(runtimes[0]["program"], "psleak", runtimes)
        for runtime in runtimes:
            self.assertKeysInOrder(runtime, ["version", "python", "program", "present", "allocator"])
            self.assertEqual(runtime["allocator"], "malloc")
        this = [r for r in runtimes if r["version"] == self.version]
        self.assertEqual(len(this), 1, runtimes)
        self.assertTrue(this[0]["present"])
        self.assertEqual(len({r["version"] for r in runtimes}), len(runtimes), runtimes)
        pymalloc = self.info("--pymalloc")
        self.assertEqual({r["allocator"] for r in pymalloc["runtimes"]}, {"pymalloc"})

    def info(self, *args):
        result = self.psleak("info", "--json", *args)
        self.assertExitCode(result, EXIT_CLEAN)
        return self.assertOneJsonDocument(result)

    def test_reference_to_a_mortal_object_leaks(self):
        doc = self.psleak_json("run", "leakfix:leak_incref", "--args", "object()",
                               "--checks", "refcount", expected_exit=EXIT_LEAK)
        self.assertTrue(any(item.startswith("argument 1 <object object")
                            for item in self.refcount_items(doc)), doc["findings"])

    def test_reference_to_none(self):
        # Before 3.12 every call adds one to None's count for good: a reference leak.
        # From 3.12 None is immortal: its count does not move and nothing can leak.
        args = ("run", "leakfix:leak_incref", "--args", "None", "--checks", "refcount")
        if self.version_tuple >= (3, 12):
            doc = self.psleak_json(*args, expected_exit=EXIT_CLEAN)
            self.assertEqual(doc["verdict"]["status"], "clean")
        else:
            doc = self.psleak_json(*args, expected_exit=EXIT_LEAK)
            self.assertEqual(doc["verdict"]["status"], "leak")
            self.assertTrue(any(item.startswith(("argument 1 None", "None"))
                                for item in self.refcount_items(doc)), doc["findings"])

    @staticmethod
    def refcount_items(doc):
        return [item for finding in doc["findings"] if finding["check"] == "refcount"
                for item in finding["items"]]


class MissingRuntime(PsleakTestCase):
    def test_one_line_naming_the_build_setting(self):
        with tempfile.TemporaryDirectory(prefix="psleak-versions-") as tmp:
            # A virtual environment of a Python no psleak is built for.
            venv = os.path.join(tmp, "py398")
            python = make_foreign_venv(venv, "3.98.0")
            for args, env in ((["run", "leakfix:no_raise", "--python", python], {}),
                              (["--python", python, "python", "-c", "pass"], {}),
                              (["run", "leakfix:no_raise"], {"PSLEAK_PYTHON": python}),
                              (["run", "leakfix:no_raise"], {"VIRTUAL_ENV": venv})):
                with self.subTest(args=args, env=env):
                    result = self.psleak(*args, env=env)
                    self.assertExitCode(result, EXIT_USAGE)
                    self.assertOneErrorLine(result, ("3.98", "PSLEAK_PYTHONS"))


if __name__ == "__main__":
    unittest.main()
