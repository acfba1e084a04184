"""Helpers for psleak's integration tests: run the real binary, parse its JSON.

The tests are run by ctest (see CMakeLists.txt), which passes:

* PSLEAK_BINARY       the psleak executable under test
* PSLEAK_FIXTURE_DIR  the directory holding the built fixtures (leakfix, leakfix_py, ...)
* PSLEAK_PYTHON       the python psleak embeds (for making venvs); defaults to sys.executable

To run one module by hand, from this directory:

    PSLEAK_BINARY=/tmp/b/app/psleak PSLEAK_FIXTURE_DIR=/tmp/b/fixtures \\
        /usr/bin/python3 -B -m unittest -v test_memory_fixtures
"""

import json
import os
import re
import subprocess
import sys
import unittest

# Seconds one psleak invocation may take. Fixtures finish in well under a second;
# this only guards against a hang.
DEFAULT_TIMEOUT = 120

EXIT_CLEAN = 0
EXIT_LEAK = 1
EXIT_USAGE = 2
EXIT_TARGET = 3
EXIT_INTERNAL = 4

# Top-level keys of `psleak run --json`, in order (lib/report/json_report.cpp).
RUN_DOCUMENT_KEYS = [
    "schema_version",
    "psleak_version",
    "command",
    "target",
    "interpreter",
    "platform",
    "settings",
    "runs",
    "verdict",
    "calls_made",
    "duration_seconds",
]
VERDICT_KEYS = ["status", "kind", "message", "details", "growing", "exit_code"]
RUN_KEYS = ["run", "calls", "deltas", "per_call", "bytes_per_call"]
# The memory metrics in bytes that Linux/glibc always has. Documents may carry more
# (the schema grows); the tests check these and tolerate others.
METRICS = ["heap_used", "mmap_used", "heap_total", "rss", "uss", "vms"]

ERROR_PREFIX = "psleak: error: "

# Environment variables that would change which Python psleak adopts or how it
# behaves; the tests set what they need explicitly.
_SCRUBBED_ENV = ("VIRTUAL_ENV", "CONDA_PREFIX", "__PYVENV_LAUNCHER__")

RUN_LINE = re.compile(r"^Run #\s*(\d+): ")

# The memory leak verdict's message: growth that never stopped for --retries runs, or
# (with exact allocation counters) growth in proportion to the calls, found after at
# least PROPORTIONAL_RUNS runs.
LEAK_MESSAGE = re.compile(
    r"^memory (kept increasing after|grew in proportion to the calls in) (\d+) runs? \((.+)\)$")
PROPORTIONAL_RUNS = 3


def _required_env(name):
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(
            f"{name} is not set: run these tests through ctest, or see {__file__} for how "
            "to run them by hand"
        )
    return value


def psleak_binary():
    path = _required_env("PSLEAK_BINARY")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"PSLEAK_BINARY={path} is not an executable file (not built?)")
    return path


def fixture_dir():
    path = _required_env("PSLEAK_FIXTURE_DIR")
    if not os.path.isdir(path):
        raise RuntimeError(f"PSLEAK_FIXTURE_DIR={path} is not a directory (fixtures not built?)")
    return path


def embedded_python():
    """The python psleak embeds (Debian's /usr/bin/python3 by default)."""
    return os.environ.get("PSLEAK_PYTHON") or sys.executable


def clean_environment(extra=None):
    """os.environ without anything that points Python elsewhere, plus `extra`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PYTHON") and k not in _SCRUBBED_ENV
    }
    # Keep the fixture directory free of __pycache__.
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["LC_ALL"] = "C.UTF-8"
    if extra:
        env.update(extra)
    return env


class Result:
    """The outcome of one psleak invocation."""

    def __init__(self, argv, completed):
        self.argv = argv
        self.returncode = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr
        self._doc = None

    @property
    def command_line(self):
        return " ".join(_shell_quote(a) for a in self.argv)

    def describe(self):
        """A readable dump for assertion messages."""
        return (
            f"\n$ {self.command_line}\nexit code: {self.returncode}\n"
            f"--- stdout ---\n{self.stdout}--- stderr ---\n{self.stderr}--------------"
        )

    @property
    def doc(self):
        """stdout parsed as exactly one JSON document (raises ValueError otherwise)."""
        if self._doc is None:
            self._doc = json.loads(self.stdout)
        return self._doc

    @property
    def stdout_lines(self):
        return self.stdout.splitlines()

    @property
    def stderr_lines(self):
        return self.stderr.splitlines()


def _shell_quote(arg):
    if re.fullmatch(r"[A-Za-z0-9_./:=+-]+", arg):
        return arg
    return "'" + arg.replace("'", "'\\''") + "'"


def run_psleak(*args, env=None, cwd=None, timeout=DEFAULT_TIMEOUT):
    """Runs psleak with `args` in the fixture directory (psleak puts its cwd first on
    sys.path). `env` adds to (or, with value None, removes from) a clean environment."""
    argv = [psleak_binary(), *args]
    environment = clean_environment()
    for key, value in (env or {}).items():
        if value is None:
            environment.pop(key, None)
        else:
            environment[key] = value
    completed = subprocess.run(
        argv,
        cwd=cwd or fixture_dir(),
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        timeout=timeout,
        check=False,
    )
    return Result(argv, completed)


def run_python(*args, timeout=DEFAULT_TIMEOUT):
    """Runs the embedded python (for making venvs and asking it about paths)."""
    return subprocess.run(
        [embedded_python(), *args],
        env=clean_environment(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        timeout=timeout,
        check=True,
    )


class PsleakTestCase(unittest.TestCase):
    """Assertions shared by the integration tests."""

    maxDiff = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Fail early and clearly when the environment is wrong.
        psleak_binary()
        fixture_dir()

    # -- running -------------------------------------------------------------------------

    def psleak(self, *args, **kwargs):
        return run_psleak(*args, **kwargs)

    def psleak_json(self, *args, expected_exit, **kwargs):
        """Runs `psleak ARGS --json`, checks the exit code and that stdout is exactly one
        JSON document whose verdict.exit_code agrees, and returns the document."""
        result = run_psleak(*args, "--json", **kwargs)
        self.assertExitCode(result, expected_exit)
        doc = self.assertOneJsonDocument(result)
        self.assertEqual(doc["verdict"]["exit_code"], expected_exit, result.describe())
        return doc

    # -- assertions ----------------------------------------------------------------------

    def assertExitCode(self, result, expected):
        self.assertEqual(result.returncode, expected, f"wrong exit code{result.describe()}")

    def assertOneJsonDocument(self, result):
        """stdout is one JSON object and nothing else; no error line on stderr."""
        try:
            doc = json.loads(result.stdout)
        except ValueError as e:
            self.fail(f"stdout is not exactly one JSON document ({e}){result.describe()}")
        self.assertIsInstance(doc, dict, result.describe())
        self.assertNotIn(
            "psleak: error", result.stderr, f"--json must not also print the error{result.describe()}"
        )
        return doc

    def assertKeysInOrder(self, obj, keys, where=""):
        """`obj` has `keys` in this order; fields added since (the schema grows) may sit
        between them."""
        self.assertIsInstance(obj, dict, where)
        actual = [k for k in obj if k in keys]
        self.assertEqual(actual, list(keys), f"fields missing or out of order{where}")

    def assertFields(self, obj, expected, where=""):
        """`obj` has at least the fields of `expected`, with these values."""
        self.assertIsInstance(obj, dict, where)
        self.assertEqual({k: obj.get(k, "<missing>") for k in expected}, expected, where)

    def assertRunDocument(self, doc, result=None):
        """The shape of a `psleak run --json` document."""
        where = result.describe() if result else json.dumps(doc, indent=2)
        self.assertKeysInOrder(doc, RUN_DOCUMENT_KEYS, where)
        self.assertEqual(doc["schema_version"], 1, where)
        self.assertEqual(doc["command"], "run", where)
        self.assertIsInstance(doc["psleak_version"], str, where)
        self.assertIsInstance(doc["runs"], list, where)
        self.assertVerdictShape(doc["verdict"], where)
        self.assertIsInstance(doc["duration_seconds"], (int, float), where)
        self.assertGreaterEqual(doc["duration_seconds"], 0, where)
        # null when the check's process ended before it could say (a crash, a timeout)
        if doc["calls_made"] is not None:
            self.assertIsInstance(doc["calls_made"], int, where)
            self.assertGreaterEqual(doc["calls_made"], sum(run["calls"] for run in doc["runs"]), where)
        for index, run in enumerate(doc["runs"], start=1):
            self.assertKeysInOrder(run, RUN_KEYS, where)
            self.assertEqual(run["run"], index, where)
            self.assertGreaterEqual(run["calls"], 1, where)
            self.assertEqual(set(run["deltas"]), set(run["per_call"]), where)
            for metric in METRICS:
                self.assertIn(metric, run["deltas"], where)
            for metric, delta in run["deltas"].items():
                self.assertIsInstance(metric, str, where)
                self.assertIsInstance(delta, int, where)
                self.assertAlmostEqual(run["per_call"][metric], delta / run["calls"], places=6,
                                       msg=where)

    def assertVerdictShape(self, verdict, where=""):
        self.assertKeysInOrder(verdict, VERDICT_KEYS, where)
        self.assertIn(verdict["status"], ("clean", "leak", "error"), where)
        self.assertIsInstance(verdict["message"], str, where)
        self.assertTrue(verdict["message"], where)
        self.assertIsInstance(verdict["growing"], list, where)
        for growth in verdict["growing"]:
            self.assertKeysInOrder(growth, ["metric", "growth", "per_call"], where)
            self.assertIsInstance(growth["metric"], str, where)

    def assertErrorDocument(self, doc, kind, exit_code, message_contains=(), result=None):
        where = result.describe() if result else json.dumps(doc, indent=2)
        self.assertEqual(doc["schema_version"], 1, where)
        self.assertIn("verdict", doc, where)
        self.assertVerdictShape(doc["verdict"], where)
        verdict = doc["verdict"]
        self.assertEqual(verdict["status"], "error", where)
        self.assertEqual(verdict["kind"], kind, where)
        self.assertEqual(verdict["exit_code"], exit_code, where)
        self.assertEqual(verdict["growing"], [], where)
        self.assertEqual(doc.get("runs", []), [], where)
        for text in _as_tuple(message_contains):
            self.assertIn(text, verdict["message"], where)

    def assertLeakRuns(self, message, runs, retries, where=""):
        """A memory leak `message` is consistent with the `runs` (a count) made and the
        --retries in force: growth that never stopped for all `retries` runs, or growth
        in proportion to the calls, decided after PROPORTIONAL_RUNS..retries runs."""
        match = LEAK_MESSAGE.match(message)
        self.assertIsNotNone(match, f"unexpected leak message {message!r}{where}")
        self.assertEqual(int(match.group(2)), runs, f"message and runs disagree{where}")
        if match.group(1) == "kept increasing after":
            self.assertEqual(runs, retries, where)
        else:
            self.assertGreaterEqual(runs, PROPORTIONAL_RUNS, where)
            self.assertLessEqual(runs, retries, where)

    def assertOneErrorLine(self, result, message_contains=(), traceback_allowed=False):
        """stderr starts with exactly one `psleak: error: ...` line. Only a target
        error may add a Python traceback after it. Nothing goes to stdout."""
        where = result.describe()
        lines = result.stderr_lines
        self.assertTrue(lines, f"nothing on stderr{where}")
        self.assertTrue(lines[0].startswith(ERROR_PREFIX), f"first stderr line{where}")
        self.assertEqual(
            sum(1 for line in lines if line.startswith("psleak: ")), 1,
            f"exactly one psleak: line on stderr{where}")
        if not traceback_allowed:
            self.assertEqual(len(lines), 1, f"a usage error is one line{where}")
        self.assertEqual(result.stdout, "", f"nothing on stdout on error{where}")
        for text in _as_tuple(message_contains):
            self.assertIn(text, lines[0], where)
        return lines[0][len(ERROR_PREFIX):]


def _as_tuple(value):
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def per_call_growth(verdict, metric):
    """per_call of `metric` in verdict.growing, or None if it is not growing."""
    for growth in verdict["growing"]:
        if growth["metric"] == metric:
            return growth["per_call"]
    return None


def total_per_call(doc, metric):
    """Growth of `metric` over all runs divided by all calls of the runs."""
    runs = doc["runs"]
    calls = sum(r["calls"] for r in runs)
    return sum(r["deltas"].get(metric, 0) for r in runs) / calls if calls else 0.0


# -- scan and batch output (psleak scan, psleak run --targets/--isolate) -------------------

EXIT_CRASHED = 5        # the target crashed or timed out (its own process)
EXIT_INTERRUPTED = 130  # Ctrl-C
EXIT_TERMINATED = 143   # SIGTERM

# The summary table of `psleak scan` and `psleak run --targets` (lib/report/format.cpp):
#   TARGET  VERDICT  KIND  GROWTH/CALL  TIME        the header
#   one row per target checked
#   TARGET: MESSAGE                                 why each non-clean one is what it is
#   Skipped:  /  "  SPEC  REASON" lines              the callables a scan could not call
#   N targets: C clean, L leaks, E errors; S skipped[; INTERRUPTED] (T s)
SCAN_HEADER = re.compile(r"^TARGET\s+VERDICT\s+KIND\s+GROWTH/CALL\s+TIME$")
SCAN_VERDICTS = ("clean", "LEAK", "CRASH", "TIMEOUT", "ERROR", "stopped")
SCAN_ROW = re.compile(
    r"^(?P<target>\S.*?)\s+(?P<verdict>" + "|".join(SCAN_VERDICTS) + r")\s+(?P<kind>\S+)\s+"
    r"(?P<growth>-|[+-]\d+(?:\.\d+)? \S+|[+-]\d+)\s+(?P<time>\d+\.\d\d) s$")
SCAN_SUMMARY = re.compile(
    r"^(?P<targets>\d+) targets?: (?P<clean>\d+) clean, (?P<leak>\d+) leaks?, "
    r"(?P<error>\d+) errors?; (?P<skipped>\d+) skipped(?P<interrupted>; INTERRUPTED)? "
    r"\((?P<seconds>\d+\.\d) s\)$")
SKIPPED_ROW = re.compile(r"^  (?P<target>\S+)\s+(?P<reason>\S.*)$")
# Without --show-skipped: "87 callables skipped (79 need arguments, 4 classes): --show-skipped lists them"
SKIPPED_COUNT = re.compile(
    r"^(?P<count>\d+) callables? skipped \((?P<kinds>[^()]+)\): --show-skipped lists them$")


# The kinds of reason of a skipped callable in the JSON ("kind").
SKIPPED_KINDS = ("arguments", "class", "not_function", "imported", "signature_unknown", "raised")


class ScanTable:
    """stdout of a scan (or of `run --targets`) split into its parts; raises
    AssertionError naming the first line that does not fit."""

    def __init__(self, text):
        lines = text.splitlines()
        if not lines or not SCAN_HEADER.match(lines[0]):
            raise AssertionError(f"no table header in {text!r}")
        i = 1
        self.rows = []  # dicts: target, verdict, kind, growth, time (float)
        while i < len(lines) and SCAN_ROW.match(lines[i]):
            row = SCAN_ROW.match(lines[i]).groupdict()
            row["time"] = float(row["time"])
            self.rows.append(row)
            i += 1
        self.reasons = {}  # target -> message, for every row that is not clean
        targets = [row["target"] for row in self.rows]
        while (i < len(lines) and lines[i] != "Skipped:" and not SCAN_SUMMARY.match(lines[i])
               and not SKIPPED_COUNT.match(lines[i])):
            owner = next((t for t in targets if lines[i].startswith(t + ": ")), None)
            if owner is None:
                raise AssertionError(f"unexpected table line {lines[i]!r} in\n{text}")
            self.reasons[owner] = lines[i][len(owner) + 2:]
            i += 1
        self.skipped = {}  # target -> reason (--show-skipped)
        self.skipped_count_line = None  # the one line counting them (without --show-skipped)
        if i < len(lines) and SKIPPED_COUNT.match(lines[i]):
            self.skipped_count_line = lines[i]
            i += 1
        elif i < len(lines) and lines[i] == "Skipped:":
            i += 1
            while i < len(lines) and SKIPPED_ROW.match(lines[i]):
                match = SKIPPED_ROW.match(lines[i])
                self.skipped[match.group("target")] = match.group("reason")
                i += 1
        if i != len(lines) - 1 or not SCAN_SUMMARY.match(lines[i]):
            raise AssertionError(f"the table does not end with its summary line:\n{text}")
        summary = SCAN_SUMMARY.match(lines[i]).groupdict()
        self.summary_line = lines[i]
        self.summary = {k: int(v) for k, v in summary.items() if k not in ("interrupted", "seconds")}
        self.summary["interrupted"] = bool(summary["interrupted"])
        self.summary["seconds"] = float(summary["seconds"])

    @property
    def targets(self):
        return [row["target"] for row in self.rows]

    def row(self, target):
        for row in self.rows:
            if row["target"] == target:
                return row
        raise AssertionError(f"no row for {target} in {self.targets}")


def scan_summary_counts(results):
    """summary counts {targets, clean, leak, error} of a list of JSON run documents."""
    statuses = [r["verdict"]["status"] for r in results]
    return {"targets": len(results), "clean": statuses.count("clean"),
            "leak": statuses.count("leak"), "error": statuses.count("error")}


class ScanAssertions:
    """Assertions for scan/batch output, mixed into a PsleakTestCase."""

    def assertScanTable(self, result):
        try:
            return ScanTable(result.stdout)
        except AssertionError as e:
            self.fail(f"{e}{result.describe()}")

    def assertScanDocument(self, doc, command="scan", where=""):
        """The shape of a `psleak scan --json` / `run --targets --json` document; every
        result a full run document; the summary agrees with the results."""
        self.assertKeysInOrder(doc, ["schema_version", "psleak_version", "command", "modules",
                                     "summary", "results", "skipped", "exit_code",
                                     "duration_seconds"], where)
        self.assertEqual(doc["schema_version"], 1, where)
        self.assertEqual(doc["command"], command, where)
        for result in doc["results"]:
            self.assertRunDocument(result)
            verdict = result["verdict"]
            expected_codes = {"clean": (EXIT_CLEAN,), "leak": (EXIT_LEAK,)}.get(
                verdict["status"], (EXIT_USAGE, EXIT_TARGET, EXIT_INTERNAL, EXIT_CRASHED,
                                    EXIT_INTERRUPTED, EXIT_TERMINATED))
            self.assertIn(verdict["exit_code"], expected_codes, where)
        for skipped in doc["skipped"]:
            self.assertEqual(list(skipped), ["target", "reason", "kind"], where)
            self.assertIn(skipped["kind"], SKIPPED_KINDS, where)
        expected = scan_summary_counts(doc["results"])
        expected["skipped"] = len(doc["skipped"])
        self.assertFields(doc["summary"], expected, where)
        self.assertIsInstance(doc["summary"]["interrupted"], bool, where)
        self.assertGreaterEqual(doc["duration_seconds"], 0, where)
