# The Python-level API of the `psleak` module: MemoryLeakTestCase, Checkers, LeakTest,
# GCDebugger, the exception classes and the test-suite runner. This source is compiled
# into the module (see psleak_module.cpp) and runs in its namespace, next to the native
# functions it uses: malloc_info(), malloc_trim(), _check(), _allocator_in_use(),
# _EMBEDDED_ALLOCATOR, and _SOURCES ({file name: source} of this text and the others).
#
# The API is that of the original `psleak` package (release 0.1.5), so that suites
# written for it run unchanged; what differs is listed in README ("The Python module").

# Everything psleak's own code uses is imported here, at `import psleak`, which the
# psleak executable does before the working directory goes on sys.path: an inspect.py
# or json.py there cannot stand in for the standard library's. The functions the scan
# calls after importing a module are bound now, so that the module cannot replace them.
import collections
import collections.abc
import dataclasses
import functools
import gc
import linecache
import os
import re
import sys
import threading
import types
import unittest
import warnings
from importlib import import_module as _import_module
from inspect import Parameter as _Parameter, signature as _signature

__all__ = [
    "malloc_info", "malloc_trim", "MemoryLeakTestCase", "LeakTest", "Checkers", "GCDebugger",
    "Error", "MemoryLeakError", "ReferenceLeakError", "UnclosedResourceError",
    "UnclosedFdError", "UnclosedHandleError", "UnclosedHeapCreateError",
    "UnclosedNativeThreadError", "UnclosedPythonThreadError", "UncollectableGarbageError",
]


# ---------------------------------------------------------------------------------------
# Exceptions
# ---------------------------------------------------------------------------------------

class Error(AssertionError):
    """Base class of every leak psleak reports (a failed assertion in a test)."""


class MemoryLeakError(Error):
    """Memory kept increasing run after run."""


class ReferenceLeakError(Error):
    """Calls leaked references to objects that already existed."""


class UnclosedResourceError(Error):
    """One call of a function left resources behind.

    `count` is how many, `fun_name` the function's name, `extras` what each one is (or
    None). `details`, psleak's own addition, is text appended to the message.
    """

    resource_name = "resource"
    verb = "unclosed"

    def __init__(self, count, fun_name, extras=None, *, details=None):
        self.count = count
        self.fun_name = fun_name
        self.extras = extras
        noun = self.resource_name + ("s" if count > 1 else "")
        message = "detected %s %s %s after calling %r 1 time" % (count, self.verb, noun, fun_name)
        if extras:
            message += ":" + "".join("\n* %r" % (extra,) for extra in extras)
        if details:
            message += "\n" + details
        super().__init__(message)


class UnclosedFdError(UnclosedResourceError):
    """A call left file descriptors open (POSIX)."""

    resource_name = "file descriptor"


class UnclosedHandleError(UnclosedResourceError):
    """A call left handles open (Windows only: never raised here)."""

    resource_name = "handle"


class UnclosedHeapCreateError(UnclosedResourceError):
    """A call made a private heap and did not destroy it (Windows only: never raised here)."""

    resource_name = "HeapCreate() call"


class UnclosedNativeThreadError(UnclosedResourceError):
    """A call left native threads (not Python threads) running."""

    resource_name = "native C thread"


class UnclosedPythonThreadError(UnclosedResourceError):
    """A call started Python threads and did not join them."""

    resource_name = "Python thread"


class UncollectableGarbageError(UnclosedResourceError):
    """A call left objects in reference cycles, which only the cycle collector frees."""

    resource_name = "GC object"
    verb = "uncollectable"


# What the extras of the errors above are, for the resources psleak finds itself.
OpenFd = collections.namedtuple("OpenFd", "fd path")
OpenSocket = collections.namedtuple("OpenSocket", "fd path family type laddr raddr")
NativeThread = collections.namedtuple("NativeThread", "id name")


def _show_source_in_tracebacks():
    """Puts psleak's Python sources in linecache, so that tracebacks through them (a test
    made by auto_generate(), say) show their lines instead of "???". Again after every
    check: the checks clear linecache, as the original API does, lest its growth count as
    a leak."""
    for file_name, source in _SOURCES.items():
        linecache.cache[file_name] = (len(source), None, source.splitlines(True), file_name)


_show_source_in_tracebacks()


def _qualname(obj):
    return getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or str(obj)


# ---------------------------------------------------------------------------------------
# GCDebugger
# ---------------------------------------------------------------------------------------

class GCDebugger:
    """Finds what the code in a `with GCDebugger() as dbg:` block leaves in reference
    cycles: gc.DEBUG_SAVEALL is on inside the block, so that a collection keeps the
    unreachable objects in gc.garbage instead of freeing them. Then dbg.leaked_objects()
    lists them, and dbg.check(fun) raises UncollectableGarbageError if there are any.

    An object that cannot hold anything alive (a number, a string), the machinery of an
    exception (frames, tracebacks, the exception itself) and the main thread's object are
    transient, and so is a container that holds only transient objects (an exception's
    args tuple): they are not reported.
    """

    TRANSIENT_TYPES = (types.FrameType, types.TracebackType, type(threading.current_thread()),
                       BaseException)
    SCALAR_TYPES = (int, float, bool, complex, str, bytes, bytearray, type(None))
    _CONTAINER_TYPES = (list, tuple, set, frozenset)

    def __init__(self):
        self.before = []
        self.after = []
        self._saved_flags = None

    def __enter__(self):
        self._saved_flags = gc.get_debug()
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        self.before = list(gc.garbage)
        self.after = []
        del gc.garbage[:]
        return self

    def __exit__(self, *exc_info):
        try:
            gc.collect()
            self.after = list(gc.garbage)
            del gc.garbage[:]
        finally:
            gc.set_debug(self._saved_flags)
        return False

    def is_transient(self, obj, _seen=None):
        """True for an object that cannot keep others alive, or that a raised exception
        leaves in cycles by design (see the class's docstring)."""
        seen = set() if _seen is None else _seen
        if id(obj) in seen:
            return True  # already being looked at, higher up
        seen.add(id(obj))
        if isinstance(obj, self.TRANSIENT_TYPES + self.SCALAR_TYPES):
            return True
        if isinstance(obj, dict):
            return all(self.is_transient(k, seen) and self.is_transient(v, seen)
                       for k, v in obj.items())
        if isinstance(obj, self._CONTAINER_TYPES):
            return all(self.is_transient(item, seen) for item in obj)
        return False

    def leaked_objects(self):
        """The objects found at the end of the block that were not garbage at its start,
        transient ones left out."""
        earlier = {id(obj) for obj in self.before}
        return [obj for obj in self.after
                if id(obj) not in earlier and not self.is_transient(obj)]

    def check(self, fun):
        """Raises UncollectableGarbageError (extras: the objects) if anything leaked."""
        __tracebackhide__ = True
        self._raise_if_leaked(_qualname(fun))

    def _raise_if_leaked(self, fun_name):
        __tracebackhide__ = True
        leaked = self.leaked_objects()
        if leaked:
            raise UncollectableGarbageError(len(leaked), fun_name, extras=leaked)


# ---------------------------------------------------------------------------------------
# Checkers, LeakTest
# ---------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Checkers:
    """Which checks execute() makes; all by default. Checkers.only("memory", "fds") turns
    on just those, Checkers.exclude("fds") all but those."""

    memory: bool = True      # memory growing with the calls
    fds: bool = True         # file descriptors left open by one call
    handles: bool = True     # Windows handles (nothing to check on this platform)
    c_threads: bool = True   # native threads left running by one call
    py_threads: bool = True  # Python threads started and not joined by one call
    gcgarbage: bool = True   # objects left in reference cycles by one call
    refcount: bool = True    # references to existing objects leaked call after call

    @classmethod
    def _fields_named(cls, names):
        known = [field.name for field in dataclasses.fields(cls)]
        wanted = {_CHECKER_ALIASES.get(name, name) for name in names}
        unknown = [name for name in names if _CHECKER_ALIASES.get(name, name) not in known]
        if unknown:
            raise ValueError("invalid checker names: %s (known: %s)"
                             % (", ".join(unknown), ", ".join(known)))
        return known, wanted

    @classmethod
    def only(cls, *names):
        """Only the checks named on."""
        known, wanted = cls._fields_named(names)
        return cls(**{name: name in wanted for name in known})

    @classmethod
    def exclude(cls, *names):
        """Every check but those named."""
        known, unwanted = cls._fields_named(names)
        return cls(**{name: name not in unwanted for name in known})

    def _native_checks(self):
        """The names of the checks psleak's core makes, as `psleak run --check` takes them
        (the garbage check is made here, with GCDebugger)."""
        return [check for field, check in _NATIVE_CHECKS if getattr(self, field)]


# Other names that earlier versions of this API took.
_CHECKER_ALIASES = {"refcounts": "refcount", "python_threads": "py_threads"}
# Checkers fields -> `psleak run` check names, in the order the checks run.
_NATIVE_CHECKS = (("memory", "memory"), ("fds", "fd"), ("c_threads", "thread"),
                  ("py_threads", "pythread"), ("refcount", "refcount"))


class LeakTest:
    """One entry of auto_generate(): the function, its arguments, execute()'s options."""

    __slots__ = ("fun", "args", "execute_kwargs")

    def __init__(self, fun, *args, **execute_kwargs):
        if not callable(fun):
            raise TypeError("'fun' must be instance of Callable (got %r)" % (fun,))
        self.fun = fun
        self.args = args
        self.execute_kwargs = dict(execute_kwargs)

    def _bound(self):
        """The function with its arguments bound: what the generated test executes."""
        return functools.partial(self.fun, *self.args) if self.args else self.fun

    def __repr__(self):
        return "LeakTest(%r, *%r, **%r)" % (self.fun, self.args, self.execute_kwargs)


# ---------------------------------------------------------------------------------------
# Options
# ---------------------------------------------------------------------------------------

# The metrics of psleak's core (detector/metrics.h), and the names a tolerance dict takes
# for them: the original API's five (heap, mmap, rss, uss, vms), the core's names and the
# run table's labels.
_METRICS = ("heap_used", "mmap_used", "heap_total", "rss", "uss", "vms", "allocs",
            "alloc_bytes")
_TOLERANCE_KEYS = {"heap": "heap_used", "mmap": "mmap_used", "arena": "heap_total",
                   "alloc": "alloc_bytes"}
_TOLERANCE_KEYS.update((metric, metric) for metric in _METRICS)


def _tolerance_by_metric(tolerance):
    """{metric: bytes} for every metric of the core. An int covers them all. A dict covers
    the metrics it names; a metric it does not name that measures what named ones do
    gets their tolerance: heap_total (the arena) that of the heap, and psleak's exact
    counters of live blocks (alloc_bytes, allocs: at most one block per byte) that of
    the heap and mmap together. The rest get 0."""
    if not isinstance(tolerance, dict):
        return dict.fromkeys(_METRICS, tolerance)
    named = {_TOLERANCE_KEYS[key]: value for key, value in tolerance.items()}
    derived = {"heap_total": named.get("heap_used", 0),
               "alloc_bytes": named.get("heap_used", 0) + named.get("mmap_used", 0)}
    derived["allocs"] = derived["alloc_bytes"]
    return {metric: named.get(metric, derived.get(metric, 0)) for metric in _METRICS}


def _require_type(name, value, kinds, kind_names):
    if not isinstance(value, kinds):
        raise TypeError("%r must be instance of %s (got %r)" % (name, kind_names, value))


def _require_exception_classes(exc, who):
    """Raises TypeError unless exc is an exception class or a tuple of them (what an
    `except` clause takes)."""
    __tracebackhide__ = True
    classes = exc if isinstance(exc, tuple) else (exc,)
    if not classes or not all(isinstance(c, type) and issubclass(c, BaseException)
                              for c in classes):
        raise TypeError("%s: %r is not an exception class or a tuple of them" % (who, exc))


def _require_at_least(name, value, minimum):
    if value < minimum:
        raise ValueError("%s must be >= %d (got %r)" % (name, minimum, value))


def _validate_tolerance(tolerance):
    _require_type("tolerance", tolerance, (int, dict), "int or dict")
    if not isinstance(tolerance, dict):
        _require_at_least("tolerance", tolerance, 0)
        return
    for key, value in tolerance.items():
        if key not in _TOLERANCE_KEYS:
            raise ValueError("invalid tolerance key %r (valid: %s)"
                             % (key, ", ".join(sorted(_TOLERANCE_KEYS))))
        _require_type("%s tolerance" % key, value, int, "int")
        if value < 0:
            raise ValueError("%r tolerance must be >= 0 (got %r)" % (key, value))


_Options = collections.namedtuple(
    "_Options", "warmup_times times retries tolerance trim_callback checkers")


def _validated_options(defaults, warmup_times=None, times=None, retries=None, tolerance=None,
                       trim_callback=None, checkers=None):
    """execute()'s options: those given, the attributes of the same names of `defaults`
    (a test case, say) filling in; validated."""
    __tracebackhide__ = True
    pick = lambda value, attribute: getattr(defaults, attribute) if value is None else value
    options = _Options(pick(warmup_times, "warmup_times"), pick(times, "times"),
                       pick(retries, "retries"), pick(tolerance, "tolerance"),
                       pick(trim_callback, "trim_callback"), pick(checkers, "checkers"))
    for name in ("warmup_times", "times", "retries"):
        _require_type(name, getattr(options, name), int, "int")
    tolerance = 0 if options.tolerance is None else options.tolerance
    _validate_tolerance(tolerance)
    if options.trim_callback is not None:
        _require_type("trim_callback", options.trim_callback, collections.abc.Callable,
                      "Callable")
    _require_type("checkers", options.checkers, Checkers, "Checkers")
    _require_at_least("warmup_times", options.warmup_times, 0)
    _require_at_least("times", options.times, 1)
    _require_at_least("retries", options.retries, 0)
    return options._replace(tolerance=tolerance)


def _pymalloc_hides_leaks():
    """True outside the psleak binary when small objects are allocated by pymalloc, whose
    pools hide leaks from the allocator's statistics. Decided by the allocator Python
    really uses; as in the original API, also when PYTHONMALLOC does not say malloc."""
    if _EMBEDDED_ALLOCATOR:
        return False  # psleak's interpreter: malloc, and the hooks count every block
    malloc = ("malloc", "malloc_debug")
    in_use = _allocator_in_use()
    if in_use is not None and in_use not in malloc:
        return True
    return os.environ.get("PYTHONMALLOC", "") not in malloc


_PYMALLOC_SKIP = ("PYTHONMALLOC=malloc was not set: small objects allocated by pymalloc hide "
                  "leaks in its pools (set it before Python starts, or run the tests under "
                  "`psleak test` or `psleak python`)")

# warnings.warn's stacklevel that points at the test's line: psleak's frames from the
# one that warns up to execute() or execute_w_exc(), plus one.
_USER_FRAME = 5

_warnings_emitted = False


def _emit_warnings():
    """Once per process: what makes the measurements of this process less reliable."""
    global _warnings_emitted
    if _warnings_emitted:
        return
    _warnings_emitted = True
    if malloc_info()["heap_used"] == 0:
        warnings.warn("psleak: the C allocator reports no heap in use (is another allocator "
                      "preloaded?); memory leak detection relies on the kernel's numbers alone",
                      RuntimeWarning, stacklevel=_USER_FRAME)
    others = [t.name for t in threading.enumerate() if t is not threading.current_thread()]
    if others:
        warnings.warn("psleak: other Python threads are running (%s); what they allocate, "
                      "open or start while a function is checked can be taken for its leak"
                      % ", ".join(others), RuntimeWarning, stacklevel=_USER_FRAME)


# ---------------------------------------------------------------------------------------
# The checks of one callable: execute()'s, and those of --leaks on each test
# ---------------------------------------------------------------------------------------

def _check_callable(fun, args, kwargs, expected, options, via=None, on_run=None,
                    warn_stacklevel=None, name=None):
    """Makes execute()'s checks on fun(*args, **kwargs) and raises the exception of the
    first leak found; returns the core's report (None when only the garbage check ran).

    `via(bound)`, when given, makes every call, `bound` being fun with its arguments
    bound; the reference count check still watches fun and the arguments themselves.
    A warning finding of a clean verdict becomes a RuntimeWarning at `warn_stacklevel`
    (None: no warning). `name` names fun in the messages (default: its qualified name).
    """
    __tracebackhide__ = True
    name = _qualname(fun) if name is None else name
    bound = functools.partial(fun, *args, **kwargs) if args or kwargs else fun
    checkers = options.checkers
    native = checkers._native_checks()
    report = None
    if native:
        # A partial is looked through, so that the reference count check watches
        # the function and the arguments themselves.
        target, target_args, target_kwargs = fun, args, kwargs
        if type(fun) is functools.partial:
            target, target_args = fun.func, fun.args + args
            target_kwargs = dict(fun.keywords, **kwargs)
        report = _check(
            target, tuple(target_args), dict(target_kwargs),
            warmup=options.warmup_times, times=options.times, retries=options.retries,
            tolerance=_tolerance_by_metric(options.tolerance), checks=native,
            expected=expected, trim_callback=options.trim_callback,
            via=via, bound=bound, on_run=on_run)
        _raise_for(report, name, expected, warn_stacklevel)
    if checkers.gcgarbage or not native:
        _call_once(via, bound, name, expected, checkers.gcgarbage)
    return report


def _call_once(via, bound, name, expected, check_garbage):
    """One more call, through `via` if given; with check_garbage, what it leaves in
    reference cycles is a leak (UncollectableGarbageError)."""
    __tracebackhide__ = True
    if not check_garbage:
        _call_expecting(via, bound, name, expected)
        return
    with GCDebugger() as debugger:
        _call_expecting(via, bound, name, expected)
    debugger._raise_if_leaked(name)


def _call_expecting(via, bound, name, expected):
    __tracebackhide__ = True
    call = bound if via is None else functools.partial(via, bound)
    if expected is None:
        call()
        return
    try:
        call()
    except expected:
        return
    raise Error(_did_not_raise(name, expected))


# ---------------------------------------------------------------------------------------
# MemoryLeakTestCase
# ---------------------------------------------------------------------------------------

class MemoryLeakTestCase(unittest.TestCase):
    """A TestCase whose execute() fails the test when a function leaks memory or resources.

    Class attributes are the defaults of execute()'s keywords. A subclass may override
    call(self, fun): every call the checks make goes through it (to swallow an expected
    exception, for instance).
    """

    warmup_times = 10
    times = 200
    retries = 10
    tolerance = 0
    trim_callback = None
    checkers = Checkers()
    verbosity = 0

    @classmethod
    def auto_generate(cls):
        """Override to return {name: LeakTest(fun, *args, **execute_kwargs)}; each entry
        becomes a test method test_leak_<name>, which executes fun with args bound."""
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
            method = "test_leak_%s" % name
            if not method.isidentifier():
                raise ValueError("%s.auto_generate(): %r does not make a method name"
                                 % (cls.__name__, name))
            if method in cls.__dict__:
                raise RuntimeError("%s already defines %s: auto_generate() cannot add it"
                                   % (cls.__name__, method))
            setattr(cls, method, _generated_test(method, name, test._bound(),
                                                 dict(test.execute_kwargs)))

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # psutil's debug messages (PSUTIL_DEBUG) would be printed on every call of a
        # psutil function that fails on purpose: off while the class runs.
        set_debug = getattr(sys.modules.get("psutil"), "_set_debug", None)
        cls._psutil_debug = bool(os.environ.get("PSUTIL_DEBUG")) if set_debug else None
        if set_debug:
            set_debug(False)

    @classmethod
    def tearDownClass(cls):
        set_debug = getattr(sys.modules.get("psutil"), "_set_debug", None)
        if set_debug and getattr(cls, "_psutil_debug", None) is not None:
            set_debug(cls._psutil_debug)
        super().tearDownClass()

    def call(self, fun):
        """Calls fun() once. Every call the checks make goes through this method when a
        subclass overrides it."""
        return fun()

    def execute(self, fun, *args, warmup_times=None, times=None, retries=None,
                tolerance=None, trim_callback=None, checkers=None):
        """Calls fun(*args) repeatedly; fails the test if it leaks memory or resources.
        The keywords override the class attributes of the same names."""
        __tracebackhide__ = True
        options = self._options(warmup_times, times, retries, tolerance, trim_callback,
                                checkers)
        self._execute(fun, args, None, options)

    def execute_w_exc(self, exc, fun, *args, **kwargs):
        """Like execute(), for a function each call of which must raise `exc` (a class or
        a tuple of classes): the error path is checked for leaks. A call that returns
        normally fails the test; another exception is raised as it is."""
        __tracebackhide__ = True
        _require_exception_classes(exc, "execute_w_exc")
        options = self._options(**kwargs)
        self._execute(fun, args, exc, options)

    # --- what execute() does

    def _options(self, warmup_times=None, times=None, retries=None, tolerance=None,
                 trim_callback=None, checkers=None):
        """execute()'s options, the class attributes filling in, validated."""
        __tracebackhide__ = True
        return _validated_options(self, warmup_times, times, retries, tolerance, trim_callback,
                                  checkers)

    def _overridden_call(self):
        """The bound call() when a subclass overrides it, else None (fun is then called
        directly, without a Python frame in between)."""
        call = self.call
        return None if getattr(call, "__func__", None) is MemoryLeakTestCase.call else call

    def _execute(self, fun, args, expected, options):
        __tracebackhide__ = True
        try:
            self._run_checks(fun, args, expected, options)
        finally:
            _show_source_in_tracebacks()

    def _run_checks(self, fun, args, expected, options):
        __tracebackhide__ = True
        if not callable(fun):
            raise TypeError("'fun' must be instance of Callable (got %r)" % (fun,))
        if options.checkers.memory and _pymalloc_hides_leaks():
            raise unittest.SkipTest(_PYMALLOC_SKIP)
        _emit_warnings()
        _check_callable(fun, args, {}, expected, options, via=self._overridden_call(),
                        on_run=self._log_run if self.verbosity >= 1 else None,
                        warn_stacklevel=_USER_FRAME + 1)

    # --- verbosity

    def _log(self, msg, level):
        """Prints msg on stdout (in yellow on a terminal) when level <= verbosity."""
        if level > self.verbosity:
            return
        stream = sys.stdout
        if getattr(stream, "isatty", None) and stream.isatty():
            msg = "\x1b[93m%s\x1b[0m" % msg
        print(msg, file=stream)
        stream.flush()

    def _log_run(self, run, line, stable):
        self._log(("\n" if run == 1 else "") + line, 1)
        if stable and run > 1:
            self._log("Memory stabilized (no further growth detected)", 1)


def _generated_test(method, name, fun, execute_kwargs):
    def test(self):
        self.execute(fun, **execute_kwargs)
    test.__name__ = method
    test.__qualname__ = method
    test.__doc__ = "Leak test of %s, made by auto_generate()" % name
    return test


def _did_not_raise(name, expected):
    names = expected if isinstance(expected, tuple) else (expected,)
    return "%r did not raise %s" % (name, " or ".join(map(str, names)))


# ---------------------------------------------------------------------------------------
# From the core's report to the exception a test fails with
# ---------------------------------------------------------------------------------------

_FD_ITEM = re.compile(r"fd (\d+) -> (.*)\Z", re.S)
_THREAD_ITEM = re.compile(r"thread (\d+) '(.*)'\Z", re.S)


def _describe_fd(item):
    """An fd finding's item ("fd 7 -> /dev/null") as OpenFd, or as OpenSocket with the
    socket's family, type and addresses (read from the descriptor, still open)."""
    match = _FD_ITEM.match(item)
    if match is None:
        return item
    fd, path = int(match.group(1)), match.group(2)
    if not path.startswith("socket:"):
        return OpenFd(fd, path)
    import socket

    try:
        sock = socket.socket(fileno=fd)
    except OSError:
        return OpenFd(fd, path)
    try:
        laddr = sock.getsockname()
        try:
            raddr = sock.getpeername()
        except OSError:
            raddr = None
        return OpenSocket(fd, path, sock.family, sock.type, laddr, raddr)
    except OSError:
        return OpenFd(fd, path)
    finally:
        sock.detach()  # the descriptor stays the caller's


def _describe_thread(item):
    match = _THREAD_ITEM.match(item)
    return NativeThread(int(match.group(1)), match.group(2)) if match else item


def _python_threads(items):
    """The threading.Thread objects a pythread finding lists (by repr)."""
    alive = {repr(thread): thread for thread in threading.enumerate()}
    return [alive.get(item, item) for item in items]


_RESOURCE_ERRORS = {
    "fd": (UnclosedFdError, lambda items: [_describe_fd(item) for item in items]),
    "thread": (UnclosedNativeThreadError, lambda items: [_describe_thread(i) for i in items]),
    "pythread": (UnclosedPythonThreadError, _python_threads),
}


def _raise_for(report, name, expected, warn_stacklevel):
    """Raises the exception of the report's leak, named after `name`; a clean report's
    warnings become RuntimeWarnings at warn_stacklevel (None: none)."""
    __tracebackhide__ = True
    verdict = report["verdict"]
    findings = report["findings"]
    if verdict["status"] == "clean":
        # A count that went down is worth knowing, but is no leak.
        for finding in findings:
            if finding["severity"] == "warning" and warn_stacklevel is not None:
                warnings.warn("psleak: " + finding["message"], RuntimeWarning,
                              stacklevel=warn_stacklevel)
        return
    if verdict["status"] == "error":
        if verdict["kind"] == "expected-exception":
            # The core's message says which call: "... returned normally on call 3 ...".
            which = re.search(r"returned normally on call \d+", verdict["message"])
            raise Error("%s: it %s" % (_did_not_raise(name, expected),
                                       which.group(0) if which else "returned normally"))
        details = verdict.get("details") or ""
        raise RuntimeError(verdict["message"] + ("\n" + details if details else ""))
    kind = verdict["kind"]
    leak = next(f for f in findings if f["severity"] == "leak" and f["check"] == kind)
    others = [f for f in findings if f is not leak]
    if kind in _RESOURCE_ERRORS:
        # The message ends with what each resource is, as in the original API; then only
        # other leaks (the checks a resource leak made psleak skip go without saying).
        error_class, describe = _RESOURCE_ERRORS[kind]
        other_leaks = [f["text"] for f in others if f["severity"] == "leak"]
        error = error_class(len(leak["items"]), name, extras=describe(leak["items"]),
                            details="\n".join(other_leaks) or None)
    else:
        # The leak's message, then psleak's detail: the run table, the other findings.
        head = "\n".join([leak["message"]] + ["    " + item for item in leak["items"]])
        error_class = {"memory": MemoryLeakError, "refcount": ReferenceLeakError}.get(kind, Error)
        error = error_class("\n".join([head] + report["run_lines"] + [f["text"] for f in others]))
    error._report = report  # for the JSON of --leaks
    raise error


def _tests_of_file(loader, path):
    """The tests of one file, imported as a top-level module from its folder. (Discovery
    with the file's name as pattern would also run every package's load_tests in that
    folder: `psleak test Lib/test/test_bz2.py` ran test_zoneinfo and test_warnings too.)"""
    folder, name = os.path.split(path)
    module_name, extension = os.path.splitext(name)
    if extension == ".py" and module_name.isidentifier():
        if folder not in sys.path:
            sys.path.insert(0, folder)
        try:
            module = _import_module(module_name)
        except Exception:
            module = None  # discovery below reports the import error as a failed test
        found = getattr(module, "__file__", None)
        if found and os.path.realpath(found) == os.path.realpath(path):
            return loader.loadTestsFromModule(module)
    return loader.discover(folder, pattern=name, top_level_dir=folder)


def _run_tests(paths, verbosity=2, leaks=None):
    """Runs unittest discovery over files and folders; returns True if all passed.
    `leaks`, a dict, turns --leaks on (psleak_leaks.py): "budget" (seconds or None) and
    "json" (a file for the JSON report, or None)."""
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    for path in paths:
        if not os.path.exists(path):
            raise FileNotFoundError("no such file or folder: %s" % path)
        path = os.path.abspath(path)
        if os.path.isdir(path):
            suite.addTests(loader.discover(path, top_level_dir=path))
        else:
            suite.addTests(_tests_of_file(loader, path))
    if suite.countTestCases() == 0:
        print("psleak: no tests found in %s" % ", ".join(paths), file=sys.stderr)
        return False
    if leaks is None:
        return unittest.TextTestRunner(verbosity=verbosity).run(suite).wasSuccessful()
    json_path = leaks.get("json")
    if json_path:
        _check_writable(json_path, "--leaks-json")
    session = _LeakSession("psleak test --leaks", _UNITTEST_REPEATED, budget=leaks.get("budget"))
    try:
        return _leaks_text_runner(verbosity, session).run(suite).wasSuccessful()
    finally:  # also when Ctrl-C stops the run: what was found so far
        sys.stderr.write("".join("psleak --leaks: %s\n" % line
                                 for line in session.summary_lines()))
        if json_path:
            session.write_json(json_path)


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
    and those it cannot, with why and a word for the kind of why (the scan counts them by
    it): {"targets": [spec, ...], "skipped": [[spec, why, kind], ...]}."""
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
            skipped.append([spec, "getting it raised %s" % type(e).__name__, "raised"])
            continue
        if isinstance(obj, types.ModuleType) or not callable(obj):
            continue
        if isinstance(obj, type):
            skipped.append([spec, "class (scan calls functions only)", "class"])
            continue
        if not isinstance(obj, (types.FunctionType, types.BuiltinFunctionType)):
            skipped.append([spec, "callable %s object, not a function" % type(obj).__name__,
                            "not_function"])
            continue
        home = getattr(obj, "__module__", None)
        if home and home != module_name and not home.startswith(module_name + "."):
            skipped.append([spec, "imported from %s" % home, "imported"])
            continue
        try:
            signature = _signature(obj)
            required = [p.name for p in signature.parameters.values()
                        if p.kind in kinds and p.default is _Parameter.empty]
        except (TypeError, ValueError):
            required = _required_from_docstring(obj, name)
            if required is None:
                skipped.append([spec, "signature unknown (cannot tell whether it needs arguments)",
                                "signature_unknown"])
                continue
        if required:
            skipped.append([spec, "needs arguments (%s)" % ", ".join(required), "arguments"])
            continue
        targets.append(spec)
    return {"targets": targets, "skipped": skipped}
