"""A unittest suite as a project writes it, over the fixture extension `leakfix`: set-up
and tear-down per test and per class, cleanups, subtests, logging, an asyncio test case.
Nothing in it knows psleak.

By name: test_clean_* pass with and without --leaks; test_leaky_<kind>_* pass without
--leaks and fail with it, as a leak of that kind. Under `psleak test --leaks` a test's
setUp and tearDown run with each call, so a leak in setUp is found (TestLeakySetUp).
tests/python/test_leaks_suite.py runs it and checks exactly that.
"""

import asyncio
import logging
import os
import shutil
import socket
import tempfile
import threading
import unittest

import leakfix


class TestNative(unittest.TestCase):
    def test_clean_malloc(self):
        leakfix.clean_malloc_1k()

    def test_leaky_memory_malloc(self):
        leakfix.leak_malloc_1k()

    def test_clean_fd(self):
        leakfix.clean_fd()

    def test_leaky_fd_descriptor(self):
        leakfix.leak_fd()

    def test_clean_native_thread(self):
        leakfix.clean_pthread()

    def test_leaky_thread_native(self):
        leakfix.leak_pthread()


class TestWithFixtures(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        cls.server.bind(("127.0.0.1", 0))
        cls.server.listen(8)

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def setUp(self):
        self.folder = tempfile.mkdtemp(prefix="leaks-suite-")
        self.addCleanup(shutil.rmtree, self.folder)

    def test_clean_temporary_folder(self):
        path = os.path.join(self.folder, "data.txt")
        with open(path, "w") as file:
            file.write("some data\n")
        with open(path) as file:
            self.assertEqual(file.read(), "some data\n")

    def test_clean_socket(self):
        client = socket.create_connection(self.server.getsockname())
        server_side, _ = self.server.accept()
        with client, server_side:
            client.sendall(b"ping")
            self.assertEqual(server_side.recv(4), b"ping")

    def test_leaky_memory_next_to_fixtures(self):
        leakfix.leak_calloc()

    def test_clean_subtests(self):
        for size in (1, 10, 100):
            with self.subTest(size=size):
                self.assertEqual(len(bytes(size)), size)

    def test_clean_logs_and_prints(self):
        with self.assertLogs("leaks_suite", level="WARNING") as logs:
            logging.getLogger("leaks_suite").warning("something to say")
        self.assertEqual(len(logs.records), 1)
        print("printed on every call")


class TestThreadPerTest(unittest.TestCase):
    def setUp(self):
        self.stop = threading.Event()
        self.worker = threading.Thread(target=self.stop.wait, name="per-test")
        self.worker.start()

    def tearDown(self):
        self.stop.set()
        self.worker.join()

    def test_clean_with_a_thread(self):
        self.assertTrue(self.worker.is_alive())


class TestLeakySetUp(unittest.TestCase):
    def setUp(self):
        leakfix.leak_malloc_1k()

    def test_leaky_memory_in_setup(self):
        pass


class TestAsync(unittest.IsolatedAsyncioTestCase):
    async def test_clean_sleep(self):
        await asyncio.sleep(0)

    async def test_leaky_memory_async(self):
        await asyncio.sleep(0)
        leakfix.leak_malloc_1k()
