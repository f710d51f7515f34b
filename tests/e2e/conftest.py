"""Fixtures of the end-to-end contract suite (on top of tests/conftest.py)."""
import concurrent.futures
import os
import subprocess
import threading

import pytest

from .hlutil import JOB_OPTS, REPO, Launch, base, seed_store


class ServerPool:
    """Starts healthlake-local servers one step ahead of the tests that need them.

    A server takes most of a second to start (Python start-up), longer than a typical test
    runs; every test gets a fresh, never-used server, started in the background while the
    previous test ran. Keyed by the command-line arguments, so each kind of server is
    prefetched once it has been asked for."""

    def __init__(self, root):
        self.root = root
        self.n = 0
        self.lock = threading.Lock()
        self.ready = {}
        self.exe = concurrent.futures.ThreadPoolExecutor(max_workers=1)

    def _start(self, args, cafile):
        with self.lock:
            self.n += 1
            state = os.path.join(self.root, f"state{self.n}")
        os.makedirs(state)
        return base.start_server(state, *args, cafile=cafile)

    def get(self, args, cafile=None):
        key = (tuple(args), cafile)
        fut = self.ready.pop(key, None)
        srv = None
        if fut is not None:
            try:
                srv = fut.result()
            except Exception:
                srv = None
        if srv is None or srv.proc.poll() is not None:
            srv = self._start(args, cafile)
        self.ready[key] = self.exe.submit(self._start, args, cafile)
        return srv

    def close(self):
        for fut in self.ready.values():
            try:
                fut.result().stop()
            except Exception:
                pass
        self.exe.shutdown()


@pytest.fixture(scope="session")
def _server_pool(tmp_path_factory):
    pool = ServerPool(str(tmp_path_factory.mktemp("servers")))
    yield pool
    pool.close()


DEFAULT_ARGS = ("--create-delay", "0", "--delete-delay", "0", "--job-delay", "0")


@pytest.fixture(scope="module")
def shared(_server_pool, tmp_path_factory):
    """(server, store, mount) shared by the read-only tests of one module: a store named
    clinic-a without tags or jobs, and a default mount. Tests using it change nothing."""
    srv = _server_pool.get(DEFAULT_ARGS)
    st = seed_store(srv, "clinic-a")
    m = base.start_mount(srv, str(tmp_path_factory.mktemp("shared") / "mnt"))
    yield srv, st, m
    m.unmount()
    srv.stop()
    base.check_sanitizers(m.stderr())


@pytest.fixture
def server_factory(_server_pool):
    """Overrides tests/conftest.py's: the same servers, taken from a prefetching pool."""
    servers = []

    def make(*args, state=None, cafile=None):
        if state is not None:
            os.makedirs(state, exist_ok=True)
            s = base.start_server(state, *args, cafile=cafile)
        else:
            s = _server_pool.get(args, cafile)
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.stop()


@pytest.fixture
def store(server):
    """One ACTIVE store named clinic-a on the default (no-delay) server."""
    return seed_store(server, "clinic-a")


@pytest.fixture
def jm(server, store, mount_factory):
    """A mount with job defaults (role_arn=, import_output=, kms_key=) over `store`."""
    return mount_factory(server, JOB_OPTS)


@pytest.fixture
def slow_server(server_factory):
    """healthlake-local whose stores take 1.5 s to create and to delete."""
    return server_factory("--create-delay", "1.5", "--delete-delay", "1.5", "--job-delay", "0")


@pytest.fixture
def launches():
    """Collects Launch objects (raw healthlakefs runs) and stops them at teardown."""
    out = []
    yield out
    for ln in out:
        if isinstance(ln, Launch):
            ln.stop()


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _make_ca(d, name):
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key",
             "-out", f"{name}.pem", "-days", "2", "-subj", f"/CN={name}",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    """A test CA, a server certificate for 127.0.0.1/localhost signed by it, a certificate from
    the same CA for another name, and an unrelated CA."""
    d = str(tmp_path_factory.mktemp("certs"))
    # The project's own script makes the CA and the server certificate (ca.pem, ca.key,
    # server.pem, server.key); the unrelated CA and the wrong-name certificate are extra.
    subprocess.run([os.path.join(REPO, "scripts", "make-test-certs"), d], check=True,
                   capture_output=True)
    _make_ca(d, "other-ca")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "wrong.key", "-out", "wrong.csr",
             "-subj", "/CN=wrong.example", cwd=d)
    with open(os.path.join(d, "wrong.cnf"), "w") as f:
        f.write("subjectAltName=DNS:wrong.example\nbasicConstraints=CA:FALSE\n"
                "extendedKeyUsage=serverAuth\n")
    _openssl("x509", "-req", "-in", "wrong.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "wrong.pem", "-days", "2", "-extfile", "wrong.cnf", cwd=d)
    return {"wrong_cert": os.path.join(d, "wrong.pem"), "wrong_key": os.path.join(d, "wrong.key"),
            "ca": os.path.join(d, "ca.pem"), "other_ca": os.path.join(d, "other-ca.pem"),
            "cert": os.path.join(d, "server.pem"), "key": os.path.join(d, "server.key")}


@pytest.fixture
def https_server(server_factory, certs):
    return server_factory("--create-delay", "0", "--delete-delay", "0", "--job-delay", "0",
                          "--tls-cert", certs["cert"], "--tls-key", certs["key"],
                          cafile=certs["ca"])
