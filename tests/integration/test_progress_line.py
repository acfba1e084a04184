"""The progress line on a terminal: every step of a check is shown (starting Python,
import, warm-up, resource checks, runs, reference counts, the traced run and its
symbolization), it is taken off the screen before each result line, and scan and
run --targets show each target once. psleak runs on a pseudo-terminal here;
PSLEAK_PROGRESS_DELAY=0 makes it draw each step as it starts, so what is seen does not
depend on how fast the machine is."""

import os
import pty
import re
import select
import shutil
import subprocess
import tempfile
import time
import unittest

from psleak_helpers import DEFAULT_TIMEOUT, PsleakTestCase, clean_environment, fixture_dir, psleak_binary

CLEAR = "\r\x1b[K"
# A progress line as drawn: "  run 2: 40/400 calls, 0.3 s (1.2 s in all)".
STEP = re.compile(r"\r\x1b\[K  ([^\r\n]*?), \d+\.\d s \(\d+\.\d s in all\)")


def run_on_terminal(*args, env=None, cwd=None):
    """Runs psleak with stdout and stderr on one pseudo-terminal; returns (exit code,
    everything it wrote, as the terminal received it)."""
    environment = clean_environment({"PSLEAK_PROGRESS_DELAY": "0", "TERM": "xterm"})
    environment.pop("CI", None)
    environment.update(env or {})
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [psleak_binary(), *args],
        cwd=cwd or fixture_dir(),
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=secondary,
        stderr=secondary,
    )
    os.close(secondary)
    received = bytearray()
    deadline = time.monotonic() + DEFAULT_TIMEOUT
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([primary], [], [], 1.0)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # EIO: the terminal closed with the process
                break
            if not chunk:
                break
            received += chunk
    finally:
        os.close(primary)
        if process.poll() is None:
            process.kill()
    return process.wait(timeout=30), received.decode("utf-8", "replace").replace("\r\n", "\n")


def steps(output):
    """The progress lines drawn, in order (without their times)."""
    return STEP.findall(output)


def final_screen(output):
    """What stays on the screen: each line as the last "\\r" left it."""
    lines = []
    for line in output.split("\n"):
        kept = line.split("\r")[-1]
        lines.append(kept.replace("\x1b[K", ""))
    return [line for line in lines if line.strip()]


class ProgressLineTest(PsleakTestCase):
    def test_every_step_of_a_run_is_shown(self):
        code, output = run_on_terminal(
            "run", "time:sleep", "--args", "0.001", "--calls", "20", "--warmup", "4",
            "--color", "never")
        self.assertEqual(code, 0, output)
        shown = steps(output)
        names = [s.split(":")[0] for s in shown]
        for expected in ("starting Python", "importing the target", "warm-up",
                         "resource checks", "run 1"):
            self.assertIn(expected, names, output)
        self.assertLess(names.index("starting Python"), names.index("warm-up"))
        self.assertLess(names.index("warm-up"), names.index("run 1"))
        self.assertIn("warm-up: 4/4 calls", shown, output)
        self.assertIn("run 1: 20/20 calls", shown, output)
        # The run line and the verdict start on a clean line: the progress line was
        # taken off the screen before each.
        screen = final_screen(output)
        self.assertTrue(screen[0].startswith("Run # 1:"), screen)
        self.assertTrue(screen[-1].startswith("OK:"), screen)
        self.assertEqual(len(screen), 2, screen)

    def test_reference_counts_and_trace_are_shown(self):
        code, output = run_on_terminal(
            "run", "leakfix:leak_pylist", "--calls", "20", "--skip", "memory", "--trace",
            "--color", "never")
        self.assertIn(code, (0, 1), output)
        names = [s.split(":")[0] for s in steps(output)]
        self.assertIn("reference counts", names, output)
        self.assertIn("traced run", names, output)
        self.assertTrue(any(n.startswith("symbolizing ") and n.endswith(" addresses") for n in names),
                        names)

    def test_isolated_child_shows_its_steps(self):
        code, output = run_on_terminal(
            "run", "--isolate", "time:sleep", "--args", "0.001", "--calls", "20", "--warmup", "4",
            "--color", "never")
        self.assertEqual(code, 0, output)
        shown = steps(output)
        self.assertIn("warm-up: 4/4 calls", shown, output)
        self.assertIn("run 1: 20/20 calls", shown, output)
        screen = final_screen(output)
        self.assertTrue(screen[0].startswith("Run # 1:"), screen)

    def test_no_line_in_ci_or_with_json(self):
        code, output = run_on_terminal("run", "time:sleep", "--args", "0.001", "--calls", "20",
                                       env={"CI": "true"})
        self.assertEqual(code, 0, output)
        self.assertNotIn(CLEAR, output)
        code, output = run_on_terminal("run", "time:sleep", "--args", "0.001", "--calls", "20", "--json")
        self.assertEqual(code, 0, output)
        self.assertNotIn("\x1b[K", output)


class BatchOnTerminalTest(PsleakTestCase):
    def setUp(self):
        self.directory = tempfile.mkdtemp(prefix="psleak-progress-")
        self.addCleanup(shutil.rmtree, self.directory)
        with open(os.path.join(self.directory, "progmod.py"), "w") as module:
            module.write("def first():\n    return [1, 2]\n\n"
                         "def second():\n    return {'a': 1}\n")

    def test_scan_shows_each_target_once(self):
        code, output = run_on_terminal("scan", "progmod", "--calls", "20", "--color", "never",
                                       cwd=self.directory)
        self.assertEqual(code, 0, output)
        self.assertEqual(output.count("progmod:first"), 1, output)
        self.assertEqual(output.count("progmod:second"), 1, output)
        self.assertIn("scan: 2/2 targets checked", steps(output), output)
        self.assertTrue(final_screen(output)[0].startswith("TARGET"), output)

    def test_targets_file_shows_each_target_once(self):
        targets = os.path.join(self.directory, "targets.txt")
        with open(targets, "w") as f:
            f.write("progmod:first\nprogmod:second\n")
        code, output = run_on_terminal("run", "--targets", targets, "--calls", "20",
                                       "--color", "never", cwd=self.directory)
        self.assertEqual(code, 0, output)
        self.assertEqual(output.count("progmod:first"), 1, output)
        self.assertIn("run --targets: 2/2 targets checked", steps(output), output)


if __name__ == "__main__":
    unittest.main()
