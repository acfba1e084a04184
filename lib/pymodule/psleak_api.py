# The Python-level API of the `psleak` module: MemoryLeakTestCase, Checkers, LeakTest,
# the exception classes and the test-suite runner. This source is compiled into the
# module (see psleak_module.cpp) and runs in its namespace, next to the native
# functions it uses: malloc_info(), malloc_trim(), _check(), _EMBEDDED_ALLOCATOR.

# Everything psleak's own code uses is imported here, at `import psleak`, which the
# psleak executable does before the working directory goes on sys.path: an inspect.py
# or json.py there cannot stand in for the standard library's. The functions the scan
# calls after importing a module are bound now, so that the module cannot replace them.
import os
import re
import sys
import types
import unittest
import warnings
from importlib import import_module as _import_module
from inspect import Parameter as _Parameter, signature as _signature

__all__ = [
    "malloc_info", "malloc_trim", "MemoryLeakTestCase", "LeakTest", "Checkers",
    "Error", "MemoryLeakError", "UnclosedFdError", "UnclosedHandleError",
    "UnclosedNativeThreadError", "UnclosedPythonThreadError",
    "UncollectableGarbageError", "ReferenceLeakError",
]


class Error(AssertionError):
    """Base class of every leak psleak reports (a failed assertion in a test)."""


class MemoryLeakError(Error):
    """Memory kept increasing run after run."""


class UnclosedFdError(Error):
    """A call left file descriptors open."""


class UnclosedHandleError(Error):
    """A call left Windows handles open (never raised on POSIX systems)."""


class UnclosedNativeThreadError(Error):
    """A call left native threads running."""


class UnclosedPythonThreadError(Error):
    """A call started Python threads and did not join them."""


class UncollectableGarbageError(Error):
    """A call left objects in reference cycles that only the cycle collector frees."""


class ReferenceLeakError(Error):
    """Calls leaked references to objects that already existed."""


# psleak's check names, by the names of the seed design's API.
_CHECKER_NAMES = {
    "memory": "memory",
    "fds": "fd",
    "handles": None,  # Windows only: nothing to check here
    "c_threads": "thread",
    "py_threads": "pythread",
    "gcgarbage": "gc",
    "refcount": "refcount",
    # Names later and earlier versions of the seed's API use.
    "refcounts": "refcount",
    "python_threads": "pythread",
}

# The names of the seed design's API, in order (the aliases above map onto them).
_SEED_CHECKERS = ("memory", "fds", "handles", "c_threads", "py_threads", "gcgarbage", "refcount")

_ERRORS = {
    "memory": MemoryLeakError,
    "fd": UnclosedFdError,
    "thread": UnclosedNativeThreadError,
    "pythread": UnclosedPythonThreadError,
    "gc": UncollectableGarbageError,
    "refcount": ReferenceLeakError,
}

# Every metric of the C++ core (detector/metrics.h), by name; then the short labels of
# the run table. A plain int tolerance covers them all, as `psleak run --tolerance N`.
_METRICS = ("heap_used", "mmap_used", "heap_total", "rss", "uss", "vms", "allocs",
            "alloc_bytes")
_METRIC_LABELS = {"heap": "heap_used", "mmap": "mmap_used", "arena": "heap_total",
                  "alloc": "alloc_bytes"}


class Checkers:
    """Which checks execute() makes: Checkers.only("memory"), Checkers.exclude("fds")."""

    def __init__(self, names=None):
        names = tuple(_SEED_CHECKERS) if names is None else tuple(names)
        for name in names:
            if name not in _CHECKER_NAMES:
                raise ValueError(
                    "unknown checker %r (known: %s)" % (name, ", ".join(_CHECKER_NAMES)))
        self.names = frozenset(names)

    @classmethod
    def only(cls, *names):
        return cls(names)

    @classmethod
    def exclude(cls, *names):
        excluded = {_CHECKER_NAMES[n] for n in cls(names).names}
        return cls(n for n in _SEED_CHECKERS if _CHECKER_NAMES[n] not in excluded)

    def _psleak_checks(self):
        wanted = {_CHECKER_NAMES[n] for n in self.names}
        return [_CHECKER_NAMES[n] for n in _SEED_CHECKERS
                if _CHECKER_NAMES[n] is not None and _CHECKER_NAMES[n] in wanted]

    def __repr__(self):
        return "Checkers.only(%s)" % ", ".join(repr(n) for n in sorted(self.names))


class LeakTest:
    """One entry of auto_generate(): the function, its arguments, execute() options."""

    def __init__(self, fun, *args, **execute_kwargs):
        if not callable(fun):
            raise TypeError("LeakTest: %r is not callable" % (fun,))
        self.fun = fun
        self.args = args
        self.execute_kwargs = execute_kwargs

    def __repr__(self):
        return "LeakTest(%r, *%r, **%r)" % (self.fun, self.args, self.execute_kwargs)


def _allocator():
    if _EMBEDDED_ALLOCATOR:
        return _EMBEDDED_ALLOCATOR
    if os.environ.get("PYTHONMALLOC", "") in ("malloc", "malloc_debug"):
        return "malloc"
    return "pymalloc"


_warned_pymalloc = False


def _warn_if_pymalloc():
    global _warned_pymalloc
    if _warned_pymalloc or _allocator() != "pymalloc":
        return
    _warned_pymalloc = True
    warnings.warn(
        "psleak: this interpreter allocates small objects with pymalloc, whose pools "
        "can hide small leaks; run the tests with `psleak test` or `psleak python`, or "
        "set PYTHONMALLOC=malloc", RuntimeWarning, stacklevel=4)


def _check_count(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("%s must be an int, not %s" % (name, type(value).__name__))
    if value < minimum:
        raise ValueError("%s must be >= %d (got %d)" % (name, minimum, value))
    return value


def _normalize_tolerance(tolerance):
    if isinstance(tolerance, dict):
        result = {}
        for key, value in tolerance.items():
            metric = _METRIC_LABELS.get(key, key)
            if metric not in _METRICS:
                raise ValueError("tolerance: unknown metric %r (known: %s)"
                                 % (key, ", ".join(_METRICS + tuple(_METRIC_LABELS))))
            result[metric] = _check_count("tolerance[%r]" % key, value, 0)
        return result
    value = _check_count("tolerance", tolerance, 0)
    return {metric: value for metric in _METRICS}


class MemoryLeakTestCase(unittest.TestCase):
    """A TestCase whose execute() fails the test when a function leaks."""

    warmup_times = 10
    times = 200
    retries = 10
    tolerance = 0
    trim_callback = None
    checkers = None
    verbosity = 0

    @classmethod
    def auto_generate(cls):
        """Override to return {name: LeakTest(fun, *args, **execute_kwargs)}; each
        entry becomes a test method test_leak_<name>."""
        return {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        tests = cls.auto_generate()
        if not isinstance(tests, dict):
            raise TypeError("%s.auto_generate() must return a dict, not %s"
                            % (cls.__name__, type(tests).__name__))
        for name, test in tests.items():
            if not isinstance(test, LeakTest):
                raise TypeError("%s.auto_generate()[%r] must be a LeakTest, not %s"
                                % (cls.__name__, name, type(test).__name__))
            method = "test_leak_" + name
            if not method.isidentifier():
                raise ValueError("%s.auto_generate(): %r does not make a method name"
                                 % (cls.__name__, name))
            if method not in cls.__dict__:
                setattr(cls, method, _generated_test(method, test))

    def execute(self, fun, *args, warmup_times=None, times=None, retries=None,
                tolerance=None, trim_callback=None, checkers=None):
        """Calls fun(*args) repeatedly; fails the test if it leaks memory or resources."""
        self._execute(fun, args, None, warmup_times, times, retries, tolerance,
                      trim_callback, checkers)

    def execute_w_exc(self, exc, fun, *args, **kwargs):
        """Like execute(), for a function each call of which must raise `exc`: the error
        path is checked for leaks."""
        if not (isinstance(exc, type) and issubclass(exc, BaseException)):
            raise TypeError("execute_w_exc: %r is not an exception class" % (exc,))
        options = {k: kwargs.pop(k) for k in list(kwargs) if k in (
            "warmup_times", "times", "retries", "tolerance", "trim_callback", "checkers")}
        if kwargs:
            raise TypeError("execute_w_exc: unexpected keyword arguments %s"
                            % ", ".join(sorted(kwargs)))
        self._execute(fun, args, exc, options.get("warmup_times"), options.get("times"),
                      options.get("retries"), options.get("tolerance"),
                      options.get("trim_callback"), options.get("checkers"))

    def _unbound_attribute(self, name):
        """The attribute as set, not bound: `trim_callback = clear_caches` in a class body
        is a callable to call with no arguments, not a method of the test case."""
        if name in self.__dict__:
            return self.__dict__[name]
        for klass in type(self).__mro__:
            if name in klass.__dict__:
                value = klass.__dict__[name]
                if isinstance(value, staticmethod):
                    return value.__func__
                if isinstance(value, types.FunctionType):
                    return value
                break
        return getattr(self, name)

    def _execute(self, fun, args, exc, warmup_times, times, retries, tolerance,
                 trim_callback, checkers):
        if not callable(fun):
            raise TypeError("%r is not callable" % (fun,))
        pick = lambda value, default: default if value is None else value
        warmup_times = _check_count("warmup_times", pick(warmup_times, self.warmup_times), 0)
        times = _check_count("times", pick(times, self.times), 1)
        retries = _check_count("retries", pick(retries, self.retries), 1)
        tolerance = _normalize_tolerance(pick(tolerance, self.tolerance))
        trim_callback = pick(trim_callback, self._unbound_attribute("trim_callback"))
        if trim_callback is not None and not callable(trim_callback):
            raise TypeError("trim_callback must be callable")
        checkers = pick(checkers, self.checkers)
        if checkers is None:
            checkers = Checkers()
        if not isinstance(checkers, Checkers):
            raise TypeError("checkers must be a Checkers instance, e.g. Checkers.only('memory')")
        checks = checkers._psleak_checks()
        if not checks:
            return
        _warn_if_pymalloc()
        report = _check(fun, tuple(args), {}, warmup_times, times, retries, tolerance,
                        checks, exc, trim_callback, int(self.verbosity))
        _raise_for(report)


def _generated_test(name, test):
    def method(self):
        self.execute(test.fun, *test.args, **test.execute_kwargs)
    method.__name__ = name
    method.__qualname__ = name
    method.__doc__ = "Leak test of %r" % (test.fun,)
    return method


def _raise_for(report):
    verdict = report["verdict"]
    if verdict["status"] == "clean":
        # A count that went down is worth knowing, but is no leak.
        for finding in report["findings"]:
            if finding["severity"] == "warning":
                warnings.warn("psleak: " + finding["message"], RuntimeWarning, stacklevel=4)
        return
    if verdict["kind"] == "expected-exception":
        raise Error(verdict["message"])  # a failed test, as unittest's self.fail()
    if verdict["status"] == "error":
        details = verdict.get("details") or ""
        raise RuntimeError(verdict["message"] + ("\n" + details if details else ""))
    error = _ERRORS.get(verdict["kind"], Error)
    raise error(report["text"])


def _run_tests(paths, verbosity=2):
    """Runs unittest discovery over files and folders; returns True if all passed."""
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    for path in paths:
        if not os.path.exists(path):
            raise FileNotFoundError("no such file or folder: %s" % path)
        path = os.path.abspath(path)
        if os.path.isdir(path):
            suite.addTests(loader.discover(path, top_level_dir=path))
        else:
            folder, name = os.path.split(path)
            suite.addTests(loader.discover(folder, pattern=name, top_level_dir=folder))
    if suite.countTestCases() == 0:
        print("psleak: no tests found in %s" % ", ".join(paths), file=sys.stderr)
        return False
    result = unittest.TextTestRunner(verbosity=verbosity).run(suite)
    return result.wasSuccessful()


def _required_from_docstring(obj, name):
    """The required parameters a builtin's docstring gives in its first line, in the
    old style "name(a, b[, c]) -> result" (bracketed parts are optional); None when the
    docstring does not say."""
    doc = (getattr(obj, "__doc__", None) or "").strip().splitlines()
    match = re.match(r"\s*%s\((.*?)\)" % re.escape(name), doc[0]) if doc else None
    if match is None:
        return None
    inside = match.group(1)
    while True:  # drop [optional] parts, innermost first
        stripped = re.sub(r"\[[^\[\]]*\]", "", inside)
        if stripped == inside:
            break
        inside = stripped
    return [p.strip() for p in inside.split(",") if p.strip() and p.strip() not in ("/", "*")]


def _scan_candidates(module_name):
    """The public callables of a module that `psleak scan` can call with no arguments,
    and those it cannot, with why: {"targets": [spec, ...], "skipped": [[spec, why], ...]}."""
    module = _import_module(module_name)
    names = getattr(module, "__all__", None)
    if not isinstance(names, (list, tuple)):
        names = [n for n in dir(module) if not n.startswith("_")]
    targets, skipped = [], []
    kinds = (_Parameter.POSITIONAL_ONLY, _Parameter.POSITIONAL_OR_KEYWORD,
             _Parameter.KEYWORD_ONLY)
    for name in sorted(set(names)):
        spec = "%s:%s" % (module_name, name)
        try:
            obj = getattr(module, name)
        except Exception as e:  # a lazy attribute may raise
            skipped.append([spec, "getting it raised %s" % type(e).__name__])
            continue
        if isinstance(obj, types.ModuleType) or not callable(obj):
            continue
        if isinstance(obj, type):
            skipped.append([spec, "class (scan calls functions only)"])
            continue
        if not isinstance(obj, (types.FunctionType, types.BuiltinFunctionType)):
            skipped.append([spec, "callable %s object, not a function" % type(obj).__name__])
            continue
        home = getattr(obj, "__module__", None)
        if home and home != module_name and not home.startswith(module_name + "."):
            skipped.append([spec, "imported from %s" % home])
            continue
        try:
            signature = _signature(obj)
            required = [p.name for p in signature.parameters.values()
                        if p.kind in kinds and p.default is _Parameter.empty]
        except (TypeError, ValueError):
            required = _required_from_docstring(obj, name)
            if required is None:
                skipped.append([spec, "signature unknown (cannot tell whether it needs arguments)"])
                continue
        if required:
            skipped.append([spec, "needs arguments (%s)" % ", ".join(required)])
            continue
        targets.append(spec)
    return {"targets": targets, "skipped": skipped}
