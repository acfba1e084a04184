"""run --trace: the traced run names the leaking site.

A C fixture's leak is traced to its function and file:line (the fixture is built with
-g); a pure-Python leak to its Python frames, innermost first. The native unwinder is
libunwind where libunwind.so.8 loads and glibc's backtrace() with PSLEAK_UNWINDER=backtrace;
both find the same site. Text output shows the same frames.

A fixture without debug info and stripped to its exported symbols (nodebugfix) shows how
frames are named without debug info: an exported function by its own name, a static one
not by the nearest exported symbol (some other function) but folded, "2 frames in
nodebugfix...so (no debug info)", and marked "nearest_symbol" in the JSON.
"""

import ctypes
import os
import unittest

from psleak_helpers import EXIT_LEAK, PsleakTestCase, fixture_dir

TRACE = ["--checks", "memory", "--trace", "--calls", "200"]
NAME_SOURCES = ("debug_info", "symbol", "nearest_symbol", "unknown")


def source_line(file_name, text):
    """The 1-based number of the line of fixture source `file_name` containing `text`."""
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [os.path.join(here, "..", "fixtures", file_name), os.path.join(fixture_dir(), file_name)]
    for path in candidates:
        if os.path.exists(path):
            with open(path, encoding="utf-8") as source:
                for number, line in enumerate(source, start=1):
                    if text in line:
                        return number
    raise AssertionError(f"{text!r} not found in {file_name}")


def libunwind_loads():
    try:
        ctypes.CDLL("libunwind.so.8")
        return True
    except OSError:
        return False


class TraceTest(PsleakTestCase):
    def trace(self, target, env=None):
        doc = self.psleak_json("run", target, *TRACE, env=env, expected_exit=EXIT_LEAK)
        trace = doc["trace"]
        self.assertIsNotNone(trace, "--trace must fill the trace section")
        self.assertEqual(trace["calls"], 200)
        self.assertGreater(len(trace["sites"]), 0)
        return trace

    def assertNativeSite(self, trace):
        top = trace["sites"][0]
        where = f"top site: {top}"
        self.assertEqual(top["count"], 200, where)  # one 1 KiB block per call
        self.assertGreaterEqual(top["bytes"], 200 * 1024, where)
        functions = [frame["function"] for frame in top["frames"]]
        self.assertIn("leak_malloc_1k", functions, where)
        frame = top["frames"][functions.index("leak_malloc_1k")]
        self.assertEqual(frame["name_source"], "debug_info", where)
        self.assertTrue(frame["file"].endswith("leakfix.c"), where)
        self.assertEqual(frame["line"], source_line("leakfix.c", "return malloc_n(1024, 1);"), where)
        # psleak's own frames (hooks, unwinder, call loop) and what lies outside them are
        # not shown: the stack starts at malloc's caller. The interpreter's frames between
        # the fixture and the call loop are, wherever libpython is (the executable holds
        # it when linked statically).
        self.assertEqual(functions[0], "malloc_n", where)
        for f in top["frames"]:
            if f["object"].endswith("/psleak"):
                self.assertFalse(f["function"].startswith("psleak::"), where)
                self.assertNotIn(f["function"], ("malloc", "main"), where)
        self.assertNotIn("main", functions, where)
        # The interpreter's call into the target follows the fixture's frames
        # (cfunction_vectorcall_NOARGS, PyObject_Vectorcall where it is not inlined into
        # psleak's loop, _PyObject_VectorcallTstate where debug information names what
        # was inlined).
        outer = functions[functions.index("leak_malloc_1k") + 1:]
        self.assertTrue(any("vectorcall" in f.lower() for f in outer), where)
        # Called straight from psleak's C++ loop: no Python frame between.
        self.assertEqual(top["python_frames"], [], where)

    def assertNameSources(self, trace):
        """Every native frame says how its name was found; a frame with file:line came
        from debug info, one without did not."""
        for site in trace["sites"]:
            for frame in site["frames"]:
                self.assertEqual(list(frame), ["function", "object", "file", "line", "name_source"], frame)
                self.assertIn(frame["name_source"], NAME_SOURCES, frame)
                self.assertEqual(frame["name_source"] == "debug_info", frame["line"] is not None, frame)
            for frame in site["python_frames"]:
                self.assertNotIn("name_source", frame)

    def test_c_leak_is_traced_to_its_function_and_line(self):
        trace = self.trace("leakfix:leak_malloc_1k")
        self.assertNameSources(trace)
        self.assertEqual(trace["unwinder"], "libunwind" if libunwind_loads() else "backtrace")
        self.assertNativeSite(trace)

    def test_backtrace_unwinder_finds_the_same_site(self):
        trace = self.trace("leakfix:leak_malloc_1k", env={"PSLEAK_UNWINDER": "backtrace"})
        self.assertEqual(trace["unwinder"], "backtrace")
        self.assertNativeSite(trace)

    def nodebug_site(self, target):
        """The top site of a nodebugfix target's trace (one block per call) and its frames
        in the fixture, which must include the innermost frame."""
        trace = self.trace(target)
        self.assertNameSources(trace)
        top = trace["sites"][0]
        self.assertEqual(top["count"], 200, top)
        frames = [f for f in top["frames"] if os.path.basename(f["object"]).startswith("nodebugfix.")]
        self.assertTrue(frames, f"no frame in nodebugfix: {top}")
        self.assertIs(top["frames"][0], frames[0], f"the innermost frame is not the fixture's: {top}")
        return top, frames

    def test_exported_function_without_debug_info_keeps_its_name(self):
        top, frames = self.nodebug_site("nodebugfix:leak_exported")
        # Its own exported symbol holds the address: the name is exact, without file:line.
        self.assertEqual(frames[0]["function"], "nodebugfix_exported_alloc", top)
        self.assertEqual((frames[0]["name_source"], frames[0]["file"]), ("symbol", None), top)
        # Its static caller has no symbol of its own.
        self.assertEqual(len(frames), 2, top)
        self.assertIn(frames[1]["name_source"], ("nearest_symbol", "unknown"), top)

    def test_static_function_without_debug_info_is_not_named_after_a_neighbour(self):
        top, frames = self.nodebug_site("nodebugfix:leak_hidden")
        # hidden_alloc and leak_hidden: static, after the exported function in the object,
        # whose name is the nearest symbol before them and is not theirs.
        self.assertEqual(len(frames), 2, top)
        for frame in frames:
            self.assertIn(frame["name_source"], ("nearest_symbol", "unknown"), top)
            self.assertIsNone(frame["file"], top)

    def test_text_folds_frames_without_debug_info(self):
        result = self.psleak("run", "nodebugfix:leak_hidden", *TRACE, "--trace-top", "1")
        self.assertExitCode(result, EXIT_LEAK)
        where = result.describe()
        stack = result.stdout.split("call stack:\n", 1)[1].split("LEAK:", 1)[0]
        self.assertRegex(stack, r"^  #1 200 blocks", where)
        # The two static frames are one line, named by their object, not by a function.
        self.assertRegex(stack, r"\n      2 frames in nodebugfix\.\S+\.so \(no debug info\)\n", where)
        self.assertNotIn("nodebugfix_exported_alloc", stack, where)
        self.assertNotIn("??", stack, where)
        # Frames with file:line stay as they are.
        result = self.psleak("run", "nodebugfix:leak_exported", *TRACE, "--trace-top", "1")
        self.assertRegex(result.stdout, r"\n      nodebugfix_exported_alloc \(nodebugfix\.\S+\.so\)\n"
                                        r"      1 frame in nodebugfix\.\S+\.so \(no debug info\)\n",
                         result.describe())
        result = self.psleak("run", "leakfix:leak_malloc_1k", *TRACE, "--trace-top", "1")
        self.assertRegex(result.stdout, r"\n      leak_malloc_1k at \S*leakfix\.c:\d+ \(leakfix\.",
                         result.describe())

    def python_site(self, trace, function):
        """The site holding the most blocks with `function` as its innermost Python frame
        (the list's own storage, reallocated as it grows, is a second, smaller site)."""
        sites = [s for s in trace["sites"] if s["python_frames"] and s["python_frames"][0]["function"] == function]
        if not sites:
            self.fail(f"no site with {function} as its innermost Python frame: {trace['sites']}")
        return max(sites, key=lambda s: s["count"])

    def test_python_leak_names_its_python_frames(self):
        site = self.python_site(self.trace("leakfix_py:leak_list_growth"), "leak_list_growth")
        frame = site["python_frames"][0]
        self.assertTrue(frame["file"].endswith("leakfix_py.py"), site)
        self.assertEqual(frame["line"], source_line("leakfix_py.py", "_growth.append(object())"), site)
        self.assertEqual(site["count"], 200, site)

    def test_nested_python_frames_innermost_first(self):
        site = self.python_site(self.trace("leakfix_py:leak_nested"), "_grow_deeper")
        frames = site["python_frames"]
        self.assertEqual([f["function"] for f in frames[:2]], ["_grow_deeper", "leak_nested"], site)
        self.assertEqual(frames[0]["line"], source_line("leakfix_py.py", "# the leaking line of leak_nested"))
        self.assertEqual(frames[1]["line"], source_line("leakfix_py.py", "    _grow_deeper()"))

    def test_target_that_replaces_the_profiler(self):
        # Once the target's own profile function replaces psleak's, the shadow stack of
        # Python frames is not trusted (its frames may be gone): no Python frames are
        # recorded from then on, and nothing crashes.
        trace = self.trace("leakfix_py:leak_under_own_profiler")
        self.assertTrue(any(site["count"] >= 200 for site in trace["sites"]), trace["sites"])

    def test_text_output_shows_native_and_python_frames(self):
        result = self.psleak("run", "leakfix_py:leak_nested", *TRACE, "--trace-top", "3")
        self.assertExitCode(result, EXIT_LEAK)
        line = source_line("leakfix_py.py", "# the leaking line of leak_nested")
        self.assertRegex(result.stdout, rf"py _grow_deeper at \S*leakfix_py\.py:{line}\n")
        result = self.psleak("run", "leakfix:leak_malloc_1k", *TRACE)
        self.assertRegex(result.stdout, r"leak_malloc_1k at \S*leakfix\.c:\d+ \(leakfix\.")


if __name__ == "__main__":
    unittest.main()
