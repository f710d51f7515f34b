"""A FHIR client for tests and benches: one keep-alive connection, every
request signed by botocore's SigV4Auth (service healthlake)."""
import http.client
import json
import urllib.parse

import botocore.auth
import botocore.awsrequest
import botocore.credentials


class Fhir:
    def __init__(self, srv, base, sign=True):
        self.srv = srv
        self.base = base if base.endswith("/") else base + "/"
        u = urllib.parse.urlsplit(self.base)
        self.host, self.port = u.hostname, u.port
        self.prefix = u.path
        self.creds = botocore.credentials.Credentials(srv.access_key, srv.secret_key)
        self.sign = sign
        self.retry = True  # resend once on a connection the server closed while idle
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def signed_headers(self, method, path, body=b"", headers=None):
        req = botocore.awsrequest.AWSRequest(method=method, url=self.url(path), data=body,
                                             headers=dict(headers or {}))
        botocore.auth.SigV4Auth(self.creds, "healthlake", self.srv.region).add_auth(req)
        return dict(req.headers.items())

    def url(self, path):
        return path if path.startswith("http") else self.base + path

    def request(self, method, path, body=b"", headers=None, mutate=None):
        """Returns (status, headers (lowercase keys), body bytes)."""
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        h = dict(headers or {})
        if body and "Content-Type" not in h:
            h["Content-Type"] = "application/fhir+json"
        if self.sign:
            h = self.signed_headers(method, path, body, h)
        u = urllib.parse.urlsplit(self.url(path))
        target = u.path + ("?" + u.query if u.query else "")
        req = {"method": method, "target": target, "headers": h, "body": body}
        if mutate:
            mutate(req)
        for attempt in (0, 1):
            try:
                self.conn.putrequest(req["method"], req["target"], skip_accept_encoding=True)
                for k, v in req["headers"].items():
                    self.conn.putheader(k, v)
                self.conn.putheader("Content-Length", str(len(req["body"])))
                self.conn.endheaders(req["body"])
                r = self.conn.getresponse()
                data = r.read()
                return r.status, {k.lower(): v for k, v in r.getheaders()}, data
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                if attempt or not self.retry:
                    raise

    def json(self, method, path, body=b"", headers=None, want=200):
        st, h, data = self.request(method, path, body, headers)
        assert st == want, (method, path, st, data[:500])
        return json.loads(data) if data else None

    def get(self, path, want=200):
        return self.json("GET", path, want=want)

    def search_all(self, path):
        """Every entry of every page (following next links)."""
        out = []
        b = self.get(path)
        pages = 1
        while True:
            out += b.get("entry", [])
            nxt = [l["url"] for l in b.get("link", []) if l["relation"] == "next"]
            if not nxt:
                return out, pages
            b = self.get(nxt[0])
            pages += 1

    def close(self):
        self.conn.close()


def load(srv, sid, resources):
    """Bulk load through the admin API (unsigned); resources are dicts or raw strings."""
    import urllib.request
    lines = [r if isinstance(r, str) else json.dumps(r) for r in resources]
    req = urllib.request.Request(srv.url + "/__admin/fhir/load?store=" + sid,
                                 data=("\n".join(lines) + "\n").encode(), method="POST")
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read())
