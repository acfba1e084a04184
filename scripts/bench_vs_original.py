#!/usr/bin/env python3
"""psleak against the original pure-Python psleak package: calls and whole-process time
to a verdict, on the same targets. Prints figures; asserts nothing.

  /usr/bin/python3 scripts/bench_vs_original.py [--build build] [--repeats 5]
      [--original DIR --psutil DIR]

For each target (clean functions of the standard library, of psutil when it can be
imported, and of the fixture extension, taking 0.001 to 2 ms a call, and the same calls
with a 1 KiB leak added), it runs

  * `psleak run benchtargets:NAME --json` (the verdict, and `calls_made` from the
    document), and
  * with --original: a one-test unittest module whose test is
    `MemoryLeakTestCase.execute(benchtargets.NAME)` under python3 with
    PYTHONMALLOC=malloc (as the original asks), PYTHONPATH=DIR[:PSUTIL_DIR]; the calls
    are counted by the target itself;
  * the floor: python3 alone (PYTHONMALLOC=malloc, as psleak runs) importing the module
    and making as many calls as psleak made, nothing else; no tool making that many
    calls can be faster.

Both sides call the same Python function of the same interpreter (the one psleak
embeds), alternately (A B A B ...), `--repeats` times each; the table gives medians, the
ratio psleak/original of the whole-process (wall) times, the floor's ratio to the
original, and the ratio of the CPU times (user + system), which other work on the
machine moves less. Bytecode is cached for both sides, as for installed packages. DIR is
a directory from which `import psleak` gives the original package (a checkout, or a
virtual environment's site-packages); it needs psutil 7.2 or later, from PSUTIL_DIR or
the interpreter's own site-packages; psleak's side imports the same psutil. Without
--original that column is left out.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

# The targets, as the body of a function of no arguments. DATA_* and TEXT_* are made
# once at import (see PRELUDE). `leakfix` is the fixture extension.
TARGETS = [
    ("json_dumps_small", "json.dumps({})"),
    ("zlib_compress_64k", "zlib.compress(DATA_64K)"),
    ("re_findall_10k", "re.findall(r'[a-f]+\\d', TEXT_10K)"),
    ("sha256_1m", "hashlib.sha256(DATA_1M).digest()"),
    ("bz2_compress_10k", "bz2.compress(DATA_10K, 1)"),
    ("json_loads_1000", "json.loads(TEXT_JSON_1000)"),
    ("psutil_memory_full_info", "PROCESS().memory_full_info()"),
    ("fixture_clean_malloc_1k", "leakfix.clean_malloc_1k()"),
]
# A leak of 1 KiB of native memory a call, added to some of the clean calls above, and
# leaks on their own.
LEAKY = [
    ("leak_json_dumps_small", "json.dumps({}); leakfix.leak_malloc_1k()"),
    ("leak_bz2_compress_10k", "bz2.compress(DATA_10K, 1); leakfix.leak_malloc_1k()"),
    ("leak_json_loads_1000", "json.loads(TEXT_JSON_1000); leakfix.leak_malloc_1k()"),
    ("leak_sha256_1m", "hashlib.sha256(DATA_1M).digest(); leakfix.leak_malloc_1k()"),
    ("leak_psutil_memory_full_info", "PROCESS().memory_full_info(); leakfix.leak_malloc_1k()"),
    ("fixture_leak_pylist", "leakfix.leak_pylist()"),
    ("keep_bytearray_1k", "KEPT.append(bytearray(1024))"),
]

PRELUDE = """\
import atexit, bz2, hashlib, json, os, random, re, sys, zlib
import leakfix

# Made with C-level calls: the module's import is part of both sides' time, and a real
# test module does not spend a tenth of a second building its data.
_random = random.Random(7)
DATA_10K = _random.randbytes(10 * 1024)
DATA_64K = (b"psleak benchmark " * 4096)[: 64 * 1024]
DATA_1M = b"x" * (1 << 20)
TEXT_10K = "".join(_random.choices("abcdef0123456789 ", k=10 * 1024))
TEXT_JSON_1000 = json.dumps([{"id": i, "name": "n%d" % i, "tags": ["a", "b"]} for i in range(1000)])
KEPT = []
CALLS = [0]
_PROCESS = []


def PROCESS():
    # Imported on the first call (a warm-up call on both sides), not with the module:
    # psutil's import would add to every other target's time.
    if not _PROCESS:
        import psutil
        _PROCESS.append(psutil.Process())
    return _PROCESS[0]

# The original's side reads the count when its process ends (psleak's document has it).
if os.environ.get("BENCH_COUNT_CALLS"):
    atexit.register(lambda: sys.stderr.write("BENCH_CALLS %d\\n" % CALLS[0]))
"""

ORIGINAL_TEST = """\
import unittest
import psleak
import benchtargets


class Bench(psleak.MemoryLeakTestCase):
    def test_target(self):
        self.execute(benchtargets.{name})


if __name__ == "__main__":
    unittest.main(verbosity=0)
"""


def write_targets(directory):
    lines = [PRELUDE]
    for name, body in TARGETS + LEAKY:
        lines.append(f"\ndef {name}():\n    CALLS[0] += 1\n    {body}\n")
    with open(os.path.join(directory, "benchtargets.py"), "w") as f:
        f.write("".join(lines))
    for name, _ in TARGETS + LEAKY:
        with open(os.path.join(directory, f"orig_{name}.py"), "w") as f:
            f.write(ORIGINAL_TEST.format(name=name))


def per_call_ms(python, directory, env, name):
    code = textwrap.dedent(f"""\
        import time, benchtargets
        f = benchtargets.{name}
        f()
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < 0.2:
            f(); n += 1
        print((time.perf_counter() - start) / n * 1000)
        """)
    out = subprocess.run([python, "-c", code], cwd=directory, env=env, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout
    return float(out)


def warm_bytecode_cache(python, directory, env, imports):
    subprocess.run([python, "-c", imports], cwd=directory, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def timed(command, **kwargs):
    """subprocess.run(command) and the child's wall time and CPU time (user + system), in
    seconds. CPU time moves less than wall time when other work shares the machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(command, **kwargs)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return proc, wall, cpu


def run_floor(python, directory, env, name, calls):
    """python3 alone importing the module and making psleak's number of calls: what no
    tool making that many calls can go below."""
    code = f"import benchtargets\nf = benchtargets.{name}\nfor _ in range({calls}): f()\n"
    _, wall, cpu = timed([python, "-c", code], cwd=directory, env=env, check=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return "floor", calls, wall, cpu


def run_psleak(psleak, directory, env, name):
    proc, wall, cpu = timed([psleak, "run", f"benchtargets:{name}", "--json"], cwd=directory,
                            env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        doc = json.loads(proc.stdout)
        return doc["verdict"]["status"], doc.get("calls_made"), wall, cpu
    except (ValueError, KeyError):
        return f"exit {proc.returncode}", None, wall, cpu


def run_original(python, directory, env, name):
    proc, wall, cpu = timed([python, f"orig_{name}.py"], cwd=directory, env=env, text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    calls = None
    for line in proc.stderr.splitlines():
        if line.startswith("BENCH_CALLS "):
            calls = int(line.split()[1])
    if proc.returncode == 0:
        status = "clean"
    elif "MemoryLeakError" in proc.stderr or "UnclosedResourceError" in proc.stderr:
        status = "leak"
    else:
        status = f"error (exit {proc.returncode})"
        sys.stderr.write(proc.stderr[-2000:])
    return status, calls, wall, cpu


def summary(results):
    """Verdicts, median calls, median wall time, median CPU time."""
    statuses = sorted(set(r[0] for r in results))
    calls = [r[1] for r in results if r[1] is not None]
    return ("/".join(statuses), int(statistics.median(calls)) if calls else None,
            statistics.median(r[2] for r in results), statistics.median(r[3] for r in results))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default="build", help="psleak's build directory")
    parser.add_argument("--repeats", type=int, default=5, help="runs of each side per target")
    parser.add_argument("--original", help="directory holding the original psleak package")
    parser.add_argument("--psutil", help="directory holding psutil >= 7.2 for the original")
    parser.add_argument("--only", action="append", default=[], help="targets to run (repeatable)")
    args = parser.parse_args()

    psleak = os.path.abspath(os.path.join(args.build, "app", "psleak"))
    fixtures = os.path.abspath(os.path.join(args.build, "fixtures"))
    if not os.access(psleak, os.X_OK):
        sys.exit(f"no psleak binary at {psleak}: build first (cmake --build {args.build})")
    python = json.loads(subprocess.run([psleak, "info", "--json"], text=True,
                                       stdout=subprocess.PIPE, check=True).stdout)
    python = python.get("interpreter", {}).get("executable") or "/usr/bin/python3"

    directory = tempfile.mkdtemp(prefix="psleak-bench-")
    write_targets(directory)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k != "VIRTUAL_ENV"}
    # Bytecode is cached (as an installed package has it), in the scratch directory rather
    # than beside the sources of psutil or of the original package.
    base_env["PYTHONPYCACHEPREFIX"] = os.path.join(directory, "pycache")
    # The same psutil on both sides (the psutil targets call it).
    psutil_path = [os.path.abspath(args.psutil)] if args.psutil else []
    psleak_env = dict(base_env, PYTHONPATH=os.pathsep.join([fixtures] + psutil_path))
    have_psutil = subprocess.run([python, "-c", "import psutil"], env=psleak_env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
    original_env = None
    if args.original:
        path = [os.path.abspath(args.original)] + psutil_path
        original_env = dict(base_env, PYTHONMALLOC="malloc", BENCH_COUNT_CALLS="1",
                            PYTHONPATH=os.pathsep.join(path + [fixtures]))
        probe = subprocess.run(
            [python, "-c", "import psleak, psutil; print(psutil.__version__, psleak.__file__)"],
            cwd=directory, env=original_env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if probe.returncode != 0:
            sys.exit("--original: cannot import the original psleak with psutil:\n" + probe.stderr[-1500:])
        print(f"original: psleak from {probe.stdout.split()[1]}, psutil {probe.stdout.split()[0]}")
        warm_bytecode_cache(python, directory, original_env, "import psleak, psutil, unittest, benchtargets")
    warm_bytecode_cache(python, directory, psleak_env, "import benchtargets" + (", psutil" if have_psutil else ""))
    print(f"psleak: {psleak}; interpreter {python}; {args.repeats} runs of each side per target, "
          "alternating; medians\n")

    header = f"{'target':<28} {'ms/call':>7}  {'psleak':<6} {'calls':>5} {'time s':>6} {'floor s':>7}"
    if original_env:
        header += (f"  {'original':<8} {'calls':>5} {'time s':>6}  {'ratio':>5} {'floor':>5}"
                   f" {'cpu':>5}")
    print(header)
    names = [name for name, body in TARGETS + LEAKY
             if (not args.only or name in args.only) and (have_psutil or "PROCESS" not in body)]
    if not have_psutil:
        print("(no psutil importable: the psutil targets are left out)\n")
    # The floor runs as psleak does: with Python's allocator set to malloc.
    floor_env = dict(psleak_env, PYTHONMALLOC="malloc")
    for name in names:
        cost = per_call_ms(python, directory, psleak_env, name)
        ours, theirs, floors = [], [], []
        for _ in range(args.repeats):
            ours.append(run_psleak(psleak, directory, psleak_env, name))
            if original_env:
                theirs.append(run_original(python, directory, original_env, name))
            if ours[-1][1] is not None:
                floors.append(run_floor(python, directory, floor_env, name, ours[-1][1]))
        status, calls, wall, cpu = summary(ours)
        floor_wall = summary(floors)[2] if floors else float("nan")
        line = (f"{name:<28} {cost:>7.3f}  {status:<6} {calls if calls is not None else '-':>5} "
                f"{wall:>6.3f} {floor_wall:>7.3f}")
        if original_env:
            o_status, o_calls, o_wall, o_cpu = summary(theirs)
            line += (f"  {o_status:<8} {o_calls if o_calls is not None else '-':>5} {o_wall:>6.3f}"
                     f"  {wall / o_wall:>5.2f} {floor_wall / o_wall:>5.2f} {cpu / o_cpu:>5.2f}")
        print(line, flush=True)
    start = time.perf_counter()
    subprocess.run([python, "-c", "pass"], check=True)
    print(f"\n(python3 -c pass: {time.perf_counter() - start:.3f} s)")


if __name__ == "__main__":
    main()
