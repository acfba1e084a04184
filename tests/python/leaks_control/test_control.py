"""How a pytest suite controls --leaks: psleak's markers and its `psleak` fixture, and what
--leaks does with tests it cannot repeat. tests/python/test_leaks_suite.py runs it (with
--leaks, and with --leaks-budget) and checks each test's outcome and JSON record.
"""

import gc
import os
import threading

import pytest

import leakfix

_never = threading.Event()


@pytest.mark.psleak(times=20, warmup_times=2, retries=4)
def test_leaky_with_own_options():
    leakfix.leak_malloc_1k()


@pytest.mark.no_psleak(reason="leaks on purpose")
def test_excluded_leak():
    leakfix.leak_malloc_1k()


@pytest.mark.psleak(checkers=["memory"])
def test_fd_leak_not_checked():
    leakfix.leak_fd()


class Node:
    def __init__(self):
        self.other = self


@pytest.mark.psleak(checkers=["gcgarbage"])
def test_leaky_cycle_with_garbage_check():
    Node()


def test_cycle_without_garbage_check():
    Node()


@pytest.mark.psleak(tolerance={"heap": 4096}, times=20)
def test_clean_tolerated_small_growth():
    leakfix.clean_malloc_1k()


@pytest.mark.psleak(time=10)
def test_bad_marker_option():
    pass


def test_not_repeatable(tmp_path):
    os.mkdir(tmp_path / "only-once")


def test_fails_normally():
    assert leakfix.clean_malloc_1k() is not None


@pytest.mark.xfail(reason="fails on purpose")
def test_expected_failure():
    assert False


def test_explicit_check_finds_leak(psleak):
    psleak.check(leakfix.leak_malloc_1k)


def test_explicit_check_clean(psleak):
    psleak.check(leakfix.clean_malloc_1k, times=50)


def test_explicit_check_error_path(psleak):
    psleak.check_w_exc(ValueError, leakfix.leak_then_raise)


def test_explicit_check_resource(psleak):
    psleak.check(leakfix.leak_fd)


@pytest.fixture
def leaky_setup():
    leakfix.leak_malloc_1k()  # once per test: set-up is not repeated by --leaks
    yield


def test_setup_leak_not_repeated(leaky_setup):
    pass


def test_setup_leak_checked_explicitly(psleak):
    psleak.check(leakfix.leak_malloc_1k)


@pytest.mark.psleak(setup=True)
def test_setup_leak_repeated_on_request(leaky_setup):
    pass


@pytest.fixture
def clean_setup():
    leakfix.clean_malloc_1k()
    yield [1, 2, 3]


@pytest.mark.psleak(setup=True)
def test_clean_setup_repeated_on_request(clean_setup, monkeypatch, capsys):
    monkeypatch.setenv("PSLEAK_CONTROL", "1")
    print("printed")
    assert capsys.readouterr().out == "printed\n"
