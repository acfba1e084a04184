#!/usr/bin/env python3
"""Benchmark of psleak's allocator hooks (issue 5). Prints figures; asserts nothing.

  /usr/bin/python3 scripts/bench_hooks.py [--build build] [--skip-valgrind]

1. Calls and wall time to a verdict per fixture: exact counters (the default) versus
   allocator statistics alone (--no-hooks).
2. Per-call cost of the hooks: a call making 10 malloc/free pairs, counted by the hooks,
   versus the hooks only forwarding (PSLEAK_NO_HOOKS=1), versus Debian's python3 with
   PYTHONMALLOC=malloc (no hooks at all). Target: at most 10% over no hooks.
3. --trace against valgrind --leak-check=full for the same calls. Target: at least 5x
   faster than valgrind.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

FIXTURES = [
    "leak_malloc_1b", "leak_malloc_1k", "leak_malloc_1m", "leak_mmap", "leak_calloc",
    "leak_realloc", "leak_pylist", "leak_pylong", "leak_pydict", "grow_slowly_forever",
    "clean_malloc_1b", "clean_malloc_1k", "clean_malloc_1m", "clean_mmap", "clean_pylist",
    "clean_pydict", "cache_fill_then_stop",
]

TIMING_CODE = r"""
import time, leakfix
def per_call(f, calls=200000, repeats=7):
    best = None
    for _ in range(repeats):
        start = time.perf_counter_ns()
        for _ in range(calls):
            f()
        elapsed = (time.perf_counter_ns() - start) / calls
        best = elapsed if best is None else min(best, elapsed)
    return best
print(per_call(leakfix.malloc_free_10), per_call(leakfix.no_raise))
"""


def run_json(psleak, args, cwd, env=None):
    proc = subprocess.run([psleak, "run", *args, "--json"], cwd=cwd, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return json.loads(proc.stdout)


def verdict_figures(psleak, fixture, cwd, extra):
    start = time.perf_counter()
    doc = run_json(psleak, [f"leakfix:{fixture}", "--checks", "memory", *extra], cwd)
    wall = time.perf_counter() - start
    calls = doc["settings"]["warmup"] + sum(run["calls"] for run in doc["runs"])
    return doc["verdict"]["status"], len(doc["runs"]), calls, wall


def section_verdicts(psleak, cwd):
    print("1. Calls and wall time to the verdict (--checks memory)")
    print(f"   {'fixture':<22} {'exact counters':>34}   {'allocator statistics alone':>34}")
    totals = {"exact": [0, 0.0], "stats": [0, 0.0]}
    for fixture in FIXTURES:
        cells = []
        for name, extra in (("exact", []), ("stats", ["--no-hooks"])):
            status, runs, calls, wall = verdict_figures(psleak, fixture, cwd, extra)
            totals[name][0] += calls
            totals[name][1] += wall
            cells.append(f"{status:>5} {runs:>2} runs {calls:>6} calls {wall:6.2f} s")
        print(f"   {fixture:<22} {cells[0]:>34}   {cells[1]:>34}")
    exact, stats = totals["exact"], totals["stats"]
    print(f"   {'total':<22} {exact[0]:>17} calls {exact[1]:6.2f} s   "
          f"{stats[0]:>17} calls {stats[1]:6.2f} s")
    print(f"   exact counters: {stats[0] / exact[0]:.1f}x fewer calls, "
          f"{stats[1] / exact[1]:.1f}x less time\n")


def per_call_ns(command, cwd, env):
    out = subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.PIPE, check=True,
                         text=True).stdout.split()
    return float(out[0]), float(out[1])


def section_overhead(psleak, python, cwd):
    print("2. Per-call cost of the hooks: a call making 10 malloc/free pairs (best of 7 x 200k)")
    base_env = dict(os.environ, PYTHONPATH=cwd)
    rows = [
        ("psleak python, hooks counting", [psleak, "python", "-c", TIMING_CODE], base_env),
        ("psleak python, PSLEAK_NO_HOOKS=1", [psleak, "python", "-c", TIMING_CODE],
         dict(base_env, PSLEAK_NO_HOOKS="1")),
        ("python3, PYTHONMALLOC=malloc", [python, "-c", TIMING_CODE],
         dict(base_env, PYTHONMALLOC="malloc")),
    ]
    results = {}
    for label, command, env in rows:
        work, empty = per_call_ns(command, cwd, env)
        results[label] = work
        print(f"   {label:<36} {work:8.1f} ns/call  (empty call {empty:6.1f} ns; "
              f"10 pairs {work - empty:6.1f} ns)")
    counting = results[rows[0][0]]
    for label in (rows[1][0], rows[2][0]):
        print(f"   overhead of counting vs {label:<32} {100 * (counting / results[label] - 1):+6.1f} %")
    print()


def instructions(command, cwd, env):
    """Instructions callgrind counts for `command`: the same on every run, however busy
    the machine is (callgrind does not replace malloc, so psleak's hooks run)."""
    proc = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                           *command], cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    for line in proc.stderr.splitlines():
        if "Collected" in line:
            return int(line.split()[-1].replace(",", ""))
    raise RuntimeError("callgrind printed no instruction count:\n" + proc.stderr[-2000:])


def section_instructions(psleak, python, cwd, calls=20000):
    print(f"2b. The same in instructions per call (callgrind, {calls} calls; immune to load)")
    base_env = dict(os.environ, PYTHONPATH=cwd)
    loop = "import leakfix\nf = leakfix.{}\nfor _ in range({}): f()\n"
    rows = [
        ("psleak python, hooks counting", [psleak, "python", "-c"], base_env),
        ("psleak python, PSLEAK_NO_HOOKS=1", [psleak, "python", "-c"],
         dict(base_env, PSLEAK_NO_HOOKS="1")),
        ("python3, PYTHONMALLOC=malloc", [python, "-c"], dict(base_env, PYTHONMALLOC="malloc")),
    ]
    per_call = {}
    for label, command, env in rows:
        work = instructions(command + [loop.format("malloc_free_10", calls)], cwd, env)
        none = instructions(command + [loop.format("malloc_free_10", 0)], cwd, env)
        per_call[label] = (work - none) / calls
        print(f"   {label:<36} {per_call[label]:8.0f} instructions/call")
    counting = per_call[rows[0][0]]
    for label in (rows[1][0], rows[2][0]):
        print(f"   counting vs {label:<36} {100 * (counting / per_call[label] - 1):+6.1f} %")
    print()


def section_trace(psleak, python, cwd, calls, skip_valgrind):
    print(f"3. --trace versus valgrind --leak-check=full, {calls} calls of leakfix.leak_malloc_1k")
    doc = run_json(psleak, ["leakfix:leak_malloc_1k", "--checks", "memory", "--trace",
                            "--calls", str(calls), "--retries", "1"], cwd)
    trace = doc["trace"]
    print(f"   psleak --trace: {trace['seconds']:.3f} s for {trace['calls']} traced calls "
          f"({1e6 * trace['seconds'] / trace['calls']:.1f} us/call); top site: "
          f"{trace['sites'][0]['frames'][1]['function'] if trace['sites'] else '-'}")
    plain_start = time.perf_counter()
    subprocess.run([python, "-c", f"import leakfix\nfor _ in range({calls}): leakfix.leak_malloc_1k()"],
                   cwd=cwd, env=dict(os.environ, PYTHONPATH=cwd), check=True)
    print(f"   plain python3 loop (process included): {time.perf_counter() - plain_start:.3f} s")
    if skip_valgrind or not shutil.which("valgrind"):
        print("   valgrind: skipped\n")
        return

    def valgrind(n):
        start = time.perf_counter()
        subprocess.run(["valgrind", "--leak-check=full", "--quiet", python, "-c",
                        f"import leakfix\nfor _ in range({n}): leakfix.leak_malloc_1k()"],
                       cwd=cwd, env=dict(os.environ, PYTHONPATH=cwd, PYTHONMALLOC="malloc"),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        return time.perf_counter() - start

    startup = valgrind(0)
    full = valgrind(calls)
    per_call = max(full - startup, 1e-9) / calls
    print(f"   valgrind: {full:.2f} s in all, {startup:.2f} s of it start-up and leak check "
          f"with no calls, so {1e6 * per_call:.1f} us/call")
    print(f"   --trace is {per_call / (trace['seconds'] / trace['calls']):.1f}x faster per call, "
          f"{full / max(doc['duration_seconds'], 1e-9):.1f}x faster as a whole command "
          f"(psleak {doc['duration_seconds']:.2f} s including its memory runs)\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default="build", help="build directory (default: build)")
    parser.add_argument("--python", default="/usr/bin/python3")
    parser.add_argument("--trace-calls", type=int, default=2000)
    parser.add_argument("--skip-valgrind", action="store_true")
    args = parser.parse_args()
    psleak = os.path.abspath(os.path.join(args.build, "app", "psleak"))
    fixtures = os.path.abspath(os.path.join(args.build, "fixtures"))
    if not os.path.exists(psleak) or not os.path.isdir(fixtures):
        sys.exit(f"bench_hooks: no psleak build in {args.build} (run scripts/bootstrap.sh first)")
    print(f"psleak: {psleak}\nmachine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}\n")
    section_verdicts(psleak, fixtures)
    section_overhead(psleak, args.python, fixtures)
    if shutil.which("valgrind"):
        section_instructions(psleak, args.python, fixtures)
    section_trace(psleak, args.python, fixtures, args.trace_calls, args.skip_valgrind)


if __name__ == "__main__":
    main()
