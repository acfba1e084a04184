"""--junit FILE and --plot FILE.svg written by the real binary, for a scan and for one
run, read by real consumers: Python's XML parser (the JUnit schema's structure, counts
consistent with the results) and rsvg-convert (skipped when librsvg2-bin is not
installed; scripts/bootstrap.sh installs it). A path that cannot be written is a usage
error before anything runs. test_report_samples.py checks the same writers on
hand-built reports; this module checks what psleak itself writes."""

import os
import shutil
import subprocess
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET

from psleak_helpers import (EXIT_CLEAN, EXIT_CRASHED, EXIT_LEAK, EXIT_USAGE, PsleakTestCase,
                            run_psleak)
from test_report_samples import png_rgb_pixels, png_size, is_red

SVG_NS = "{http://www.w3.org/2000/svg}"
HIGHLIGHT = "#d62728"  # lib/report/svg_plot.cpp: the leak colour, used for nothing else

# A module that cannot be imported, a clean target, a crash, a leak, a skipped callable.
SCAN = ["scan", "psleak_no_such_module", "leakfix",
        "--include", "leak_malloc_1k", "--include", "clean_malloc_1k",
        "--include", "crash_segfault", "--include", "crash_on_call"]
# (classname, name, outcome) of each testcase, in order: the results checked. The
# callable the scan skipped is a testcase only with --junit-skipped.
SCAN_TESTCASES = [
    ("psleak.psleak_no_such_module", "psleak_no_such_module", "error"),
    ("psleak.leakfix", "leakfix:clean_malloc_1k", None),
    ("psleak.leakfix", "leakfix:crash_segfault", "error"),
    ("psleak.leakfix", "leakfix:leak_malloc_1k", "failure"),
]


def seconds(testcase, element):
    value = element.get("time")
    testcase.assertRegex(value or "", r"^[0-9]+(\.[0-9]+)?$", f"<{element.tag} time={value!r}>")
    return float(value)


def count(testcase, element, name):
    value = element.get(name)
    testcase.assertRegex(value or "", r"^[0-9]+$", f"<{element.tag} {name}={value!r}>")
    return int(value)


class ReportFilesTestCase(PsleakTestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory(prefix="psleak-reports-")
        self.addCleanup(tmp.cleanup)
        self.tmp = tmp.name

    def path(self, name):
        return os.path.join(self.tmp, name)

    def check_junit(self, path, suite_name):
        """The JUnit schema's structure: testsuites > testsuite > properties?, testcase*;
        a testcase holds at most one of failure, error, skipped; the counts of each
        element agree with its children. Returns (root, [(classname, name, outcome
        element or None)])."""
        root = ET.parse(path).getroot()
        self.assertEqual(root.tag, "testsuites")
        self.assertEqual(root.get("name"), "psleak")
        suites = list(root)
        self.assertEqual([s.tag for s in suites], ["testsuite"])
        suite = suites[0]
        self.assertEqual(suite.get("name"), suite_name)
        seconds(self, root)
        seconds(self, suite)
        tags = [child.tag for child in suite]
        if "properties" in tags:
            self.assertEqual(tags.index("properties"), 0)
            self.assertEqual(tags.count("properties"), 1)
            for prop in suite.find("properties"):
                self.assertEqual(prop.tag, "property")
                self.assertTrue(prop.get("name"))
                self.assertIsNotNone(prop.get("value"))
        counted = dict(tests=0, failures=0, errors=0, skipped=0)
        cases = []
        for case in suite:
            self.assertIn(case.tag, ("properties", "testcase", "system-out", "system-err"))
            if case.tag != "testcase":
                continue
            counted["tests"] += 1
            self.assertTrue(case.get("name"))
            self.assertTrue(case.get("classname", "").startswith("psleak"))
            self.assertGreaterEqual(seconds(self, case), 0)
            outcomes = [c for c in case if c.tag in ("failure", "error", "skipped")]
            self.assertEqual([c.tag for c in case if c not in outcomes], [])
            self.assertLessEqual(len(outcomes), 1, case.get("name"))
            outcome = outcomes[0] if outcomes else None
            if outcome is not None:
                self.assertIsNotNone(outcome.get("message"))
                key = {"failure": "failures", "error": "errors", "skipped": "skipped"}[outcome.tag]
                counted[key] += 1
                if outcome.tag != "skipped":
                    self.assertTrue(outcome.get("type"))
            cases.append((case.get("classname"), case.get("name"), outcome))
        for key, value in counted.items():
            self.assertEqual(count(self, suite, key), value, f"testsuite {key}")
            self.assertEqual(count(self, root, key), value, f"testsuites {key}")
        return root, cases

    def check_svg(self, path):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        root = ET.fromstring(text)
        self.assertEqual(root.tag, SVG_NS + "svg")
        self.assertGreater(float(root.get("width")), 0)
        self.assertGreater(float(root.get("height")), 0)
        for element in root.iter():
            self.assertTrue(element.tag.startswith(SVG_NS), element.tag)
            self.assertNotIn(element.tag, (SVG_NS + "script", SVG_NS + "image",
                                           SVG_NS + "foreignObject"))
            for attribute, value in element.attrib.items():
                self.assertNotIn("href", attribute)
                self.assertNotRegex(value.lower(), r"\b(nan|inf)\b")
        texts = ["".join(t.itertext()) for t in root.iter(SVG_NS + "text")]
        return root, text, texts

    def render(self, path):
        """rsvg-convert's PNG of the SVG at path (bytes); skips the test without it."""
        if not shutil.which("rsvg-convert"):
            self.skipTest("rsvg-convert is not installed (librsvg2-bin)")
        png = path + ".png"
        completed = subprocess.run(["rsvg-convert", "--format=png", "-o", png, path],
                                   capture_output=True, text=True, timeout=120)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        with open(png, "rb") as f:
            data = f.read()
        self.assertGreater(len(data), 100)
        root = ET.parse(path).getroot()
        self.assertEqual(png_size(data),
                         (round(float(root.get("width"))), round(float(root.get("height")))))
        return data


class ScanReports(ReportFilesTestCase):
    """One scan writes the JUnit file and the plot, and prints its JSON, so that the
    files can be checked against the results."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._tmp = tempfile.TemporaryDirectory(prefix="psleak-scan-reports-")
        cls.junit = os.path.join(cls._tmp.name, "scan.xml")
        cls.svg = os.path.join(cls._tmp.name, "scan.svg")
        cls.result = run_psleak(*SCAN, "--junit", cls.junit, "--plot", cls.svg, "--json")

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()
        super().tearDownClass()

    def test_exit_code_and_json(self):
        self.assertExitCode(self.result, EXIT_LEAK)
        doc = self.assertOneJsonDocument(self.result)
        self.assertEqual(doc["summary"], {"targets": 4, "clean": 1, "leak": 1, "error": 2,
                                          "skipped": 1, "interrupted": False},
                         self.result.describe())

    def test_junit_structure_and_counts(self):
        doc = self.assertOneJsonDocument(self.result)
        root, cases = self.check_junit(self.junit, "psleak scan")
        found = [(c, n, o.tag if o is not None else None) for c, n, o in cases]
        # The module that cannot be imported has no MODULE:NAME spec; its classname may be
        # plain "psleak" (what psleak writes today) or name the module.
        if found and found[0][:2] == ("psleak", "psleak_no_such_module"):
            found[0] = ("psleak.psleak_no_such_module",) + found[0][1:]
        self.assertEqual(found, SCAN_TESTCASES)
        # The counts are the results': a failure per leak, an error per error (crash or
        # not importable); the callables the scan could not call are not tests, only a
        # property counting them.
        summary = doc["summary"]
        self.assertEqual(
            {k: count(self, root, k) for k in ("tests", "failures", "errors", "skipped")},
            {"tests": summary["targets"], "failures": summary["leak"],
             "errors": summary["error"], "skipped": 0})
        names = [r["target"]["spec"] for r in doc["results"]]
        self.assertEqual([n for _, n, _ in cases], names)
        properties = {p.get("name"): p.get("value")
                      for p in root.find("testsuite/properties")}
        self.assertEqual(properties.get("psleak.skipped_callables"), str(summary["skipped"]))
        self.assertEqual(summary["skipped"], 1)
        self.assertEqual(properties.get("psleak.command"), "scan")
        self.assertEqual(properties.get("platform.system"), "Linux")
        self.assertEqual(properties.get("python.version"), doc["results"][1]["interpreter"]["version"])

    def test_junit_outcomes(self):
        doc = self.assertOneJsonDocument(self.result)
        verdicts = {r["target"]["spec"]: r["verdict"] for r in doc["results"]}
        _, cases = self.check_junit(self.junit, "psleak scan")
        outcomes = {name: outcome for _, name, outcome in cases}

        failure = outcomes["leakfix:leak_malloc_1k"]
        self.assertEqual(failure.get("type"), "memory")
        self.assertEqual(failure.get("message"), verdicts["leakfix:leak_malloc_1k"]["message"])
        # The run table, then the verdict.
        lines = failure.text.splitlines()
        self.assertTrue(lines[0].startswith("Run # 1:"), failure.text)
        self.assertIn("LEAK: " + failure.get("message"), lines)

        crash = outcomes["leakfix:crash_segfault"]
        self.assertEqual(crash.get("type"), "crash")
        self.assertIn("SIGSEGV", crash.get("message"))
        self.assertIn("ERROR: " + crash.get("message"), crash.text)

        missing = outcomes["psleak_no_such_module"]
        self.assertEqual(missing.get("type"), "target")
        self.assertIn("ModuleNotFoundError", missing.get("message"))

        self.assertNotIn("leakfix:crash_on_call", outcomes)
        self.assertIsNone(outcomes["leakfix:clean_malloc_1k"])

    def test_svg(self):
        root, text, texts = self.check_svg(self.svg)
        for spec in ("leakfix:leak_malloc_1k", "leakfix:crash_segfault", "psleak_no_such_module"):
            self.assertIn(spec, texts, f"no section titled {spec}: {texts}")
        # The clean target is named in the row of clean targets, without a section (whose
        # verdict line would say "OK: ...").
        self.assertFalse([t for t in texts if t.startswith("OK:")], texts)
        self.assertEqual(texts.count("leakfix:clean_malloc_1k"), 1, texts)
        self.assertIn("1 clean target (no leak; runs not plotted)", texts)
        self.assertIn("leakfix:clean_malloc_1k", texts[texts.index(
            "1 clean target (no leak; runs not plotted)") + 1])
        self.assertGreater(len(root.findall(f".//{SVG_NS}polyline")), 0)
        self.assertIn(HIGHLIGHT, text, "a leak is drawn in red")
        self.assertIn("no runs", texts, "the targets that never ran say so")

    def test_svg_renders(self):
        data = self.render(self.svg)
        pixels = png_rgb_pixels(data)
        if pixels is not None:
            self.assertGreater(len(set(pixels)), 8, "the image is (nearly) blank")
            self.assertTrue(any(is_red(p) for p in pixels), "the leak's red does not show")


class ScanReportOptions(ReportFilesTestCase):
    def test_junit_skipped_adds_the_skipped_callables(self):
        junit = self.path("scan.xml")
        result = self.psleak("scan", "leakfix", "--include", "clean_malloc_1k",
                             "--include", "crash_on_call", "--junit", junit, "--junit-skipped")
        self.assertExitCode(result, EXIT_CLEAN)
        root, cases = self.check_junit(junit, "psleak scan")
        self.assertEqual([(c, n, o.tag if o is not None else None) for c, n, o in cases],
                         [("psleak.leakfix", "leakfix:clean_malloc_1k", None),
                          ("psleak.leakfix", "leakfix:crash_on_call", "skipped")])
        self.assertEqual(cases[1][2].get("message"), "needs arguments (n)")
        self.assertEqual((count(self, root, "tests"), count(self, root, "skipped")), (2, 1))

    def test_plot_of_clean_targets_is_one_compact_row(self):
        # Fourteen clean functions of the standard library: one row naming them, not
        # fourteen sections of flat panels.
        svg = self.path("clean.svg")
        result = self.psleak("scan", "time", "math", "--include", "time:*", "--include", "gcd",
                             "--include", "lcm", "--exclude", "*_ns", "--checks", "memory",
                             "--plot", svg, "--json")
        self.assertExitCode(result, EXIT_CLEAN)
        doc = self.assertOneJsonDocument(result)
        clean = [r["target"]["spec"] for r in doc["results"]]
        self.assertGreaterEqual(len(clean), 8, result.describe())
        root, _, texts = self.check_svg(svg)
        heading = f"{len(clean)} clean targets (no leak; runs not plotted)"
        self.assertIn(heading, texts)
        names = " ".join(texts[texts.index(heading) + 1:])
        for spec in clean:
            self.assertIn(spec, names)
        self.assertEqual(root.findall(f".//{SVG_NS}polyline"), [])
        self.assertLess(float(root.get("height")), 250)
        data = self.render(svg)
        pixels = png_rgb_pixels(data)
        if pixels is not None:
            self.assertGreater(len(set(pixels)), 8, "the image is (nearly) blank")
            self.assertFalse(any(is_red(p) for p in pixels))


class RunReports(ReportFilesTestCase):
    def test_leak(self):
        junit, svg = self.path("leak.xml"), self.path("leak.svg")
        result = self.psleak("run", "leakfix:leak_malloc_1k", "--junit", junit, "--plot", svg)
        self.assertExitCode(result, EXIT_LEAK)
        root, cases = self.check_junit(junit, "psleak run")
        self.assertEqual([(c, n, o.tag) for c, n, o in cases],
                         [("psleak.leakfix", "leakfix:leak_malloc_1k", "failure")])
        failure = cases[0][2]
        runs = [line for line in result.stdout_lines if line.startswith("Run #")]
        # The failure carries the run table as psleak printed it.
        self.assertEqual(failure.text.splitlines()[:len(runs)], runs, result.describe())
        self.assertTrue(failure.text.startswith("Run # 1:"))
        _, text, texts = self.check_svg(svg)
        self.assertIn(HIGHLIGHT, text)
        self.assertTrue(any("leakfix:leak_malloc_1k" in t for t in texts), texts)

    def test_clean(self):
        junit, svg = self.path("clean.xml"), self.path("clean.svg")
        result = self.psleak("run", "leakfix:clean_malloc_1k", "--junit", junit, "--plot", svg)
        self.assertExitCode(result, EXIT_CLEAN)
        root, cases = self.check_junit(junit, "psleak run")
        self.assertEqual(cases, [("psleak.leakfix", "leakfix:clean_malloc_1k", None)])
        self.assertEqual(count(self, root, "failures") + count(self, root, "errors"), 0)
        _, text, _ = self.check_svg(svg)
        self.assertNotIn(HIGHLIGHT, text, "red is for leaks only")
        data = self.render(svg)
        pixels = png_rgb_pixels(data)
        if pixels is not None:
            self.assertFalse(any(is_red(p) for p in pixels))

    def test_crash_keeps_runs(self):
        junit, svg = self.path("crash.xml"), self.path("crash.svg")
        result = self.psleak("run", "leakfix:crash_on_call", "--args", "400", "--isolate",
                             "--junit", junit, "--plot", svg)
        self.assertExitCode(result, EXIT_CRASHED)
        _, cases = self.check_junit(junit, "psleak run")
        self.assertEqual([(n, o.tag) for _, n, o in cases], [("leakfix:crash_on_call(400)", "error")])
        error = cases[0][2]
        self.assertEqual(error.get("type"), "crash")
        self.assertIn("SIGSEGV", error.get("message"))
        self.assertIn("during run 2", error.get("message"))
        self.assertIn("\nRun # 1:", error.text)
        root, _, _ = self.check_svg(svg)
        self.assertGreater(len(root.findall(f".//{SVG_NS}polyline")), 0, "run 1 is plotted")


class UnwritablePaths(PsleakTestCase):
    """An unwritable --junit or --plot is a usage error found before any check runs (a
    hanging target shows that nothing ran)."""

    def check(self, *args):
        start = time.monotonic()
        result = self.psleak(*args, timeout=60)
        self.assertLess(time.monotonic() - start, 10, result.describe())
        self.assertExitCode(result, EXIT_USAGE)
        return result

    def test_run_junit(self):
        result = self.check("run", "leakfix:hang_forever", "--timeout", "30",
                            "--junit", "/nonexistent/dir/x.xml")
        self.assertOneErrorLine(result, ("--junit", "/nonexistent/dir/x.xml"))

    def test_scan_plot(self):
        result = self.check("scan", "leakfix", "--include", "hang_forever", "--timeout", "30",
                            "--plot", "/nonexistent/dir/x.svg")
        self.assertOneErrorLine(result, ("--plot", "/nonexistent/dir/x.svg"))

    def test_targets_junit_json(self):
        with tempfile.TemporaryDirectory(prefix="psleak-reports-") as tmp:
            targets = os.path.join(tmp, "targets.txt")
            with open(targets, "w", encoding="utf-8") as f:
                f.write("leakfix:hang_forever\n")
            result = self.check("run", "--targets", targets, "--timeout", "30",
                                "--junit", "/nonexistent/dir/x.xml", "--json")
        doc = self.assertOneJsonDocument(result)
        self.assertErrorDocument(doc, "usage", EXIT_USAGE, "--junit /nonexistent/dir/x.xml",
                                 result=result)


if __name__ == "__main__":
    unittest.main()
