#!/usr/bin/python3
"""healthlakefs benchmark driver (run through scripts/bench, which builds first).

Every figure is measured next to a baseline from the same run and reported as a
ratio; figures with a target are flagged MISS when they miss it. Prints one
markdown table on stdout (progress goes to stderr) and writes it, with the raw
numbers as JSON, to the work directory.

Environment:
  HLFS_BUILD_DIR      meson build dir (default <repo>/build)
  HLFS_BENCH_SERVER   healthlake-local to run (default <repo>/scripts/healthlake-local)
  HLFS_BENCH_TOOLS    directory holding floorfs and warmloop (default <build>/bench)
  HLFS_BENCH_HEALTHLAKEFS  the FUSE driver (default <build>/fs/healthlakefs)
"""
import argparse
import concurrent.futures
import datetime
import hashlib
import hmac
import http.client
import json
import math
import os
import platform
import re
import shlex
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.abspath(os.environ.get("HLFS_BUILD_DIR", os.path.join(REPO, "build")))
SERVER = os.environ.get("HLFS_BENCH_SERVER", os.path.join(REPO, "scripts", "healthlake-local"))
TOOLS = os.environ.get("HLFS_BENCH_TOOLS", os.path.join(BUILD, "bench"))
HEALTHLAKEFS = os.environ.get("HLFS_BENCH_HEALTHLAKEFS", os.path.join(BUILD, "fs", "healthlakefs"))
PYTHON = "/usr/bin/python3"
AWS_CLI = "/usr/bin/aws" if os.path.exists("/usr/bin/aws") else shutil.which("aws")

ACCESS_KEY = "AKIDLOCALBENCH000001"
SECRET_KEY = "hl-local-bench-secret/ABCDEFGHIJ+0123456789"
REGION = "us-east-1"
PAGE = 500            # the API's MaxResults ceiling for every List operation
DEFAULT_MAX_TPS = 10  # DESIGN.md default of max_tps=
DEFAULT_ATTR_TTL = 2.0
DEFAULT_CACHE_MB = 64
PRUNE_FHIR = "-path './*/fhir' -prune -o"  # find: skip each store's fhir/ (rows D1-D7)
MUTATING = ("CreateFHIRDatastore", "DeleteFHIRDatastore", "StartFHIRImportJob",
            "StartFHIRExportJob", "TagResource", "UntagResource")

# Kernel cache settings healthlakefs gives the kernel at default options (fs/ops.c
# op_init: entry_timeout = list_ttl 5, attr_timeout = attr_ttl 2, negative_timeout 0,
# no kernel_cache or direct_io; keep_cache on opens of terminal jobs): floorfs gets the same.
FLOOR_OPTS = os.environ.get("HLFS_BENCH_FLOOR_OPTS",
                            "entry_timeout=5,attr_timeout=2,negative_timeout=0,job_keep_cache=1")


def log(msg):
    sys.stderr.write(f"[bench {time.strftime('%H:%M:%S')}] {msg}\n")
    sys.stderr.flush()


def wait_for(pred, timeout, what, interval=0.02):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


# --------------------------------------------------------------------------- server

class Server:
    """One healthlake-local process with its own state directory."""

    def __init__(self, work, name, tls=None, extra=()):
        self.state = os.path.join(work, "state-" + name)
        os.makedirs(self.state, exist_ok=True)
        self.cafile = tls["ca"] if tls else None
        cmd = [PYTHON, SERVER, "--state", self.state, "--host", "127.0.0.1", "--port", "0",
               "--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY, "--region", REGION,
               "--create-delay", "0", "--delete-delay", "0", "--job-delay", "0", "--quiet",
               *extra]
        if tls:
            cmd += ["--tls-cert", tls["cert"], "--tls-key", tls["key"]]
        self.log_path = os.path.join(work, f"server-{name}.log")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                     stderr=open(self.log_path, "wb"))
        url = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            m = re.search(rb"listening on (\S+)", line)
            if m:
                url = m.group(1).decode()
                break
        if not url:
            self.stop()
            with open(self.log_path, "rb") as f:
                raise RuntimeError("healthlake-local did not start:\n" + f.read().decode(errors="replace"))
        threading.Thread(target=lambda: [None for _ in self.proc.stdout], daemon=True).start()
        self.url = url
        self.ctx = ssl.create_default_context(cafile=self.cafile) if self.cafile else None
        # The admin requests are connections too: learn how many each adds to the counter.
        a = self.admin("counters")["connections"]
        self.admin_conn = self.admin("counters")["connections"] - a

    def connections(self):
        """TCP connections accepted since the last reset, less this reading's own."""
        return self.counters()["connections"] - self.admin_conn

    def admin(self, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + "/__admin/" + path, data=data,
                                     method="POST" if data is not None else "GET")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=300, context=self.ctx) as r:
            raw = r.read()
        return json.loads(raw) if raw else None

    def counters(self):
        return self.admin("counters")

    def calls(self):
        """{operation: calls} over all statuses."""
        return {op: sum(v.values()) for op, v in self.counters()["calls"].items()}

    def reset(self):
        self.admin("reset", {})

    def faults(self, **kw):
        self.admin("faults", kw)

    def seed(self, **kw):
        return self.admin("seed", kw)["datastores"]

    def env(self):
        e = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        e.update({"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                  "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
                  "AWS_EC2_METADATA_DISABLED": "true",
                  "AWS_CONFIG_FILE": "/nonexistent/config",
                  "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
                  "AWS_PAGER": ""})
        if self.cafile:
            e["AWS_CA_BUNDLE"] = self.cafile
        return e

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# --------------------------------------------------------------------------- mounts

class Mount:
    """A foreground FUSE daemon (healthlakefs or floorfs) mounted at a fresh directory."""

    def __init__(self, work, name, cmd, env=None):
        self.path = os.path.join(work, "mnt-" + name)
        os.makedirs(self.path, exist_ok=True)
        self.stderr_path = self.path + ".stderr"
        self.proc = subprocess.Popen(cmd + [self.path], stdout=subprocess.DEVNULL,
                                     stderr=open(self.stderr_path, "wb"), env=env)
        try:
            wait_for(lambda: os.path.ismount(self.path) or self.proc.poll() is not None,
                     30, "mount of " + name)
        except TimeoutError:
            self.unmount()
            raise
        if self.proc.poll() is not None:
            raise RuntimeError(f"{cmd[0]} exited {self.proc.returncode}:\n{self.stderr()}")

    def p(self, *parts):
        return os.path.join(self.path, *parts)

    def stderr(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode(errors="replace")[-4000:]

    def proc_status(self, key):
        """A kB value from /proc/<pid>/status (VmHWM, VmRSS), in bytes."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
        return None

    def unmount(self):
        # Not os.path.ismount: it says False for a mount whose daemon died (ENOTCONN).
        with open("/proc/self/mounts") as f:
            mounted = any(line.split()[1] == self.path for line in f)
        if mounted:
            subprocess.run(["fusermount3", "-u", "-z", self.path], capture_output=True)
        if self.proc.poll() is None:
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def hlfs_mount(bench, server, name, opts=""):
    o = f"endpoint={server.url},region={REGION}"
    if server.cafile:
        o += f",ca_file={server.cafile}"
    if opts:
        o += "," + opts
    m = Mount(bench.work, name, [HEALTHLAKEFS, "-f", "-o", o], env=server.env())
    bench.mounts.append(m)
    return m


def read_file(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        out = b""
        while True:
            b = os.read(fd, 65536)
            if not b:
                return out
            out += b
    finally:
        os.close(fd)


def run_shell(cmd, cwd, timeout):
    """Runs a bash command; returns (seconds, returncode or None when timed out, stdout lines)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(["bash", "-c", cmd], cwd=cwd, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        rc = None
    dt = time.perf_counter() - t0
    if rc:
        log(f"  `{cmd}` exited {rc}: {err.decode(errors='replace')[:300]}")
    return dt, rc, out.count(b"\n")


# --------------------------------------------------------------------------- SigV4 (row 6)

def sigv4_headers(host, target, body, now):
    """Headers of a signed JSON 1.0 HealthLake call (AWS-CONVENTIONS.md 1.2-1.3)."""
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    headers = {"content-type": "application/x-amz-json-1.0", "host": host,
               "x-amz-date": amz_date, "x-amz-target": target}
    names = sorted(headers)
    canonical = "\n".join(["POST", "/", "", "".join(f"{n}:{headers[n]}\n" for n in names),
                           ";".join(names), hashlib.sha256(body).hexdigest()])
    scope = f"{day}/{REGION}/healthlake/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                     hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + SECRET_KEY).encode()
    for part in (day, REGION, "healthlake", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{scope}, "
                                f"SignedHeaders={';'.join(names)}, Signature={sig}")
    return headers


# --------------------------------------------------------------------------- results

class Bench:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.work = args.workdir or tempfile.mkdtemp(prefix="hlfs-bench-")
        os.makedirs(self.work, exist_ok=True)
        self.rows = []
        self.notes = []
        self.mounts = []
        self.servers = []
        self.raw = {}

    def q(self, full, quick):
        return quick if self.quick else full

    def server(self, name, **kw):
        s = Server(self.work, name, **kw)
        self.servers.append(s)
        return s

    def row(self, num, what, result, baseline, ratio, target=None, ok=None, note=""):
        """ok: True/False when there is a target, None when there is none."""
        self.rows.append({"num": num, "what": what, "result": result, "baseline": baseline,
                          "ratio": ratio, "target": target or "—", "ok": ok, "note": note})
        flag = "" if ok is None else ("ok" if ok else "MISS")
        log(f"  {num} {what}: {result} | {baseline} | {ratio} {flag}")

    def note(self, text):
        self.notes.append(text)
        log("  note: " + text)

    def failed(self, num, what, exc):
        self.rows.append({"num": num, "what": what, "result": "not measured", "baseline": "—",
                          "ratio": "—", "target": "—", "ok": False,
                          "note": f"{type(exc).__name__}: {str(exc)[:200]}"})
        log(f"  {num} {what}: FAILED {type(exc).__name__}: {exc}")

    def cleanup_mounts(self):
        for m in self.mounts:
            m.unmount()
        self.mounts = []

    def cleanup(self):
        self.cleanup_mounts()
        for s in self.servers:
            s.stop()
        self.servers = []

    def table(self):
        out = ["| # | measurement | result | baseline (same run) | ratio | target | |",
               "|---|---|---|---|---|---|---|"]
        for r in sorted(self.rows, key=lambda r: r["num"]):
            flag = "" if r["ok"] is None else ("ok" if r["ok"] else "**MISS**")
            what = r["what"] + (f" <br>*{r['note']}*" if r["note"] else "")
            out.append(f"| {r['num']} | {what} | {r['result']} | {r['baseline']} | {r['ratio']} "
                       f"| {r['target']} | {flag} |")
        return "\n".join(out)


def fmt_ratio(x):
    return "—" if x is None or math.isnan(x) else (f"{x:.2f}x" if x < 100 else f"{x:.0f}x")


def ms(s):
    return f"{s * 1000:.2f} ms" if s < 1 else f"{s:.2f} s"


def mib(b):
    return f"{b / 1048576:.1f} MiB"


# --------------------------------------------------------------------------- 1: calls

def calls_for(b, server, name, cmd, minimum, num, what, timeout, prime=None, opts="",
              during=None, lines=None, list_ttl=None, minimum_is="minimum"):
    """Fresh mount, optional priming, counters reset, one shell command, calls counted."""
    m = hlfs_mount(b, server, name, opts)
    try:
        if prime:
            run_shell(prime, m.path, timeout)
        server.reset()
        if during:
            during()
        dt, rc, nlines = run_shell(cmd, m.path, timeout)
        calls = server.calls()
        total = sum(calls.values())
        detail = ", ".join(f"{k} {v}" for k, v in sorted(calls.items()))
        note = f"{detail}; {ms(dt)}" if rc is not None else f"TIMED OUT after {timeout} s; {detail}"
        if rc:
            note += f"; exit {rc}"
        allowed = minimum
        target = "= minimum"
        if list_ttl:
            # A walk longer than list_ttl may re-list the root once per expiry.
            allowed = minimum + int(dt // list_ttl)
            target = "≤ minimum + 1 per list_ttl elapsed"
            note += f"; {allowed} allowed for {dt:.1f} s"
        ok = rc == 0 and total <= allowed
        if lines is not None and rc is not None and nlines != lines:
            ok = False
            note += f"; WRONG OUTPUT: {nlines} lines, expected {lines}"
        elif rc is not None:
            note += f"; {nlines:,} lines of output"
        b.row(num, what, f"{total} calls", f"{minimum} ({minimum_is})", fmt_ratio(total / minimum),
              target, ok, note)
        b.raw[num] = {"calls": calls, "seconds": dt, "rc": rc, "minimum": minimum}
    finally:
        server.faults()
        m.unmount()
        b.mounts.remove(m)


LIST_THEN_DESCRIBE = "minimum when status reads Describe: a List page, a Describe"


def section_calls(b):
    log("1. API calls per shell command")
    n1, n2 = b.q((1000, 10000), (1000, 2000))
    t = b.q(180, 60)
    big = b.server("roots")
    big.seed(count=n1, name_prefix="a")
    for n in (n1, n2):
        if n > n1:
            big.seed(count=n - n1, name_prefix="b")
        pages = math.ceil(n / PAGE)
        for cmd in ("ls", "ls -l"):
            num = f"1.{'ab'[cmd == 'ls -l']}{'' if n == n1 else '2'}"
            try:
                calls_for(b, big, f"roots{n}", cmd, pages, num,
                          f"`{cmd}` of the root, {n:,} stores", t,
                          lines=n + (cmd == "ls -l"))
            except Exception as e:  # noqa: BLE001 - a failed row is reported, the run goes on
                b.failed(num, f"`{cmd}` of the root, {n:,} stores", e)
    big.stop()

    # One store: the mount-time check (ListFHIRDatastores, MaxResults=1) then holds the whole
    # account, and the mount resolves the store's name from it without a List of its own.
    small = b.server("jobs")
    small.seed(datastores=[{"name": "jobs"}], import_jobs=1000, job_status="COMPLETED")
    try:
        calls_for(b, small, "jobs", "ls -l jobs/imports/", math.ceil(1000 / PAGE), "1.c",
                  "`ls -l jobs/imports/`, 1,000 jobs", t,
                  lines=1 + 1000 + 2)
    except Exception as e:  # noqa: BLE001
        b.failed("1.c", "`ls -l jobs/imports/`", e)
    cat100 = "for i in $(seq 100); do cat jobs/status; done"
    cat50 = "for i in $(seq 50); do cat jobs/status >/dev/null & done; wait"
    try:
        calls_for(b, small, "cat100", cat100, 1, "1.e",
                  "100 × `cat jobs/status` inside the TTL (attr_ttl=list_ttl=3600)", t,
                  lines=100, opts="attr_ttl=3600,list_ttl=3600")
    except Exception as e:  # noqa: BLE001
        b.failed("1.e", "100 × cat status", e)
    try:
        calls_for(b, small, "cat50", cat50, 1, "1.f",
                  "50 concurrent `cat jobs/status`, cold cache, 200 ms server latency", t,
                  during=lambda: small.faults(latency_ms=200))
    except Exception as e:  # noqa: BLE001
        b.failed("1.f", "50 concurrent cat status", e)
    small.stop()

    # The same in an account of 20 stores: the first lookup of a name needs a List page, and
    # the status read stays a DescribeFHIRDatastore (DESIGN.md), so 2 calls.
    many = b.server("jobs20")
    many.seed(datastores=[{"name": "jobs"}])
    many.seed(count=19, name_prefix="other")
    try:
        calls_for(b, many, "cat100m", cat100, 2, "1.e'",
                  "same as 1.e in an account of 20 stores (a List page to find the name, "
                  "then a Describe)", t, lines=100, opts="attr_ttl=3600,list_ttl=3600",
                  minimum_is=LIST_THEN_DESCRIBE)
    except Exception as e:  # noqa: BLE001
        b.failed("1.e'", "100 × cat status, 20 stores", e)
    try:
        calls_for(b, many, "cat50m", cat50, 2, "1.f'",
                  "same as 1.f in an account of 20 stores", t,
                  during=lambda: many.faults(latency_ms=200), minimum_is=LIST_THEN_DESCRIBE)
    except Exception as e:  # noqa: BLE001
        b.failed("1.f'", "50 concurrent cat status, 20 stores", e)
    many.stop()

    nf = b.q(100, 20)
    fs_ = b.server("find")
    fs_.seed(count=nf, name_prefix="f", import_jobs=10, job_status="COMPLETED")
    try:
        # Each store's fhir/ (a search per resource type) is the data plane's, measured by
        # rows D1-D7 (bench/dataplane.py): this row walks the control plane's files.
        calls_for(b, fs_, "find", f"find . {PRUNE_FHIR} -type f -print", 1 + 3 * nf, "1.d",
                  f"`find /m -type f` (fhir/ pruned), {nf} stores × 10 jobs", b.q(300, 60),
                  list_ttl=5)
    except Exception as e:  # noqa: BLE001
        b.failed("1.d", "find", e)
    fs_.stop()

    try:
        watch(b)
    except Exception as e:  # noqa: BLE001
        b.failed("1.g", "watch-style polling", e)


def watch(b):
    dur = b.q(60, 10)
    n = 20
    s = b.server("watch")
    s.seed(count=n, name_prefix="w")
    m = hlfs_mount(b, s, "watch")
    names = [f"w{i:04d}" for i in range(n)]
    s.reset()
    rounds = []
    t_end = time.monotonic() + dur
    t_start = time.monotonic()
    errors = 0
    while time.monotonic() < t_end:
        t0 = time.monotonic()
        for nm in names:
            try:
                read_file(m.p(nm, "status"))
            except OSError:
                errors += 1
        rounds.append(time.monotonic() - t0)
        time.sleep(0.1)  # watch -n 0.1
    span = time.monotonic() - t_start
    times = sorted(e["t"] for e in s.admin("log")["log"])
    m.unmount()
    s.stop()
    def peak_in(window):
        best, j = 0, 0
        for i in range(len(times)):
            while times[i] - times[j] >= window:
                j += 1
            best = max(best, i - j + 1)
        return best
    # Arrival times at the server: a call leaves the client some ms after its paced
    # start (signing, curl, scheduling on a loaded machine), so allow 20 ms.
    peak = peak_in(0.98)
    peak90 = peak_in(0.9)
    rate = len(times) / span
    minimum = 1 / DEFAULT_ATTR_TTL  # one ListFHIRDatastores page per attr_ttl carries all 20
    note = (f"{len(times)} calls in {span:.0f} s, average {rate:.2f}/s (minimum {minimum:.1f}/s: "
            f"one List page per attr_ttl carries all {n} statuses); {len(rounds)} polls, "
            f"median poll {ms(statistics.median(rounds))}, slowest {ms(max(rounds))}; "
            f"peak in any 0.9 s: {peak90}"
            f"{f'; {errors} read errors' if errors else ''}")
    b.row("1.g", f"watch-style polling (`watch -n 0.1 cat */status`), {n} stores, {dur} s: "
          "peak calls arriving in any 0.98 s", f"{peak} calls/s", f"{DEFAULT_MAX_TPS}/s (max_tps)",
          fmt_ratio(peak / DEFAULT_MAX_TPS), f"≤ {DEFAULT_MAX_TPS}/s", peak <= DEFAULT_MAX_TPS
          and errors == 0, note)
    b.raw["1.g"] = {"times": times, "rounds": rounds, "errors": errors}


# --------------------------------------------------------------------------- 2: warm path

def warmloop_once(path, n):  # noqa: D103
    p = subprocess.run([os.path.join(TOOLS, "warmloop"), path, str(n)],
                       capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise RuntimeError(f"warmloop {path}: {p.stderr.strip()} {p.stdout.strip()}")
    return json.loads(p.stdout)["per_sec"]


def warmloops(paths, n, reps):
    """Rates per path, one list of reps each; the paths take turns, so that a slow spell
    of the machine hits neighbouring runs alike."""
    rates = [[] for _ in paths]
    for _ in range(reps):
        for i, (path, mult) in enumerate(paths):
            rates[i].append(warmloop_once(path, n * mult))
    return rates


def paired_ratio(base, fig):
    """Median over reps of base/fig, each pair taken in the same turn."""
    return statistics.median(b_ / f for b_, f in zip(base, fig))


def fuse_ops_per_iteration(cmd_prefix, work, name, path, iters=100, env=None):
    """FUSE requests per warm iteration, {opcode: count}, from libfuse's `-o debug` output."""
    m = Mount(work, name, cmd_prefix + ["-o", "debug"], env=env)
    try:
        read_file(m.p(path))
        time.sleep(0.3)
        with open(m.stderr_path, "rb") as f:
            before = len(f.read())
        subprocess.run([os.path.join(TOOLS, "warmloop"), m.p(path), str(iters)],
                       capture_output=True, timeout=60)
        time.sleep(0.3)  # RELEASE is sent asynchronously after close(2)
        with open(m.stderr_path, "rb") as f:
            f.seek(before)
            text = f.read().decode(errors="replace")
    finally:
        m.unmount()
    ops = {}
    for op in re.findall(r"opcode: (\w+)", text):
        ops[op] = ops.get(op, 0) + 1 / iters
    return ops


def fmt_ops(ops):
    return ", ".join(f"{k} {v:.2f}" for k, v in sorted(ops.items()) if v >= 0.005) or "none"


def section_warm(b):
    log("2. warm path")
    n_status = b.q(10000, 4000)
    n_job = b.q(20000, 8000)
    reps = b.q(7, 3)
    s = b.server("warm")
    s.seed(datastores=[{"name": "jobs"}], import_jobs=3, job_status="COMPLETED")
    m = hlfs_mount(b, s, "warm")
    jobs = sorted(x for x in os.listdir(m.p("jobs", "imports")) if re.fullmatch(r"[0-9a-f]{32}", x))
    if not jobs:
        raise RuntimeError("no job files listed under jobs/imports/")
    status_rel = os.path.join("jobs", "status")
    job_rel = os.path.join("jobs", "imports", jobs[0])
    contents = {"status": read_file(m.p(status_rel)), "job": read_file(m.p(job_rel))}
    m.unmount()
    cdir = os.path.join(b.work, "contents")
    os.makedirs(cdir, exist_ok=True)
    for k, v in contents.items():
        with open(os.path.join(cdir, k), "wb") as f:
            f.write(v)
    # tmpfs copy (/dev/shm is tmpfs on Debian); checked, not assumed.
    shm = tempfile.mkdtemp(prefix="hlfs-bench-", dir="/dev/shm")
    fstype = subprocess.run(["stat", "-f", "-c", "%T", shm], capture_output=True, text=True).stdout.strip()
    for k, v in contents.items():
        with open(os.path.join(shm, k), "wb") as f:
            f.write(v)

    # FUSE requests per iteration: the floor must do the same kernel work, and what
    # healthlakefs asks for beyond it is reproduced in a second floorfs for diagnosis.
    hl_cmd = [HEALTHLAKEFS, "-f", "-o", f"endpoint={s.url},region={REGION}"]
    fl_cmd = [os.path.join(TOOLS, "floorfs"), "-f", "-o",
              f"status={cdir}/status,job={cdir}/job,{FLOOR_OPTS}"]
    extra = []
    try:
        ops = {}
        for kind, rel, frel in (("status", status_rel, "s/status"), ("job", job_rel, "s/imports/job")):
            ops[("hl", kind)] = fuse_ops_per_iteration(hl_cmd, b.work, "d-hl-" + kind, rel, env=s.env())
            ops[("fl", kind)] = fuse_ops_per_iteration(fl_cmd, b.work, "d-fl-" + kind, frel)
            b.note(f"FUSE requests per warm {kind} iteration (libfuse's `-o debug` output): "
                   f"healthlakefs {fmt_ops(ops[('hl', kind)])}; floorfs {fmt_ops(ops[('fl', kind)])}")
        if max(ops[("hl", k)].get("FLUSH", 0) for k in ("status", "job")) > 0.5:
            extra.append("flush=1")
        if (ops[("hl", "status")].get("GETATTR", 0) - ops[("fl", "status")].get("GETATTR", 0)) > 0.5:
            extra.append("status_inval=1")
    except Exception as e:  # noqa: BLE001
        b.note(f"FUSE request count per iteration not measured: {e}")
    b.note(f"floorfs kernel cache options: `{FLOOR_OPTS}`")

    m = hlfs_mount(b, s, "warm2")
    for rel in (status_rel, job_rel):
        read_file(m.p(rel))
    floor = Mount(b.work, "floor", fl_cmd)
    b.mounts.append(floor)
    floor2 = None
    if extra:
        floor2 = Mount(b.work, "floor2", [os.path.join(TOOLS, "floorfs"), "-f", "-o",
                                          f"status={cdir}/status,job={cdir}/job,{FLOOR_OPTS},"
                                          + ",".join(extra)])
        b.mounts.append(floor2)
    s.reset()
    res = {}
    for kind, rel, frel, n in (("status", status_rel, "s/status", n_status),
                               ("job", job_rel, "s/imports/job", n_job)):
        paths = [(m.p(rel), 1), (floor.p(frel), 1), (os.path.join(shm, kind), 5)]
        if floor2:
            paths.append((floor2.p(frel), 1))
        rates = warmloops(paths, n, reps)
        res[kind] = rates
    calls = sum(s.calls().values())
    m.unmount()
    floor.unmount()
    if floor2:
        floor2.unmount()
    s.stop()
    shutil.rmtree(shm, ignore_errors=True)
    for kind, label in (("status", "status file"), ("job", "terminal job file")):
        hl_r, fl_r, tm_r = res[kind][:3]
        hl, fl, tm = (statistics.median(x) for x in (hl_r, fl_r, tm_r))
        num = "2.a" if kind == "status" else "2.b"
        r = paired_ratio(fl_r, hl_r)
        b.row(num, f"warm stat+open+read+close of a {label} ({len(contents[kind])} B), vs floorfs",
              f"{hl:,.0f}/s", f"{fl:,.0f}/s floorfs", fmt_ratio(r), "≤ 1.3x", round(r, 2) <= 1.3,
              f"{calls} API calls during all warm loops (status refreshed every attr_ttl)"
              if kind == "job" else "")
        b.row(num + "'", f"same {label}, vs {fstype}", f"{hl:,.0f}/s", f"{tm:,.0f}/s {fstype}",
              fmt_ratio(paired_ratio(tm_r, hl_r)))
        if floor2:
            f2_r = res[kind][3]
            b.row(num + "''", f"diagnosis: same {label}, vs floorfs making healthlakefs's extra "
                  f"FUSE requests (`{','.join(extra)}`)", f"{hl:,.0f}/s",
                  f"{statistics.median(f2_r):,.0f}/s floorfs+extra",
                  fmt_ratio(paired_ratio(f2_r, hl_r)))
    b.raw["2"] = res


# --------------------------------------------------------------------------- 3: cold path

BOTO3_SCRIPT = """
import sys, boto3
c = boto3.client("healthlake", endpoint_url=sys.argv[1])
print(c.describe_fhir_datastore(DatastoreId=sys.argv[2])["DatastoreProperties"]["DatastoreStatus"])
"""


def hyperfine(b, name, cmd, runs, warmup, env=None):
    out = os.path.join(b.work, f"hf-{name}.json")
    # --prepare (not timed) spaces the runs out to under 10 a second, as a person or a
    # script polling would: faster, the mount's max_tps pacing would be measured instead.
    p = subprocess.run(["hyperfine", "-N", "--style", "none", "--runs", str(runs),
                        "--warmup", str(warmup), "--prepare", "sleep 0.11",
                        "--export-json", out, cmd],
                       capture_output=True, text=True, env=env, timeout=900)
    if p.returncode != 0:
        raise RuntimeError(f"hyperfine {name}: {p.stderr.strip()[-500:]}")
    with open(out) as f:
        r = json.load(f)["results"][0]
    return r


def section_cold(b):
    log("3. cold path")
    s = b.server("cold")
    ds = s.seed(datastores=[{"name": "cold"}])
    sid = ds[0]["id"]
    # cold = the daemon holds no description (attr_ttl=0), the listing and the HTTP
    # connection are warm (list_ttl=3600): what a re-read after the TTL costs.
    m = hlfs_mount(b, s, "cold", "attr_ttl=0,list_ttl=3600")
    os.listdir(m.path)
    read_file(m.p("cold", "status"))
    boto = os.path.join(b.work, "describe_boto3.py")
    with open(boto, "w") as f:
        f.write(BOTO3_SCRIPT)
    body = json.dumps({"DatastoreId": sid})
    cmds = {
        "cat": f"cat {m.p('cold', 'status')}",
        "curl": (f"curl -sf --aws-sigv4 aws:amz:{REGION}:healthlake --user {ACCESS_KEY}:{SECRET_KEY} "
                 f"-H 'Content-Type: application/x-amz-json-1.0' "
                 f"-H 'X-Amz-Target: HealthLake.DescribeFHIRDatastore' "
                 f"{'--cacert ' + s.cafile + ' ' if s.cafile else ''}"
                 f"--data-binary {shlex.quote(body)} {s.url}/"),
        "boto3": f"{PYTHON} {boto} {s.url} {sid}",
        "awscli": (f"{AWS_CLI} healthlake describe-fhir-datastore --datastore-id {sid} "
                   f"--endpoint-url {s.url} --output text --query DatastoreProperties.DatastoreStatus"),
    }
    # Each client must really get ACTIVE: a benchmark of an error is worthless.
    for k, c in cmds.items():
        p = subprocess.run(shlex.split(c), capture_output=True, text=True, env=s.env(), timeout=120)
        if "ACTIVE" not in p.stdout:
            raise RuntimeError(f"{k} did not print ACTIVE: {p.stdout[:200]} {p.stderr[:300]}")
    runs = {"cat": b.q((60, 5), (15, 2)), "curl": b.q((60, 5), (15, 2)),
            "boto3": b.q((10, 1), (2, 0)), "awscli": b.q((6, 1), (2, 0))}
    res = {}
    for lat in (0, 20):
        s.faults(latency_ms=lat) if lat else s.faults()
        for k, c in cmds.items():
            s.reset()
            r = hyperfine(b, f"{k}-{lat}", c, *runs[k], env=s.env())
            calls = s.calls()
            res[(k, lat)] = r
            if k == "cat":
                total = sum(runs[k])
                desc = calls.get("DescribeFHIRDatastore", 0)
                res[("cat-calls", lat)] = (desc, sum(calls.values()), total)
    s.faults()
    m.unmount()
    s.stop()
    # Medians: other work on a shared machine adds outliers that a mean would carry.
    for lat in (0, 20):
        cat = res[("cat", lat)]
        desc, allc, total = res[("cat-calls", lat)]
        spread = lambda r: f"{ms(r['median'])} (mean {ms(r['mean'])} ± {ms(r['stddev'] or 0)})"  # noqa: E731
        note = f"{allc / total:.2f} API calls per cat ({desc} Describe in {total} runs)"
        sub = "abc" if lat == 0 else "def"
        r = res[("curl", lat)]
        ratio = cat["median"] / r["median"]
        b.row(f"3.{sub[0]}", f"cold `cat status`, server latency {lat} ms, vs "
              "curl --aws-sigv4 (new process, new connection): median", spread(cat), spread(r),
              fmt_ratio(ratio), "≤ 1.3x", round(ratio, 2) <= 1.3, note)
        r = res[("boto3", lat)]
        b.row(f"3.{sub[1]}", "same, vs boto3 (fresh python process, like a user's script)",
              ms(cat["median"]), spread(r), fmt_ratio(r["median"] / cat["median"]) + " faster")
        r = res[("awscli", lat)]
        speed = r["median"] / cat["median"]
        b.row(f"3.{sub[2]}", f"same, vs `aws healthlake describe-fhir-datastore` "
              f"(AWS CLI {cli_version()})", ms(cat["median"]), spread(r),
              fmt_ratio(speed) + " faster", "≥ 20x faster", speed >= 20)
    b.raw["3"] = {f"{k[0]}@{k[1]}": v for k, v in res.items()}


def cli_version():
    p = subprocess.run([AWS_CLI, "--version"], capture_output=True, text=True)
    m = re.search(r"aws-cli/(\S+)", p.stdout + p.stderr)
    return m.group(1) if m else "?"


# --------------------------------------------------------------------------- 4: parallelism

def make_certs(work):
    """A CA and a 127.0.0.1 server certificate: scripts/make-test-certs when it exists."""
    d = os.path.join(work, "certs")
    os.makedirs(d, exist_ok=True)
    tool = os.path.join(REPO, "scripts", "make-test-certs")
    if os.path.exists(tool):
        subprocess.run([tool, d], check=True, capture_output=True)
        return {"ca": os.path.join(d, "ca.pem"), "cert": os.path.join(d, "server.pem"),
                "key": os.path.join(d, "server.key"), "how": "scripts/make-test-certs"}
    run = lambda *a: subprocess.run(a, check=True, capture_output=True, cwd=d)  # noqa: E731
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=hlfs bench CA")
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    with open(os.path.join(d, "ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext")
    return {"ca": os.path.join(d, "ca.pem"), "cert": os.path.join(d, "server.pem"),
            "key": os.path.join(d, "server.key"), "how": "openssl (bench)"}


def read_all(paths, parallel):
    errs = []

    def one(p):
        try:
            read_file(p)
        except OSError as e:
            errs.append(e)
    t0 = time.perf_counter()
    if parallel:
        with concurrent.futures.ThreadPoolExecutor(len(paths)) as ex:
            list(ex.map(one, paths))
    else:
        for p in paths:
            one(p)
    dt = time.perf_counter() - t0
    if errs:
        raise RuntimeError(f"{len(errs)} reads failed, first: {errs[0]}")
    return dt


def section_parallel(b):
    log("4. parallelism")
    n = 64
    s = b.server("par")
    s.seed(count=n, name_prefix="p")
    paths = None
    res = {}
    variants = [("lifted", "attr_ttl=0,list_ttl=3600,max_tps=1000")]
    if not b.quick:  # diagnosis and the pacing bound: full runs only
        variants += [("threads", "attr_ttl=0,list_ttl=3600,max_tps=1000,max_threads=64"),
                     ("default", "attr_ttl=0,list_ttl=3600")]
    for label, opts in variants:
        m = hlfs_mount(b, s, "par-" + label, opts)
        os.listdir(m.path)
        paths = [m.p(f"p{i:04d}", "status") for i in range(n)]
        s.faults(latency_ms=50)
        for mode in ("seq", "par") if label == "lifted" else ("par",):
            time.sleep(1.1)  # let the pacing bucket refill between phases
            s.reset()
            dt = read_all(paths, mode == "par")
            c1 = s.counters()
            res[(label, mode)] = (dt, c1["connections"] - s.admin_conn,
                                  sum(sum(v.values()) for v in c1["calls"].values()),
                                  c1.get("peak_concurrent"))
        s.faults()
        m.unmount()
    s.stop()
    seq, par = res[("lifted", "seq")], res[("lifted", "par")]
    b.row("4.a", f"{n} stores' status read at once, cold, 50 ms latency (max_tps=1000): wall",
          ms(par[0]), f"{ms(seq[0])} one after another", fmt_ratio(seq[0] / par[0]) + " faster",
          note=f"{par[2]} API calls; server peak concurrency {par[3]} (sequential: {seq[3]})")
    b.row("4.b", "same: new TCP connections opened during the reads", f"{par[1]} parallel",
          f"{seq[1]} sequential", fmt_ratio(par[1] / seq[1]) if seq[1] else "—",
          note="the connection the listing opened is reused; parallel reads need one per "
          "concurrent request")
    if b.quick:
        th = d = None
    else:
        th, d = res[("threads", "par")], res[("default", "par")]
    if th:
        b.row("4.a'", "diagnosis: the same parallel read with `-o max_threads=64` (libfuse's "
              "worker limit raised)", ms(th[0]), f"{ms(par[0])} default threads",
              fmt_ratio(par[0] / th[0]) + " faster",
              note=f"server peak concurrency {th[3]}; {th[1]} new connections")
    if d:
        # At most max_tps starts in any 1 s: the 64th call starts 6 s after the first.
        bound = (n - 1) // DEFAULT_MAX_TPS + 0.05
        b.row("4.c", f"same at the default max_tps={DEFAULT_MAX_TPS}: wall", ms(d[0]),
              f"{bound:.2f} s pacing bound", fmt_ratio(d[0] / bound),
              note=f"pacing is the limit by design: {DEFAULT_MAX_TPS} starts in any second, so "
              f"the {n}th call starts {(n - 1) // DEFAULT_MAX_TPS} s after the first (+50 ms latency)")

    # HTTPS: handshakes = TCP connections the server accepted (TLS does one handshake per
    # connection; a resumed session is a cheaper handshake but still one per connection).
    certs = make_certs(b.work)
    nreq = b.q(1000, 200)
    st = b.server("tls", tls=certs)
    ds = st.seed(datastores=[{"name": "tls"}])
    st.reset()  # before the mount: its first connection's handshake counts too
    m = hlfs_mount(b, st, "tls", "attr_ttl=0,list_ttl=3600,max_tps=100000")
    os.listdir(m.path)
    p = m.p("tls", "status")
    t0 = time.perf_counter()
    for _ in range(nreq):
        read_file(p)
    dt = time.perf_counter() - t0
    hl_conns, hl_desc = st.connections(), sum(st.calls().values())
    m.unmount()
    # Baseline: one boto3 client making the same number of calls.
    st.reset()
    code = ("import sys,time,boto3\nc=boto3.client('healthlake',endpoint_url=sys.argv[1])\n"
            "t=time.perf_counter()\nfor _ in range(int(sys.argv[3])):\n"
            " c.describe_fhir_datastore(DatastoreId=sys.argv[2])\nprint(time.perf_counter()-t)\n")
    pr = subprocess.run([PYTHON, "-c", code, st.url, ds[0]["id"], str(nreq)], capture_output=True,
                        text=True, env=st.env(), timeout=600)
    if pr.returncode:
        raise RuntimeError("boto3 TLS baseline failed: " + pr.stderr[-500:])
    bt = float(pr.stdout.strip().splitlines()[-1])
    bc = st.connections()
    st.stop()
    b.row("4.d", f"HTTPS: TLS handshakes for {nreq:,} cold reads of status (sequential; "
          "from before the mount)",
          f"{hl_conns} handshakes", f"{bc} (one boto3 client, {nreq:,} calls)",
          fmt_ratio(hl_conns / max(bc, 1)), "≤ 10 (one per FUSE thread)", hl_conns <= 10,
          f"{hl_desc} API calls; handshakes counted as TCP connections accepted by the server "
          f"(certificates: {certs['how']})")
    b.row("4.e", f"HTTPS: wall time of the same {nreq:,} cold reads", ms(dt), f"{ms(bt)} boto3",
          fmt_ratio(bt / dt) + " faster")


# --------------------------------------------------------------------------- 5: scale

def section_scale(b):
    log("5. scale and memory")
    n = b.q(10000, 1000)
    jobs = 10
    s = b.server("scale")
    t0 = time.perf_counter()
    for i in range(0, n, 2000):
        s.seed(count=min(2000, n - i), name_prefix="s" + "abcdefghij"[i // 2000], import_jobs=jobs,
               job_status="COMPLETED")
    log(f"  seeded {n} stores x {jobs} jobs in {time.perf_counter() - t0:.1f} s")
    # Pacing lifted: at max_tps=10 the walk's 3 calls per store would take n*0.3 s.
    # fhir/ pruned as in row 1.d: row D7 walks it.
    walks = [("5.a", DEFAULT_CACHE_MB, f"find . {PRUNE_FHIR} -type f -print", "`find -type f`"),
             ("5.a'", 32, f"find . {PRUNE_FHIR} -type f -print", "`find -type f`"),
             ("5.a''", DEFAULT_CACHE_MB, f"find . {PRUNE_FHIR} -type f -size +0 -print",
              "`find -type f -size +0`, which stats every file")]
    for num, cache_mb, cmd, what in walks:
        opts = "max_tps=100000" + ("" if cache_mb == DEFAULT_CACHE_MB else f",cache_mb={cache_mb}")
        m = hlfs_mount(b, s, "scale" + str(len(b.mounts)), opts)
        idle = m.proc_status("VmRSS")
        s.reset()
        t_walk = time.perf_counter()
        p = subprocess.run(["bash", "-c", cmd + " | wc -l"], cwd=m.path, capture_output=True,
                           text=True, timeout=b.q(900, 120))
        t_walk = time.perf_counter() - t_walk
        files = int(p.stdout.strip() or 0)
        hwm = m.proc_status("VmHWM")
        calls = sum(s.calls().values())
        m.unmount()
        b.mounts.remove(m)
        bound = cache_mb * 1048576 + idle
        default = "default " if cache_mb == DEFAULT_CACHE_MB else ""
        b.row(num, f"peak RSS (VmHWM) walking {n:,} stores × {jobs} jobs ({what}, "
              f"{default}cache_mb={cache_mb}, max_tps=100000)", mib(hwm),
              f"{mib(bound)} = cache_mb + idle RSS {mib(idle)}", fmt_ratio(hwm / bound),
              "≤ bound + 8 MiB", hwm <= bound + 8 * 1048576,
              f"{files:,} files, {calls:,} API calls, {t_walk:.1f} s")

    # ls of n stores against ls of a tmpfs directory with n entries.
    shm = tempfile.mkdtemp(prefix="hlfs-bench-ls-", dir="/dev/shm")
    for i in range(n):
        os.mkdir(os.path.join(shm, f"s{i:05d}"))
    m = hlfs_mount(b, s, "scale-ls", "list_ttl=3600")
    s.reset()
    t0 = time.perf_counter()
    subprocess.run(["ls", m.path], stdout=subprocess.DEVNULL, check=True, timeout=300)
    cold = time.perf_counter() - t0
    cold_calls = sum(s.calls().values())
    warm = hyperfine(b, "ls-hlfs", f"ls {m.path}", b.q(20, 5), 2)
    tmp = hyperfine(b, "ls-tmpfs", f"ls {shm}", b.q(20, 5), 2)
    m.unmount()
    s.stop()
    shutil.rmtree(shm, ignore_errors=True)
    b.row("5.b", f"`ls` of {n:,} stores, first after mount (cold, default max_tps)", ms(cold),
          f"{ms(tmp['mean'])} tmpfs, {n:,} entries", fmt_ratio(cold / tmp["mean"]),
          note=f"{cold_calls} API calls; {math.ceil(n / PAGE)} pages minimum")
    b.row("5.c", f"`ls` of {n:,} stores, listing cached (list_ttl=3600)", ms(warm["mean"]),
          f"{ms(tmp['mean'])} tmpfs", fmt_ratio(warm["mean"] / tmp["mean"]))


# --------------------------------------------------------------------------- 6: server

def section_server(b):
    log("6. the server itself")
    s = b.server("rps")
    ds = s.seed(datastores=[{"name": "rps"}])
    host = s.url.split("://", 1)[1]
    dur = b.q(5, 2)
    body = json.dumps({"DatastoreId": ds[0]["id"]}).encode()

    def loop(signed):
        conn = http.client.HTTPConnection(host, timeout=30)
        n = 0
        t_end = time.perf_counter() + dur
        t0 = time.perf_counter()
        while time.perf_counter() < t_end:
            if signed:
                h = sigv4_headers(host, "HealthLake.DescribeFHIRDatastore", body,
                                  datetime.datetime.now(datetime.timezone.utc))
                conn.request("POST", "/", body=body, headers=h)
            else:
                conn.request("GET", "/__admin/counters")
            r = conn.getresponse()
            data = r.read()
            if r.status != 200:
                raise RuntimeError(f"server answered {r.status}: {data[:200]!r}")
            n += 1
        conn.close()
        return n / (time.perf_counter() - t0)
    s.reset()
    signed = loop(True)
    conns = s.connections()
    ncalls = sum(s.calls().values())
    admin = loop(False)
    s.stop()
    b.row("6.a", "healthlake-local: signed DescribeFHIRDatastore calls/s over one keep-alive "
          "connection (Python client signing each request)", f"{signed:,.0f}/s",
          f"{admin:,.0f}/s unsigned GET /__admin/counters", fmt_ratio(admin / signed),
          note=f"{conns} connection(s) for {ncalls:,} calls; "
          f"{signed / DEFAULT_MAX_TPS:,.0f}x the client's default max_tps")


# --------------------------------------------------------------------------- main

SECTIONS = {"calls": section_calls, "warm": section_warm, "cold": section_cold,
            "parallel": section_parallel, "scale": section_scale, "server": section_server}


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    rev = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True,
                         text=True).stdout.strip()
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"load average {load}; {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {cpu}, Linux "
            f"{platform.release()}, fuse3 "
            f"{subprocess.run(['pkg-config', '--modversion', 'fuse3'], capture_output=True, text=True).stdout.strip()}"
            f", commit {rev}")


def selftest():
    """The row-6 client's signer must reproduce AWS-CONVENTIONS.md example A."""
    global ACCESS_KEY, SECRET_KEY
    saved = ACCESS_KEY, SECRET_KEY
    ACCESS_KEY, SECRET_KEY = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    try:
        h = sigv4_headers("healthlake.us-east-1.amazonaws.com", "HealthLake.DescribeFHIRDatastore",
                          b'{"DatastoreId":"a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"}',
                          datetime.datetime(2024, 1, 15, 12, 34, 56))
    finally:
        ACCESS_KEY, SECRET_KEY = saved
    want = "5ab9dda41de5e96e7f95ad4c2188b40b860ea78cb45bf7198c0b432ef08ec75c"
    if not h["authorization"].endswith("Signature=" + want):
        raise SystemExit("bench: SigV4 self-test failed: " + h["authorization"])


def main():
    # The data-plane rows live in bench/dataplane.py, which imports this file's helpers.
    import dataplane
    SECTIONS.update(dataplane.SECTIONS)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller counts and fewer runs (< 2 min)")
    ap.add_argument("--only", help="comma-separated sections: " + ",".join(SECTIONS))
    ap.add_argument("--workdir", help="keep mounts, logs and raw results here")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a figure misses its target")
    args = ap.parse_args()
    selftest()
    b = Bench(args)
    log(f"work directory {b.work}")
    started = time.time()
    load0 = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    only = args.only.split(",") if args.only else list(SECTIONS)
    try:
        for name in only:
            try:
                SECTIONS[name](b)
            except Exception as e:  # noqa: BLE001 - report and go on with the next section
                b.failed(name, f"section {name}", e)
            finally:
                b.cleanup_mounts()
    finally:
        b.cleanup()
    mode = "quick" if args.quick else "full"
    head = [f"## healthlakefs benchmark ({mode} run, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(started))}, "
            f"{time.time() - started:.0f} s)", "",
            f"Machine: {machine()} (at start: {load0}); bench niceness {os.nice(0)}", "",
            f"Command: `scripts/bench{' --quick' if args.quick else ''}"
            f"{' --only ' + args.only if args.only else ''}`", ""]
    if args.quick:
        head += ["*Quick run: smaller counts and fewer repetitions than the full run "
                 "(row texts give the counts used).*", ""]
    misses = sum(1 for r in b.rows if r["ok"] is False)
    text = "\n".join(head) + "\n" + b.table() + "\n"
    if b.notes:
        text += "\nNotes:\n" + "".join(f"- {n}\n" for n in b.notes)
    text += f"\n{misses} figure(s) missed their target (flagged **MISS**).\n"
    print(text)
    with open(os.path.join(b.work, "results.md"), "w") as f:
        f.write(text)
    with open(os.path.join(b.work, "results.json"), "w") as f:
        json.dump({"rows": b.rows, "notes": b.notes, "raw": b.raw}, f, indent=1, default=str)
    log(f"results in {b.work}/results.md")
    return 1 if args.strict and misses else 0


if __name__ == "__main__":
    sys.exit(main())
