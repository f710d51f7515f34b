#!/usr/bin/python3
"""The FHIR data plane of healthlake-local at scale: a store of --resources
(default 100,000) Synthea-like resources loaded through /__admin/fhir/load,
then reads and search pages over one keep-alive connection, each request
signed afresh (SigV4, service healthlake) and its answer read and checked.

    tests/bench_fhir_server.py [--resources 100000] [--seconds 3]

Prints one `name value` line per measure (times in ms).
"""
import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "scripts"))
sys.path.insert(0, HERE)

from bench_server import _recv_response  # noqa: E402
from hllocal import jobs  # noqa: E402
from hllocal.sigv4 import sign  # noqa: E402

AK, SK, REGION = "AKIDLOCALEXAMPLE", "healthlake-local-secret-EXAMPLE", "us-east-1"


class Conn:
    def __init__(self, url):
        self.hostport = url.split("://", 1)[1].split("/", 1)[0]
        host, _, port = self.hostport.rpartition(":")
        self.sock = socket.create_connection((host, int(port)))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def get(self, target):
        path, _, query = target.partition("?")
        h = sign("GET", self.hostport, path, query, {}, b"", AK, SK, REGION)
        req = "GET %s HTTP/1.1\r\n" % target + "".join("%s: %s\r\n" % kv for kv in h.items()) + "\r\n"
        self.sock.sendall(req.encode())
        status, body, self.buf = _recv_response(self.sock, self.buf)
        if status != 200:
            raise RuntimeError("GET %s: %d %s" % (target, status, body[:300]))
        return body


def cpu_seconds(pid):
    """User+system CPU time of a process (on a busy machine wall time overstates cost)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--resources", type=int, default=100000)
    ap.add_argument("--seconds", type=float, default=3.0)
    a = ap.parse_args()
    state = tempfile.mkdtemp(prefix="hl-fhir-bench-")
    proc = subprocess.Popen(["/usr/bin/python3", os.path.join(REPO, "scripts", "healthlake-local"),
                             "--state", state, "--port", "0", "--create-delay", "0", "--quiet",
                             "--access-key", AK, "--secret-key", SK, "--region", REGION],
                            stdout=subprocess.PIPE)
    try:
        url = proc.stdout.readline().decode().split("listening on ", 1)[1].strip()
        req = urllib.request.Request(url + "/__admin/seed", data=b'{"count": 1}', method="POST")
        sid = json.loads(urllib.request.urlopen(req).read())["datastores"][0]["id"]
        # About 13 resources per patient; cut the cohort to the requested size.
        lines = jobs.synthea_lines(a.resources // 12 + 1, 1)[:a.resources]
        t0 = time.perf_counter()
        c0 = cpu_seconds(proc.pid)
        for i in range(0, len(lines), 10000):
            req = urllib.request.Request(url + "/__admin/fhir/load?store=" + sid,
                                         data=b"\n".join(lines[i:i + 10000]), method="POST")
            r = json.loads(urllib.request.urlopen(req, timeout=600).read())
            assert r["failed"] == 0, r
        print("resources %d" % len(lines))
        print("bulk_load_seconds %.2f" % (time.perf_counter() - t0))
        print("bulk_load_server_cpu_seconds %.2f" % (cpu_seconds(proc.pid) - c0))
        print("load_average %.1f" % os.getloadavg()[0])
        objs = [json.loads(l) for l in lines[:20000]]
        keys = ["%s/%s" % (o["resourceType"], o["id"]) for o in objs]
        pats = [o["id"] for o in objs if o["resourceType"] == "Patient"]
        base = "/datastore/%s/r4/" % sid
        c = Conn(url)
        rng = random.Random(0)
        lat = []
        for _ in range(2000):
            k = rng.choice(keys)
            t = time.perf_counter()
            body = c.get(base + k)
            lat.append((time.perf_counter() - t) * 1000)
            assert k.split("/")[1].encode() in body
        print("read_ms_median %.3f" % pct(lat, 0.5))
        print("read_ms_p99 %.3f" % pct(lat, 0.99))
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < a.seconds:
            c.get(base + keys[n % len(keys)])
            n += 1
        print("reads_per_second %.0f" % (n / (time.perf_counter() - t0)))
        for name, q in (("search_obs_code", "Observation?code=http://loinc.org|8302-2&_count=100"),
                        ("search_obs_all", "Observation?_count=100"),
                        ("search_obs_subject", "Observation?subject=Patient/%s" % pats[0]),
                        ("search_patient_name", "Patient?name=ok&_count=100"),
                        ("search_obs_sorted", "Observation?_sort=-_lastUpdated&_count=100")):
            first, nexts = [], []
            for _ in range(5):
                t = time.perf_counter()
                b = json.loads(c.get(base + q))
                first.append((time.perf_counter() - t) * 1000)
                nxt = [l["url"] for l in b.get("link", []) if l["relation"] == "next"]
                for _ in range(3):
                    if not nxt:
                        break
                    target = nxt[0].split(url, 1)[1]
                    t = time.perf_counter()
                    b = json.loads(c.get(target))
                    nexts.append((time.perf_counter() - t) * 1000)
                    nxt = [l["url"] for l in b.get("link", []) if l["relation"] == "next"]
            print("%s_total %d" % (name, b["total"]))
            print("%s_first_page_ms_median %.2f" % (name, pct(first, 0.5)))
            if nexts:
                print("%s_next_page_ms_median %.2f" % (name, pct(nexts, 0.5)))
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
