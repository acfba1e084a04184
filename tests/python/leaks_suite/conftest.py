"""Fixtures of the sample pytest suite: per-test resources that a test uses and that
exist before and after its call (a listening socket, a thread answering requests)."""

import queue
import socket
import threading

import pytest


@pytest.fixture
def listening_socket():
    """A TCP socket listening on the loopback interface, closed after the test."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    yield server
    server.close()


@pytest.fixture
def doubling_thread():
    """A thread that answers each number put on `requests` with its double on `answers`;
    stopped and joined after the test."""
    requests, answers = queue.Queue(), queue.Queue()

    def serve():
        while True:
            number = requests.get()
            if number is None:
                return
            answers.put(number * 2)

    thread = threading.Thread(target=serve, name="doubling")
    thread.start()
    yield requests, answers
    requests.put(None)
    thread.join()
