"""Hostile FHIR server: a proxy in front of healthlake-local passes the control
plane and good FHIR calls through (signatures stay valid: headers are
forwarded as sent) and answers chosen FHIR requests itself: malformed and
truncated Bundles, a next link to another host (a listener there must see no
connection), next-link loops, a 100 MiB resource, JSON nested 100,000 deep,
Bundles whose entries are of another type, ids that are not file names.
Held: the daemon lives, its memory stays bounded (VmHWM), every syscall ends
within timeout= + 1 s, failures are EIO (DESIGN.md's FHIR errno table), no
hostile name appears in the tree or anywhere on disk, and good reads still
work afterwards."""
import errno
import http.client
import json
import os
import re
import socket
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from fhirutil import STORE, fhir_store, patient
from relutil import rig, run_op, run_ops, vm_hwm_kb  # noqa: F401

T = 3
BOUND_MS = (T + 1) * 1000
OPTS = f"timeout={T},max_attempts=2,attr_ttl=0,list_ttl=0,fhir_list_max=1000"
MiB = 1024 * 1024
# The FHIR client buffers one answer up to 64 MiB (api/fhir.h); a 100 MiB
# answer must be refused before it is held whole.
PEAK_GROWTH_KB = 72 * 1024
TOKEN = "pwned7e3"


class Listener:
    """A TCP listener that counts connections (a host no request may reach)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        self.stop = False
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.hits += 1
            c.close()

    def close(self):
        self.stop = True
        self.sock.close()


def bundle(entries, nxt=None, self_url=None):
    b = {"resourceType": "Bundle", "type": "searchset", "total": len(entries),
         "link": [{"relation": "self", "url": self_url or "http://x/"}],
         "entry": [{"fullUrl": f"urn:x:{i}", "resource": r, "search": {"mode": "match"}}
                   for i, r in enumerate(entries)]}
    if nxt:
        b["link"].append({"relation": "next", "url": nxt})
    return json.dumps(b).encode()


class Proxy:
    """Forwards to upstream; a rule (regex on the request target, handler)
    answers matching FHIR requests itself. Counts the requests each rule took."""

    def __init__(self, upstream):
        self.up_host, self.up_port = upstream.split("//")[1].split(":")[0], \
            int(upstream.rsplit(":", 1)[1].split("/")[0])
        self.rules = []
        self.hits = {}
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                for pat, fn in outer.rules:
                    if re.search(pat, self.path):
                        outer.hits[pat] = outer.hits.get(pat, 0) + 1
                        fn(self)
                        return
                outer.forward(self, body)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _any

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def forward(self, h, body):
        c = http.client.HTTPConnection(self.up_host, self.up_port, timeout=30)
        try:
            c.putrequest(h.command, h.path, skip_host=True, skip_accept_encoding=True)
            for k, v in h.headers.items():
                if k.lower() not in ("connection", "content-length"):
                    c.putheader(k, v)
            c.putheader("Content-Length", str(len(body)))
            c.endheaders(body)
            r = c.getresponse()
            data = r.read()
            h.send_response(r.status)
            for k, v in r.getheaders():
                if k.lower() not in ("connection", "content-length", "transfer-encoding"):
                    h.send_header(k, v)
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
        finally:
            c.close()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def send(h, body, status=200, length=None, close=False):
    h.send_response(status)
    h.send_header("Content-Type", "application/fhir+json")
    h.send_header("Content-Length", str(len(body) if length is None else length))
    if close:
        h.send_header("Connection", "close")
    h.end_headers()
    h.wfile.write(body)
    if close:
        h.close_connection = True


def huge(h, total, chunked):
    """A resource of `total` bytes, written in 1 MiB pieces (never held whole here)."""
    head = b'{"resourceType":"Patient","id":"huge","text":"'
    tail = b'"}'
    h.send_response(200)
    h.send_header("Content-Type", "application/fhir+json")
    if chunked:
        h.send_header("Transfer-Encoding", "chunked")
    else:
        h.send_header("Content-Length", str(total))
    h.end_headers()
    piece = b"x" * MiB
    left = total - len(head) - len(tail)
    parts = [head]
    try:
        while left > 0 or parts:
            if not parts:
                n = min(left, MiB)
                parts = [piece[:n]]
                left -= n
                if left <= 0:
                    parts.append(tail)
            for p in parts:
                if chunked:
                    h.wfile.write(b"%x\r\n" % len(p) + p + b"\r\n")
                else:
                    h.wfile.write(p)
            parts = []
        if chunked:
            h.wfile.write(b"0\r\n\r\n")
    except OSError:
        pass  # the client refused the rest: what we want
    h.close_connection = True


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    from relutil import Rig
    tmp = tmp_path_factory.mktemp("fhirhostile")
    rig = Rig(tmp)
    s = rig.server()
    good = [patient(f"good{i}", f"Good-{i}") for i in range(3)]
    sid, fx = fhir_store(s, good)
    px = Proxy(s.url)
    other = Listener()

    class Via:
        """The server as the mount sees it: the proxy's URL, the same keys."""
        url = px.url
        region = s.region

        def env(self):
            return s.env(AWS_ENDPOINT_URL=px.url)

    env = s.env(AWS_ENDPOINT_URL=px.url)
    env["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS", "detect_leaks=1") + ":quarantine_size_mb=8"
    m = rig.mount(Via(), OPTS, env=env)
    base = f"/datastore/{sid}/r4/"
    yield {"rig": rig, "s": s, "m": m, "px": px, "other": other, "sid": sid, "base": base,
           "tmp": tmp}
    px.close()
    other.close()
    rig.close()


def good_reads_work(m):
    r = run_ops([["read", f"{STORE}/fhir/Patient/good1.json"],
                 ["listdir", f"{STORE}/fhir/Patient"]], 60, cwd=m.path)
    assert r[0]["errno"] == 0 and '"Good-1"' in r[0]["out"], r[0]
    assert r[1]["errno"] == 0 and "good2.json" in r[1]["out"], r[1]


def run_case(e, tmp_path, rules, ops):
    """Installs rules, runs ops (traced), clears the rules. Returns (results,
    requests the rules took, VmHWM growth in KiB)."""
    m, px = e["m"], e["px"]
    base = vm_hwm_kb(m.proc.pid)
    px.hits = {}
    px.rules = rules
    try:
        res = run_ops(ops, timeout=len(ops) * (T + 5) + 60, cwd=m.path,
                      trace=str(tmp_path / "hostile.trace"))
    finally:
        px.rules = []
    assert m.proc.poll() is None, "daemon died:\n" + m.stderr()[-4000:]
    slow = [f"{o}: {r['max_syscall_ms']:.0f} ms ({r['slowest']})" for o, r in zip(ops, res)
            if r["max_syscall_ms"] > BOUND_MS]
    assert not slow, slow
    grew = vm_hwm_kb(m.proc.pid) - base
    good_reads_work(m)
    return res, sum(px.hits.values()), grew


def q(name):
    return f"{STORE}/fhir/Patient?name={name}"


def search_ops(name):
    return [["listdir", q(name)], ["read", q(name) + "/all.ndjson"]]


def fixed(body_fn):
    def fn(h):
        send(h, body_fn(h))
    return fn


CASES = {
    "malformed-bundle": (lambda e: [(r"name=malformed", fixed(
        lambda h: b'{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType"'))],
        search_ops("malformed")),
    "bundle-not-json": (lambda e: [(r"name=notjson", fixed(lambda h: b"<html>502 Bad Gateway</html>"))],
                        search_ops("notjson")),
    "bundle-wrong-resourcetype": (lambda e: [(r"name=notbundle", fixed(
        lambda h: json.dumps(patient("x1", "X")).encode()))], search_ops("notbundle")),
    "bundle-entry-not-list": (lambda e: [(r"name=entryobj", fixed(
        lambda h: b'{"resourceType":"Bundle","type":"searchset","entry":{"resource":{}}}'))],
        search_ops("entryobj")),
    "truncated-bundle": (lambda e: [(r"name=truncated", lambda h: send(
        h, bundle([patient("t1", "T")])[:40], length=5000, close=True))], search_ops("truncated")),
    "truncated-resource": (lambda e: [(r"Patient/trunc1", lambda h: send(
        h, json.dumps(patient("trunc1", "T")).encode()[:30], length=400, close=True))],
        [["read", f"{STORE}/fhir/Patient/trunc1.json"], ["stat", f"{STORE}/fhir/Patient/trunc1.json"]]),
    "nested-100000-resource": (lambda e: [(r"Patient/deep1", fixed(
        lambda h: b'{"resourceType":"Patient","id":"deep1","x":' + b"[" * 100000 + b"]" * 100000 + b"}"))],
        [["read", f"{STORE}/fhir/Patient/deep1.json"]]),
    "nested-100000-bundle": (lambda e: [(r"name=deep", fixed(
        lambda h: b'{"resourceType":"Bundle","type":"searchset","entry":[{"resource":'
        b'{"resourceType":"Patient","id":"d","x":' + b"{\"a\":" * 100000 + b"1" + b"}" * 100000
        + b"}}]}"))], search_ops("deep")),
    "huge-100MiB-resource": (lambda e: [(r"Patient/huge1", lambda h: huge(h, 100 * MiB, False))],
                             [["read", f"{STORE}/fhir/Patient/huge1.json"]]),
    "huge-100MiB-chunked": (lambda e: [(r"Patient/huge2", lambda h: huge(h, 100 * MiB, True))],
                            [["read", f"{STORE}/fhir/Patient/huge2.json"]]),
    "huge-100MiB-bundle": (lambda e: [(r"name=huge", lambda h: huge(h, 100 * MiB, False))],
                           search_ops("huge")),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_fhir_answer_is_eio(env, tmp_path, case):
    """Each hostile answer: EIO for the calls that met it, bounded memory."""
    rules, ops = CASES[case]
    res, hits, grew = run_case(env, tmp_path, rules(env), ops)
    names = [r["name"] or "ok" for r in res]
    print(f"{case}: {hits} hostile answers, results {names}, VmHWM +{grew // 1024} MiB")
    assert hits > 0, f"{case}: the hostile rule was never reached"
    # An answer larger than the client's limit is "too large" (EFBIG), others EIO.
    want = {errno.EIO, errno.EFBIG} if case.startswith("huge") else {errno.EIO}
    assert all(r["errno"] in want for r in res), (case, names)
    assert grew < PEAK_GROWTH_KB, f"{case}: daemon VmHWM grew {grew // 1024} MiB"
    err = run_op(["read", f"{STORE}/fhir/Patient/.error"], cwd=env["m"].path)
    assert err["errno"] == 0, err


def page_url(e, port, page, name):
    return f"http://127.0.0.1:{port}{e['base']}Patient?name={name}&_count=100&_page={page}"


@pytest.mark.parametrize("how", ["other-port", "userinfo", "https-same-host", "scheme-relative"])
def test_next_link_to_another_host_is_not_followed(env, tmp_path, how):
    e = env
    other = e["other"]
    nm = f"nexthost{how.replace('-', '')}"
    nxt = {"other-port": page_url(e, other.port, 2, nm),
           "userinfo": f"http://127.0.0.1:{e['px'].port}@127.0.0.1:{other.port}"
                       f"{e['base']}Patient?name={nm}&_page=2",
           "https-same-host": page_url(e, other.port, 2, nm).replace("http:", "https:"),
           "scheme-relative": f"//127.0.0.1:{other.port}{e['base']}Patient?name={nm}&_page=2"}[how]
    first = bundle([patient(f"nh{i}", "N") for i in range(100)], nxt=nxt)
    before = other.hits
    res, hits, _ = run_case(e, tmp_path, [(f"name={nm}", fixed(lambda h: first))], search_ops(nm))
    assert other.hits == before, f"{how}: {other.hits - before} connection(s) went to the other host"
    assert hits >= 1
    # The first page is fine; going on to the next page must fail with EIO.
    assert all(r["errno"] == errno.EIO for r in res), [(r["op"], r["name"]) for r in res]


@pytest.mark.parametrize("loop", ["self", "two-pages"])
def test_next_link_loop_ends(env, tmp_path, loop):
    e = env
    nm = f"loop{loop.replace('-', '')}"

    def answer(h):
        page = 2 if "_page=2" in h.path else 1
        to = page if loop == "self" else 3 - page
        send(h, bundle([patient(f"lp{page}x{i}", "L") for i in range(100)],
                       nxt=page_url(e, e["px"].port, to, nm), self_url=page_url(e, e["px"].port, page, nm)))

    res, hits, grew = run_case(e, tmp_path, [(f"name={nm}", answer)], search_ops(nm))
    names = [r["name"] or "ok" for r in res]
    print(f"next-link loop {loop}: {hits} pages asked, results {names}")
    # Bounded: at most fhir_list_max (1000) entries' worth of pages per reader.
    assert hits <= 2 * (1000 // 100 + 2), f"{hits} pages fetched"
    assert all(r["errno"] in (errno.EIO, errno.EOVERFLOW) for r in res), names


def test_entries_of_another_type_and_bad_ids_are_not_files(env, tmp_path):
    e = env
    bad_ids = ["../../../" + TOKEN, "a/b", "", ".", "..", "x\u0000y", "i" * 65, "sp ace",
               TOKEN + "\n", "é"]
    entries = [patient(i, "Bad") for i in bad_ids]
    entries += [dict(patient(f"obs{i}", "O"), resourceType="Observation") for i in range(3)]
    entries += [{"resourceType": "Patient", "name": [{"family": "no id"}]}]
    entries += [patient("fine1", "Fine")]

    res, hits, _ = run_case(e, tmp_path, [(r"name=mixed", fixed(lambda h: bundle(entries)))],
                            search_ops("mixed") + [["read", q("mixed") + "/obs1.json"]])
    assert hits >= 1
    assert res[0]["errno"] == 0, res[0]
    # Only the resource of the searched type with a valid id is a file.
    assert sorted(res[0]["out"]) == [".error", "all.ndjson", "fine1.json"] or \
        sorted(set(res[0]["out"]) - {".error"}) == ["all.ndjson", "fine1.json"], res[0]["out"]
    assert res[2]["errno"] == errno.ENOENT, res[2]
    # all.ndjson holds what the service sent, one compact resource per line.
    assert res[1]["errno"] in (0, errno.EIO), res[1]
    # Nothing named after a hostile id was made anywhere on disk.
    found = subprocess.run(["find", str(e["tmp"]), "/tmp", "-xdev", "-name", f"*{TOKEN}*"],
                           capture_output=True, text=True).stdout
    assert not found.strip(), found

    # A read whose answer is another resource (another id or type): DESIGN.md
    # does not say; the mount serves the service's bytes (or fails with EIO),
    # and no name is made from the foreign id.
    rules = [(r"Patient/other1$", fixed(lambda h: json.dumps(patient("../" + TOKEN, "X")).encode())),
             (r"Patient/other2$", fixed(
                 lambda h: json.dumps(dict(patient("other2", "X"), resourceType="Observation")).encode()))]
    res, hits, _ = run_case(e, tmp_path, rules, [["read", f"{STORE}/fhir/Patient/other1.json"],
                                                 ["read", f"{STORE}/fhir/Patient/other2.json"]])
    assert hits >= 2, hits
    for r, want in zip(res, ("../" + TOKEN, "Observation")):
        assert r["errno"] in (0, errno.EIO), r
        assert r["errno"] or want in r["out"], r
    listed = run_op(["listdir", f"{STORE}/fhir/Patient"], cwd=e["m"].path)
    assert listed["errno"] == 0 and not [n for n in listed["out"] if TOKEN in n], listed
    found = subprocess.run(["find", str(e["tmp"]), "/tmp", "-xdev", "-name", f"*{TOKEN}*"],
                           capture_output=True, text=True).stdout
    assert not found.strip(), found
