"""Helpers for the end-to-end contract suite (tests/e2e).

The shared fixtures live in tests/conftest.py; this module loads that file by
path (two conftest.py files cannot import each other by name) and adds what the
contract tests need: raw signed API calls, errno assertions, bash runners,
expected renderings and a mount launcher that gives full control of `-o`.
"""
import datetime
import decimal
import errno
import importlib.util
import json
import os
import re
import signal
import subprocess
import threading
import urllib.request

import pytest

_HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("hlfs_base_conftest",
                                               os.path.join(_HERE, "..", "conftest.py"))
base = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(base)

REPO = base.REPO
HEALTHLAKEFS = base.HEALTHLAKEFS
PYTHON = base.PYTHON
wait_for = base.wait_for

ACCOUNT = "123456789012"
ROLE_ARN = "arn:aws:iam::123456789012:role/HealthLakeImportRole"
IMPORT_OUTPUT = "s3://hl-results/import-output/"
KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
JOB_OPTS = f"role_arn={ROLE_ARN},import_output={IMPORT_OUTPUT},kms_key={KMS_KEY}"

MUTATING = ("CreateFHIRDatastore", "DeleteFHIRDatastore", "StartFHIRImportJob",
            "StartFHIRExportJob", "TagResource", "UntagResource")
TERMINAL = ("COMPLETED", "COMPLETED_WITH_ERRORS", "FAILED", "CANCEL_COMPLETED", "CANCEL_FAILED")
STORE_FILES = {"status", "datastore.json", "id", "arn", "endpoint", "name", "type_version",
               "created_at", "tags", "imports", "exports"}
TIMESTAMP_KEYS = ("CreatedAt", "SubmitTime", "EndTime")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$")


# ---------------------------------------------------------------- assertions

def all_at_once(fn, n, timeout=60):
    """Runs fn in n threads released together; each result is fn's value or its OSError."""
    results, barrier = [], threading.Barrier(n)

    def worker():
        barrier.wait()
        try:
            results.append(fn())
        except OSError as e:
            results.append(e)

    ts = [threading.Thread(target=worker) for _ in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout)
    return results


def errno_of(fn, *args, **kw):
    """Runs fn and returns the errno of the OSError it raises (0 when it succeeds)."""
    try:
        fn(*args, **kw)
    except OSError as e:
        return e.errno
    return 0


def assert_errno(expected, fn, *args, **kw):
    got = errno_of(fn, *args, **kw)
    assert got == expected, (f"expected {errno.errorcode.get(expected, expected)}, got "
                             f"{errno.errorcode.get(got, got) if got else 'success'}")


def read(path):
    with open(path, "rb") as f:
        return f.read().decode()


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def write_once(path, data, flags=os.O_WRONLY | os.O_TRUNC):
    """Opens path, writes data in one write(2) call and closes; returns (write_errno, close_errno)."""
    if isinstance(data, str):
        data = data.encode()
    fd = os.open(path, flags)
    werr = cerr = 0
    try:
        try:
            # The kernel may split a large write into several requests; a short
            # count followed by an error is how write(2) reports that.
            done = 0
            while done < len(data):
                done += os.write(fd, data[done:])
        except OSError as e:
            werr = e.errno
    finally:
        try:
            os.close(fd)
        except OSError as e:
            cerr = e.errno
    return werr, cerr


def error_file(dirpath):
    return read(os.path.join(dirpath, ".error"))


def assert_one_line(text):
    assert text.endswith("\n"), repr(text)
    assert text.count("\n") == 1, repr(text)
    assert len(text.strip()) > 0, repr(text)


def bash(mnt, script, timeout=60, env=None):
    """Runs a bash script in the mount; returns CompletedProcess (text)."""
    return mnt.sh(script, timeout=timeout, env=env)


def listing(path):
    """Directory entries without the dot files (.error, .stats)."""
    return sorted(e for e in os.listdir(path) if not e.startswith("."))


def job_ids(dirpath):
    return sorted(e for e in os.listdir(dirpath) if not e.startswith(".") and e not in ("new", "latest"))


# ---------------------------------------------------------------- server side

def mutations(server):
    return server.mutating_calls()


def seed_store(server, name="clinic-a", status="ACTIVE", **kw):
    d = {"status": status}
    if name is not None:
        d["name"] = name
    d.update(kw)
    return server.seed(datastores=[d])["datastores"][0]


def raw_call(server, op, body):
    """One SigV4-signed HealthLake call made without botocore's parser: (status, raw bytes)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    data = json.dumps(body).encode()
    url = server.url.rstrip("/") + "/"
    req = AWSRequest(method="POST", url=url, data=data,
                     headers={"Content-Type": "application/x-amz-json-1.0",
                              "X-Amz-Target": "HealthLake." + op})
    SigV4Auth(Credentials(server.access_key, server.secret_key), "healthlake",
              server.region).add_auth(req)
    r = urllib.request.Request(url, data=data, headers=dict(req.headers.items()), method="POST")
    ctx = None
    if server.url.startswith("https"):
        import ssl
        ctx = ssl.create_default_context(cafile=server.cafile)
    try:
        with urllib.request.urlopen(r, timeout=30, context=ctx) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def raw_json(server, op, body):
    status, raw = raw_call(server, op, body)
    assert status == 200, (status, raw)
    return json.loads(raw, parse_float=decimal.Decimal)


def boto_jobs(server, store_id, kind="import"):
    c = server.boto3()
    if kind == "import":
        return c.list_fhir_import_jobs(DatastoreId=store_id)["ImportJobPropertiesList"]
    return c.list_fhir_export_jobs(DatastoreId=store_id)["ExportJobPropertiesList"]


def boto_tags(server, arn):
    tags = server.boto3().list_tags_for_resource(ResourceARN=arn).get("Tags", [])
    return {t["Key"]: t["Value"] for t in tags}


def live_stores(server):
    c = server.boto3()
    out, tok = [], None
    while True:
        kw = {"MaxResults": 500}
        if tok:
            kw["NextToken"] = tok
        r = c.list_fhir_datastores(**kw)
        out += r["DatastorePropertiesList"]
        tok = r.get("NextToken")
        if not tok:
            return [s for s in out if s["DatastoreStatus"] != "DELETED"]


# ---------------------------------------------------------------- rendering

def _ts_variants(v):
    """The RFC 3339 renderings the contract allows for one wire timestamp (epoch seconds)."""
    d = decimal.Decimal(str(v))
    secs = int(d.to_integral_value(rounding=decimal.ROUND_FLOOR))
    frac = d - secs
    base_s = datetime.datetime.fromtimestamp(secs, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    if frac == 0:
        return {base_s + "Z"}
    out = set()
    trunc = int(frac * 1000)
    out.add(f"{base_s}.{trunc:03d}Z")
    rnd = int((frac * 1000).to_integral_value(rounding=decimal.ROUND_HALF_UP))
    if rnd < 1000:
        out.add(f"{base_s}.{rnd:03d}Z")
    return out


def rfc3339(v):
    """The millisecond-truncated rendering of a wire timestamp."""
    return sorted(_ts_variants(v))[0]


def _convert(obj, choose):
    if isinstance(obj, dict):
        return {k: (choose(v) if k in TIMESTAMP_KEYS and isinstance(v, (int, float, decimal.Decimal))
                    else _convert(v, choose)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_convert(x, choose) for x in obj]
    return obj


def pretty(obj):
    """Two-space indented JSON, keys in the given order, final newline (the contract's format)."""
    def fix(o):
        if isinstance(o, dict):
            return {k: fix(v) for k, v in o.items()}
        if isinstance(o, list):
            return [fix(x) for x in o]
        if isinstance(o, decimal.Decimal):
            return int(o) if o == o.to_integral_value() and "." not in str(o) else float(o)
        return o
    return json.dumps(fix(obj), indent=2, ensure_ascii=False) + "\n"


def expected_renderings(props):
    """Every byte-exact rendering of wire properties the contract allows (ms truncated or rounded)."""
    outs = set()
    for pick in (lambda v: sorted(_ts_variants(v))[0], lambda v: sorted(_ts_variants(v))[-1]):
        outs.add(pretty(_convert(props, pick)))
    return outs


def check_pretty_format(text):
    """Structural checks of the pretty JSON format that do not depend on number formatting."""
    assert text.endswith("\n") and not text.endswith("\n\n"), repr(text[-10:])
    lines = text.split("\n")[:-1]
    assert lines[0] == "{" and lines[-1] == "}", text
    for ln in lines[1:-1]:
        ind = len(ln) - len(ln.lstrip(" "))
        assert ind % 2 == 0 and ind >= 2, f"bad indent: {ln!r}"
        assert "\t" not in ln
        body = ln.strip()
        if body.startswith('"') and '":' in body:
            assert re.match(r'^"(?:[^"\\]|\\.)*": ', body), f"bad key/value spacing: {ln!r}"
    obj = json.loads(text)
    for k, v in _walk(obj):
        if k in TIMESTAMP_KEYS:
            assert isinstance(v, str) and RFC3339.match(v), f"{k}: {v!r}"
    return obj


def _walk(o):
    if isinstance(o, dict):
        for k, v in o.items():
            yield k, v
            yield from _walk(v)
    elif isinstance(o, list):
        for x in o:
            yield from _walk(x)


# ---------------------------------------------------------------- stats

def stats(mnt):
    out = {}
    for ln in read(mnt.p(".stats")).splitlines():
        k, v = ln.split(" ", 1)
        out[k] = int(v)
    return out


# ---------------------------------------------------------------- raw mounts

class Launch:
    """healthlakefs started in the foreground with an exact option string."""

    def __init__(self, proc, mnt, stderr_path):
        self.proc, self.path, self.stderr_path = proc, mnt, stderr_path

    def stderr(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode(errors="replace")

    def mounted(self):
        return os.path.ismount(self.path)

    def stop(self):
        if os.path.ismount(self.path):
            subprocess.run(["fusermount3", "-u", "-z", self.path], capture_output=True)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def launch(mnt, opts, env, extra_args=(), wait=20):
    """Starts `healthlakefs -f -o OPTS MNT`; returns once it mounted or exited."""
    os.makedirs(mnt, exist_ok=True)
    stderr_path = mnt.rstrip("/") + ".stderr"
    cmd = [HEALTHLAKEFS, "-f"]
    if opts:
        cmd += ["-o", opts]
    cmd += [*extra_args, mnt]
    env = dict(env)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(stderr_path, "wb"), env=env)
    ln = Launch(proc, mnt, stderr_path)
    try:
        wait_for(lambda: os.path.ismount(mnt) or proc.poll() is not None, timeout=wait,
                 what="mount or exit")
    except TimeoutError:
        ln.stop()
        raise
    return ln


def requires_binary():
    if not os.path.exists(HEALTHLAKEFS):
        pytest.fail(f"{HEALTHLAKEFS} is not built")


# ---------------------------------------------------------------- FHIR data plane

_fc_spec = importlib.util.spec_from_file_location("hlfs_fhir_client",
                                                  os.path.join(_HERE, "..", "fhir_client.py"))
_fhir_client = importlib.util.module_from_spec(_fc_spec)
_fc_spec.loader.exec_module(_fhir_client)


def fhir_calls(server):
    """FHIR data-plane requests per interaction (all statuses), e.g. {"fhir.read": 1}."""
    return {k: v for k, v in server.calls().items() if k.startswith("fhir.")}


def fhir_base(server, store_id):
    return "%s/datastore/%s/r4/" % (server.url.rstrip("/"), store_id)


def fhir_api(server, store_id):
    """A signed FHIR client (tests/fhir_client.py) on the store's endpoint, for changes made
    behind the mount's back and for the service's own copy of a resource. Its requests count
    in the server's counters like the mount's."""
    return _fhir_client.Fhir(server, fhir_base(server, store_id))


def fhir_load(server, store_id, resources):
    """Bulk load through the admin API (no counter moves); resources are dicts or raw JSON text."""
    r = _fhir_client.load(server, store_id, resources)
    assert r["failed"] == 0, r
    return r


def fhir_get_raw(server, store_id, path):
    """(status, body bytes) of a signed GET of path (relative to the store's FHIR base)."""
    api = fhir_api(server, store_id)
    try:
        st, _, body = api.request("GET", path)
    finally:
        api.close()
    return st, body


_JSON_TOKEN = re.compile(r'\s*("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null|'
                         r'[{}\[\]:,])', re.S)


def json_tokens(text):
    """The JSON text as tokens, whitespace dropped: strings by their meaning (so escapes may
    differ), numbers by their lexeme (so 120.50 is not 120.5), punctuation as is. Two texts with
    equal tokens hold the same members in the same order with the same lexemes."""
    out, i, n = [], 0, len(text)
    while True:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if i >= n:
            return out
        m = _JSON_TOKEN.match(text, i)
        assert m, "not JSON at %d: %r" % (i, text[i:i + 40])
        tok = m.group(1)
        if tok[0] == '"':
            out.append(("s", json.loads(tok)))
        elif tok[0] in "-0123456789":
            out.append(("n", tok))
        else:
            out.append(("p", tok))
        i = m.end()


def json_numbers(text):
    """Every number lexeme of a JSON text, in order."""
    return [v for k, v in json_tokens(text) if k == "n"]


def json_compact(text):
    """True when the text has no whitespace outside its strings."""
    return re.search(r"\s", re.sub(r'"(?:[^"\\]|\\.)*"', '""', text, flags=re.S)) is None


class FhirSite:
    """One healthlake-local, one ACTIVE store named clinic-a with loaded resources, and mounts
    on it made on demand (each with its own options), for a module's FHIR tests."""

    def __init__(self, server, root, name="clinic-a"):
        self.server = server
        self.root = root
        self.name = name
        self.store = seed_store(server, name)
        self.id = self.store["id"]
        self.mounts = []

    def mount(self, opts="", extra_args=()):
        m = base.start_mount(self.server, os.path.join(self.root, "mnt%d" % len(self.mounts)),
                             opts, extra_args=extra_args)
        self.mounts.append(m)
        return m

    def fhir(self, m, *parts):
        """A path under the mount's <store>/fhir/."""
        return m.p(self.name, "fhir", *parts)

    def load(self, resources):
        return fhir_load(self.server, self.id, resources)

    def api(self):
        return fhir_api(self.server, self.id)

    def get_raw(self, path):
        return fhir_get_raw(self.server, self.id, path)

    def close(self):
        for m in self.mounts:
            m.unmount()
        for m in self.mounts:
            base.check_sanitizers(m.stderr())
