"""A leak test suite as a user writes it, against the seed's documented API only:
`from psleak import MemoryLeakTestCase`, `self.execute(some_function)`, `execute_w_exc`,
`auto_generate` with `LeakTest`, `Checkers.only(...)`, class attributes.

Half of it is meant to fail: it runs psleak on the fixtures of psleak's own test suite
(`leakfix`, `leakfix_py`, importable from the fixture directory). By name:

* test_clean_* and test_leak_clean_* pass: the functions are clean, or leak only what the
  test leaves unchecked;
* test_leaky_* and test_leak_leaky_* fail with the psleak exception of their leak.

tests/python/test_sample_suite.py runs this file under `psleak test` and under
`psleak python -m pytest` and checks exactly that. Not collected by the rest of the
test suite (this folder is not a package).
"""

import leakfix
import leakfix_py
from psleak import Checkers, LeakTest, MemoryLeakTestCase


class TestNativeMemory(MemoryLeakTestCase):

    def test_clean_malloc(self):
        self.execute(leakfix.clean_malloc_1k)

    def test_clean_realloc(self):
        self.execute(leakfix.clean_realloc)

    def test_clean_python_objects(self):
        self.execute(leakfix.clean_pydict)

    def test_clean_warming_cache(self):
        self.execute(leakfix.cache_fill_then_stop)

    def test_leaky_malloc(self):
        self.execute(leakfix.leak_malloc_1k)

    def test_leaky_mmap(self):
        self.execute(leakfix.leak_mmap, times=20)

    def test_leaky_python_objects(self):
        self.execute(leakfix.leak_pylong)

    def test_leaky_python_list(self):
        self.execute(leakfix_py.leak_list_growth)


class TestResources(MemoryLeakTestCase):
    times = 100

    def test_clean_fd(self):
        self.execute(leakfix.clean_fd)

    def test_clean_thread(self):
        self.execute(leakfix.clean_pthread)

    def test_clean_cycle(self):
        self.execute(leakfix_py.clean_cycle)

    def test_leaky_fd(self):
        self.execute(leakfix.leak_fd)

    def test_leaky_socket(self):
        self.execute(leakfix.leak_socket)

    def test_leaky_native_thread(self):
        self.execute(leakfix.leak_pthread)

    def test_leaky_python_thread(self):
        self.execute(leakfix_py.leak_pythread)

    def test_leaky_cycle(self):
        self.execute(leakfix_py.leak_cycle)


class TestOnlyMemory(MemoryLeakTestCase):
    checkers = Checkers.only("memory")
    times = 20

    def test_clean_fd_leak_not_checked(self):
        # leaks a descriptor per call, but only memory is checked
        self.execute(leakfix.leak_fd)

    def test_leaky_malloc_still_found(self):
        self.execute(leakfix.leak_malloc_1k)


class TestErrorPaths(MemoryLeakTestCase):

    def test_clean_raise(self):
        self.execute_w_exc(ValueError, leakfix.raise_value_error)

    def test_clean_then_raise(self):
        self.execute_w_exc(ValueError, leakfix.clean_then_raise)

    def test_leaky_then_raise(self):
        self.execute_w_exc(ValueError, leakfix.leak_then_raise)


class TestGenerated(MemoryLeakTestCase):

    @classmethod
    def auto_generate(cls):
        return {
            "clean_calloc": LeakTest(leakfix.clean_calloc),
            "clean_noop": LeakTest(leakfix_py.clean_noop),
            "leaky_calloc": LeakTest(leakfix.leak_calloc),
            "leaky_slow_growth": LeakTest(leakfix.grow_slowly_forever),
        }
