"""The S3 REST API of healthlake-local over the server's s3:// files (s3store).

A request is S3 when its SigV4 credential scope names the service `s3` (or it
carries no X-Amz-Target and no signature and is not for /datastore/ or the
admin API).  Path style `/<bucket>/<key>`; virtual-hosted style when the Host
is `<bucket>.localhost[:port]` or `<bucket>.s3.<anything>`.  Answers are S3's
XML with `x-amz-request-id`; errors are `<Error>` documents.  Bodies stream:
uploads go to a temp file as they arrive, downloads leave with sendfile, so
memory stays bounded whatever the object size.
"""
import base64
import hashlib
import json
import html
import os
import re
import shutil
import stat
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET

from . import s3store, sigv4
from .s3store import KeyError_
from .s3wire import (XMLNS, NotModified, S3Error, auth_error, aws_chunks, check_presigned,
                     conditions, doc, el, http_chunks, length_chunks, parse_range)

MAX_XML_BODY = 2 * 1024 * 1024
MAX_OBJECT = 5 * 1024 ** 3       # a single PUT, as S3
_READ = 1024 * 1024
REASONS = {200: "OK", 204: "No Content", 206: "Partial Content", 304: "Not Modified",
           400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
           409: "Conflict", 411: "Length Required", 412: "Precondition Failed",
           416: "Requested Range Not Satisfiable", 500: "Internal Server Error",
           501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable",
           504: "Gateway Timeout"}
OPERATIONS = ("ListBuckets", "CreateBucket", "DeleteBucket", "HeadBucket", "GetBucketLocation",
              "ListObjects", "ListObjectsV2", "HeadObject", "GetObject", "PutObject", "CopyObject",
              "DeleteObject", "DeleteObjects", "CreateMultipartUpload", "UploadPart",
              "CompleteMultipartUpload", "AbortMultipartUpload", "ListParts")
READ_OPS = ("ListBuckets", "HeadBucket", "GetBucketLocation", "ListObjects", "ListObjectsV2",
             "HeadObject", "GetObject", "ListParts")


def is_s3(method, target, hmap):
    """S3 if signed for service s3 (and not a JSON call: S3 has no X-Amz-Target);
    unsigned requests too when they cannot be for the other planes (not a POST,
    not /datastore/ or admin)."""
    if "x-amz-target" in hmap:
        return False
    if target.startswith(("/datastore/", "/__admin/")):
        # The FHIR plane and the admin API own these paths whatever the
        # signature's scope says (a bucket named "datastore" is not served
        # path-style), so a wrongly scoped FHIR request is a FHIR 403.
        return False
    auth = hmap.get("authorization")
    if auth:
        return "/s3/aws4_request" in auth
    if "X-Amz-Credential=" in target:  # a presigned URL
        return "%2Fs3%2Faws4_request" in target
    return method != "POST"


def known_operation(name):
    """For --fault-ops: `s3.<Operation>` or `s3.*`."""
    return name == "s3.*" or (name.startswith("s3.") and name[3:] in OPERATIONS)


class Request:
    def __init__(self, method, target, headers, hmap):
        self.method = method
        self.raw_path, _, self.raw_query = target.partition("?")
        self.headers, self.hmap = headers, hmap
        self.query = dict(urllib.parse.parse_qsl(self.raw_query, keep_blank_values=True))
        host = hmap.get("host", "").rsplit(":", 1)[0] if not hmap.get("host", "").startswith("[") else ""
        vbucket = None
        if host.endswith(".localhost"):
            vbucket = host[:-len(".localhost")]
        elif ".s3." in host:
            vbucket = host.split(".s3.", 1)[0]
        try:
            path = urllib.parse.unquote_to_bytes(self.raw_path).decode("utf-8")
        except UnicodeDecodeError:
            raise S3Error(400, "InvalidURI", "Couldn't parse the specified URI.")
        if vbucket:
            self.bucket, self.key = vbucket, path[1:]
        else:
            self.bucket, _, self.key = path[1:].partition("/")
        self.op = self._operation()
        self.body_started = False  # once set, a failure leaves an unknown part of the body unread

    def _operation(self):
        m, q = self.method, self.query
        if not self.bucket:
            return "ListBuckets" if m == "GET" else None
        if not self.key:
            if m == "GET":
                if "location" in q:
                    return "GetBucketLocation"
                return "ListObjectsV2" if q.get("list-type") == "2" else "ListObjects"
            return {"HEAD": "HeadBucket", "PUT": "CreateBucket", "DELETE": "DeleteBucket",
                    "POST": "DeleteObjects" if "delete" in q else None}.get(m)
        if m == "GET":
            return "ListParts" if "uploadId" in q else "GetObject"
        if m == "HEAD":
            return "HeadObject"
        if m == "PUT":
            if "uploadId" in q:
                return "UploadPart"
            return "CopyObject" if "x-amz-copy-source" in self.hmap else "PutObject"
        if m == "DELETE":
            return "AbortMultipartUpload" if "uploadId" in q else "DeleteObject"
        if m == "POST":
            if "uploads" in q:
                return "CreateMultipartUpload"
            if "uploadId" in q:
                return "CompleteMultipartUpload"
        return None


class Response:
    def __init__(self, status=200, headers=None, body=b""):
        self.status, self.headers, self.body = status, list(headers or []), body
        self.fd = None          # a file to stream: (fd, offset, length)
        self.code = ""


class S3:
    """The S3 plane of one server: storage directory and upload area."""

    def __init__(self, app):
        self.app = app
        self.dir = app.args.state
        self.etags = s3store.Etags()
        self.listings = s3store.ListCache()
        self.uploads = os.path.join(self.dir, "s3-uploads")

    def root(self, bucket):
        return s3store.bucket_dir(self.dir, bucket)

    def _bucket(self, req):
        if not s3store.valid_bucket_name(req.bucket):
            raise S3Error(404, "NoSuchBucket", "The specified bucket does not exist",
                          BucketName=req.bucket)
        root = self.root(req.bucket)
        if not os.path.isdir(root):
            raise S3Error(404, "NoSuchBucket", "The specified bucket does not exist",
                          BucketName=req.bucket)
        return root

    # ----- request handling -----

    def handle(self, h, method, target, version, headers, hmap, keep):
        """Serves one request on Handler `h`; returns whether to keep the connection."""
        app = self.app
        t0 = time.time()
        m0 = time.perf_counter()
        rid = uuid.uuid4().hex[:16].upper()
        op_name = "s3.Unknown"
        resp = req = None
        action = None
        body_left = _declared_length(hmap)
        extra = {"path": target.partition("?")[0], "query": target.partition("?")[2], "method": method}
        app.stats.begin(not h.counted)
        h.counted = True
        try:
            req = Request(method, target, headers, hmap)
            op_name = "s3." + (req.op or "Unknown")
            try:
                if "X-Amz-Signature" in req.query:
                    auth = check_presigned(app.verifier, req)
                else:
                    auth = app.verifier.check(method, req.raw_path, req.raw_query, headers, b"", s3=True)
            except sigv4.AuthError as e:
                raise auth_error(e)
            if req.op is None:
                raise S3Error(501, "NotImplemented",
                              "A header or query you provided implies functionality that is not "
                              "implemented")
            hit = app.faults.decide(op_name)
            if "latency" in hit:
                time.sleep(hit["latency"])
            action = self._fault_action(hit, op_name)
            if action is None and not app.faults.quota_ok(op_name):
                raise S3Error(503, "SlowDown", "Please reduce your request rate.")
            if action in (None, "drop", "drop_body"):
                if hmap.get("expect", "").lower() == "100-continue":
                    h.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                resp = getattr(self, "op_" + req.op)(h, req, auth)
                body_left = 0
        except NotModified as e:
            resp = Response(304, e.headers)
        except S3Error as e:
            resp = self._error(e, req, rid, method)
        except KeyError_ as e:
            resp = self._error(S3Error(400, e.code, str(e)), None, rid, method)
        except (ConnectionError, TimeoutError):
            # The client went away (mid-upload): counted, then the connection ends.
            app.stats.end(op_name, 0, "client_closed", t0, round((time.perf_counter() - m0) * 1000, 3),
                          extra)
            raise
        except Exception as e:  # never let a bug kill the connection silently
            app.log("s3 internal error: %r" % e)
            resp = self._error(S3Error(500, "InternalError",
                                       "We encountered an internal error. Please try again."),
                               None, rid, method)
        if action == "drop_body" and resp.fd is None and resp.status < 300:
            action = "drop"
        if body_left and keep:
            keep = False if req is not None and req.body_started else _drain(h, body_left)
        status = 0 if action in ("stall", "reset", "drop", "drop_body") else resp.status
        code = action if action in ("reset", "drop", "drop_body") else (resp.code if resp else "")
        ms = round((time.perf_counter() - m0) * 1000, 3)
        if action != "stall":
            app.stats.end(op_name, status, code, t0, ms, extra)
            if not app.quiet:
                app.log("%s %s %d %s %.1fms" % (time.strftime("%H:%M:%S", time.localtime(t0)),
                                                 op_name, status, code or "-", ms))
        try:
            if action == "stall":
                app.stop_event.wait()
                app.stats.end(op_name, 0, "stall", t0, ms, extra)
                h._abort(False)
                return False
            if action in ("reset", "drop"):
                h._abort(action == "reset")
                return False
            return self._send(h, resp, rid, keep, method == "HEAD", cut=action == "drop_body")
        finally:
            if resp is not None and resp.fd is not None:
                os.close(resp.fd[0])

    def _fault_action(self, hit, op_name):
        if not hit:
            return None
        if hit.get("stall"):
            return "stall"
        if hit.get("reset"):
            return "reset"
        if hit.get("access_denied"):
            raise S3Error(403, "AccessDenied", "Access Denied")
        if hit.get("throttle"):
            raise S3Error(503, "SlowDown", "Please reduce your request rate.")
        if hit.get("error5xx"):
            fc = self.app.faults.get()
            st = fc["error_status"]
            if fc["error_body"] != "json":
                raise S3Error(st, "raw_" + fc["error_body"], "")
            code = {503: "ServiceUnavailable", 501: "NotImplemented"}.get(st, "InternalError")
            raise S3Error(st, code, "We encountered an internal error. Please try again.")
        if hit.get("drop_after_commit"):
            # A download is cut in the middle of its body; anything else is done, then unanswered.
            return "drop_body" if op_name == "s3.GetObject" else "drop"
        return None

    def _error(self, e, req, rid, method):
        r = Response(e.status)
        r.code = e.code
        if e.code.startswith("raw_"):
            r.code = str(e.status)
            if e.code == "raw_html":
                r.headers.append(("Content-Type", "text/html"))
                r.body = b"<html><body><h1>%d %s</h1></body></html>" % (
                    e.status, REASONS.get(e.status, "Error").encode())
            return r
        inner = el("Code", e.code) + el("Message", e.message)
        for k, v in e.extra.items():
            inner += el(k, v)
        inner += el("RequestId", rid) + el("HostId", base64.b64encode(rid.encode()).decode())
        r.headers.append(("Content-Type", "application/xml"))
        if method != "HEAD":
            r.body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error>%s</Error>' % inner).encode()
        return r

    def _send(self, h, resp, rid, keep, head, cut=False):
        out = ["HTTP/1.1 %d %s" % (resp.status, REASONS.get(resp.status, "Status")),
               "x-amz-request-id: " + rid,
               "x-amz-id-2: " + base64.b64encode(rid.encode()).decode(),
               "Date: " + s3store.http_time(time.time()), "Server: AmazonS3"]
        for k, v in resp.headers:
            out.append("%s: %s" % (k, v))
        if resp.status != 304:
            out.append("Content-Length: %d" % (resp.fd[2] if resp.fd else len(resp.body)))
        if not keep:
            out.append("Connection: close")
        h.wfile.write(("\r\n".join(out) + "\r\n\r\n").encode())
        if head or resp.status == 304:
            return keep
        if resp.fd is None:
            if resp.body:
                h.wfile.write(resp.body)
            return keep
        fd, off, n = resp.fd
        if cut:
            n = n // 2
        with os.fdopen(os.dup(fd), "rb") as f:
            if n:
                h.connection.sendfile(f, off, n)
        if cut:
            h._abort(False)
            return False
        return keep

    # ----- body reading -----

    def _read_body_to(self, h, req, auth, out, limit):
        """Reads the request body into file `out`, decoding aws-chunked uploads and
        checking the payload hash and Content-MD5.  Returns (size, md5 hex)."""
        hm = req.hmap
        req.body_started = True
        sha_hdr = hm.get("x-amz-content-sha256") or "UNSIGNED-PAYLOAD"  # absent: a presigned URL
        md5 = hashlib.md5()
        sha = hashlib.sha256()
        total = 0
        streaming = sha_hdr.startswith("STREAMING-")
        if "chunked" in hm.get("transfer-encoding", "").lower():
            raw = http_chunks(h.rfile)
        else:
            if "content-length" not in hm:
                raise S3Error(411, "MissingContentLength", "You must provide the Content-Length HTTP header.")
            raw = length_chunks(h, int(hm["content-length"]))
        if streaming:
            if sha_hdr not in ("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                               "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"):
                raise S3Error(501, "NotImplemented", "x-amz-content-sha256 %s is not supported" % sha_hdr)
            signed = "HMAC" in sha_hdr
            pieces = aws_chunks(raw, auth if signed else None)
        else:
            pieces = raw
        for b in pieces:
            total += len(b)
            if total > limit:
                raise S3Error(400, "EntityTooLarge",
                              "Your proposed upload exceeds the maximum allowed size")
            md5.update(b)
            if not streaming:
                sha.update(b)
            out.write(b)
        if streaming and "x-amz-decoded-content-length" in hm:
            if int(hm["x-amz-decoded-content-length"]) != total:
                raise S3Error(400, "IncompleteBody",
                              "You did not provide the number of bytes specified by the "
                              "Content-Length HTTP header")
        if not streaming and sha_hdr != "UNSIGNED-PAYLOAD" and sha.hexdigest() != sha_hdr:
            raise S3Error(400, "XAmzContentSHA256Mismatch",
                          "The provided 'x-amz-content-sha256' header does not match what was computed.")
        cmd5 = hm.get("content-md5")
        if cmd5 is not None:
            try:
                want = base64.b64decode(cmd5, validate=True)
            except ValueError:
                want = b""
            if want != md5.digest():
                raise S3Error(400, "BadDigest",
                              "The Content-MD5 you specified did not match what we received.")
        return total, md5.hexdigest()

    def _small_body(self, h, req, auth):
        import io
        buf = io.BytesIO()
        self._read_body_to(h, req, auth, buf, MAX_XML_BODY)
        return buf.getvalue()

    # ----- buckets -----

    def op_ListBuckets(self, h, req, auth):
        d = os.path.join(self.dir, "s3")
        names = sorted(n for n in os.listdir(d) if s3store.valid_bucket_name(n)
                       and os.path.isdir(os.path.join(d, n))) if os.path.isdir(d) else []
        inner = "<Owner>%s%s</Owner><Buckets>" % (el("ID", self._owner_id()),
                                                  el("DisplayName", "healthlake-local"))
        for n in names:
            ct = os.stat(os.path.join(d, n)).st_ctime
            inner += "<Bucket>%s%s</Bucket>" % (el("Name", n), el("CreationDate", s3store.iso_time(ct)))
        inner += "</Buckets>"
        return _xml_resp(doc("ListAllMyBucketsResult", inner))

    def _owner_id(self):
        return hashlib.sha256(self.app.args.account.encode()).hexdigest()

    def op_CreateBucket(self, h, req, auth):
        self._small_body(h, req, auth)
        if not s3store.valid_bucket_name(req.bucket):
            raise S3Error(400, "InvalidBucketName", "The specified bucket is not valid.",
                          BucketName=req.bucket)
        root = self.root(req.bucket)
        if os.path.isdir(root):
            raise S3Error(409, "BucketAlreadyOwnedByYou",
                          "Your previous request to create the named bucket succeeded and you "
                          "already own it.", BucketName=req.bucket)
        os.makedirs(root)
        return Response(200, [("Location", "/" + req.bucket)])

    def op_DeleteBucket(self, h, req, auth):
        root = self._bucket(req)
        if s3store.list_keys(root, ""):
            raise S3Error(409, "BucketNotEmpty", "The bucket you tried to delete is not empty",
                          BucketName=req.bucket)
        shutil.rmtree(root)
        return Response(204)

    def op_HeadBucket(self, h, req, auth):
        self._bucket(req)
        return Response(200, [("x-amz-bucket-region", self.app.args.region)])

    def op_GetBucketLocation(self, h, req, auth):
        self._bucket(req)
        region = self.app.args.region
        return _xml_resp(('<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="%s">%s'
                          '</LocationConstraint>' % (XMLNS, "" if region == "us-east-1" else region)).encode())

    # ----- listing -----

    def _list(self, req, v2):
        root = self._bucket(req)
        q = req.query
        prefix = q.get("prefix", "")
        delim = q.get("delimiter", "")
        enc = q.get("encoding-type")
        if enc not in (None, "url"):
            raise S3Error(400, "InvalidArgument", "Invalid Encoding Method specified in Request",
                          ArgumentName="encoding-type", ArgumentValue=enc)
        try:
            max_keys = int(q.get("max-keys", "1000"))
            if max_keys < 0:
                raise ValueError
        except ValueError:
            raise S3Error(400, "InvalidArgument", "Provided max-keys not an integer or within "
                          "integer range", ArgumentName="max-keys", ArgumentValue=q.get("max-keys"))
        max_keys = min(max_keys, 1000)
        after, skip_cp = None, None
        if v2:
            token = q.get("continuation-token")
            if token is not None:
                try:
                    t = json.loads(base64.urlsafe_b64decode(token.encode()).decode())
                    after, skip_cp = t["k"], t.get("cp")
                except (ValueError, KeyError, TypeError):
                    raise S3Error(400, "InvalidArgument", "The continuation token provided is incorrect",
                                  ArgumentName="continuation-token")
            elif q.get("start-after"):
                after = q["start-after"]
        elif q.get("marker"):
            after = q["marker"]
            if delim and after.endswith(delim) and after.startswith(prefix):
                skip_cp = after  # a NextMarker that was a common prefix
        # Without a delimiter (or with "/", whose directories come back as one entry)
        # each entry is at most one answer line: only the page and one more are needed.
        limit = max_keys + 1 if delim in ("", "/") else None
        keys = s3store.list_keys(root, prefix, after, collapse=delim == "/", limit=limit,
                                 cache=self.listings)
        contents, cps = [], []
        truncated = False
        last = None
        for k, path in keys:
            if skip_cp and k.startswith(skip_cp):
                continue
            cp = None
            if delim:
                i = k.find(delim, len(prefix))
                if i >= 0:
                    cp = k[:i + len(delim)]
            if cp is not None and cps and cps[-1] == cp:
                continue
            if len(contents) + len(cps) >= max_keys:
                truncated = True
                break
            if cp is not None:
                cps.append(cp)
                last = (cp, True)
                skip_cp = cp
            else:
                try:
                    st = os.stat(path)
                except FileNotFoundError:
                    continue  # deleted while listing
                contents.append((k, path, st))
                last = (k, False)
        def e(s):
            return urllib.parse.quote(s, safe="/") if enc else s
        inner = el("Name", req.bucket) + el("Prefix", e(prefix))
        if v2:
            if "continuation-token" in q:
                inner += el("ContinuationToken", q["continuation-token"])
            if q.get("start-after"):
                inner += el("StartAfter", e(q["start-after"]))
            inner += el("KeyCount", len(contents) + len(cps))
        else:
            inner += el("Marker", e(q.get("marker", "")))
        inner += el("MaxKeys", max_keys)
        if delim:
            inner += el("Delimiter", e(delim))
        if enc:
            inner += el("EncodingType", "url")
        inner += el("IsTruncated", "true" if truncated else "false")
        if truncated and last:
            if v2:
                tok = base64.urlsafe_b64encode(json.dumps({"k": last[0], "cp": last[0] if last[1] else None})
                                               .encode()).decode()
                inner += el("NextContinuationToken", tok)
            elif delim:
                inner += el("NextMarker", e(last[0]))
        owner = ("<Owner>%s%s</Owner>" % (el("ID", self._owner_id()), el("DisplayName", "healthlake-local"))
                 if (not v2 or q.get("fetch-owner") == "true") else "")
        for k, path, st in contents:
            try:
                tag = self.etags.of_path(path)
            except OSError:
                tag = '""'
            inner += "<Contents>%s%s%s%s%s<StorageClass>STANDARD</StorageClass></Contents>" % (
                el("Key", e(k)), el("LastModified", s3store.iso_time(st.st_mtime)), el("ETag", tag),
                el("Size", st.st_size), owner)
        for cp in cps:
            inner += "<CommonPrefixes>%s</CommonPrefixes>" % el("Prefix", e(cp))
        return _xml_resp(doc("ListBucketResult", inner))

    def op_ListObjectsV2(self, h, req, auth):
        return self._list(req, True)

    def op_ListObjects(self, h, req, auth):
        return self._list(req, False)

    # ----- objects -----

    def _open(self, req):
        root = self._bucket(req)
        path = s3store.key_path(root, req.key)
        try:
            fd = os.open(path, os.O_RDONLY)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise S3Error(404, "NoSuchKey", "The specified key does not exist.", Key=req.key)
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            raise S3Error(404, "NoSuchKey", "The specified key does not exist.", Key=req.key)
        return fd, st

    def _object(self, req, head):
        fd, st = self._open(req)
        try:
            tag = self.etags.of_fd(fd, st)
            mtime = int(st.st_mtime)
            hm = req.hmap
            base = [("Last-Modified", s3store.http_time(st.st_mtime)), ("ETag", tag)]
            conditions(hm, tag, mtime, base)
            size = st.st_size
            r = Response(200, base + [("Accept-Ranges", "bytes"),
                                      ("Content-Type", "binary/octet-stream")])
            rng = parse_range(hm.get("range"), size)
            if rng is None:
                off, n = 0, size
            else:
                off, n = rng
                r.status = 206
                r.headers.append(("Content-Range", "bytes %d-%d/%d" % (off, off + n - 1, size)))
            r.fd = (fd, off, n)
            fd = None
            return r
        finally:
            if fd is not None:
                os.close(fd)

    def op_GetObject(self, h, req, auth):
        return self._object(req, False)

    def op_HeadObject(self, h, req, auth):
        return self._object(req, True)

    def op_PutObject(self, h, req, auth):
        root = self._bucket(req)
        path, (size, md5) = _write_object(root, req.key,
                                          lambda f: self._read_body_to(h, req, auth, f, MAX_OBJECT))
        tag = '"%s"' % md5
        st = os.stat(path)
        self.etags.remember(st, tag)
        return Response(200, [("ETag", self.etags.of_path(path))])

    def op_CopyObject(self, h, req, auth):
        root = self._bucket(req)
        self._small_body(h, req, auth)
        src = urllib.parse.unquote(req.hmap["x-amz-copy-source"].split("?", 1)[0]).lstrip("/")
        sbucket, _, skey = src.partition("/")
        sreq = Request("GET", "/%s/%s" % (urllib.parse.quote(sbucket), urllib.parse.quote(skey)),
                       [], {"host": "127.0.0.1"})
        fd, st = self._open(sreq)
        try:
            tag = self.etags.of_fd(fd, st)
            cond = {k[len("x-amz-copy-source-"):]: v for k, v in req.hmap.items()
                    if k.startswith("x-amz-copy-source-if-")}
            conditions(cond, tag, int(st.st_mtime), [], copy=True)
            def copy(out):
                with os.fdopen(os.dup(fd), "rb") as inp:
                    shutil.copyfileobj(inp, out, _READ)
            path, _ = _write_object(root, req.key, copy)
        finally:
            os.close(fd)
        nst = os.stat(path)
        if st.st_size <= s3store.MD5_LIMIT:
            self.etags.remember(nst, tag)
        body = doc("CopyObjectResult", el("LastModified", s3store.iso_time(nst.st_mtime))
                    + el("ETag", self.etags.of_path(path)))
        return _xml_resp(body)

    def op_DeleteObject(self, h, req, auth):
        root = self._bucket(req)
        s3store.delete(root, req.key)
        return Response(204)

    def op_DeleteObjects(self, h, req, auth):
        root = self._bucket(req)
        body = self._small_body(h, req, auth).decode("utf-8", "replace")
        # Not an XML parser: keys may hold control characters, which clients send as
        # they are and XML 1.0 parsers refuse.
        if not re.search(r"<Delete[\s>]", body):
            raise S3Error(400, "MalformedXML", "The XML you provided was not well-formed or did not "
                          "validate against our published schema")
        quiet = re.search(r"<Quiet>\s*true\s*</Quiet>", body, re.I) is not None
        inner = ""
        keys = [html.unescape(k) for k in re.findall(r"<Key>(.*?)</Key>", body, re.S)]
        if len(keys) > 1000:
            raise S3Error(400, "MalformedXML", "More than 1000 keys")
        for k in keys:
            try:
                s3store.delete(root, k)
                if not quiet:
                    inner += "<Deleted>%s</Deleted>" % el("Key", k)
            except (KeyError_, OSError) as e:
                inner += "<Error>%s%s%s</Error>" % (el("Key", k), el("Code", "InternalError"),
                                                    el("Message", str(e)))
        return _xml_resp(doc("DeleteResult", inner))

    # ----- multipart uploads (parts in DIR/s3-uploads/<id>/, outside every bucket) -----

    def _upload_dir(self, req):
        uid = req.query.get("uploadId", "")
        d = os.path.join(self.uploads, uid)
        if not uid.isalnum() or not os.path.isdir(d):
            raise S3Error(404, "NoSuchUpload", "The specified upload does not exist. The upload ID "
                          "may be invalid, or the upload may have been aborted or completed.",
                          UploadId=uid)
        with open(os.path.join(d, "meta.json")) as f:
            meta = json.load(f)
        if meta["bucket"] != req.bucket or meta["key"] != req.key:
            raise S3Error(404, "NoSuchUpload", "The specified upload does not exist.", UploadId=uid)
        return d

    def op_CreateMultipartUpload(self, h, req, auth):
        root = self._bucket(req)
        self._small_body(h, req, auth)
        s3store.check_key(req.key)
        [s3store.encode_segment(s) for s in req.key.split("/")]
        del root
        uid = uuid.uuid4().hex
        d = os.path.join(self.uploads, uid)
        os.makedirs(d)
        with open(os.path.join(d, "meta.json"), "w") as f:
            json.dump({"bucket": req.bucket, "key": req.key, "initiated": time.time()}, f)
        inner = el("Bucket", req.bucket) + el("Key", req.key) + el("UploadId", uid)
        return _xml_resp(doc("InitiateMultipartUploadResult", inner))

    def op_UploadPart(self, h, req, auth):
        self._bucket(req)
        d = self._upload_dir(req)
        try:
            n = int(req.query.get("partNumber", ""))
            if not 1 <= n <= 10000:
                raise ValueError
        except ValueError:
            raise S3Error(400, "InvalidArgument", "Part number must be an integer between 1 and 10000, "
                          "inclusive", ArgumentName="partNumber")
        tmp = os.path.join(d, "%s.%s" % (s3store.TMP, uuid.uuid4().hex))
        try:
            with open(tmp, "wb") as f:
                size, md5 = self._read_body_to(h, req, auth, f, MAX_OBJECT)
            os.replace(tmp, os.path.join(d, "part-%05d" % n))
            with open(os.path.join(d, "part-%05d.md5" % n), "w") as f:
                f.write(md5)
        except BaseException:
            _unlink(tmp)
            raise
        return Response(200, [("ETag", '"%s"' % md5)])

    def op_CompleteMultipartUpload(self, h, req, auth):
        root = self._bucket(req)
        d = self._upload_dir(req)
        body = self._small_body(h, req, auth)
        try:
            tree = ET.fromstring(body)
        except ET.ParseError:
            raise S3Error(400, "MalformedXML", "The XML you provided was not well-formed or did not "
                          "validate against our published schema")
        ns = tree.tag[:tree.tag.index("}") + 1] if tree.tag.startswith("{") else ""
        parts = []
        for p in tree.findall(ns + "Part"):
            try:
                n = int(p.findtext(ns + "PartNumber") or "")
            except ValueError:
                raise S3Error(400, "InvalidPart", "One or more of the specified parts could not be found.")
            tag = (p.findtext(ns + "ETag") or "").strip('"')
            try:
                with open(os.path.join(d, "part-%05d.md5" % n)) as f:
                    have = f.read()
            except FileNotFoundError:
                have = None
            if have != tag:
                raise S3Error(400, "InvalidPart", "One or more of the specified parts could not be "
                              "found.  The part may not have been uploaded, or the specified entity "
                              "tag may not match the part's entity tag.", PartNumber=n, ETag=tag)
            parts.append(n)
        if not parts or parts != sorted(set(parts)):
            raise S3Error(400, "InvalidPartOrder", "The list of parts was not in ascending order. "
                          "Parts must be ordered by part number.")
        md5 = hashlib.md5()

        def concat(out):
            for n in parts:
                with open(os.path.join(d, "part-%05d" % n), "rb") as f:
                    while True:
                        b = f.read(_READ)
                        if not b:
                            break
                        md5.update(b)
                        out.write(b)
        path, _ = _write_object(root, req.key, concat)
        shutil.rmtree(d, ignore_errors=True)
        self.etags.remember(os.stat(path), '"%s"' % md5.hexdigest())
        inner = (el("Location", "/%s/%s" % (req.bucket, urllib.parse.quote(req.key)))
                 + el("Bucket", req.bucket) + el("Key", req.key)
                 + el("ETag", self.etags.of_path(path)))
        return _xml_resp(doc("CompleteMultipartUploadResult", inner))

    def op_AbortMultipartUpload(self, h, req, auth):
        self._bucket(req)
        d = self._upload_dir(req)
        shutil.rmtree(d, ignore_errors=True)
        return Response(204)

    def op_ListParts(self, h, req, auth):
        self._bucket(req)
        d = self._upload_dir(req)
        inner = el("Bucket", req.bucket) + el("Key", req.key) + el("UploadId", req.query["uploadId"])
        for name in sorted(os.listdir(d)):
            if name.startswith("part-") and not name.endswith(".md5"):
                with open(os.path.join(d, name + ".md5")) as f:
                    tag = f.read()
                st = os.stat(os.path.join(d, name))
                inner += "<Part>%s%s%s%s</Part>" % (
                    el("PartNumber", int(name[5:])), el("LastModified", s3store.iso_time(st.st_mtime)),
                    el("ETag", '"%s"' % tag), el("Size", st.st_size))
        inner += el("IsTruncated", "false")
        return _xml_resp(doc("ListPartsResult", inner))


    # ----- admin (unsigned, for tests) -----

    def admin(self, method, name, data):
        """POST /__admin/s3/objects, /__admin/s3/sparse, /__admin/s3/bucket (see the doc)."""
        if method != "POST" or name not in ("objects", "sparse", "bucket"):
            raise ValueError("no such admin endpoint: %s s3/%s" % (method, name))
        bucket = data["bucket"]
        if not s3store.valid_bucket_name(bucket):
            raise ValueError("invalid bucket name %r" % bucket)
        root = self.root(bucket)
        os.makedirs(root, exist_ok=True)
        if name == "bucket":
            return {"bucket": bucket}
        if name == "sparse":
            # A hole of `size` bytes with `data` (text) at `at`: a large object in no disk space.
            tmp = s3store.start_write(root, data["key"])
            with open(tmp, "wb") as f:
                f.truncate(int(data["size"]))
                if data.get("data"):
                    f.seek(int(data.get("at", 0)))
                    f.write(data["data"].encode())
            s3store.commit(root, data["key"], tmp)
            return {"key": data["key"], "size": os.path.getsize(s3store.key_path(root, data["key"]))}
        keys = data.get("keys")
        if keys is None:
            n = int(data.get("count", 0))
            keys = ["%s%0*d" % (data.get("prefix", ""), int(data.get("width", 6)), i) for i in range(n)]
        content = data.get("content", "").encode()
        size = int(data.get("size", len(content)))
        if content and size > len(content):
            content = (content * (size // len(content) + 1))
        content = content[:size] if content else b"\0" * size
        for k in keys:
            tmp = s3store.start_write(root, k)
            with open(tmp, "wb") as f:  # no fsync: test fixtures, made in bulk
                f.write(content)
            s3store.commit(root, k, tmp)
        return {"created": len(keys)}


# ----- helpers -----


def _xml_resp(body):
    return Response(200, [("Content-Type", "application/xml")], body)


def _write_object(root, key, fill):
    """Writes an object durably through a hidden temp file: fill(file) writes the
    bytes; the object appears (atomically) only when complete.  Returns (path,
    what fill returned)."""
    tmp = s3store.start_write(root, key)
    try:
        with open(tmp, "wb") as f:
            result = fill(f)
            f.flush()
            os.fsync(f.fileno())
        return s3store.commit(root, key, tmp), result
    except BaseException:
        _unlink(tmp)
        raise


def _unlink(p):
    try:
        os.unlink(p)
    except OSError:
        pass


def _declared_length(hmap):
    try:
        return int(hmap.get("content-length", "0") or 0)
    except ValueError:
        return 0


def _drain(h, n):
    """Reads and drops an unread request body so the connection can be reused;
    a large one is not worth it: close instead."""
    if n > 1024 * 1024:
        return False
    while n > 0:
        b = h.rfile.read(min(n, 65536))
        if not b:
            return False
        n -= len(b)
    return True


