#!/usr/bin/python3
"""The baseline a data engineer would write instead of using the mount: botocore's
SigV4Auth signing each request, urllib3 (botocore's own HTTP session) with
keep-alive. scripts/bench (bench/dataplane.py) runs it in a new process per
measurement, so its figures include what a user's script pays: the imports,
the signing, the connection.

    fhir_client.py read     ENDPOINT Type/id            one GET, the body to stdout
    fhir_client.py search   ENDPOINT 'Type?query'       every page (_count=100), entries
                                                        one per line to stdout
    fhir_client.py parallel ENDPOINT IDS_FILE THREADS   GET every Type/id of the file
                                                        (one a line) with THREADS threads
    fhir_client.py put      ENDPOINT DIR                PUT every DIR/<id>.json to
                                                        <its resourceType>/<id>, one connection

ENDPOINT is the store's DatastoreEndpoint (ending in /r4/). Credentials and region
come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION. The summary
(count, bytes, seconds after the imports) goes to stderr as `key value` lines.
"""
import json
import os
import sys
import threading
import time
import urllib.parse

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.httpsession import URLLib3Session

CREDS = Credentials(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"],
                    os.environ.get("AWS_SESSION_TOKEN"))
REGION = os.environ.get("AWS_REGION", "us-east-1")


class Client:
    """One keep-alive HTTP session; every request signed afresh."""

    def __init__(self, pool=1):
        self.http = URLLib3Session(max_pool_connections=pool)
        self.signer = SigV4Auth(CREDS, "healthlake", REGION)

    def send(self, method, url, body=None, headers=None, ok=(200, 201)):
        req = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
        self.signer.add_auth(req)
        r = self.http.send(req.prepare())
        if r.status_code not in ok:
            raise SystemExit(f"{method} {urllib.parse.urlsplit(url).path}: HTTP {r.status_code} "
                             f"{r.content[:300]!r}")
        return r.content


def summary(**kw):
    for k, v in kw.items():
        sys.stderr.write(f"{k} {v}\n")


def cmd_read(endpoint, ref):
    body = Client().send("GET", endpoint + ref, headers={"Accept": "application/fhir+json"})
    sys.stdout.buffer.write(body)


def cmd_search(endpoint, query):
    c = Client()
    sep = "&" if "?" in query and not query.endswith("?") else ""
    url = endpoint + query + sep + "_count=100"
    t0 = time.perf_counter()
    pages = n = 0
    out = sys.stdout.buffer
    while url:
        b = json.loads(c.send("GET", url, headers={"Accept": "application/fhir+json"}))
        pages += 1
        for e in b.get("entry", []):
            out.write(json.dumps(e["resource"], separators=(",", ":")).encode() + b"\n")
            n += 1
        url = next((link["url"] for link in b.get("link", []) if link["relation"] == "next"), None)
    summary(entries=n, pages=pages, seconds=f"{time.perf_counter() - t0:.4f}")


def cmd_parallel(endpoint, ids_file, threads):
    with open(ids_file) as f:
        refs = [line.strip() for line in f if line.strip()]
    threads = int(threads)
    c = Client(pool=threads)
    lock = threading.Lock()
    nbytes = [0]
    nxt = [0]

    def worker():
        while True:
            with lock:
                i = nxt[0]
                nxt[0] += 1
            if i >= len(refs):
                return
            body = c.send("GET", endpoint + refs[i], headers={"Accept": "application/fhir+json"})
            with lock:
                nbytes[0] += len(body)
    t0 = time.perf_counter()
    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    summary(reads=len(refs), bytes=nbytes[0], seconds=f"{time.perf_counter() - t0:.4f}")


def cmd_put(endpoint, directory):
    names = sorted(n for n in os.listdir(directory) if n.endswith(".json"))
    c = Client()
    t0 = time.perf_counter()
    for name in names:
        with open(os.path.join(directory, name), "rb") as f:
            body = f.read()
        rtype = json.loads(body)["resourceType"]
        c.send("PUT", f"{endpoint}{rtype}/{name[:-len('.json')]}", body,
               {"Content-Type": "application/fhir+json"})
    summary(puts=len(names), seconds=f"{time.perf_counter() - t0:.4f}")


def main():
    cmds = {"read": cmd_read, "search": cmd_search, "parallel": cmd_parallel, "put": cmd_put}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        raise SystemExit(__doc__)
    cmds[sys.argv[1]](*sys.argv[2:])


if __name__ == "__main__":
    main()
