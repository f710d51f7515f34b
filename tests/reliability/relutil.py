"""Helpers shared by the reliability tests (imported by module name: pytest puts
this directory on sys.path)."""
import base64
import errno
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
FSOP = os.path.join(HERE, "fsop.py")
PYTHON = "/usr/bin/python3"

ROLE_ARN = "arn:aws:iam::123456789012:role/HealthLakeRelTest"
KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/rel-test-key-0001"
IMPORT_OUTPUT = "s3://rel-bucket/import-out/"
JOB_OPTS = f"role_arn={ROLE_ARN},import_output={IMPORT_OUTPUT},kms_key={KMS_KEY}"

# Texts the coreutils print for the errnos the contract allows under faults.
STRERROR = {e: os.strerror(e) for e in (errno.ETIMEDOUT, errno.EIO, errno.EAGAIN, errno.EBUSY,
                                        errno.EACCES, errno.ENOENT, errno.EEXIST, errno.EINVAL,
                                        errno.EPERM, errno.EROFS, errno.ENOTCONN)}


def b64(raw):
    """A path given as raw bytes (for invalid UTF-8 names) in fsop's encoding."""
    return {"b64": base64.b64encode(raw).decode()}


STRACE = shutil.which("strace")
MARK_RE = re.compile(r'"/__fsop_marker_(\d+)"')
DUR_RE = re.compile(r"<(\d+\.\d+)>\s*$")


def parse_trace(path):
    """Splits an `strace -f -T` log at the /__fsop_marker_N probes.

    Returns {N: (max_ms, slowest_line)}: the longest single syscall after
    marker N and before marker N+1. One syscall is one FUSE-visible step the
    timeout= contract bounds (an open(2) path walk may be several FUSE
    requests, each bounded; we hold the whole syscall to the bound)."""
    out = {}
    cur = None
    with open(path, errors="replace") as f:
        for line in f:
            m = MARK_RE.search(line)
            if m:
                cur = int(m.group(1))
                out.setdefault(cur, (0.0, ""))
                continue
            if cur is None:
                continue
            d = DUR_RE.search(line)
            if not d:
                continue
            ms = float(d.group(1)) * 1000.0
            if ms > out[cur][0]:
                out[cur] = (ms, line.strip()[:300])
    return out


def need_strace():
    if not STRACE:
        pytest.skip("strace is not installed: per-syscall timing needs it (apt-get install strace)")


def traced(cmd, trace_path):
    """cmd run under strace -f -T, tracing file and descriptor syscalls."""
    return [STRACE, "-f", "-qq", "-T", "-e", "trace=%file,%desc", "-o", trace_path, *cmd]


def run_ops(ops, timeout, cwd=None, trace=None):
    """Runs ops through fsop.py in a child; returns its result dicts.

    Fails the test (instead of hanging) when the child is still busy after
    timeout seconds, naming the operation that was in flight. With trace (a
    file path) the child runs under strace and each result gets
    "max_syscall_ms" and "slowest" (the longest syscall of that operation)."""
    cmd = [PYTHON, FSOP]
    env = dict(os.environ)
    if trace:
        need_strace()
        cmd = traced(cmd, trace)
        env["FSOP_MARK"] = "1"
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, cwd=cwd, env=env)
    try:
        out, err = p.communicate(json.dumps(ops), timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        done = [json.loads(l) for l in out.splitlines() if l.strip()]
        pytest.fail(f"filesystem operation still blocked after {timeout}s: "
                    f"{ops[len(done)] if len(done) < len(ops) else '?'} (finished {len(done)})")
    res = [json.loads(l) for l in out.splitlines() if l.strip()]
    if p.returncode != 0 or len(res) != len(ops):
        pytest.fail(f"fsop failed rc={p.returncode}: {err[-2000:]}")
    if trace:
        per = parse_trace(trace)
        for r in res:
            r["max_syscall_ms"], r["slowest"] = per.get(r["i"], (0.0, ""))
    return res


def run_op(op, timeout=30, cwd=None):
    return run_ops([op], timeout, cwd=cwd)[0]


def daemon_alive(m):
    return m.proc.poll() is None and os.path.ismount(m.path)


def vm_rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def vm_hwm_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def port_of(url):
    return int(url.rsplit(":", 1)[1].split("/")[0])


def walk_files(root, limit=2000):
    """Every regular file and symlink under root (does not follow symlinks)."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        for n in filenames:
            out.append(os.path.join(dirpath, n))
        if len(out) > limit:
            break
    return out


def read_all_files(root):
    """{path: bytes or OSError} for every readable file of the tree."""
    got = {}
    for p in walk_files(root):
        if os.path.basename(p) == "new":
            continue  # control files are write-only
        try:
            with open(p, "rb") as f:
                got[p] = f.read()
        except OSError as e:
            got[p] = e
    return got


def boto_state(server):
    """The server's state as the API shows it: {store_id: {...}} with import and
    export jobs and tags. Faults must be off."""
    hl = server.boto3()
    stores = {}
    kw = {}
    while True:
        r = hl.list_fhir_datastores(**kw)
        for d in r["DatastorePropertiesList"]:
            stores[d["DatastoreId"]] = {"props": d, "imports": [], "exports": [], "tags": {}}
        if not r.get("NextToken"):
            break
        kw = {"NextToken": r["NextToken"]}
    for sid, s in stores.items():
        for kind, fn, key in (("imports", hl.list_fhir_import_jobs, "ImportJobPropertiesList"),
                              ("exports", hl.list_fhir_export_jobs, "ExportJobPropertiesList")):
            kw = {"DatastoreId": sid}
            while True:
                r = fn(**kw)
                s[kind].extend(r[key])
                if not r.get("NextToken"):
                    break
                kw["NextToken"] = r["NextToken"]
        t = hl.list_tags_for_resource(ResourceARN=s["props"]["DatastoreArn"])
        s["tags"] = {x["Key"]: x["Value"] for x in t.get("Tags", [])}
    return stores


def seed_store(server, name, **kw):
    r = server.seed(datastores=[{"name": name, "status": "ACTIVE"}], **kw)
    return r["datastores"][0]


def wait_until(pred, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    return pred()


def report(name, lines):
    """Prints figures (pytest -s shows them) and appends them to
    $HLFS_REL_REPORT when set, so RELIABILITY.md can quote a run."""
    text = f"== {name}\n" + "\n".join(lines) + "\n"
    sys.stdout.write(text)
    path = os.environ.get("HLFS_REL_REPORT")
    if path:
        with open(path, "a") as f:
            f.write(text)


class Rig:
    """Servers and mounts of one test, always stopped at the end (fixture `rig`)."""

    def __init__(self, tmp_path):
        import conftest
        self.cf = conftest
        self.tmp = tmp_path
        self.servers = []
        self.mounts = []

    def server(self, *args, state=None, port=None, cafile=None, fast=True):
        state = state or str(self.tmp / f"state{len(self.servers)}")
        os.makedirs(state, exist_ok=True)
        extra = list(args)
        if fast:
            extra = ["--create-delay", "0", "--delete-delay", "0", "--job-delay", "0"] + extra
        if port:
            extra += ["--port", str(port)]
        s = self.cf.start_server(state, *extra, cafile=cafile,
                                 log_path=os.path.join(state, f"server{len(self.servers)}.log"))
        self.servers.append(s)
        return s

    def mount(self, server, opts="", **kw):
        mnt = str(self.tmp / f"mnt{len(self.mounts)}")
        m = self.cf.start_mount(server, mnt, opts, **kw)
        self.mounts.append(m)
        return m

    def close(self):
        for m in self.mounts:
            m.unmount()
            # A crashed daemon leaves a dead mount ismount() does not see.
            subprocess.run(["fusermount3", "-u", "-z", m.path], capture_output=True)
        for s in self.servers:
            s.stop()
        for m in self.mounts:
            self.cf.check_sanitizers(m.stderr())


@pytest.fixture
def rig(tmp_path):
    r = Rig(tmp_path)
    yield r
    r.close()


def try_mount(rig, opts, env, extra_args=(), timeout=20):
    """Starts healthlakefs -f -o opts (opts complete: endpoint and region
    included) and waits until it is mounted or has exited.
    Returns (mounted, returncode or None, stderr text, Mount)."""
    cf = rig.cf
    mnt = str(rig.tmp / f"mnt{len(rig.mounts)}")
    os.makedirs(mnt, exist_ok=True)
    stderr_path = mnt + ".stderr"
    proc = subprocess.Popen([cf.HEALTHLAKEFS, "-f", "-o", opts, *extra_args, mnt],
                            stdout=subprocess.DEVNULL, stderr=open(stderr_path, "wb"), env=env)
    m = cf.Mount(mnt, proc, stderr_path)
    rig.mounts.append(m)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.ismount(mnt):
            return True, None, m.stderr(), m
        if proc.poll() is not None:
            return False, proc.returncode, m.stderr(), m
        time.sleep(0.02)
    return os.path.ismount(mnt), proc.poll(), m.stderr(), m


def write_atomic(path, text):
    tmp = str(path) + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def secrets_in(text, secrets):
    """The secrets (or their first 16 characters) found in text."""
    found = []
    for s in secrets:
        if not s:
            continue
        if s in text or (len(s) >= 16 and s[:16] in text):
            found.append(s[:6] + "...")
    return found


class CredsEndpoint:
    """A container-credentials endpoint on loopback (what ECS/EKS serve at
    AWS_CONTAINER_CREDENTIALS_FULL_URI). Serves self.creds; counts fetches."""

    def __init__(self, path="/v2/credentials/rel", auth=None):
        import http.server
        import threading
        outer = self
        self.path = path
        self.auth = auth
        self.creds = None
        self.hits = 0
        self.bad_auth = 0

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if outer.auth is not None and self.headers.get("Authorization") != outer.auth:
                    outer.bad_auth += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                if self.path != outer.path or outer.creds is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                outer.hits += 1
                body = json.dumps(outer.creds).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def serve(self, akid, secret, token, expires_in):
        exp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + expires_in))
        self.creds = {"AccessKeyId": akid, "SecretAccessKey": secret, "Token": token,
                      "Expiration": exp, "RoleArn": "arn:aws:iam::123456789012:role/rel"}

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def make_keys(tag):
    """A fresh (access key, secret, session token) triple, recognisable in logs."""
    import secrets as _s
    return (f"AKIDREL{tag.upper()}{_s.token_hex(4).upper()}",
            f"relsecret{tag}/{_s.token_urlsafe(24)}",
            f"reltoken{tag}{_s.token_urlsafe(48)}")


FUSE_OPS = {1: "LOOKUP", 2: "FORGET", 3: "GETATTR", 4: "SETATTR", 5: "READLINK", 6: "SYMLINK",
            8: "MKNOD", 9: "MKDIR", 10: "UNLINK", 11: "RMDIR", 12: "RENAME", 13: "LINK",
            14: "OPEN", 15: "READ", 16: "WRITE", 17: "STATFS", 18: "RELEASE", 20: "FSYNC",
            21: "SETXATTR", 22: "GETXATTR", 23: "LISTXATTR", 24: "REMOVEXATTR", 25: "FLUSH",
            26: "INIT", 27: "OPENDIR", 28: "READDIR", 29: "RELEASEDIR", 30: "FSYNCDIR",
            34: "ACCESS", 35: "CREATE", 36: "INTERRUPT", 38: "DESTROY", 42: "BATCH_FORGET",
            44: "READDIRPLUS", 45: "RENAME2", 46: "LSEEK"}
_TS_RE = re.compile(r"^(\d+)\s+(\d+):(\d+):(\d+\.\d+)\s+(.*)$")


class DaemonTrace:
    """How long the daemon took over each FUSE request, from `strace -f -p`:
    a worker's read(2) of /dev/fuse returning a request starts it, that
    worker's next write/writev to /dev/fuse (the reply) ends it. This is the
    "one filesystem operation" DESIGN.md's timeout= bounds (time spent queued
    in the kernel before a worker picks the request up is not included)."""

    def __init__(self, pid, path):
        need_strace()
        self.pid, self.path = pid, path
        self.fd = None
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == "/dev/fuse":
                    self.fd = int(fd)
            except OSError:
                pass
        assert self.fd is not None, "daemon has no /dev/fuse descriptor"
        self.err = path + ".stderr"
        self.proc = subprocess.Popen(
            [STRACE, "-f", "-p", str(pid), "-tt", "-T", "-xx", "-s", "8",
             "-e", "trace=read,write,writev", "-o", path],
            stdout=subprocess.DEVNULL, stderr=open(self.err, "w"))
        # Wait until strace has attached every thread.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with open(self.err) as f:
                if "attached" in f.read():
                    break
            time.sleep(0.02)
        time.sleep(0.1)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(2)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.ops()

    def ops(self):
        """[(opcode name, ms, start epoch-of-day seconds)] of every answered request."""
        fdtag = f"({self.fd},"
        pending = {}   # tid -> (opcode, start)
        unfinished = {}  # tid -> syscall name
        out = []
        with open(self.path, errors="replace") as f:
            for line in f:
                m = _TS_RE.match(line.strip())
                if not m:
                    continue
                tid = int(m.group(1))
                ts = int(m.group(2)) * 3600 + int(m.group(3)) * 60 + float(m.group(4))
                rest = m.group(5)
                d = DUR_RE.search(rest)
                dur = float(d.group(1)) if d else 0.0
                if rest.endswith("<unfinished ...>"):
                    if rest.startswith("read" + fdtag):
                        unfinished[tid] = "read"
                    continue
                if rest.startswith("<... read resumed>"):
                    if unfinished.pop(tid, None) != "read":
                        continue
                    end = ts
                    body = rest
                elif rest.startswith("read" + fdtag):
                    end = ts + dur
                    body = rest
                elif rest.startswith("writev" + fdtag) or rest.startswith("write" + fdtag):
                    if tid in pending:
                        op, start = pending.pop(tid)
                        out.append((op, (ts - start) * 1000.0, start))
                    continue
                else:
                    continue
                hx = re.search(r'"((?:\\x[0-9a-f]{2}){8})"', body)
                if not hx or "= -1" in body:
                    pending.pop(tid, None)
                    continue
                b = bytes(int(x, 16) for x in hx.group(1).split("\\x")[1:])
                opcode = int.from_bytes(b[4:8], "little")
                # FORGET and BATCH_FORGET get no reply.
                if opcode in (2, 42):
                    pending.pop(tid, None)
                    continue
                pending[tid] = (FUSE_OPS.get(opcode, str(opcode)), end)
        return out


def slowest(ops, n=5):
    return sorted(ops, key=lambda x: -x[1])[:n]
