"""A virtual environment of the embedded Python's version is honoured, given with
--python DIR/bin/python or through VIRTUAL_ENV=DIR: psleak adopts its sys.path, so a
module installed only in the venv is found. (A venv of another version is an error: see
test_bad_inputs.)"""

import os
import shutil
import tempfile
import textwrap
import unittest

from psleak_helpers import (
    EXIT_CLEAN,
    EXIT_LEAK,
    EXIT_TARGET,
    PsleakTestCase,
    run_psleak,
    run_python,
)

MODULE = "psleak_venv_only_mod"


class SameVersionVenv(PsleakTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="psleak-venv-")
        cls.venv = os.path.join(cls.tmp, "venv")
        # --without-pip: works offline and takes well under a second.
        run_python("-m", "venv", "--without-pip", cls.venv)
        cls.python = os.path.join(cls.venv, "bin", "python")
        site_packages = os.path.join(
            cls.venv, "lib",
            run_python("-c", "import sys; print('python%d.%d' % sys.version_info[:2])").stdout.strip(),
            "site-packages")
        assert os.path.isdir(site_packages), site_packages
        with open(os.path.join(site_packages, MODULE + ".py"), "w") as f:
            f.write(textwrap.dedent("""\
                _kept = []

                def f():
                    return None

                def leak():
                    # 4 KiB per call: far above the lumps of the list's own resizes.
                    _kept.append(bytearray(4096))
                """))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def test_not_found_without_the_venv(self):
        # The control: the module is really only in the venv.
        result = self.psleak("run", f"{MODULE}:f")
        self.assertExitCode(result, EXIT_TARGET)
        self.assertOneErrorLine(result, ("ModuleNotFoundError", MODULE), traceback_allowed=True)

    def test_python_option(self):
        doc = self.psleak_json("run", f"{MODULE}:f", "--python", self.python, expected_exit=EXIT_CLEAN)
        self.assertEqual(doc["verdict"]["status"], "clean")
        interpreter = doc["interpreter"]
        self.assertEqual(interpreter["executable"], self.python)
        self.assertEqual(os.path.realpath(interpreter["prefix"]), os.path.realpath(self.venv))

    def test_python_option_table(self):
        result = self.psleak("run", f"{MODULE}:f", "--python", self.python)
        self.assertExitCode(result, EXIT_CLEAN)
        self.assertTrue(result.stdout_lines[-1].startswith("OK: no leak"), result.describe())

    def test_python_option_relative_path(self):
        result = run_psleak("run", f"{MODULE}:f", "--python", "venv/bin/python", "--json",
                            cwd=self.tmp)
        self.assertExitCode(result, EXIT_CLEAN)
        doc = self.assertOneJsonDocument(result)
        self.assertEqual(doc["interpreter"]["executable"], self.python)

    def test_virtual_env(self):
        doc = self.psleak_json("run", f"{MODULE}:f", env={"VIRTUAL_ENV": self.venv},
                               expected_exit=EXIT_CLEAN)
        self.assertEqual(doc["verdict"]["status"], "clean")
        self.assertEqual(os.path.realpath(doc["interpreter"]["prefix"]), os.path.realpath(self.venv))

    def test_python_option_wins_over_virtual_env(self):
        bogus = os.path.join(self.tmp, "no-such-venv")
        doc = self.psleak_json("run", f"{MODULE}:f", "--python", self.python,
                               env={"VIRTUAL_ENV": bogus}, expected_exit=EXIT_CLEAN)
        self.assertEqual(doc["interpreter"]["executable"], self.python)

    def test_leak_found_in_venv_module(self):
        doc = self.psleak_json("run", f"{MODULE}:leak", "--python", self.python,
                               expected_exit=EXIT_LEAK)
        self.assertEqual(doc["verdict"]["kind"], "memory")

    def test_fixtures_still_found_from_cwd(self):
        # The current directory stays first on sys.path with a venv too.
        doc = self.psleak_json("run", "leakfix:leak_malloc_1k", "--python", self.python,
                               expected_exit=EXIT_LEAK)
        self.assertEqual(doc["verdict"]["kind"], "memory")

    def test_info_with_venv(self):
        result = self.psleak("info", "--json", "--python", self.python)
        self.assertExitCode(result, 0)
        doc = self.assertOneJsonDocument(result)
        self.assertEqual(doc["interpreter"]["executable"], self.python)
        result = self.psleak("info", "--json", env={"VIRTUAL_ENV": self.venv})
        self.assertExitCode(result, 0)
        doc = self.assertOneJsonDocument(result)
        self.assertEqual(os.path.realpath(doc["interpreter"]["prefix"]), os.path.realpath(self.venv))


if __name__ == "__main__":
    unittest.main()
