"""Helper programs run without a shell: the interpreter named by --python is asked its
version, and addr2line names --trace's frames, with their paths passed as arguments.
A path holding quotes, spaces or non-ASCII characters is just a path; a command hidden
in one never runs; an interpreter that never answers costs a bounded wait, not a hang."""

import os
import shutil
import stat
import tempfile
import unittest

from psleak_helpers import (
    EXIT_CLEAN,
    EXIT_LEAK,
    EXIT_USAGE,
    PsleakTestCase,
    fixture_dir,
    run_python,
)


class NoShell(PsleakTestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="psleak-noshell-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def script(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, stat.S_IRWXU)
        return path

    def test_quote_in_python_path_runs_no_command(self):
        # A directory whose name closes a single-quoted string and runs `touch`.
        evil = os.path.join(self.tmp, "q';touch PWNED;'")
        os.mkdir(evil)
        os.symlink(run_python("-c", "import sys; print(sys.executable)").stdout.strip(),
                   os.path.join(evil, "python"))
        result = self.psleak("run", "json:dumps", "--args", "1", "--checks", "memory",
                             "--python", os.path.join(evil, "python"), cwd=self.tmp)
        self.assertExitCode(result, EXIT_CLEAN)
        for where in (self.tmp, evil, os.getcwd()):
            self.assertFalse(os.path.exists(os.path.join(where, "PWNED")), where)

    def test_venv_under_quote_space_and_non_ascii(self):
        venv = os.path.join(self.tmp, "o'brien's dir é", "venv")
        run_python("-m", "venv", "--without-pip", venv)
        # Without pyvenv.cfg's version line, psleak has to ask the interpreter itself.
        cfg = os.path.join(venv, "pyvenv.cfg")
        with open(cfg) as f:
            lines = [line for line in f if not line.startswith("version")]
        with open(cfg, "w") as f:
            f.writelines(lines)
        for how in ("--python", "VIRTUAL_ENV"):
            with self.subTest(how=how):
                if how == "--python":
                    result = self.psleak("run", "leakfix:leak_malloc_1k", "--checks", "memory",
                                         "--python", os.path.join(venv, "bin", "python"))
                else:
                    result = self.psleak("run", "leakfix:leak_malloc_1k", "--checks", "memory",
                                         env={"VIRTUAL_ENV": venv})
                self.assertExitCode(result, EXIT_LEAK)

    def test_interpreter_that_never_answers(self):
        hang = self.script("python", "#!/bin/sh\nsleep 1000\n")
        result = self.psleak("run", "json:dumps", "--python", hang, timeout=60)
        self.assertExitCode(result, EXIT_USAGE)
        self.assertOneErrorLine(result, ("--python", hang, "did not answer within"))

    def test_interpreter_that_answers_nonsense_or_fails(self):
        for name, body, words in (
            ("talks", "#!/bin/sh\necho hello\n", "did not answer as Python does"),
            ("fails", "#!/bin/sh\nexit 7\n", "exited with 7"),
        ):
            with self.subTest(name=name):
                path = self.script(name, body)
                result = self.psleak("run", "json:dumps", "--python", path)
                self.assertExitCode(result, EXIT_USAGE)
                self.assertOneErrorLine(result, ("cannot tell which Python version", words))

    def test_trace_of_an_extension_under_a_quoted_path(self):
        # addr2line gets the object's path as one argument: file:line still comes back.
        where = os.path.join(self.tmp, "it's a dir; echo x")
        os.mkdir(where)
        for name in os.listdir(fixture_dir()):
            if name.startswith("leakfix") and name.endswith(".so"):
                shutil.copy(os.path.join(fixture_dir(), name), where)
        doc = self.psleak_json("run", "leakfix:leak_malloc_1k", "--checks", "memory", "--trace",
                               "--calls", "200", cwd=where, expected_exit=EXIT_LEAK,
                               env={"PYTHONPATH": where})
        frames = doc["trace"]["sites"][0]["frames"]
        leaking = [f for f in frames if f["function"] == "leak_malloc_1k"]
        self.assertTrue(leaking, frames)
        self.assertTrue(leaking[0]["object"].startswith(where), leaking[0])
        self.assertTrue(leaking[0]["file"].endswith("leakfix.c"), leaking[0])
        self.assertGreater(leaking[0]["line"], 0)


if __name__ == "__main__":
    unittest.main()
