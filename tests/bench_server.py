#!/usr/bin/python3
"""Throughput of healthlake-local: DescribeFHIRDatastore over one keep-alive
connection, each request signed afresh (SigV4), answers read and checked.

    tests/bench_server.py [--seconds 3]          starts its own server
    tests/bench_server.py --url URL --id ID ...  against a running one

Prints `describe_per_second <n>`.  bench() is importable (tests, scripts/bench).
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "scripts"))

from hllocal.sigv4 import sign  # noqa: E402


def _recv_response(sock, buf):
    """Reads one HTTP response (Content-Length framed); returns (status, body, rest of buffer)."""
    while b"\r\n\r\n" not in buf:
        d = sock.recv(65536)
        if not d:
            raise ConnectionError("server closed the connection")
        buf += d
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    n = 0
    for ln in lines[1:]:
        k, _, v = ln.partition(b":")
        if k.strip().lower() == b"content-length":
            n = int(v)
    while len(rest) < n:
        d = sock.recv(65536)
        if not d:
            raise ConnectionError("server closed the connection")
        rest += d
    return status, rest[:n], rest[n:]


def bench(url, access_key, secret_key, region, datastore_id, seconds=3.0):
    """Calls per second of DescribeFHIRDatastore on one connection for `seconds`."""
    hostport = url.split("://", 1)[1].rstrip("/")
    host, _, port = hostport.rpartition(":")
    sock = socket.create_connection((host, int(port)))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    body = json.dumps({"DatastoreId": datastore_id}).encode()
    buf = b""
    n = 0
    t0 = time.perf_counter()
    deadline = t0 + seconds
    while True:
        h = sign("POST", hostport, "/", "", {"content-type": "application/x-amz-json-1.0",
                                             "x-amz-target": "HealthLake.DescribeFHIRDatastore"},
                 body, access_key, secret_key, region)
        req = "POST / HTTP/1.1\r\n" + "".join("%s: %s\r\n" % kv for kv in h.items())
        req += "Content-Length: %d\r\n\r\n" % len(body)
        sock.sendall(req.encode() + body)
        status, rbody, buf = _recv_response(sock, buf)
        if status != 200:
            raise RuntimeError("status %d: %s" % (status, rbody[:300]))
        n += 1
        if (n & 63) == 0 and time.perf_counter() > deadline:
            break
    elapsed = time.perf_counter() - t0
    sock.close()
    return n / elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url")
    ap.add_argument("--id")
    ap.add_argument("--access-key", default="AKIDLOCALEXAMPLE")
    ap.add_argument("--secret-key", default="healthlake-local-secret-EXAMPLE")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--server-args", default="--quiet")
    a = ap.parse_args()
    proc = None
    if not a.url:
        state = tempfile.mkdtemp(prefix="hl-bench-")
        proc = subprocess.Popen(["/usr/bin/python3", os.path.join(REPO, "scripts", "healthlake-local"),
                                 "--state", state, "--port", "0", "--create-delay", "0",
                                 "--access-key", a.access_key, "--secret-key", a.secret_key,
                                 "--region", a.region] + a.server_args.split(),
                                stdout=subprocess.PIPE)
    try:
        if proc:
            line = proc.stdout.readline().decode()
            a.url = line.split("listening on ", 1)[1].strip()
            import urllib.request
            req = urllib.request.Request(a.url + "/__admin/seed", data=b'{"count": 1}', method="POST")
            a.id = json.loads(urllib.request.urlopen(req).read())["datastores"][0]["id"]
        rate = bench(a.url, a.access_key, a.secret_key, a.region, a.id, a.seconds)
        print("describe_per_second %.0f" % rate)
    finally:
        if proc:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main()
