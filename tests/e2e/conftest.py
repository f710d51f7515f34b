"""Fixtures of the end-to-end contract suite (on top of tests/conftest.py)."""
import os
import subprocess

import pytest

from .hlutil import JOB_OPTS, REPO, Launch, seed_store


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
