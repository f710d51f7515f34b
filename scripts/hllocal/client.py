"""A tiny signed JSON 1.0 client for tests and tools (not used by the server).

raw_call() signs a request with sigv4.sign() and lets the caller alter any
part of it after signing (to test that the server rejects tampering).
"""
import http.client
import json
import ssl

from .sigv4 import sign


def raw_call(url, op, body, access_key, secret_key, region, session_token=None, amz_date=None,
             mutate=None, path="/", extra_signed=None, cafile=None, timeout=30, scope_service=None):
    """Returns (status, headers dict (lowercase), parsed JSON or raw bytes).
    body: dict or bytes.  mutate(req) may change req["method"], req["path"], req["headers"],
    req["body"] after signing."""
    scheme, rest = url.split("://", 1)
    hostport = rest.split("/", 1)[0]
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    hdrs = {"content-type": "application/x-amz-json-1.0"}
    if op is not None:
        hdrs["x-amz-target"] = "HealthLake." + op
    hdrs.update(extra_signed or {})
    raw_path, _, query = path.partition("?")
    signed = sign("POST", hostport, raw_path, query, hdrs, body, access_key, secret_key, region,
                  session_token=session_token, amz_date=amz_date,
                  service=scope_service or "healthlake")
    req = {"method": "POST", "path": path, "headers": signed, "body": body}
    if mutate:
        mutate(req)
    host, _, port = hostport.rpartition(":")
    if scheme == "https":
        ctx = ssl.create_default_context(cafile=cafile)
        conn = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=timeout)
    else:
        conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.putrequest(req["method"], req["path"], skip_host=True, skip_accept_encoding=True)
        for k, v in req["headers"].items():
            conn.putheader(k, v)
        conn.putheader("Content-Length", str(len(req["body"])))
        conn.endheaders(req["body"])
        r = conn.getresponse()
        data = r.read()
        rh = {k.lower(): v for k, v in r.getheaders()}
        try:
            parsed = json.loads(data) if data else {}
        except ValueError:
            parsed = data
        return r.status, rh, parsed
    finally:
        conn.close()
