"""A pytest suite as a project writes it: plain tests over the fixture extension
`leakfix`, some with fixtures that make resources per test (tmp_path, a socket, a
thread), monkeypatch, capsys, caplog, recwarn. Nothing in it knows psleak.

By name: test_clean_* pass with and without --leaks; test_leaky_<kind>_* pass without
--leaks and fail with it, as a leak of that kind (memory, fd, thread, pythread,
refcount). tests/python/test_leaks_suite.py runs it and checks exactly that.
"""

import logging
import os
import threading
import warnings

import pytest

import leakfix

# Set by nobody: a thread waiting on it never ends.
_never = threading.Event()


def test_clean_malloc():
    assert leakfix.clean_malloc_1k() is None


def test_leaky_memory_malloc():
    assert leakfix.leak_malloc_1k() is None


def test_leaky_memory_python_objects():
    leakfix.leak_pylong()


def test_clean_fd():
    leakfix.clean_fd()


def test_leaky_fd_descriptor():
    leakfix.leak_fd()


def test_leaky_fd_socket():
    leakfix.leak_socket()


def test_clean_native_thread():
    leakfix.clean_pthread()


def test_leaky_thread_native():
    leakfix.leak_pthread()


def test_leaky_pythread_waiting_forever():
    threading.Thread(target=_never.wait, name="waits-forever", daemon=True).start()


def test_leaky_refcount_on_fixture(listening_socket):
    # Takes a reference to the fixture's socket and never gives it back.
    leakfix.leak_incref(listening_socket)


def test_clean_tmp_path(tmp_path):
    target = tmp_path / "data.txt"
    target.write_text("some data\n")
    assert target.read_text() == "some data\n"


def test_leaky_memory_next_to_tmp_path(tmp_path):
    (tmp_path / "data.txt").write_text("x")
    leakfix.leak_calloc()


def test_clean_socket_fixture(listening_socket):
    import socket

    client = socket.create_connection(listening_socket.getsockname())
    server_side, _ = listening_socket.accept()
    with client, server_side:
        client.sendall(b"ping")
        assert server_side.recv(4) == b"ping"


def test_clean_thread_fixture(doubling_thread):
    requests, answers = doubling_thread
    requests.put(21)
    assert answers.get(timeout=10) == 42


def test_leaky_memory_with_thread_fixture(doubling_thread):
    requests, answers = doubling_thread
    requests.put(1)
    assert answers.get(timeout=10) == 2
    leakfix.leak_malloc_1k()


@pytest.mark.parametrize("size", [1, 4096])
def test_clean_parametrized(size):
    assert len(bytes(size)) == size


class TestGrouped:
    def test_clean_method(self):
        assert leakfix.clean_realloc() is None

    def test_leaky_memory_method(self):
        leakfix.leak_realloc()


def test_clean_monkeypatch(monkeypatch):
    monkeypatch.setenv("LEAKS_SUITE_SETTING", "on")
    monkeypatch.setattr(os.path, "sep", "/")
    monkeypatch.delenv("LEAKS_SUITE_UNSET", raising=False)
    assert os.environ["LEAKS_SUITE_SETTING"] == "on"


def test_clean_capsys(capsys):
    print("hello")
    assert capsys.readouterr().out == "hello\n"


def test_clean_caplog(caplog):
    logging.getLogger("leaks_suite").warning("something to say")
    assert [record.getMessage() for record in caplog.records] == ["something to say"]


def test_clean_logging_and_printing():
    logging.getLogger("leaks_suite").warning("said on every call")
    print("printed on every call")


def test_clean_deprecation_warning():
    warnings.warn("an old way of doing it", DeprecationWarning)


def test_clean_recwarn(recwarn):
    warnings.warn("noted", UserWarning)
    assert len(recwarn) == 1


def test_clean_raises():
    with pytest.raises(ValueError):
        leakfix.raise_value_error()
