"""Bad inputs: each gives exactly one `psleak: error: ...` line on stderr (a target error
may add a Python traceback after it), nothing on stdout, and the documented exit code;
with --json, exactly one JSON document on stdout with verdict.status "error", the right
kind and exit_code.

Every case becomes two tests: test_<case>_text and test_<case>_json.
"""

import os
import shutil
import tempfile
import unittest

from psleak_helpers import EXIT_TARGET, EXIT_USAGE, PsleakTestCase, make_foreign_venv, run_python


class Case:
    def __init__(self, args, exit_code, message=(), traceback=None, env=None, command="run"):
        self.args = list(args)
        self.exit_code = exit_code
        self.kind = {EXIT_USAGE: "usage", EXIT_TARGET: "target"}[exit_code]
        self.message = (message,) if isinstance(message, str) else tuple(message)
        self.traceback = traceback  # text the traceback (stderr / details) must contain
        self.env = env or {}
        self.command = command


# {name: Case}. Paths that need the temporary directory use "{tmp}".
CASES = {
    # -- the target --------------------------------------------------------------------
    "no_colon": Case(["run", "leakfix"], EXIT_USAGE, ("'leakfix'", "MODULE:ATTR")),
    "empty_module": Case(["run", ":f"], EXIT_USAGE, "':f'"),
    "empty_attribute": Case(["run", "json:"], EXIT_USAGE, "'json:'"),
    "two_colons": Case(["run", "json:dumps:x"], EXIT_USAGE, "'json:dumps:x'"),
    "no_target": Case(["run"], EXIT_USAGE, "no target"),
    "target_and_expr": Case(["run", "leakfix:no_raise", "-e", "pass"], EXIT_USAGE, "-e"),
    "missing_module": Case(["run", "nosuchmod_psleak:f"], EXIT_TARGET,
                           ("nosuchmod_psleak", "ModuleNotFoundError")),
    "missing_attribute": Case(["run", "leakfix:nosuch"], EXIT_TARGET, ("leakfix", "nosuch")),
    "missing_nested_attribute": Case(["run", "pkgfix.sub:Thing.nosuch"], EXIT_TARGET, "nosuch"),
    "not_callable": Case(["run", "leakfix:NOT_CALLABLE"], EXIT_TARGET,
                         ("leakfix:NOT_CALLABLE", "not callable")),
    "import_raises": Case(["run", "import_raises:f"], EXIT_TARGET,
                          ("import_raises", "RuntimeError", "broken on purpose"),
                          traceback="import_raises.py"),
    # -- Python code in options --------------------------------------------------------
    "args_syntax_error": Case(["run", "json:dumps", "--args", "1+"], EXIT_USAGE,
                              ("--args", "SyntaxError")),
    "kwarg_syntax_error": Case(["run", "json:dumps", "--args", "1", "--kwarg", "indent=1+"],
                               EXIT_USAGE, ("--kwarg", "SyntaxError")),
    "kwarg_without_equals": Case(["run", "json:dumps", "--kwarg", "indent"], EXIT_USAGE,
                                 ("--kwarg", "NAME=EXPR")),
    "kwarg_bad_name": Case(["run", "json:dumps", "--kwarg", "1x=2"], EXIT_USAGE, "--kwarg"),
    "expr_syntax_error": Case(["run", "-e", "1+"], EXIT_USAGE, ("--expr", "SyntaxError")),
    "setup_syntax_error": Case(["run", "-s", "1+", "-e", "pass"], EXIT_USAGE,
                               ("--setup", "SyntaxError")),
    # -- numbers -----------------------------------------------------------------------
    "calls_zero": Case(["run", "leakfix:no_raise", "--calls", "0"], EXIT_USAGE, "--calls"),
    "calls_negative": Case(["run", "leakfix:no_raise", "--calls", "-5"], EXIT_USAGE, "--calls"),
    "calls_not_a_number": Case(["run", "leakfix:no_raise", "--calls", "abc"], EXIT_USAGE,
                               "--calls"),
    "warmup_negative": Case(["run", "leakfix:no_raise", "--warmup", "-1"], EXIT_USAGE,
                            "--warmup"),
    "retries_zero": Case(["run", "leakfix:no_raise", "--retries", "0"], EXIT_USAGE, "--retries"),
    "tolerance_unknown_metric": Case(["run", "leakfix:no_raise", "--tolerance", "foo=1"],
                                     EXIT_USAGE, ("--tolerance", "foo")),
    "tolerance_bad_size": Case(["run", "leakfix:no_raise", "--tolerance", "12XB"], EXIT_USAGE,
                               ("--tolerance", "12XB")),
    # -- the command line itself -------------------------------------------------------
    "unknown_option": Case(["run", "leakfix:no_raise", "--bogus"], EXIT_USAGE, "--bogus"),
    "extra_positional": Case(["run", "leakfix:no_raise", "surplus"], EXIT_USAGE, "surplus"),
    "no_subcommand": Case([], EXIT_USAGE, "subcommand", command="psleak"),
    "option_before_command": Case(["--bytes", "run", "leakfix:no_raise"], EXIT_USAGE,
                                  ("'--bytes'", "after the command", "psleak run --bytes")),
    "option_before_scan": Case(["-v", "scan", "leakfix"], EXIT_USAGE,
                               ("'-v'", "psleak scan -v"), command="scan"),
    "info_unknown_option": Case(["info", "--bogus"], EXIT_USAGE, "--bogus", command="info"),
    # -- the interpreter ---------------------------------------------------------------
    "python_nonexistent": Case(["run", "leakfix:no_raise", "--python", "/nonexistent"],
                               EXIT_USAGE, ("--python", "/nonexistent")),
    "python_not_executable": Case(["run", "leakfix:no_raise", "--python", "{tmp}/not_executable"],
                                  EXIT_USAGE, "--python"),
    "python_other_version": Case(["run", "leakfix:no_raise", "--python", "{tmp}/py399/bin/python"],
                                 EXIT_USAGE, ("--python", "3.99", "{embedded}")),
    "virtual_env_other_version": Case(["run", "leakfix:no_raise"], EXIT_USAGE,
                                      ("VIRTUAL_ENV", "3.99", "{embedded}"),
                                      env={"VIRTUAL_ENV": "{tmp}/py399"}),
    "info_python_other_version": Case(["info", "--python", "{tmp}/py399/bin/python"], EXIT_USAGE,
                                      ("3.99", "{embedded}"), command="info"),
}


class BadInputs(PsleakTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="psleak-bad-inputs-")
        cls.embedded = run_python(
            "-c", "import sys; print('%d.%d' % sys.version_info[:2])").stdout.strip()
        # A fake virtual environment of another Python version: its pyvenv.cfg says
        # 3.99 and its bin/python is (a symlink to) the embedded python.
        make_foreign_venv(os.path.join(cls.tmp, "py399"), "3.99.0")
        with open(os.path.join(cls.tmp, "not_executable"), "w") as f:
            f.write("#!/bin/sh\n")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def expand(self, text):
        return text.replace("{tmp}", self.tmp).replace("{embedded}", self.embedded)

    def run_case(self, case, json):
        args = [self.expand(a) for a in case.args]
        env = {k: self.expand(v) for k, v in case.env.items()}
        if json:
            args.append("--json")
        return self.psleak(*args, env=env)

    def check_text(self, case):
        result = self.run_case(case, json=False)
        self.assertExitCode(result, case.exit_code)
        self.assertOneErrorLine(result, [self.expand(m) for m in case.message],
                                traceback_allowed=case.exit_code == EXIT_TARGET)
        if case.traceback:
            rest = "\n".join(result.stderr_lines[1:])
            self.assertIn("Traceback", rest, result.describe())
            self.assertIn(case.traceback, rest, result.describe())

    def check_json(self, case):
        result = self.run_case(case, json=True)
        self.assertExitCode(result, case.exit_code)
        doc = self.assertOneJsonDocument(result)
        self.assertErrorDocument(doc, case.kind, case.exit_code,
                                 [self.expand(m) for m in case.message], result)
        self.assertEqual(doc["command"], case.command, result.describe())
        # Whatever the kind, the message is a single line; details hold any traceback.
        self.assertNotIn("\n", doc["verdict"]["message"], result.describe())
        if case.traceback:
            self.assertIn(case.traceback, doc["verdict"]["details"] or "", result.describe())


def _add_tests():
    for name, case in CASES.items():
        def text(self, case=case):
            self.check_text(case)

        def json(self, case=case):
            self.check_json(case)

        shown = " ".join(case.args) or "(nothing)"
        env = "".join(f"{k}={v} " for k, v in case.env.items())
        text.__doc__ = f"{env}psleak {shown} -> exit {case.exit_code}, one error line"
        json.__doc__ = f"{env}psleak {shown} --json -> exit {case.exit_code}, {case.kind} document"
        setattr(BadInputs, f"test_{name}_text", text)
        setattr(BadInputs, f"test_{name}_json", json)


_add_tests()

if __name__ == "__main__":
    unittest.main()
