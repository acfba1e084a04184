"""--junit and --plot documents, read by real consumers: Python's XML parser and rsvg-convert.

The C++ unit test ReportSamples.RenderAndWrite (tests/unit/test_report_samples.cpp)
renders hand-built reports (a memory leak, a clean target, an fd leak, a crash after two
runs whose message holds markup and a control character, an import error before any run,
two skipped callables) and writes them to $PSLEAK_REPORT_SAMPLES_DIR. This module runs it
into a temporary directory, then checks

* the JUnit XML against the structure of the JUnit schema that GitLab, Jenkins and
  GitHub's reporters read (testsuites > testsuite > properties?, testcase*; a testcase
  holds at most one of failure, error, skipped; counts and times numeric and consistent);
* each SVG is well-formed XML in the SVG namespace, self-contained, with one polyline per
  measured metric, and renders to a PNG (rsvg-convert, skipped when it is not installed)
  in which the leak's red shows exactly when there is a leak.

ctest passes PSLEAK_UNIT_TESTS, the psleak_unit_tests executable. By hand:

    PSLEAK_UNIT_TESTS=/tmp/b/tests/unit/psleak_unit_tests \\
        /usr/bin/python3 -B -m unittest -v test_report_samples
"""

import os
import shutil
import struct
import subprocess
import tempfile
import unittest
import xml.etree.ElementTree as ET
import zlib

SVG_NS = "{http://www.w3.org/2000/svg}"
HIGHLIGHT = "#d62728"  # lib/report/svg_plot.cpp: the leak colour, and only the leak's

# What the samples hold (tests/unit/report_samples.h).
SCAN_TESTCASES = [
    ("psleak.leakfix", "leakfix:leak_bytes", "failure"),
    ("psleak.leakfix", "leakfix:no_leak", None),
    ("psleak.leakfix", "leakfix:leak_fd", "failure"),
    ("psleak.crashfix", "crashfix:segv", "error"),
    ("psleak.nosuchmodule", "nosuchmodule:f", "error"),
    ("psleak.leakfix", "leakfix:Holder", "skipped"),
    ("psleak.leakfix", "leakfix:leak_n", "skipped"),
]
CRASH_MESSAGE = "the target died of SIGSEGV in run 3: bad <tag> & \"quoted\" 'single' end"

# Polylines (one per measured metric) and whether red must show, per SVG sample.
SVG_SAMPLES = {
    "scan.svg": (13, True),  # the clean target folded into the row of clean targets
    "leak.svg": (8, True),
    "clean.svg": (3, False),
    "single-run.svg": (3, False),
    "flat.svg": (3, False),
    "no-runs.svg": (0, False),
    "empty.svg": (0, False),
}
JUNIT_SAMPLES = ["scan.junit.xml", "leak.junit.xml", "crash.junit.xml"]

TIMEOUT = 120


def setUpModule():
    global SAMPLES, _tmp
    binary = os.environ.get("PSLEAK_UNIT_TESTS")
    if not binary:
        raise unittest.SkipTest("PSLEAK_UNIT_TESTS is not set (ctest sets it)")
    _tmp = tempfile.TemporaryDirectory(prefix="psleak-report-samples-")
    SAMPLES = _tmp.name
    env = dict(os.environ, PSLEAK_REPORT_SAMPLES_DIR=SAMPLES)
    completed = subprocess.run(
        [binary, "--gtest_filter=ReportSamples.*"], env=env, capture_output=True, text=True,
        timeout=TIMEOUT)
    if completed.returncode != 0:
        raise RuntimeError(f"{binary} failed:\n{completed.stdout}\n{completed.stderr}")


def tearDownModule():
    _tmp.cleanup()


def sample(name):
    return os.path.join(SAMPLES, name)


def as_int(testcase, element, name):
    value = element.get(name)
    testcase.assertIsNotNone(value, f"<{element.tag}> has no {name}")
    testcase.assertRegex(value, r"^[0-9]+$", f"<{element.tag} {name}={value!r}>")
    return int(value)


def as_seconds(testcase, element):
    value = element.get("time")
    testcase.assertIsNotNone(value, f"<{element.tag}> has no time")
    testcase.assertRegex(value, r"^[0-9]+(\.[0-9]+)?$", f"<{element.tag} time={value!r}>")
    return float(value)


class JUnitStructure(unittest.TestCase):
    """Every JUnit sample has the schema's shape and consistent counts."""

    def check_document(self, name):
        root = ET.parse(sample(name)).getroot()
        self.assertEqual(root.tag, "testsuites")
        self.assertEqual(root.get("name"), "psleak")
        totals = dict(tests=0, failures=0, errors=0, skipped=0)
        suites = list(root)
        self.assertGreaterEqual(len(suites), 1)
        for suite in suites:
            self.assertEqual(suite.tag, "testsuite")
            self.assertTrue(suite.get("name", "").startswith("psleak "))
            as_seconds(self, suite)
            counted = dict(tests=0, failures=0, errors=0, skipped=0)
            children = list(suite)
            tags = [child.tag for child in children]
            # properties?, testcase*, system-out?, system-err?
            if "properties" in tags:
                self.assertEqual(tags.index("properties"), 0)
                self.assertEqual(tags.count("properties"), 1)
                for prop in children[0]:
                    self.assertEqual(prop.tag, "property")
                    self.assertTrue(prop.get("name"))
                    self.assertIsNotNone(prop.get("value"))
            for child in children:
                self.assertIn(child.tag, ("properties", "testcase", "system-out", "system-err"))
                if child.tag != "testcase":
                    continue
                counted["tests"] += 1
                self.assertTrue(child.get("classname", "").startswith("psleak"))
                self.assertTrue(child.get("name"))
                self.assertGreaterEqual(as_seconds(self, child), 0)
                outcomes = [c for c in child if c.tag in ("failure", "error", "skipped")]
                others = [c.tag for c in child
                          if c.tag not in ("failure", "error", "skipped", "system-out", "system-err")]
                self.assertEqual(others, [])
                self.assertLessEqual(len(outcomes), 1, child.get("name"))
                for outcome in outcomes:
                    self.assertIsNotNone(outcome.get("message"))
                    if outcome.tag == "failure":
                        counted["failures"] += 1
                        self.assertTrue(outcome.get("type"))
                    elif outcome.tag == "error":
                        counted["errors"] += 1
                        self.assertTrue(outcome.get("type"))
                    else:
                        counted["skipped"] += 1
            for key, value in counted.items():
                self.assertEqual(as_int(self, suite, key), value, f"testsuite {key}")
                totals[key] += value
        for key, value in totals.items():
            self.assertEqual(as_int(self, root, key), value, f"testsuites {key}")
        as_seconds(self, root)
        return root

    def test_every_sample(self):
        for name in JUNIT_SAMPLES:
            with self.subTest(name):
                self.check_document(name)

    def test_scan(self):
        root = self.check_document("scan.junit.xml")
        self.assertEqual(
            {k: root.get(k) for k in ("tests", "failures", "errors", "skipped", "time")},
            {"tests": "7", "failures": "2", "errors": "2", "skipped": "2", "time": "3.500"})
        suite = root.find("testsuite")
        self.assertEqual(suite.get("name"), "psleak scan")
        found = []
        for case in suite.findall("testcase"):
            outcome = next(iter(case), None)
            found.append((case.get("classname"), case.get("name"),
                          outcome.tag if outcome is not None else None))
        self.assertEqual(found, SCAN_TESTCASES)

        properties = {p.get("name"): p.get("value") for p in suite.find("properties")}
        self.assertEqual(properties["platform.system"], "Linux")
        self.assertEqual(properties["python.version"], "3.11.2")
        self.assertRegex(properties["psleak.version"], r"^\d+\.\d+")

    def test_escaped_text_reads_back(self):
        root = self.check_document("crash.junit.xml")
        error = root.find("testsuite/testcase/error")
        self.assertEqual(error.get("type"), "crash")
        # Markup read back as it was, the control character (0x01) dropped.
        self.assertEqual(error.get("message"), CRASH_MESSAGE)
        self.assertIn("ERROR: " + CRASH_MESSAGE + "\n", error.text)
        self.assertIn('File "x.py", line 1 <here>', error.text)
        self.assertIn("Run # 2:", error.text)

    def test_failure_carries_run_table_and_findings(self):
        root = self.check_document("leak.junit.xml")
        failure = root.find("testsuite/testcase/failure")
        self.assertEqual(failure.get("type"), "memory")
        self.assertTrue(failure.get("message").startswith("memory kept increasing after 5 runs"))
        lines = failure.text.splitlines()
        self.assertEqual([line.split(":")[0] for line in lines[:5]],
                         [f"Run #{n:>2}" for n in range(1, 6)])
        self.assertTrue(lines[5].startswith("LEAK: memory kept increasing"), lines)

    def test_skipped_reason(self):
        root = ET.parse(sample("scan.junit.xml")).getroot()
        reasons = [s.get("message") for s in root.iter("skipped")]
        self.assertEqual(reasons, ["class", "needs arguments (n, <size>=0) & more"])


def png_size(data):
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise AssertionError("not a PNG")
    return struct.unpack(">II", data[16:24])


def png_rgb_pixels(data):
    """The pixels of an 8-bit RGB or RGBA, non-interlaced PNG (what rsvg-convert writes),
    as (r, g, b) tuples; None for other formats."""
    width, height = png_size(data)
    depth, colour, _, _, interlace = data[24:29]
    if depth != 8 or colour not in (2, 6) or interlace != 0:
        return None
    channels = 4 if colour == 6 else 3
    idat = b""
    pos = 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    previous = bytearray(stride)
    pixels = []
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        line = bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = previous[i]
            c = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                predictor = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + predictor) & 0xFF
        pixels.extend(tuple(line[i:i + 3]) for i in range(0, stride, channels))
        previous = line
    return pixels


def is_red(pixel):
    r, g, b = pixel
    return r > 180 and g < 90 and b < 90


class SvgDocuments(unittest.TestCase):
    def test_parses_as_self_contained_svg(self):
        for name, (polylines, leak) in SVG_SAMPLES.items():
            with self.subTest(name):
                with open(sample(name), encoding="utf-8") as f:
                    text = f.read()
                self.assertTrue(text.startswith("<svg"))
                root = ET.fromstring(text)
                self.assertEqual(root.tag, SVG_NS + "svg")
                self.assertGreater(float(root.get("width")), 0)
                self.assertGreater(float(root.get("height")), 0)
                for element in root.iter():
                    self.assertTrue(element.tag.startswith(SVG_NS), element.tag)
                    self.assertNotIn(element.tag, (SVG_NS + "script", SVG_NS + "style",
                                                   SVG_NS + "image", SVG_NS + "foreignObject"))
                    for attribute, value in element.attrib.items():
                        self.assertNotIn("href", attribute)
                        self.assertNotIn("url(", value)
                        self.assertNotRegex(value.lower(), r"\b(nan|inf)\b")
                self.assertEqual(len(root.findall(f".//{SVG_NS}polyline")), polylines)
                self.assertEqual(HIGHLIGHT in text, leak)

    def test_scan_sections_and_escaping(self):
        root = ET.parse(sample("scan.svg")).getroot()
        texts = ["".join(t.itertext()) for t in root.iter(SVG_NS + "text")]
        for title in ("leakfix:leak_bytes", "crashfix:segv", "nosuchmodule:f"):
            self.assertIn(title, texts)
        self.assertIn("1 clean target (no leak; runs not plotted)", texts)
        self.assertIn("leakfix:no_leak", texts)  # its name, alone on the row's line
        self.assertIn("ERROR: " + CRASH_MESSAGE, texts)
        self.assertIn("no runs", texts)


@unittest.skipUnless(shutil.which("rsvg-convert"), "rsvg-convert is not installed (librsvg2-bin)")
class SvgRendering(unittest.TestCase):
    def render(self, name):
        png = os.path.join(SAMPLES, name + ".png")
        completed = subprocess.run(["rsvg-convert", "--format=png", "-o", png, sample(name)],
                                   capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        with open(png, "rb") as f:
            return f.read()

    def test_renders(self):
        for name, (_, leak) in SVG_SAMPLES.items():
            with self.subTest(name):
                data = self.render(name)
                self.assertGreater(len(data), 100)
                root = ET.parse(sample(name)).getroot()
                self.assertEqual(png_size(data),
                                 (round(float(root.get("width"))), round(float(root.get("height")))))
                pixels = png_rgb_pixels(data)
                if pixels is None:
                    continue  # a PNG format this reader does not decode: size checked only
                self.assertGreater(len(set(pixels)), 8, "the image is (nearly) blank")
                self.assertEqual(any(is_red(p) for p in pixels), leak)


if __name__ == "__main__":
    unittest.main()
