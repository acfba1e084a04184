"""Targets that work against psleak: they print to stdout, close or redirect it, end the
process, fork, leave helper processes behind, change directory, or leak so fast that
they would take the machine down. Whatever they do, psleak's report comes out once, on
its own stdout (one JSON document with --json), with an exit code that says what
happened; a failed write of the report is an error, never a silent exit 0."""

import json
import os
import re
import resource
import shutil
import subprocess
import tempfile
import time
import unittest

from psleak_helpers import (EXIT_CLEAN, EXIT_CRASHED, EXIT_INTERNAL, EXIT_LEAK, RUN_LINE,
                            PsleakTestCase, ScanAssertions, clean_environment, fixture_dir,
                            psleak_binary)

# Output a target makes in three ways, each of which used to land in psleak's stdout.
# The words are split in the code, so that the code itself (which the JSON document
# quotes) does not contain them.
PRINTS_SETUP = "import os, ctypes; libc = ctypes.CDLL(None)"
PRINTS = ("print('from-python' + '-print'); os.write(1, b'from-os' + b'-write\\n'); "
          "libc.printf(b'from-c' + b'-printf\\n')")
PRINTED = ("from-python-print", "from-os-write", "from-c-printf")


class HostileTestCase(PsleakTestCase):
    def assertOneDocument(self, result, exit_code):
        """The exit code, stdout exactly one JSON object whose exit code agrees."""
        self.assertExitCode(result, exit_code)
        try:
            doc = json.loads(result.stdout)
        except ValueError as e:
            self.fail(f"stdout is not exactly one JSON document ({e}){result.describe()}")
        self.assertIsInstance(doc, dict, result.describe())
        code = doc["exit_code"] if "exit_code" in doc else doc["verdict"]["exit_code"]
        self.assertEqual(code, exit_code, result.describe())
        return doc

    def temp_dir(self):
        path = tempfile.mkdtemp(prefix="psleak-hostile-")
        self.addCleanup(shutil.rmtree, path, True)
        return path


class TargetOutput(HostileTestCase, ScanAssertions):
    """What the target writes to its stdout goes to stderr, in every mode."""

    def assertPrintedToStderr(self, result):
        for text in PRINTED:
            self.assertIn(text, result.stderr, result.describe())
            self.assertNotIn(text, result.stdout, result.describe())

    def test_run_json(self):
        result = self.psleak("run", "-s", PRINTS_SETUP + "; " + PRINTS, "-e", PRINTS, "--json")
        doc = self.assertOneDocument(result, EXIT_CLEAN)
        self.assertRunDocument(doc, result)
        self.assertPrintedToStderr(result)

    def test_run_isolated_json(self):
        result = self.psleak("run", "-s", PRINTS_SETUP + "; " + PRINTS, "-e", PRINTS, "--json", "--isolate")
        self.assertOneDocument(result, EXIT_CLEAN)
        self.assertPrintedToStderr(result)

    def test_run_text(self):
        result = self.psleak("run", "-s", PRINTS_SETUP + "; " + PRINTS, "-e", PRINTS)
        self.assertExitCode(result, EXIT_CLEAN)
        lines = result.stdout_lines
        self.assertTrue(all(RUN_LINE.match(line) for line in lines[:-1]), result.describe())
        self.assertTrue(lines[-1].startswith("OK: "), result.describe())
        self.assertPrintedToStderr(result)

    def test_output_printed_before_an_error_is_kept(self):
        # Python's buffered print must reach stderr although the interpreter is never
        # finalized.
        result = self.psleak("run", "-e", "print('said-before-raising'); 1/0", "--json")
        doc = self.assertOneDocument(result, 3)
        self.assertEqual(doc["verdict"]["kind"], "target")
        self.assertIn("said-before-raising", result.stderr, result.describe())

    def test_scan_json(self):
        directory = self.temp_dir()
        with open(os.path.join(directory, "psleak_printing.py"), "w") as f:
            f.write(f"{PRINTS_SETUP}\n"
                    "print('from-python' + '-print')\n"
                    "def shout():\n"
                    f"    {PRINTS}\n")
        result = self.psleak("scan", "psleak_printing", "--json", cwd=directory)
        doc = self.assertOneDocument(result, EXIT_CLEAN)
        self.assertScanDocument(doc, "scan", result.describe())
        self.assertEqual([r["target"]["spec"] for r in doc["results"]], ["psleak_printing:shout"])
        self.assertPrintedToStderr(result)

    def test_targets_file_json(self):
        directory = self.temp_dir()
        path = os.path.join(directory, "targets.json")
        with open(path, "w") as f:
            json.dump([{"setup": [PRINTS_SETUP], "expr": PRINTS},
                       {"target": "json:dumps", "args": ["1"]}], f)
        result = self.psleak("run", "--targets", path, "--json")
        doc = self.assertOneDocument(result, EXIT_CLEAN)
        self.assertScanDocument(doc, "run", result.describe())
        self.assertEqual(len(doc["results"]), 2, result.describe())
        self.assertPrintedToStderr(result)

    def test_closing_stdout_does_not_swallow_the_report(self):
        for extra in ([], ["--json"]):
            result = self.psleak("run", "-s", "import os; os.close(1)", "json:dumps", "--args", "1", *extra)
            if extra:
                self.assertOneDocument(result, EXIT_CLEAN)
            else:
                self.assertExitCode(result, EXIT_CLEAN)
                self.assertTrue(result.stdout_lines[-1].startswith("OK: "), result.describe())

    def test_redirecting_stdout_does_not_take_the_report(self):
        redirect = "import os; os.dup2(os.open(os.devnull, os.O_WRONLY), 1)"
        result = self.psleak("run", "-s", redirect, "-e", "print('gone')", "--json")
        self.assertOneDocument(result, EXIT_CLEAN)


class EndingTheProcess(HostileTestCase):
    """Without --isolate the target can end psleak's own process: psleak still says what
    happened, where, and exits 5, never with the target's code."""

    CASES = {
        "os._exit(3)": ("import os", "os._exit(3)", "_exit(3)"),
        "os._exit(0)": ("import os", "os._exit(0)", "_exit(0)"),
        "C exit(0)": ("import ctypes; libc = ctypes.CDLL(None)", "libc.exit(0)", "exit(0)"),
    }

    def test_text(self):
        for name, (setup, expr, said) in self.CASES.items():
            with self.subTest(name):
                result = self.psleak("run", "-s", setup, "-e", expr)
                where = result.describe()
                self.assertExitCode(result, EXIT_CRASHED)
                errors = [l for l in result.stderr_lines if l.startswith("psleak: error: ")]
                self.assertEqual(len(errors), 1, where)
                self.assertIn(f"the target ended psleak's process: {said}", errors[0], where)
                self.assertIn("before run 1, during the warm-up calls", errors[0], where)
                self.assertIn("--isolate", errors[0], where)

    def test_json(self):
        for name, (setup, expr, said) in self.CASES.items():
            with self.subTest(name):
                result = self.psleak("run", "-s", setup, "-e", expr, "--json")
                doc = self.assertOneDocument(result, EXIT_CRASHED)
                self.assertRunDocument(doc, result)
                self.assertEqual(doc["verdict"]["kind"], "crash", result.describe())
                self.assertIn(said, doc["verdict"]["message"], result.describe())

    def test_exit_in_run_2_keeps_run_1(self):
        # A leak, so that run 2 comes; call 300 is in run 2 (10 warm-up calls, one for
        # the resource checks, 200 in run 1).
        setup = "import os; keep = []; n = [0]"
        expr = "keep.append(bytearray(1000)); n[0] += 1; n[0] == 300 and os._exit(0)"
        result = self.psleak("run", "-s", setup, "-e", expr, "--json")
        doc = self.assertOneDocument(result, EXIT_CRASHED)
        self.assertRunDocument(doc, result)
        self.assertEqual([r["run"] for r in doc["runs"]], [1], result.describe())
        self.assertIn("during run 2 (after 1 complete run)", doc["verdict"]["message"])

    def test_exit_from_a_thread(self):
        setup = "import os, threading"
        expr = "t = threading.Thread(target=os._exit, args=(0,)); t.start(); t.join()"
        result = self.psleak("run", "-s", setup, "-e", expr, "--json")
        self.assertOneDocument(result, EXIT_CRASHED)

    def test_exit_in_a_target_forked_child_is_its_own(self):
        # The usual fork-and-_exit pattern: the child's os._exit ends the child only,
        # silently; psleak's check goes on.
        expr = "pid = os.fork()\nif pid == 0: os._exit(0)\nos.waitpid(pid, 0)"
        result = self.psleak("run", "-s", "import os", "-e", expr, "--json", "--checks", "memory")
        self.assertOneDocument(result, EXIT_CLEAN)


    def test_failed_exec_in_a_subprocess_is_not_an_exit(self):
        # subprocess.Popen forks with vfork(): the child shares psleak's memory, runs no
        # fork handlers, and calls _exit() when its exec fails. That is its own end,
        # not the target's; it once took the last words and left psleak waiting forever.
        expr = "try: subprocess.Popen(['/nonexistent/program'])\nexcept OSError: pass"
        result = self.psleak("run", "-s", "import subprocess", "-e", expr, "--json",
                             "--checks", "memory", "--retries", "2", timeout=60)
        self.assertIn(result.returncode, (EXIT_CLEAN, EXIT_LEAK), result.describe())
        doc = self.assertOneDocument(result, result.returncode)
        self.assertNotEqual(doc["verdict"]["kind"], "crash", result.describe())


class Forks(HostileTestCase):
    """A child the target forks and that returns into psleak's loop leaves at once: one
    report, from the parent."""

    # Forks once, on the 50th call; the child returns normally.
    SETUP = "import os; n = [0]"
    EXPR = "n[0] += 1\nif n[0] == 50: os.fork()"

    def test_text_has_one_verdict(self):
        for extra in ([], ["--isolate"]):
            with self.subTest(extra=extra):
                result = self.psleak("run", "-s", self.SETUP, "-e", self.EXPR, *extra)
                where = result.describe()
                self.assertExitCode(result, EXIT_CLEAN)
                verdicts = [l for l in result.stdout_lines if not RUN_LINE.match(l)]
                self.assertEqual(len(verdicts), 1, where)
                runs = [int(RUN_LINE.match(l).group(1)) for l in result.stdout_lines if RUN_LINE.match(l)]
                self.assertEqual(runs, list(range(1, len(runs) + 1)), where)

    def test_json_is_one_document(self):
        for extra in ([], ["--isolate"]):
            with self.subTest(extra=extra):
                result = self.psleak("run", "-s", self.SETUP, "-e", self.EXPR, "--json", *extra)
                self.assertOneDocument(result, EXIT_CLEAN)

    def test_fork_in_setup(self):
        result = self.psleak("run", "-s", "import os; os.fork()", "json:dumps", "--args", "1", "--json")
        self.assertOneDocument(result, EXIT_CLEAN)


def wait4(argv, cwd, address_space):
    """Runs argv under an address-space limit; returns (exit code, stdout, stderr, peak
    resident set in bytes of the process and the children it waited for)."""
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, cwd=cwd, env=clean_environment(), stdin=subprocess.DEVNULL,
                                stdout=out, stderr=err, preexec_fn=limit)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return (proc.returncode, out.read().decode(errors="replace"),
                err.read().decode(errors="replace"), usage.ru_maxrss * 1024)


class MaxGrowth(HostileTestCase):
    """--max-growth holds over every call psleak makes. The target keeps 32 MiB a call;
    the limit is 64 MiB. Under a 1 GiB address-space cap a guard that lets calls through
    ends in MemoryError (exit 3) instead of taking the machine down, and the peak memory
    read from the kernel must stay within the limit plus three calls' worth."""

    MIB = 1 << 20
    PER_CALL = 32 * MIB
    LIMIT = 64 * MIB
    MARGIN = 3 * PER_CALL
    CAP = 1 << 30
    SETUP = "keep = []"
    EXPR = "keep.append(bytearray(32 << 20))"

    def baseline_peak(self):
        code, out, _, peak = wait4([psleak_binary(), "run", "-s", self.SETUP, "-e", "pass", "--json"],
                                   fixture_dir(), self.CAP)
        self.assertEqual(code, EXIT_CLEAN, out)
        return peak

    def check(self, *extra, runs):
        argv = [psleak_binary(), "run", "-s", self.SETUP, "-e", self.EXPR,
                "--max-growth", "64M", "--json", *extra]
        code, out, err, peak = wait4(argv, fixture_dir(), self.CAP)
        where = f"\n$ {' '.join(argv)}\nexit code {code}\n{out}\n{err}"
        self.assertEqual(code, EXIT_LEAK, where)
        doc = json.loads(out)
        self.assertRunDocument(doc)
        self.assertEqual(doc["verdict"]["exit_code"], EXIT_LEAK, where)
        self.assertEqual(doc["verdict"]["kind"], "memory", where)
        self.assertIn("memory grew past --max-growth 64.0 MiB", doc["verdict"]["message"], where)
        self.assertTrue(doc["verdict"]["growing"], where)
        self.assertEqual([r["run"] for r in doc["runs"]], list(range(1, runs + 1)), where)
        self.assertLessEqual(peak, self.baseline_peak() + self.LIMIT + self.MARGIN,
                             f"peak resident memory {peak / self.MIB:.0f} MiB{where}")
        return doc

    def test_warm_up(self):
        doc = self.check(runs=0)
        self.assertIn("during the warm-up calls", doc["verdict"]["message"])

    def test_warm_up_isolated(self):
        doc = self.check("--isolate", runs=0)
        self.assertIn("during the warm-up calls", doc["verdict"]["message"])

    def test_run_1(self):
        doc = self.check("--warmup", "0", "--checks", "memory", runs=1)
        self.assertIn("in run 1", doc["verdict"]["message"])
        self.assertLessEqual(doc["runs"][0]["calls"], 3)

    def test_reference_counts(self):
        doc = self.check("--warmup", "0", "--checks", "refcount", runs=0)
        self.assertIn("during the reference-count calls", doc["verdict"]["message"])

    def test_text(self):
        argv = [psleak_binary(), "run", "-s", self.SETUP, "-e", self.EXPR, "--max-growth", "64M"]
        code, out, err, _ = wait4(argv, fixture_dir(), self.CAP)
        self.assertEqual(code, EXIT_LEAK, out + err)
        self.assertRegex(out.splitlines()[-1], r"^LEAK: memory grew past --max-growth", out)


class ReportWrites(HostileTestCase, ScanAssertions):
    """Every write of the report is checked, and report files stay where they were named."""

    def run_to(self, stdout_path, *args):
        with open(stdout_path, "w") as out:
            completed = subprocess.run([psleak_binary(), *args], cwd=fixture_dir(),
                                       env=clean_environment(), stdin=subprocess.DEVNULL,
                                       stdout=out, stderr=subprocess.PIPE, text=True, timeout=120)
        return completed

    def test_full_stdout_is_an_error(self):
        for extra in (["--json"], []):
            with self.subTest(extra=extra):
                completed = self.run_to("/dev/full", "run", "json:dumps", "--args", "1", *extra)
                self.assertEqual(completed.returncode, EXIT_INTERNAL, completed.stderr)
                errors = [l for l in completed.stderr.splitlines() if l.startswith("psleak: error: ")]
                self.assertEqual(len(errors), 1, completed.stderr)
                self.assertIn("cannot write the report to stdout", errors[0])
                self.assertIn("No space left on device", errors[0])

    def test_report_files_stay_where_named_when_the_target_changes_directory(self):
        directory = self.temp_dir()
        elsewhere = self.temp_dir()
        result = self.psleak("run", "-s", f"import os; os.chdir({elsewhere!r})", "json:dumps",
                             "--args", "1", "--junit", "report.xml", "--plot", "plot.svg",
                             "--json", cwd=directory)
        self.assertOneDocument(result, EXIT_CLEAN)
        for name in ("report.xml", "plot.svg"):
            self.assertGreater(os.path.getsize(os.path.join(directory, name)), 0, name)
        self.assertEqual(os.listdir(elsewhere), [])

    # The target turns the report file into a directory: writing it at the end fails.
    @staticmethod
    def sabotage(path):
        return f"import os; os.remove({path!r}); os.mkdir({path!r})"

    def test_failed_junit_file_run(self):
        path = os.path.join(self.temp_dir(), "report.xml")
        args = ["run", "-s", self.sabotage(path), "json:dumps", "--args", "1", "--junit", path]
        result = self.psleak(*args, "--json")
        doc = self.assertOneDocument(result, EXIT_INTERNAL)
        self.assertEqual(doc["verdict"]["kind"], "output", result.describe())
        self.assertIn(f"--junit {path}: cannot write the file", doc["verdict"]["message"])
        self.assertIn("OK: ", doc["verdict"]["details"], result.describe())

        os.rmdir(path)
        result = self.psleak(*args)
        self.assertExitCode(result, EXIT_INTERNAL)
        self.assertTrue(result.stdout_lines[-1].startswith("OK: "), result.describe())
        errors = [l for l in result.stderr_lines if l.startswith("psleak: error: ")]
        self.assertEqual(len(errors), 1, result.describe())
        self.assertIn(f"--junit {path}: cannot write the file", errors[0])

    def test_failed_plot_file_targets(self):
        directory = self.temp_dir()
        plot = os.path.join(directory, "plot.svg")
        targets = os.path.join(directory, "targets.txt")
        with open(targets, "w") as f:
            f.write(f"json:dumps --args 1 -s {json.dumps(self.sabotage(plot))}\n")
        result = self.psleak("run", "--targets", targets, "--plot", plot, "--json")
        doc = self.assertOneDocument(result, EXIT_INTERNAL)
        self.assertScanDocument(doc, "run", result.describe())
        self.assertIn(f"--plot {plot}: cannot write the file", doc["output_error"])


class HelperProcesses(HostileTestCase):
    """A helper process the target starts and leaves running must not hold the check up:
    psleak returns once the verdict is in, names the helper and kills it."""

    SETUP = "import subprocess; helpers = []"
    EXPR = "helpers or helpers.append(subprocess.Popen(['sleep', '600']))"

    def assertHelperKilled(self, result):
        warnings = [l for l in result.stderr_lines if "process running" in l]
        self.assertEqual(len(warnings), 1, result.describe())
        match = re.search(r"the target left 1 process running \((\d+) \(sleep\)\)", warnings[0])
        self.assertIsNotNone(match, result.describe())
        pid = int(match.group(1))
        # SIGKILL was sent; the kernel takes a moment to carry it out.
        for _ in range(300):
            try:
                with open(f"/proc/{pid}/stat") as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
            except FileNotFoundError:
                return
            if state in ("Z", "X"):
                return
            time.sleep(0.1)
        self.fail(f"helper {pid} still running (state {state}){result.describe()}")

    def test_isolate(self):
        # A helper holding psleak's pipes open past the 120 s limit of run_psleak would
        # fail this test with TimeoutExpired.
        result = self.psleak("run", "-s", self.SETUP, "-e", self.EXPR, "--isolate", "--json")
        self.assertOneDocument(result, EXIT_CLEAN)
        self.assertHelperKilled(result)

    def test_timeout(self):
        result = self.psleak("run", "-s", self.SETUP, "-e", self.EXPR, "--timeout", "100")
        self.assertExitCode(result, EXIT_CLEAN)
        self.assertHelperKilled(result)

    def test_after_a_crash(self):
        # The child dies; its helper still holds the pipe: psleak reports the crash.
        setup = self.SETUP + "; import ctypes"
        expr = self.EXPR + "; ctypes.string_at(0)"
        result = self.psleak("run", "-s", setup, "-e", expr, "--isolate", "--json")
        doc = self.assertOneDocument(result, EXIT_CRASHED)
        self.assertIn("SIGSEGV", doc["verdict"]["message"], result.describe())
        self.assertHelperKilled(result)


class CrashPhase(HostileTestCase):
    def test_crash_in_the_middle_of_run_1(self):
        # Call 100 of the target: after the 10 warm-up calls, inside run 1's 200.
        setup = "import ctypes; n = [0]"
        expr = "n[0] += 1; n[0] == 100 and ctypes.string_at(0)"
        result = self.psleak("run", "-s", setup, "-e", expr, "--checks", "memory", "--isolate", "--json")
        doc = self.assertOneDocument(result, EXIT_CRASHED)
        message = doc["verdict"]["message"]
        self.assertIn("SIGSEGV", message, result.describe())
        self.assertIn("during run 1", message, result.describe())
        self.assertNotIn("before run 1", message, result.describe())
        self.assertEqual(doc["runs"], [], result.describe())


if __name__ == "__main__":
    unittest.main()
