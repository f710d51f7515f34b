"""healthlake-local: the HTTP front end (JSON 1.0 over HTTP/1.1 keep-alive),
SigV4 checks, fault injection, quotas, counters and the /__admin API.

The request parser is our own (not BaseHTTPRequestHandler) because SigV4
needs the raw path, query and every header as received, and because it is
several times faster on the hot path.
"""
import argparse
import collections
import json
import os
import random
import signal
import socket
import socketserver
import struct
import sys
import threading
import time
import uuid

from . import fhir, s3, sigv4
from .fhirstore import FhirError
from .state import ApiError, State
from .validate import Model

OPERATIONS = {
    "CreateFHIRDatastore": "create_datastore",
    "DeleteFHIRDatastore": "delete_datastore",
    "DescribeFHIRDatastore": "describe_datastore",
    "ListFHIRDatastores": "list_datastores",
    "StartFHIRImportJob": "start_import",
    "DescribeFHIRImportJob": "describe_import",
    "ListFHIRImportJobs": "list_imports",
    "StartFHIRExportJob": "start_export",
    "DescribeFHIRExportJob": "describe_export",
    "ListFHIRExportJobs": "list_exports",
    "TagResource": "tag",
    "UntagResource": "untag",
    "ListTagsForResource": "list_tags",
}
# Quota classes (the service's documented limits, per account).
SLOW_OPS = ("CreateFHIRDatastore", "DeleteFHIRDatastore", "StartFHIRImportJob", "StartFHIRExportJob")
REASONS = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 403: "Forbidden",
           404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 410: "Gone",
           412: "Precondition Failed", 413: "Payload Too Large", 415: "Unsupported Media Type",
           422: "Unprocessable Entity", 429: "Too Many Requests", 500: "Internal Server Error",
           502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
MAX_BODY = 16 * 1024 * 1024
HUGE_SIZE = 100 * 1024 * 1024


class Bucket:
    """Token bucket: `rate` tokens per second, at most `burst` stored."""

    def __init__(self, rate, burst):
        self.rate, self.burst = rate, burst
        self.tokens, self.t = burst, time.monotonic()

    def take(self):
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.t) * self.rate)
        self.t = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


FHIR_RATE = 100.0  # FHIR requests per second per data plane (the documented search/update quota)


def op_selected(op, ops):
    """Is op in the list? An entry ending in ".*" selects a plane (fhir.*)."""
    for o in ops:
        if o == op or o == "*" or (o.endswith(".*") and op.startswith(o[:-1])):
            return True
    return False


class Faults:
    FIELDS = ("access_denied", "throttle", "error5xx", "drop_after_commit", "latency_ms", "jitter_ms",
              "stall", "reset", "operations", "first_n", "quota", "seed", "error_status", "error_body",
              "error_form")

    def __init__(self):
        self.lock = threading.Lock()
        self.set({})

    def set(self, cfg):
        unknown = [k for k in cfg if k not in self.FIELDS]
        if unknown:
            raise ValueError("unknown fault fields: " + ", ".join(unknown))
        with self.lock:
            self.cfg = {
                "access_denied": float(cfg.get("access_denied") or 0),
                "throttle": float(cfg.get("throttle") or 0), "error5xx": float(cfg.get("error5xx") or 0),
                "drop_after_commit": float(cfg.get("drop_after_commit") or 0),
                "latency_ms": float(cfg.get("latency_ms") or 0), "jitter_ms": float(cfg.get("jitter_ms") or 0),
                "stall": bool(cfg.get("stall")), "reset": bool(cfg.get("reset")),
                "operations": cfg.get("operations"), "first_n": cfg.get("first_n"),
                "quota": bool(cfg.get("quota")), "seed": cfg.get("seed", 0),
                "error_status": int(cfg.get("error_status") or 500),
                "error_body": cfg.get("error_body") or "json",
                "error_form": cfg.get("error_form") or "short",
            }
            if self.cfg["error_form"] not in ("short", "qualified"):
                raise ValueError("error_form must be short or qualified")
            if self.cfg["error_body"] not in ("json", "html", "empty"):
                raise ValueError("error_body must be json, html or empty")
            self.remaining = self.cfg["first_n"]
            self.rng = random.Random(self.cfg["seed"])
            self.read_bucket = Bucket(10.0, 10.0)
            self.slow_bucket = Bucket(1.0 / 60.0, 1.0)
            self.fhir_bucket = Bucket(FHIR_RATE, FHIR_RATE)
            # S3's documented request rates per prefix: 5,500 reads/s, 3,500 writes/s.
            self.s3_read_bucket = Bucket(5500.0, 5500.0)
            self.s3_write_bucket = Bucket(3500.0, 3500.0)

    def get(self):
        with self.lock:
            return dict(self.cfg)

    def decide(self, op):
        """Which faults hit this request: a dict with the mode names that apply."""
        with self.lock:
            c = self.cfg
            hit = {}
            ops = c["operations"]
            if ops is not None and not op_selected(op, ops):
                return hit
            lat = c["latency_ms"]
            if c["jitter_ms"]:
                lat += self.rng.uniform(0, c["jitter_ms"])
            if self.remaining is not None:
                if self.remaining <= 0:
                    return hit
                self.remaining -= 1
                forced = True
            else:
                forced = False
            if c["stall"]:
                hit["stall"] = True
            elif c["reset"]:
                hit["reset"] = True
            else:
                for mode in ("access_denied", "throttle", "error5xx", "drop_after_commit"):
                    rate = c[mode]
                    if rate > 0 and (forced or self.rng.random() < rate):
                        hit[mode] = True
                        break
            if lat > 0:
                hit["latency"] = lat / 1000.0
            return hit

    def action(self, op):
        """The fault that hits this request after its latency (slept here), or None:
        stall, reset, access_denied, throttle, error5xx or drop_after_commit."""
        hit = self.decide(op)
        if "latency" in hit:
            time.sleep(hit["latency"])
        for mode in ("stall", "reset", "access_denied", "throttle", "error5xx", "drop_after_commit"):
            if hit.get(mode):
                return mode
        return None

    def quota_ok(self, op):
        with self.lock:
            if not self.cfg["quota"]:
                return True
            if op.startswith("fhir."):
                b = self.fhir_bucket
            elif op.startswith("s3."):
                b = self.s3_read_bucket if op[3:] in s3.READ_OPS else self.s3_write_bucket
            else:
                b = self.slow_bucket if op in SLOW_OPS else self.read_bucket
            return b.take()


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.calls = {}
            self.connections = 0
            self.accepted = 0
            self.peak = 0
            self.inflight = 0
            self.requests = 0
            self.log = collections.deque(maxlen=200000)
            self.strict_violations = []

    def begin(self, new_connection=False):
        with self.lock:
            if new_connection:
                self.connections += 1
            self.requests += 1
            self.inflight += 1
            if self.inflight > self.peak:
                self.peak = self.inflight

    def end(self, op, status, code, t0, ms, extra=None):
        with self.lock:
            self.inflight -= 1
            per = self.calls.get(op)
            if per is None:
                per = self.calls[op] = {}
            k = str(status)
            per[k] = per.get(k, 0) + 1
            entry = {"op": op, "status": status, "code": code, "t": round(t0, 3), "ms": ms}
            if extra:
                entry.update(extra)
            self.log.append(entry)

    def snapshot(self):
        with self.lock:
            d = {"calls": {k: dict(v) for k, v in self.calls.items()}, "connections": self.connections,
                 "peak_concurrent": self.peak, "requests": self.requests, "inflight": self.inflight,
                 "tcp_accepted": self.accepted}
            if self.strict_violations:
                d["strict_violations"] = list(self.strict_violations)
            return d


class Hostile:
    MODES = ("malformed_json", "truncated", "huge", "wrong_types", "missing_required", "next_token_loop")

    def __init__(self):
        self.lock = threading.Lock()
        self.entries = []  # [op or None, mode, remaining]

    def add(self, body):
        mode = body.get("mode")
        if mode not in self.MODES:
            raise ValueError("mode must be one of " + ", ".join(self.MODES))
        with self.lock:
            if body.get("clear"):
                self.entries = []
            self.entries.append([body.get("operation"), mode, int(body.get("count", 1))])

    def clear(self):
        with self.lock:
            self.entries = []

    def take(self, op):
        with self.lock:
            for e in self.entries:
                if (e[0] is None or e[0] == op) and e[2] > 0:
                    e[2] -= 1
                    mode = e[1]
                    self.entries = [x for x in self.entries if x[2] > 0]
                    return mode
            return None


def _wrong_types(v):
    if isinstance(v, dict):
        return {k: _wrong_types(x) for k, x in v.items()}
    if isinstance(v, list):
        return {"unexpected": "object instead of list"}
    if isinstance(v, bool):
        return "true"
    if isinstance(v, (int, float)):
        return "not-a-number"
    if isinstance(v, str):
        return 12345
    return v


class App:
    """Everything a request handler needs: state, model, auth, faults, stats."""

    def __init__(self, args):
        self.args = args
        self.model = Model()
        self.state = State(args.state, args.region, args.account, args.create_delay, args.delete_delay,
                           args.job_delay, args.synthea_patients, args.seed, args.export_max_lines)
        self.fhir = fhir.Fhir(self.state)
        keys = [{"access_key": args.access_key, "secret_key": args.secret_key,
                 "session_token": args.session_token}]
        self.verifier = sigv4.Verifier(keys, args.region)
        self.faults = Faults()
        fcfg = {}
        if args.throttle_rate:
            fcfg["throttle"] = args.throttle_rate
        if args.error_rate:
            fcfg["error5xx"] = args.error_rate
        if args.drop_rate:
            fcfg["drop_after_commit"] = args.drop_rate
        if args.latency_ms:
            fcfg["latency_ms"] = args.latency_ms
        if args.jitter_ms:
            fcfg["jitter_ms"] = args.jitter_ms
        if args.stall:
            fcfg["stall"] = True
        if args.fault_ops:
            fcfg["operations"] = [o for o in args.fault_ops.split(",") if o]
        if args.quota:
            fcfg["quota"] = True
        fcfg["seed"] = args.seed
        self.faults.set(fcfg)
        self.stats = Stats()
        self.hostile = Hostile()
        self.stop_event = threading.Event()
        self.quiet = args.quiet
        self.strict = args.strict
        self.log_lock = threading.Lock()
        self.s3 = s3.S3(self)

    def log(self, line):
        if not self.quiet:
            with self.log_lock:
                sys.stderr.write(line + "\n")
                sys.stderr.flush()


class RequestIds:
    """UUID-shaped request ids: a random 96-bit prefix per process and a counter
    (uuid4() costs a getrandom() system call per request)."""

    def __init__(self):
        self.prefix = uuid.uuid4().hex[:20]
        self.n = 0
        self.lock = threading.Lock()

    def next(self):
        with self.lock:
            self.n += 1
            n = self.n
        tail = "%012x" % (n & 0xFFFFFFFFFFFF)
        p = self.prefix
        return "%s-%s-%s-%s-%s" % (p[:8], p[8:12], p[12:16], p[16:20], tail)


_REQUEST_IDS = RequestIds()
_date_cache = [0, ""]


def _http_date():
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache[1] = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now))
        _date_cache[0] = now
    return _date_cache[1]


def _error_body(code, message):
    return json.dumps({"__type": code, "message": message}).encode()


class Handler(socketserver.StreamRequestHandler):
    rbufsize = 65536
    wbufsize = 0
    timeout = None
    disable_nagle_algorithm = True

    def setup(self):
        super().setup()
        self.counted = False  # a connection is counted at its first API request (not admin)

    def handle(self):
        try:
            while not self.server.app.stop_event.is_set():
                if not self.handle_one():
                    break
        except (ConnectionError, socket.timeout, OSError):  # ssl.SSLError is an OSError
            pass

    # ----- HTTP plumbing -----

    def _read_request(self):
        line = self.rfile.readline(65537)
        if not line:
            return None
        while line in (b"\r\n", b"\n"):
            line = self.rfile.readline(65537)
            if not line:
                return None
        parts = line.decode("utf-8", "surrogateescape").rstrip("\r\n").split(" ")
        if len(parts) != 3:
            self._send_raw(400, [], b"", close=True)
            return None
        method, target, version = parts
        headers = []
        while True:
            h = self.rfile.readline(65537)
            if not h:
                return None
            if h in (b"\r\n", b"\n"):
                break
            if len(headers) > 200:
                self._send_raw(400, [], b"", close=True)
                return None
            name, sep, value = h.decode("utf-8", "surrogateescape").partition(":")
            if not sep:
                self._send_raw(400, [], b"", close=True)
                return None
            headers.append((name.strip(), value.strip()))
        return method, target, version, headers

    def _read_body(self, hmap):
        te = hmap.get("transfer-encoding", "").lower()
        if "chunked" in te:
            chunks = []
            total = 0
            for b in s3.http_chunks(self.rfile):
                total += len(b)
                if total > MAX_BODY:
                    return None
                chunks.append(b)
            return b"".join(chunks)
        n = int(hmap.get("content-length", "0") or 0)
        if n > MAX_BODY:
            return None
        if n <= 0:
            return b""
        data = self.rfile.read(n)
        if len(data) != n:
            raise ConnectionError("short body")
        return data

    def _send_raw(self, status, headers, body, close=False, reason=None):
        out = ["HTTP/1.1 %d %s" % (status, reason or REASONS.get(status, "Status"))]
        if not headers or headers[0][0] != "x-amzn-RequestId":
            out.append("x-amzn-RequestId: %s" % _REQUEST_IDS.next())
        for k, v in headers:
            out.append("%s: %s" % (k, v))
        out.append("Content-Length: %d" % len(body))
        if close:
            out.append("Connection: close")
        self.wfile.write(("\r\n".join(out) + "\r\n\r\n").encode() + body)

    def _abort(self, rst):
        """Closes the connection without an answer; with rst, as a TCP reset."""
        sock = self.connection
        try:
            if rst:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            sock.close()
        except OSError:
            pass

    def handle_one(self):
        req = self._read_request()
        if req is None:
            return False
        method, target, version, headers = req
        hmap = {}
        for k, v in headers:
            lk = k.lower()
            hmap[lk] = hmap[lk] + "," + v if lk in hmap else v
        keep = version == "HTTP/1.1"
        conn = hmap.get("connection", "").lower()
        if "close" in conn:
            keep = False
        elif "keep-alive" in conn:
            keep = True
        if s3.is_s3(method, target, hmap):
            return self.server.app.s3.handle(self, method, target, version, headers, hmap, keep)
        if hmap.get("expect", "").lower() == "100-continue" and version == "HTTP/1.1":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = self._read_body(hmap)
        if body is None:
            self._send_raw(413, [("x-amzn-RequestId", _REQUEST_IDS.next())],
                           _error_body("SerializationException", "Request body too large"), close=True)
            return False
        raw_path, _, raw_query = target.partition("?")
        if raw_path.startswith("/__admin/"):
            return self.admin(method, raw_path[len("/__admin/"):], body, keep, raw_query)
        if raw_path.startswith("/datastore/"):
            return self.fhir_api(method, raw_path, raw_query, headers, hmap, body, keep)
        return self.api(method, raw_path, raw_query, headers, hmap, body, keep)

    # ----- API -----

    def api(self, method, raw_path, raw_query, headers, hmap, body, keep):
        app = self.server.app
        t0 = time.time()
        m0 = time.perf_counter()
        rid = _REQUEST_IDS.next()
        target = hmap.get("x-amz-target", "")
        op = target[len("HealthLake."):] if target.startswith("HealthLake.") else None
        if op not in OPERATIONS:
            op_name = op or (target or "Unknown")
            op = None
        else:
            op_name = op
        app.stats.begin(not self.counted)
        self.counted = True
        status, code, resp_body, extra = 200, "", b"", None
        err_type = None
        action = None
        try:
            try:
                app.verifier.verify(method, raw_path, raw_query, headers, body)
            except sigv4.AuthError as e:
                raise ApiError(e.code, e.message, 403)
            if op is None or method != "POST":
                raise ApiError("UnknownOperationException",
                               "Operation %s is not supported by this service" % (target or "(none)"))
            fault = app.faults.action(op)
            if fault:
                if fault in ("stall", "reset"):
                    action = fault
                elif fault == "access_denied":
                    # What IAM answers for a missing permission, whether or not the
                    # operation models the error.
                    raise ApiError("AccessDeniedException",
                                   "User: arn:aws:iam::%s:user/healthlake-local is not authorized to "
                                   "perform: healthlake:%s" % (app.args.account, op))
                elif fault == "throttle":
                    raise ApiError("ThrottlingException", "Rate exceeded")
                elif fault == "error5xx":
                    fc = app.faults.get()
                    if fc["error_body"] == "json":
                        raise ApiError("InternalServerException", "Injected internal server error",
                                       fc["error_status"])
                    action = "error_" + fc["error_body"]
                    status = fc["error_status"]
                else:
                    action = "drop"
            if action in ("stall", "reset") or (action or "").startswith("error_"):
                pass
            else:
                if not app.faults.quota_ok(op):
                    raise ApiError("ThrottlingException", "Rate exceeded")
                try:
                    req = json.loads(body) if body.strip() else {}
                except ValueError as e:
                    raise ApiError("SerializationException", "Malformed JSON request body: %s" % e)
                if not isinstance(req, dict):
                    raise ApiError("SerializationException", "Request body must be a JSON object")
                errs = app.model.validate(app.model.input_shape(op), req)
                if errs:
                    raise ApiError("ValidationException", app.model.message(errs))
                fn = getattr(app.state, OPERATIONS[op])
                result = fn(req)
                if app.strict:
                    verrs = app.model.validate(app.model.output_shape(op), result, output=True)
                    if verrs:
                        with app.stats.lock:
                            app.stats.strict_violations.append({"op": op, "errors": verrs})
                        app.log("STRICT violation in %s response: %s" % (op, verrs))
                hmode = app.hostile.take(op)
                if hmode:
                    extra = (hmode, result, req, op)
                resp_body = json.dumps(result).encode()
        except ApiError as e:
            status, code = e.status, e.code
            if app.faults.get()["error_form"] == "qualified":
                # The long forms some AWS front ends send; clients must cut them down.
                ns = "com.amazon.coral.service" if status == 403 or e.code in (
                    "UnknownOperationException", "SerializationException") else "com.amazonaws.healthlake"
                resp_body = _error_body("%s#%s" % (ns, e.code), e.message)
                err_type = "%s:http://internal.amazon.com/coral/%s/" % (e.code, ns)
            else:
                resp_body = _error_body(e.code, e.message)
        except Exception as e:  # never let a bug kill the connection silently
            status, code = 500, "InternalServerException"
            resp_body = _error_body(code, "Internal error: %s" % type(e).__name__)
            app.log("internal error: %r" % e)
        recorded = []

        def record(status, code):
            # Counted before the answer leaves, so that a client that has its
            # answer always finds the call in the counters.
            if not recorded:
                recorded.append(True)
                ms = round((time.perf_counter() - m0) * 1000, 3)
                app.stats.end(op_name, status, code, t0, ms)
                if not app.quiet:
                    app.log("%s %s %d %s %.1fms" % (time.strftime("%H:%M:%S", time.localtime(t0)),
                                                     op_name, status, code or "-", ms))

        try:
            if action == "stall":
                status = 0
                app.stop_event.wait()  # in flight until shutdown: counted then
                self._abort(False)
                return False
            if action in ("reset", "drop"):
                status = 0
                code = action
                record(status, code)
                self._abort(action == "reset")
                return False
            if action in ("error_html", "error_empty"):
                # What a proxy or load balancer in front of the service may answer.
                code = str(status)
                reason = REASONS.get(status, "Error")
                body = (b"<html><body><h1>%d %s</h1></body></html>" % (status, reason.encode())
                        if action == "error_html" else b"")
                record(status, code)
                self._send_raw(status, [("x-amzn-RequestId", rid), ("Content-Type", "text/html")],
                               body, close=not keep)
                return keep
            hdrs = [("x-amzn-RequestId", rid), ("Content-Type", "application/x-amz-json-1.0"),
                    ("Date", _http_date())]
            if code:
                hdrs.append(("x-amzn-ErrorType", err_type or code))
            record(status, code)
            if extra:
                return self.hostile_send(extra, hdrs, keep)
            self._send_raw(status, hdrs, resp_body, close=not keep)
            return keep
        finally:
            record(status, code)

    def hostile_send(self, extra, hdrs, keep):
        mode, result, req, op = extra
        if mode == "malformed_json":
            self._send_raw(200, hdrs, b'{"DatastoreProperties": {"DatastoreId": "abc", ', close=not keep)
            return keep
        if mode == "truncated":
            full = json.dumps(result).encode()
            head = "HTTP/1.1 200 OK\r\n" + "".join("%s: %s\r\n" % h for h in hdrs)
            head += "Content-Length: %d\r\n\r\n" % len(full)
            self.wfile.write(head.encode() + full[:max(1, len(full) // 2)])
            self._abort(False)
            return False
        if mode == "huge":
            prefix = b'{"Padding": "'
            suffix = b'"}'
            head = "HTTP/1.1 200 OK\r\n" + "".join("%s: %s\r\n" % h for h in hdrs)
            head += "Content-Length: %d\r\n\r\n" % HUGE_SIZE
            self.wfile.write(head.encode() + prefix)
            left = HUGE_SIZE - len(prefix) - len(suffix)
            chunk = b"x" * 65536
            while left > 0:
                n = min(left, len(chunk))
                self.wfile.write(chunk[:n])
                left -= n
            self.wfile.write(suffix)
            return keep
        if mode == "wrong_types":
            body = json.dumps(_wrong_types(result)).encode()
        elif mode == "missing_required":
            body = json.dumps({}).encode()
        elif mode == "next_token_loop":
            r = dict(result)
            r["NextToken"] = self.server.app.state.first_page_token(op, req)
            body = json.dumps(r).encode()
        else:
            body = json.dumps(result).encode()
        self._send_raw(200, hdrs, body, close=not keep)
        return keep

    # ----- FHIR data plane -----

    def fhir_api(self, method, raw_path, raw_query, headers, hmap, body, keep):
        app = self.server.app
        t0 = time.time()
        m0 = time.perf_counter()
        rid = _REQUEST_IDS.next()
        parts = raw_path.split("/", 4)  # "", "datastore", <id>, "r4", <rest>
        if len(parts) >= 4 and parts[3] == "r4":
            sid = parts[2]
            interaction, rtype, res_id, vid = fhir.route(method, parts[4] if len(parts) > 4 else "")
        else:
            sid, interaction, rtype, res_id, vid = parts[2] if len(parts) > 2 else "", "no-route", None, None, None
        if interaction == "bundle":
            interaction = fhir.bundle_kind(body)
        op_name = "fhir." + (interaction or "unsupported")
        app.stats.begin(not self.counted)
        self.counted = True
        action = None
        try:
            try:
                app.verifier.verify(method, raw_path, raw_query, headers, body)
            except sigv4.AuthError as e:
                raise FhirError(403, "%s: %s" % (e.code, e.message), "security")
            if interaction is None:
                raise FhirError(405, "Method %s is not allowed here" % method, "not-supported")
            fault = app.faults.action(op_name)
            if fault:
                if fault in ("stall", "reset"):
                    action = fault
                elif fault == "access_denied":
                    raise FhirError(403, "User: arn:aws:iam::%s:user/healthlake-local is not authorized "
                                    "to perform: healthlake:%s" % (app.args.account, op_name), "forbidden")
                elif fault == "throttle":
                    raise FhirError(429, "Rate exceeded", "throttled")
                elif fault == "error5xx":
                    raise FhirError(app.faults.get()["error_status"], "Injected internal server error",
                                    "exception")
                else:
                    action = "drop"
            resp = None
            if action not in ("stall", "reset"):
                if not app.faults.quota_ok(op_name):
                    raise FhirError(429, "Rate exceeded", "throttled")
                resp = app.fhir.handle(interaction, sid, rtype, res_id, vid, method, raw_query, hmap, body)
        except FhirError as e:
            resp = fhir.Response(e.status, fhir.outcome(e.diagnostics, e.code),
                                 [("Content-Type", fhir.CONTENT_TYPE)])
        except Exception as e:  # never let a bug kill the connection silently
            resp = fhir.Response(500, fhir.outcome("Internal error: %s" % type(e).__name__, "exception"),
                                 [("Content-Type", fhir.CONTENT_TYPE)])
            app.log("internal error: %r" % e)
        status = resp.status if resp is not None else 0
        ms = round((time.perf_counter() - m0) * 1000, 3)
        if action == "stall":
            app.stop_event.wait()  # in flight until shutdown: counted then
            app.stats.end(op_name, 0, "stall", t0, ms, {"method": method, "path": raw_path, "query": raw_query})
            self._abort(False)
            return False
        # Counted before the answer leaves (the control plane does the same); the
        # path and query go to the in-memory admin log only, never to stderr.
        app.stats.end(op_name, 0 if action else status, action or ("" if status < 400 else str(status)),
                      t0, ms, {"method": method, "path": raw_path, "query": raw_query})
        if not app.quiet:
            app.log("%s %s %d %.1fms" % (time.strftime("%H:%M:%S", time.localtime(t0)), op_name,
                                         0 if action else status, ms))
        if action:
            self._abort(action == "reset")
            return False
        self._send_raw(status, [("x-amzn-RequestId", rid), ("Date", _http_date())] + resp.headers,
                       resp.body, close=not keep)
        return keep

    def admin_fhir_load(self, raw_query, body):
        """POST /__admin/fhir/load?store=<id>: NDJSON resources (with ids) into a
        store, unsigned, as new versions; for tests and benchmarks."""
        app = self.server.app
        q = dict(p.partition("=")[::2] for p in raw_query.split("&") if p)
        sid = q.get("store", "")
        with app.state.lock:
            if sid not in app.state.stores:
                raise ValueError("no such data store: %s" % sid)
        lines = [l for l in body.split(b"\n") if l.strip()]
        t = time.perf_counter()
        n, errors = app.state.fhir.get(sid).load(lines)
        return {"loaded": n, "errors": [{"line": i + 1, "error": e} for i, e in errors[:100]],
                "failed": len(errors), "seconds": round(time.perf_counter() - t, 3)}

    # ----- admin -----

    def admin(self, method, name, body, keep, raw_query=""):
        app = self.server.app
        status, out = 200, None
        try:
            if method == "POST" and name == "fhir/load":
                out = self.admin_fhir_load(raw_query, body)
                self._send_raw(200, [("Content-Type", "application/json")], json.dumps(out).encode(),
                               close=not keep)
                return keep
            data = json.loads(body) if body.strip() else {}
            if method == "GET" and name == "counters":
                out = app.stats.snapshot()
            elif method == "GET" and name == "log":
                with app.stats.lock:
                    out = {"log": list(app.stats.log)}
            elif method == "GET" and name == "state":
                out = app.state.dump()
            elif method == "GET" and name == "faults":
                out = app.faults.get()
            elif method == "POST" and name == "reset":
                app.stats.reset()
                out = {}
            elif method == "POST" and name == "faults":
                app.faults.set(data)
                out = app.faults.get()
            elif method == "POST" and name == "seed":
                out = app.state.seed(data)
            elif method == "POST" and name == "keys":
                app.verifier.set_keys(data["keys"])
                out = {}
            elif method == "POST" and name == "hostile":
                if not data or data.get("mode") is None:
                    app.hostile.clear()
                else:
                    app.hostile.add(data)
                out = {}
            elif method == "POST" and name == "delays":
                st = app.state
                for k in ("create_delay", "delete_delay", "job_delay"):
                    if k in data:
                        setattr(st, k, float(data[k]))
                out = {k: getattr(st, k) for k in ("create_delay", "delete_delay", "job_delay")}
            elif name.startswith("s3/"):
                out = app.s3.admin(method, name[3:], data)
            elif method == "POST" and name == "compact":
                app.state.compact()
                out = {}
            else:
                status, out = 404, {"message": "no such admin endpoint: %s %s" % (method, name)}
        except Exception as e:  # any bad admin input is the caller's error, never a crash
            status, out = 400, {"message": "bad admin request: %s: %s" % (type(e).__name__, e)}
        self._send_raw(status, [("Content-Type", "application/json")], json.dumps(out).encode(),
                       close=not keep)
        return keep


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """http.server.ThreadingHTTPServer without importing http.server (startup time):
    a daemon thread per connection."""
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, app, ssl_ctx=None):
        self.app = app
        self.ssl_ctx = ssl_ctx
        if ":" in addr[0]:
            self.address_family = socket.AF_INET6
        super().__init__(addr, Handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        with self.app.stats.lock:
            self.app.stats.accepted += 1
        if self.ssl_ctx is not None:
            # The handshake runs lazily in the connection's own thread.
            sock = self.ssl_ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        pass  # connection-level errors are the client's business; never print tracebacks

    def shutdown_request(self, request):
        try:
            request.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        self.close_request(request)


def parse_args(argv):
    p = argparse.ArgumentParser(prog="healthlake-local",
                                description="Local Amazon HealthLake-compatible server")
    p.add_argument("--state", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--access-key", default="AKIDLOCALEXAMPLE")
    p.add_argument("--secret-key", default="healthlake-local-secret-EXAMPLE")
    p.add_argument("--session-token")
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--account", default="123456789012")
    p.add_argument("--create-delay", type=float, default=2.0)
    p.add_argument("--delete-delay", type=float, default=2.0)
    p.add_argument("--job-delay", type=float, default=2.0)
    p.add_argument("--throttle-rate", type=float, default=0.0)
    p.add_argument("--error-rate", type=float, default=0.0)
    p.add_argument("--drop-rate", type=float, default=0.0)
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--jitter-ms", type=float, default=0.0)
    p.add_argument("--stall", action="store_true")
    p.add_argument("--fault-ops")
    p.add_argument("--quota", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--synthea-patients", type=int, default=10)
    p.add_argument("--export-max-lines", type=int, default=100000,
                   help="split an export's <Type>.ndjson after this many resources")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--strict", action="store_true",
                   help="validate every response against the model's output shapes")
    a = p.parse_args(argv)
    a.strict = a.strict or os.environ.get("HEALTHLAKE_LOCAL_STRICT") == "1"
    if bool(a.tls_cert) != bool(a.tls_key):
        p.error("--tls-cert and --tls-key go together")
    if a.fault_ops:
        bad = [o for o in a.fault_ops.split(",")
               if o and o not in OPERATIONS and not o.startswith("fhir.")
               and not s3.known_operation(o) and o != "*"]
        if bad:
            p.error("unknown operation(s) in --fault-ops: " + ",".join(bad))
    return a


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    os.makedirs(args.state, exist_ok=True)
    app = App(args)
    ctx = None
    if args.tls_cert:
        import ssl  # only when needed: it is slow to import
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
    try:
        srv = Server((args.host, args.port), app, ctx)
    except OSError as e:
        sys.stderr.write("healthlake-local: cannot listen on %s port %d: %s\n"
                         % (args.host, args.port, e.strerror or e))
        app.state.close()
        return 1
    host, port = srv.server_address[:2]
    shown = "[%s]" % host if ":" in host else host
    url = "%s://%s:%d" % ("https" if ctx else "http", shown, port)
    app.state.base_url = url

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    sys.stdout.write("listening on %s\n" % url)
    sys.stdout.flush()
    while not stop.wait(0.1):
        pass
    srv.shutdown()          # stop accepting
    srv.socket.close()
    deadline = time.monotonic() + 5  # callers (tests) give a SIGTERM 10 s before SIGKILL
    app.stop_event.set()    # release stalled requests
    while time.monotonic() < deadline:
        with app.stats.lock:
            if app.stats.inflight <= 0:
                break
        time.sleep(0.02)
    app.state.close()
    return 0
