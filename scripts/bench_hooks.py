#!/usr/bin/env python3
"""Benchmark of psleak's allocator hooks. Prints figures; asserts nothing.

  /usr/bin/python3 scripts/bench_hooks.py [--build build] [--skip-valgrind]

1. Calls and wall time to a verdict per fixture: exact counters (the default) versus
   allocator statistics alone (--no-hooks).
2. Per-call cost of the hooks: a call making 10 malloc/free pairs, counted by the hooks,
   versus the same program built without them (psleak_without_hooks), versus the hooks
   only forwarding (PSLEAK_NO_HOOKS=1), versus Debian's python3 with PYTHONMALLOC=malloc.
   Aim: at most 10% over no hooks. In wall time (noisy on a shared machine) and in
   instructions (callgrind: the same count however busy the machine is).
3. --trace against valgrind --leak-check=full for the same calls, per call, with each
   native unwinder (libunwind, glibc's backtrace). Aim: at least 5x faster than
   valgrind.
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


def overhead_rows(psleak, without_hooks, python, cwd):
    """(label, command prefix, environment): the hooks counting first, then baselines."""
    # A fixed hash seed: with a random one, dict probe sequences (and so instruction
    # counts) differ from run to run.
    base_env = dict(os.environ, PYTHONPATH=cwd, PYTHONHASHSEED="0")
    return [
        ("psleak, hooks counting", [psleak, "python", "-c"], base_env),
        ("psleak_without_hooks (no hooks)", [without_hooks, "python", "-c"], base_env),
        ("psleak, PSLEAK_NO_HOOKS=1", [psleak, "python", "-c"], dict(base_env, PSLEAK_NO_HOOKS="1")),
        ("python3, PYTHONMALLOC=malloc", [python, "-c"], dict(base_env, PYTHONMALLOC="malloc")),
    ]


def section_overhead(rows, cwd, rounds=5):
    print("2. Per-call cost of the hooks: a call making 10 malloc/free pairs "
          f"(best of {rounds} rounds x 7 x 200k, the programs taking turns)")
    best = {}
    for _ in range(rounds):
        for label, command, env in rows:
            work, empty = per_call_ns(command + [TIMING_CODE], cwd, env)
            previous = best.get(label)
            if previous is None or work < previous[0]:
                best[label] = (work, empty)
    for label, _, _ in rows:
        work, empty = best[label]
        print(f"   {label:<36} {work:8.1f} ns/call  (empty call {empty:6.1f} ns)")
    counting = best[rows[0][0]][0]
    for label, _, _ in rows[1:]:
        print(f"   counting vs {label:<36} {100 * (counting / best[label][0] - 1):+6.1f} %")
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


def section_instructions(rows, cwd, calls=20000):
    print(f"2b. The same in instructions per call (callgrind, {calls} calls; immune to load)")
    loop = "import leakfix\nf = leakfix.{}\nfor _ in range({}): f()\n"
    per_call = {}
    for label, command, env in rows:
        work = instructions(command + [loop.format("malloc_free_10", calls)], cwd, env)
        none = instructions(command + [loop.format("malloc_free_10", 0)], cwd, env)
        per_call[label] = (work - none) / calls
        print(f"   {label:<36} {per_call[label]:8.0f} instructions/call")
    counting = per_call[rows[0][0]]
    for label, _, _ in rows[1:]:
        print(f"   counting vs {label:<36} {100 * (counting / per_call[label] - 1):+6.1f} %")
    print()


def section_trace(psleak, python, cwd, calls, skip_valgrind):
    print(f"3. --trace versus valgrind --leak-check=full, {calls} calls of leakfix.leak_malloc_1k")
    traced = {}
    for unwinder in ("libunwind", "backtrace"):
        doc = run_json(psleak, ["leakfix:leak_malloc_1k", "--checks", "memory", "--trace",
                                "--calls", str(calls), "--retries", "1"], cwd,
                       env=dict(os.environ, PSLEAK_UNWINDER=unwinder))
        trace = doc["trace"]
        top = trace["sites"][0]["frames"] if trace["sites"] else []
        names = [f"{f['function']} at {os.path.basename(f['file'] or '?')}:{f['line']}" for f in top[:2]]
        traced[trace["unwinder"]] = trace["seconds"] / trace["calls"]
        print(f"   psleak --trace ({trace['unwinder']:>9}): {trace['seconds']:.3f} s for "
              f"{trace['calls']} traced calls ({1e6 * traced[trace['unwinder']]:.2f} us/call); "
              f"top site: {' <- '.join(names) or '-'}")
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

    # valgrind's own start-up and final leak check take seconds: its cost per call is the
    # difference between many calls and none, over enough calls to stand out of the noise.
    valgrind_calls = max(calls, 300000)
    startup = min(valgrind(0) for _ in range(2))
    full = min(valgrind(valgrind_calls) for _ in range(2))
    per_call = max(full - startup, 1e-9) / valgrind_calls
    print(f"   valgrind: {full:.2f} s for {valgrind_calls} calls, {startup:.2f} s with none, "
          f"so {1e6 * per_call:.2f} us/call")
    for unwinder, seconds in traced.items():
        print(f"   --trace ({unwinder:>9}) is {per_call / seconds:5.1f}x faster per call than valgrind")
    print()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default="build", help="build directory (default: build)")
    parser.add_argument("--python", default="/usr/bin/python3")
    parser.add_argument("--trace-calls", type=int, default=2000)
    parser.add_argument("--skip-valgrind", action="store_true")
    parser.add_argument("--skip-verdicts", action="store_true", help="leave out section 1")
    parser.add_argument("--skip-overhead", action="store_true", help="leave out section 2")
    args = parser.parse_args()
    psleak = os.path.abspath(os.path.join(args.build, "app", "psleak"))
    without_hooks = os.path.abspath(os.path.join(args.build, "app", "psleak_without_hooks"))
    fixtures = os.path.abspath(os.path.join(args.build, "fixtures"))
    if not all(os.path.exists(p) for p in (psleak, without_hooks, fixtures)):
        sys.exit(f"bench_hooks: no psleak build in {args.build} (run scripts/bootstrap.sh first)")
    print(f"psleak: {psleak}\nmachine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}\n")
    if not args.skip_verdicts:
        section_verdicts(psleak, fixtures)
    rows = overhead_rows(psleak, without_hooks, args.python, fixtures)
    if not args.skip_overhead:
        section_overhead(rows, fixtures)
        if shutil.which("valgrind"):
            section_instructions(rows, fixtures)
    section_trace(psleak, args.python, fixtures, args.trace_calls, args.skip_valgrind)


if __name__ == "__main__":
    main()
