"""Wire formats of the S3 API (s3.py): XML documents and errors, request
bodies (HTTP chunked, aws-chunked with its chunk-signature chain), presigned
URL checks, Range and conditional headers."""
import hashlib
import hmac

from . import s3store, sigv4

XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"
EMPTY_SHA = hashlib.sha256(b"").hexdigest()
_READ = 1024 * 1024


class S3Error(Exception):
    def __init__(self, status, code, message, **extra):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


# Auth failures in S3's words (the control plane's codes come from sigv4).
def auth_error(e):
    m = e.message
    if e.code == "MissingAuthenticationTokenException":
        return S3Error(403, "AccessDenied", "Access Denied")
    if e.code in ("InvalidRequest", "AccessDenied"):
        if e.code == "AccessDenied":
            return S3Error(403, "AccessDenied", m)
        return S3Error(400, "InvalidRequest", m)
    if e.code == "UnrecognizedClientException":
        return S3Error(403, "InvalidAccessKeyId",
                       "The AWS Access Key Id you provided does not exist in our records.")
    if e.code == "ExpiredTokenException":
        return S3Error(400, "ExpiredToken", "The provided token has expired.")
    if m.startswith("Signature expired") or m.startswith("Signature not yet"):
        return S3Error(403, "RequestTimeTooSkewed",
                       "The difference between the request time and the current time is too large.")
    if "signature we calculated does not match" in m:
        return S3Error(403, "SignatureDoesNotMatch",
                       "The request signature we calculated does not match the signature you "
                       "provided. Check your key and signing method.")
    return S3Error(400, "AuthorizationHeaderMalformed", m)


def xml_text(s):
    out = []
    for c in s:
        o = ord(c)
        if c == "&":
            out.append("&amp;")
        elif c == "<":
            out.append("&lt;")
        elif c == ">":
            out.append("&gt;")
        elif c == '"':
            out.append("&quot;")
        elif o < 0x20 and c not in "\t\n" or c == "\r":
            out.append("&#x%X;" % o)  # what S3 does; clients ask for encoding-type=url
        else:
            out.append(c)
    return "".join(out)


def doc(root, inner):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<%s xmlns="%s">%s</%s>'
            % (root, XMLNS, inner, root)).encode()


def el(name, value):
    return "<%s>%s</%s>" % (name, xml_text(str(value)), name)


def check_presigned(verifier, req):
    """A presigned URL: the Authorization and X-Amz-* headers come from the query,
    the signature is over the query without X-Amz-Signature, the payload unsigned."""
    q = req.query
    try:
        expires = int(q.get("X-Amz-Expires", ""))
        if not 1 <= expires <= 604800:
            raise ValueError
    except ValueError:
        raise S3Error(400, "AuthorizationQueryParametersError",
                      "X-Amz-Expires must be a number of seconds between 1 and 604800")
    if q.get("X-Amz-Algorithm") != sigv4.ALGORITHM:
        raise S3Error(400, "AuthorizationQueryParametersError",
                      "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
    query = "&".join(p for p in req.raw_query.split("&") if not p.startswith("X-Amz-Signature="))
    hdrs = [(k, v) for k, v in req.headers if k.lower() not in (
        "authorization", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token")]
    hdrs.append(("Authorization", "%s Credential=%s, SignedHeaders=%s, Signature=%s" % (
        sigv4.ALGORITHM, q.get("X-Amz-Credential", ""), q.get("X-Amz-SignedHeaders", ""),
        q.get("X-Amz-Signature", ""))))
    hdrs.append(("X-Amz-Date", q.get("X-Amz-Date", "")))
    hdrs.append(("x-amz-content-sha256", "UNSIGNED-PAYLOAD"))
    if "X-Amz-Security-Token" in q:
        hdrs.append(("X-Amz-Security-Token", q["X-Amz-Security-Token"]))
    return verifier.check(req.method, req.raw_path, query, hdrs, b"", s3=True, valid_for=expires)


def length_chunks(h, n):
    while n > 0:
        b = h.rfile.read(min(n, _READ))
        if not b:
            raise ConnectionError("short body")
        n -= len(b)
        yield b


def http_chunks(rfile):
    """The data of an HTTP/1.1 chunked body, piece by piece (trailers dropped)."""
    while True:
        line = rfile.readline(1024)
        if not line:
            raise ConnectionError("eof in chunked body")
        size = int(line.split(b";")[0].strip(), 16)
        if size == 0:
            while rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                pass
            return
        left = size
        while left:
            b = rfile.read(min(left, _READ))
            if not b:
                raise ConnectionError("eof in chunked body")
            left -= len(b)
            yield b
        rfile.readline(3)


class _Bytes:
    """Reads lines and exact lengths from an iterator of byte strings."""

    def __init__(self, it):
        self.it, self.buf = iter(it), b""

    def _fill(self):
        b = next(self.it, None)
        if b is None:
            raise S3Error(400, "IncompleteBody", "The request body ended early")
        self.buf += b

    def line(self):
        while b"\r\n" not in self.buf:
            if len(self.buf) > 4096:
                raise S3Error(400, "InvalidChunkSizeError", "Bad aws-chunked chunk header")
            self._fill()
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def read(self, n):
        while len(self.buf) < n:
            self._fill()
        b, self.buf = self.buf[:n], self.buf[n:]
        return b


def aws_chunks(raw, auth):
    """Decodes an aws-chunked body (`size;chunk-signature=sig\\r\\ndata\\r\\n`...,
    a 0-size chunk, optional trailers); with `auth`, checks each chunk's signature
    against the chain seeded by the request's signature."""
    src = _Bytes(raw)
    prev = auth["signature"] if auth else None
    while True:
        header = src.line().decode("ascii", "replace")
        size_s, _, ext = header.partition(";")
        try:
            size = int(size_s, 16)
        except ValueError:
            raise S3Error(400, "InvalidChunkSizeError", "Bad aws-chunked chunk size")
        data = src.read(size) if size else b""
        if auth:
            sig = ext.partition("chunk-signature=")[2].strip()
            sts = "\n".join(("AWS4-HMAC-SHA256-PAYLOAD", auth["amz_date"], auth["scope"], prev,
                             EMPTY_SHA, hashlib.sha256(data).hexdigest()))
            want = hmac.new(auth["key"], sts.encode(), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(want, sig):
                raise S3Error(403, "SignatureDoesNotMatch",
                              "The request signature we calculated does not match the signature "
                              "you provided.")
            prev = sig
        if size == 0:
            while src.line():  # trailers (checksums) up to the empty line
                pass
            return
        if src.read(2) != b"\r\n":
            raise S3Error(400, "IncompleteBody", "Bad aws-chunked framing")
        yield data


def parse_range(v, size):
    """(offset, length) for a single `bytes=` range, None for no or an ignored
    range (malformed or several: the whole object, as S3); InvalidRange (416)
    when it cannot be satisfied."""
    if not v:
        return None
    v = v.strip()
    if not v.startswith("bytes=") or "," in v:
        return None
    a, sep, b = v[6:].strip().partition("-")
    if not sep:
        return None
    try:
        if a == "":
            n = int(b)
            if n <= 0 and size > 0:
                raise S3Error(416, "InvalidRange", "The requested range is not satisfiable",
                              RangeRequested=v, ActualObjectSize=size)
            if size == 0:
                raise S3Error(416, "InvalidRange", "The requested range is not satisfiable",
                              RangeRequested=v, ActualObjectSize=size)
            n = min(n, size)
            return size - n, n
        start = int(a)
        end = int(b) if b else size - 1
    except ValueError:
        return None
    if start < 0 or (b and end < start):
        return None
    if start >= size:
        raise S3Error(416, "InvalidRange", "The requested range is not satisfiable",
                      RangeRequested=v, ActualObjectSize=size)
    end = min(end, size - 1)
    return start, end - start + 1


def _tag_matches(header, tag):
    for t in header.split(","):
        t = t.strip()
        if t == "*" or t == tag or t.strip('"') == tag.strip('"'):
            return True
    return False


def conditions(hm, tag, mtime, headers, copy=False):
    """If-Match / If-None-Match / If-Modified-Since / If-Unmodified-Since, with
    S3's precedence (a true If-Match wins over a false If-Unmodified-Since, a
    false If-None-Match over a true If-Modified-Since)."""
    im = hm.get("if-match")
    inm = hm.get("if-none-match")
    ims = hm.get("if-modified-since")
    ius = hm.get("if-unmodified-since")
    if im is not None:
        if not _tag_matches(im, tag):
            raise S3Error(412, "PreconditionFailed", "At least one of the pre-conditions you specified "
                          "did not hold", Condition="If-Match")
    elif ius is not None:
        t = s3store.parse_http_time(ius)
        if t is not None and mtime > t:
            raise S3Error(412, "PreconditionFailed", "At least one of the pre-conditions you specified "
                          "did not hold", Condition="If-Unmodified-Since")
    if inm is not None:
        if _tag_matches(inm, tag):
            if copy:
                raise S3Error(412, "PreconditionFailed", "At least one of the pre-conditions you "
                              "specified did not hold", Condition="If-None-Match")
            raise NotModified(headers)
    elif ims is not None:
        t = s3store.parse_http_time(ims)
        if t is not None and mtime <= t:
            if copy:
                raise S3Error(412, "PreconditionFailed", "At least one of the pre-conditions you "
                              "specified did not hold", Condition="If-Modified-Since")
            raise NotModified(headers)


class NotModified(S3Error):
    def __init__(self, headers):
        super().__init__(304, "NotModified", "Not Modified")
        self.headers = headers
