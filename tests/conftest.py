"""Shared pytest fixtures: a healthlake-local server on a free loopback port and
real healthlakefs mounts against it.

Environment:
  HLFS_BUILD_DIR  meson build directory (default: <repo>/build)
"""
import ctypes
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.abspath(os.environ.get("HLFS_BUILD_DIR", os.path.join(REPO, "build")))
SERVER = os.path.join(REPO, "scripts", "healthlake-local")
HEALTHLAKEFS = os.path.join(BUILD, "fs", "healthlakefs")
PYTHON = "/usr/bin/python3"

ACCESS_KEY = "AKIDLOCALTEST000001"
SECRET_KEY = "hl-local-test-secret/ABCDEFGHIJ+0123456789"
REGION = "us-east-1"

SANITIZER_RE = re.compile(
    r"(ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|"
    r"ERROR: ThreadSanitizer|==\d+==ERROR)")


def build_path(*parts):
    return os.path.join(BUILD, *parts)


def wait_for(pred, timeout=10.0, interval=0.02, what="condition"):
    """Polls pred() until it is truthy or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class Server:
    """A running healthlake-local: its URL, its admin API and its log."""

    def __init__(self, proc, url, state, log_path):
        self.proc = proc
        self.url = url
        self.state = state
        self.log_path = log_path
        self.access_key = ACCESS_KEY
        self.secret_key = SECRET_KEY
        self.region = REGION

    def admin(self, path, body=None, method=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url.rstrip("/") + "/__admin/" + path,
                                     data=data, method=method or ("POST" if data else "GET"))
        if data:
            req.add_header("Content-Type", "application/json")
        ctx = None
        if self.url.startswith("https"):
            import ssl
            ctx = ssl.create_default_context(cafile=self.cafile)
        with urllib.request.urlopen(req, timeout=30, context=ctx) as r:
            raw = r.read()
        return json.loads(raw) if raw else None

    cafile = None

    def counters(self):
        return self.admin("counters")

    def calls(self, op=None):
        """Calls per operation (all statuses); one operation's count when op given."""
        c = self.counters()["calls"]
        totals = {k: sum(v.values()) for k, v in c.items()}
        return totals.get(op, 0) if op else totals

    def mutating_calls(self):
        muts = ("CreateFHIRDatastore", "DeleteFHIRDatastore", "StartFHIRImportJob",
                "StartFHIRExportJob", "TagResource", "UntagResource")
        return sum(self.calls().get(op, 0) for op in muts)

    def reset_counters(self):
        self.admin("reset", {})

    def faults(self, **kw):
        return self.admin("faults", kw)

    def seed(self, **kw):
        return self.admin("seed", kw)

    def env(self, **extra):
        """Environment for AWS clients (boto3, aws CLI, healthlakefs) against this server."""
        e = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        e.update({
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL": self.url,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": "/nonexistent/config",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
        })
        if self.cafile:
            e["AWS_CA_BUNDLE"] = self.cafile
        e.update(extra)
        return e

    def boto3(self):
        import boto3
        return boto3.client("healthlake", region_name=self.region, endpoint_url=self.url,
                            aws_access_key_id=self.access_key,
                            aws_secret_access_key=self.secret_key,
                            verify=self.cafile if self.cafile else None)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_server(state_dir, *args, log_path=None, cafile=None, env=None, program=None):
    """Starts healthlake-local (the tree's, or the command list program) on a
    free port and waits for its 'listening on' line."""
    log_path = log_path or os.path.join(state_dir, "server.log")
    log = open(log_path, "wb")
    cmd = [*(program or [PYTHON, SERVER]), "--state", state_dir, "--host", "127.0.0.1", "--port", "0",
           "--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY, "--region", REGION,
           *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, env=env)
    deadline = time.monotonic() + 20
    url = None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(rb"listening on (\S+)", line)
        if m:
            url = m.group(1).decode()
            break
    if not url:
        proc.kill()
        proc.wait()
        log.close()
        with open(log_path, "rb") as f:
            raise RuntimeError("healthlake-local did not start:\n" + f.read().decode(errors="replace"))
    # Keep draining stdout so the server never blocks on a full pipe.
    import threading
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
    s = Server(proc, url, state_dir, log_path)
    s.cafile = cafile
    return s


@pytest.fixture
def server_factory(tmp_path):
    servers = []

    def make(*args, state=None, cafile=None):
        state = state or str(tmp_path / f"state{len(servers)}")
        os.makedirs(state, exist_ok=True)
        s = start_server(state, *args, cafile=cafile)
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.stop()


@pytest.fixture
def server(server_factory):
    """healthlake-local with no delays: stores become ACTIVE at once."""
    return server_factory("--create-delay", "0", "--delete-delay", "0", "--job-delay", "0")


_LIBC = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, AT_STATX_FORCE_SYNC, STATX_BASIC_STATS = -100, 0x2000, 0x7FF


def round_trip(path):
    """One request the daemon answers, sent after every close(2) so far: the kernel
    sends releases after close returns, and a lazy unmount drops the ones still
    queued, so libfuse would never free an opendir's handle (a LeakSanitizer report
    at exit). Requests go to the daemon in order and one it has read is finished
    before it exits, so once this GETATTR of the root (statx's FORCE_SYNC: never
    from the kernel's cache; answered from memory) is answered, those releases are
    in hand."""
    buf = ctypes.create_string_buffer(512)
    _LIBC.statx(AT_FDCWD, os.fsencode(path), AT_STATX_FORCE_SYNC, STATX_BASIC_STATS, buf)


class Mount:
    def __init__(self, path, proc, stderr_path):
        self.path = path
        self.proc = proc
        self.stderr_path = stderr_path

    def p(self, *parts):
        return os.path.join(self.path, *parts)

    def stderr(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode(errors="replace")

    def sh(self, script, check=False, timeout=60, env=None):
        """Runs a bash script with the mount as working directory."""
        return subprocess.run(["bash", "-c", script], cwd=self.path, capture_output=True,
                              text=True, check=check, timeout=timeout, env=env)

    def unmount(self):
        if os.path.ismount(self.path):
            round_trip(self.path)
            subprocess.run(["fusermount3", "-u", "-z", self.path], capture_output=True)
        if self.proc.poll() is None:
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_mount(server, mnt, opts="", extra_args=(), env=None, wait=True):
    os.makedirs(mnt, exist_ok=True)
    stderr_path = mnt.rstrip("/") + ".stderr"
    o = f"endpoint={server.url},region={server.region}"
    if opts:
        o += "," + opts
    cmd = [HEALTHLAKEFS, "-f", "-o", o, *extra_args, mnt]
    env = env if env is not None else server.env()
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(stderr_path, "wb"),
                            env=env)
    m = Mount(mnt, proc, stderr_path)
    if wait:
        try:
            wait_for(lambda: os.path.ismount(mnt) or proc.poll() is not None, timeout=20,
                     what="mount")
        except TimeoutError:
            m.unmount()
            raise
        if proc.poll() is not None:
            raise RuntimeError(f"healthlakefs exited {proc.returncode}:\n{m.stderr()}")
    return m


def daemons_for(mnt):
    """Pids of healthlakefs processes whose arguments name mnt."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"healthlakefs") and mnt.encode() in argv:
            pids.append(int(d))
    return pids


def check_sanitizers(text):
    m = SANITIZER_RE.search(text)
    if m:
        pytest.fail("sanitizer report in healthlakefs stderr:\n" + text[max(0, m.start() - 200):][:6000])


@pytest.fixture
def mount_factory(tmp_path):
    mounts = []

    def make(server, opts="", **kw):
        mnt = str(tmp_path / f"mnt{len(mounts)}")
        m = start_mount(server, mnt, opts, **kw)
        mounts.append(m)
        return m

    yield make
    for m in mounts:
        m.unmount()
    for m in mounts:
        check_sanitizers(m.stderr())


@pytest.fixture
def mnt(server, mount_factory):
    """A default mount against a fresh server."""
    return mount_factory(server)
