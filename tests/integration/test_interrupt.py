"""Ctrl-C: the test sends psleak SIGINT mid-check, as a terminal would; psleak stops
between two calls, prints what it measured so far (the run lines, or the scan table up
to there) with the verdict "interrupted", and exits 130. With --isolate and in a scan it
passes the interrupt on to the child process checking the target. SIGTERM (what CI
runners send) does the same with the verdict "terminated" and exit code 143. A target
that replaces psleak's SIGINT handler gets it put back between calls."""

import json
import os
import signal
import subprocess
import tempfile
import threading
import time
import unittest

from psleak_helpers import (EXIT_INTERRUPTED, EXIT_TERMINATED, RUN_LINE, PsleakTestCase,
                            ScanAssertions, ScanTable, clean_environment, fixture_dir,
                            psleak_binary)

# About 0.4 s a run on a quick machine, each run longer than the one before, and (with
# the default --max-growth) done after about 3 s: still running when SIGINT comes.
SLOW_LEAK = ["run", "leakfix:leak_malloc_1k", "--no-hooks", "--calls", "200000"]
# How long psleak may take to stop once interrupted.
STOP_SECONDS = 20


class Interrupted:
    """psleak started in the background, its output read line by line as it comes."""

    def __init__(self, args):
        self.argv = [psleak_binary(), *args]
        self.proc = subprocess.Popen(
            self.argv, cwd=fixture_dir(), env=clean_environment(), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace")
        self.start = time.monotonic()
        self.stdout_lines, self.stderr_lines = [], []
        self._seen = threading.Event()
        self._wanted = None
        self._lock = threading.Lock()
        self._readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout, self.stdout_lines)),
            threading.Thread(target=self._read, args=(self.proc.stderr, self.stderr_lines)),
        ]
        for reader in self._readers:
            reader.daemon = True
            reader.start()

    def _read(self, stream, lines):
        for line in stream:
            with self._lock:
                lines.append(line)
                if self._wanted and self._wanted(line):
                    self._seen.set()

    def wait_for_line(self, predicate, timeout):
        """Waits until a line (on stdout or stderr) satisfies predicate; False on timeout."""
        with self._lock:
            self._wanted = predicate
            if any(predicate(line) for line in self.stdout_lines + self.stderr_lines):
                return True
        return self._seen.wait(timeout)

    def interrupt(self, signum=signal.SIGINT):
        self.signalled_after = time.monotonic() - self.start
        self.still_running = self.proc.poll() is None
        self.proc.send_signal(signum)

    def finish(self, timeout=STOP_SECONDS):
        """Waits for psleak to end (killing it if it does not) and returns its exit code."""
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.returncode = None
        self.stopped_after = time.monotonic() - self.start
        for reader in self._readers:
            reader.join(10)
        self.stdout = "".join(self.stdout_lines)
        self.stderr = "".join(self.stderr_lines)
        return self.returncode

    def describe(self):
        return (f"\n$ {' '.join(self.argv)}\nsignal after {self.signalled_after:.2f} s "
                f"(running: {self.still_running}), ended after {self.stopped_after:.2f} s\n"
                f"exit code: {self.returncode}\n--- stdout ---\n{self.stdout}"
                f"--- stderr ---\n{self.stderr}--------------")

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


def is_run_line(line):
    return bool(RUN_LINE.match(line))


class InterruptTestCase(PsleakTestCase, ScanAssertions):
    def interrupted(self, args, wait_for=None, wait_seconds=1.5, stop_seconds=STOP_SECONDS,
                    signum=signal.SIGINT):
        """Starts psleak ARGS, waits until a line satisfies wait_for and then wait_seconds
        more (or only wait_seconds), sends `signum`, and waits for psleak to end."""
        run = Interrupted(args)
        self.addCleanup(run.close)
        if wait_for is not None:
            self.assertTrue(run.wait_for_line(wait_for, 30), "the awaited line never came")
        time.sleep(wait_seconds)
        run.interrupt(signum)
        run.finish(stop_seconds)
        where = run.describe()
        self.assertTrue(run.still_running, f"psleak ended before the signal: too fast a target{where}")
        self.assertIsNotNone(run.returncode, f"psleak did not stop after the signal{where}")
        expected = EXIT_TERMINATED if signum == signal.SIGTERM else EXIT_INTERRUPTED
        self.assertEqual(run.returncode, expected, f"wrong exit code{where}")
        return run, where

    def interrupted_json(self, args, signum=signal.SIGINT):
        """interrupted() with --json, a second in; returns (run, where, the document)."""
        run, where = self.interrupted(args + ["--json"], wait_seconds=1.0, signum=signum)
        try:
            doc = json.loads(run.stdout)
        except ValueError as e:
            self.fail(f"stdout is not one JSON document ({e}){where}")
        return run, where, doc

    def check_run_json(self, args, signum=signal.SIGINT):
        """A run stopped by `signum`: one document saying so, nothing on stderr."""
        run, where, doc = self.interrupted_json(args, signum)
        kind, code, name = (("terminated", EXIT_TERMINATED, "SIGTERM") if signum == signal.SIGTERM
                            else ("interrupted", EXIT_INTERRUPTED, "Ctrl-C"))
        self.assertRunDocument(doc)
        self.assertFields(doc["verdict"], {"status": "error", "kind": kind, "exit_code": code},
                          where)
        self.assertIn(name, doc["verdict"]["message"], where)
        self.assertEqual(doc["verdict"]["growing"], [], where)
        self.assertEqual(run.stderr, "", where)


class RunInterrupted(InterruptTestCase):
    def check_text(self, args):
        run, where = self.interrupted(args, wait_for=is_run_line, wait_seconds=0)
        lines = run.stdout.splitlines()
        self.assertGreaterEqual(len(lines), 2, where)
        # The runs so far, then the verdict; no error on stderr.
        self.assertTrue(all(RUN_LINE.match(line) for line in lines[:-1]), where)
        self.assertEqual([int(RUN_LINE.match(line).group(1)) for line in lines[:-1]],
                         list(range(1, len(lines))), where)
        self.assertRegex(lines[-1], r"^INTERRUPTED: stopped by Ctrl-C", where)
        self.assertNotIn("psleak: error", run.stderr, where)
        self.assertLess(run.stopped_after - run.signalled_after, 10, where)

    def test_run(self):
        self.check_text(SLOW_LEAK)

    def test_run_isolated(self):
        self.check_text(SLOW_LEAK + ["--isolate"])

    def test_run_json(self):
        self.check_run_json(SLOW_LEAK)

    def test_run_isolated_json(self):
        self.check_run_json(SLOW_LEAK + ["--isolate"])


# clean_calloc ends in a fraction of a second, leak_malloc_1k (with these settings) takes
# about 3 s, leak_realloc never starts: the scan is interrupted during its second target.
SLOW_SCAN = ["scan", "leakfix", "--include", "clean_calloc", "--include", "leak_malloc_1k",
             "--include", "leak_realloc", "--no-hooks", "--calls", "200000", "-j", "1"]


class ScanInterrupted(InterruptTestCase):
    def test_scan(self):
        # Half a second more, so that SIGINT comes once leak_malloc_1k has started.
        run, where = self.interrupted(
            SLOW_SCAN, wait_for=lambda line: line.startswith("leakfix:clean_calloc "),
            wait_seconds=0.5)
        try:
            table = ScanTable(run.stdout)
        except AssertionError as e:
            self.fail(f"{e}{where}")
        # The target done, the one interrupted; not the one never started.
        self.assertEqual([(r["target"], r["verdict"], r["kind"]) for r in table.rows], [
            ("leakfix:clean_calloc", "clean", "-"),
            ("leakfix:leak_malloc_1k", "stopped", "interrupted"),
        ], where)
        self.assertIn("Ctrl-C", table.reasons["leakfix:leak_malloc_1k"], where)
        self.assertTrue(table.summary["interrupted"], where)
        self.assertIn("INTERRUPTED", table.summary_line, where)
        self.assertEqual(table.summary["targets"], 2, where)
        self.assertNotIn("leakfix:leak_realloc", run.stdout + run.stderr, where)

    def test_scan_json(self):
        run, where, doc = self.interrupted_json(SLOW_SCAN)
        self.assertScanDocument(doc, "scan", where)
        self.assertEqual(doc["exit_code"], EXIT_INTERRUPTED, where)
        self.assertTrue(doc["summary"]["interrupted"], where)
        specs = [r["target"]["spec"] for r in doc["results"]]
        self.assertNotIn("leakfix:leak_realloc", specs, where)
        self.assertEqual(doc["results"][-1]["verdict"]["kind"], "interrupted", where)


class Terminated(InterruptTestCase, ScanAssertions):
    """SIGTERM: like Ctrl-C, with its own verdict kind and exit code 143."""

    def test_run_json(self):
        self.check_run_json(SLOW_LEAK, signal.SIGTERM)

    def test_run_isolated_json(self):
        self.check_run_json(SLOW_LEAK + ["--isolate"], signal.SIGTERM)

    def test_run_text(self):
        run, where = self.interrupted(SLOW_LEAK, wait_for=is_run_line, wait_seconds=0,
                                      signum=signal.SIGTERM)
        lines = run.stdout.splitlines()
        self.assertTrue(all(RUN_LINE.match(line) for line in lines[:-1]), where)
        self.assertRegex(lines[-1], r"^TERMINATED: stopped by SIGTERM", where)

    def check_batch_json(self, args, command):
        run, where, doc = self.interrupted_json(args, signal.SIGTERM)
        self.assertScanDocument(doc, command, where)
        self.assertEqual(doc["exit_code"], EXIT_TERMINATED, where)
        self.assertTrue(doc["summary"]["interrupted"], where)
        self.assertEqual(doc["results"][-1]["verdict"]["kind"], "terminated", where)

    def test_scan_json(self):
        self.check_batch_json(SLOW_SCAN, "scan")

    def test_targets_json(self):
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            f.write("leakfix:clean_calloc\nleakfix:leak_malloc_1k\nleakfix:leak_realloc\n")
        self.addCleanup(os.unlink, f.name)
        self.check_batch_json(["run", "--targets", f.name, "--no-hooks", "--calls", "200000"],
                              "run")


# A slow leak whose setup puts its own handler in place of psleak's for SIGINT.
REPLACED = ["run", "-s", "import signal, time, leakfix; signal.signal(signal.SIGINT, signal.SIG_IGN)",
            "-e", "time.sleep(0.002); leakfix.leak_malloc_1k()", "--no-hooks"]


class ReplacedHandler(InterruptTestCase):
    def test_handler_put_back_and_said(self):
        run, where, doc = self.interrupted_json(REPLACED)
        self.assertEqual(doc["verdict"]["kind"], "interrupted", where)
        self.assertIn("replaced psleak's SIGINT handler", run.stderr, where)

    def test_keyboard_interrupt_from_the_target_is_an_interrupt(self):
        # The target's own handler raises KeyboardInterrupt inside its code.
        args = ["run", "-s", "import signal, time, leakfix",
                "-e", "signal.signal(signal.SIGINT, signal.default_int_handler); "
                      "time.sleep(0.002); leakfix.leak_malloc_1k()", "--no-hooks"]
        run, where, doc = self.interrupted_json(args)
        self.assertEqual(doc["verdict"]["kind"], "interrupted", where)


class HungTargetInterrupted(InterruptTestCase):
    """Ctrl-C must also end a check whose target never returns to psleak's call loop:
    the user gets the report so far and 130, not a wait for --timeout."""

    # Known bug: the parent passes SIGINT on to the child and waits for its report, but a
    # target stuck in native code never gets back to the call loop that would check the
    # flag; psleak waits for --timeout (none here; 120 s in a scan), and a second Ctrl-C
    # kills it with no report at all. Remove the decorator once a grace period after
    # the forwarded SIGINT kills the child and reports "interrupted".
    def test_isolated_hang(self):
        run, where = self.interrupted(["run", "leakfix:hang_forever", "--isolate"],
                                      wait_seconds=1.0, stop_seconds=6)
        self.assertIn("INTERRUPTED", run.stdout, where)


if __name__ == "__main__":
    unittest.main()
