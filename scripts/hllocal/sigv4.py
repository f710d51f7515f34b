"""Server-side AWS Signature Version 4 verification.

The canonical request is rebuilt from the raw request exactly as the AWS
front end does for non-S3 services: canonical URI from the wire path (dot
segments removed, `//` collapsed, then percent-encoded once more), the raw
query split and sorted without re-encoding, only the signed headers (values
trimmed, inner whitespace collapsed, repeats joined with `,`), and the SHA-256
of the exact body.  Failures raise AuthError carrying the code and message
AWS uses, all answered with HTTP 403.
"""
import calendar
import hashlib
import hmac
import re
import threading
import time
from datetime import timezone

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW = 300  # seconds, as AWS
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~/")
_WS = re.compile(r"\s+")


def _parse_amz_date(v):
    """Epoch seconds of an ISO 8601 basic `YYYYMMDDTHHMMSSZ` (strptime is slow on the hot path)."""
    if len(v) != 16 or v[8] != "T" or v[15] != "Z" or not (v[:8] + v[9:15]).isdigit():
        raise ValueError(v)
    t = (int(v[0:4]), int(v[4:6]), int(v[6:8]), int(v[9:11]), int(v[11:13]), int(v[13:15]))
    if not (1 <= t[1] <= 12 and 1 <= t[2] <= 31 and t[3] < 24 and t[4] < 60 and t[5] < 61):
        raise ValueError(v)
    return calendar.timegm(t + (0, 0, 0))


class AuthError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def canonical_uri(raw_path):
    """Canonical URI of a non-S3 request from the path as sent on the wire."""
    path = raw_path or "/"
    segs = []
    for seg in path.split("/"):
        if seg in ("", "."):
            continue
        if seg == "..":
            if segs:
                segs.pop()
            continue
        segs.append(seg)
    norm = "/" + "/".join(segs)
    if path.endswith("/") and norm != "/":
        norm += "/"
    b = norm.encode("utf-8", "surrogateescape")
    if all(c in _UNRESERVED for c in b):
        return norm
    return "".join(chr(c) if c in _UNRESERVED else "%%%02X" % c for c in b)


def canonical_query(raw_query):
    if not raw_query:
        return ""
    pairs = []
    for part in raw_query.split("&"):
        k, sep, v = part.partition("=")
        pairs.append((k, v))
    pairs.sort()
    return "&".join(k + "=" + v for k, v in pairs)


def _parse_authorization(value):
    if not value.startswith(ALGORITHM + " "):
        algo = value.split(" ", 1)[0]
        raise AuthError("IncompleteSignatureException",
                        "Unsupported AWS 'algorithm': '%s'" % algo)
    fields = {}
    for part in value[len(ALGORITHM) + 1:].split(","):
        part = part.strip()
        if not part:
            continue
        k, sep, v = part.partition("=")
        if not sep:
            raise AuthError("IncompleteSignatureException",
                            "'%s' not a valid key=value pair (missing equal-sign) in Authorization "
                            "header: '%s'." % (part, value))
        fields[k.strip()] = v.strip()
    missing = [k for k in ("Credential", "SignedHeaders", "Signature") if not fields.get(k)]
    if missing:
        raise AuthError("IncompleteSignatureException",
                        " ".join("Authorization header requires '%s' parameter." % k for k in missing)
                        + " Authorization=" + value)
    return fields


class Verifier:
    """Holds the accepted credentials and checks requests against them."""

    def __init__(self, keys, region, service="healthlake"):
        self.region = region
        self.service = service
        self._lock = threading.Lock()
        self._key_cache = {}
        self.set_keys(keys)

    def set_keys(self, keys):
        """keys: list of dicts access_key, secret_key, session_token and expires (epoch
        seconds; from then on the key gets ExpiredTokenException), both optional."""
        with self._lock:
            self.keys = {k["access_key"]: (k["secret_key"], k.get("session_token") or None,
                                           k.get("expires"))
                         for k in keys}
            self._key_cache = {}

    def _signing_key(self, secret, date, region, service):
        ck = (secret, date, region, service)
        k = self._key_cache.get(ck)
        if k is None:
            k = hmac.new(("AWS4" + secret).encode(), date.encode(), hashlib.sha256).digest()
            for part in (region, service, "aws4_request"):
                k = hmac.new(k, part.encode(), hashlib.sha256).digest()
            if len(self._key_cache) > 256:
                self._key_cache.clear()
            self._key_cache[ck] = k
        return k

    def verify(self, method, raw_path, raw_query, headers, body, now=None):
        """headers: list of (name, value) as received (names any case).
        Returns the access key on success, raises AuthError otherwise."""
        return self.check(method, raw_path, raw_query, headers, body, now)["access_key"]

    def check(self, method, raw_path, raw_query, headers, body, now=None, s3=False, valid_for=None):
        """verify() with the details a caller may need afterwards: a dict with
        access_key, signing key, scope, amz_date and signature (the seed of an
        aws-chunked upload).  With s3, the S3 rules: service `s3`, the path as
        sent (no normalisation, no second encoding) and the payload hash taken
        from x-amz-content-sha256 (`body` is not used; the caller checks it).
        valid_for: a presigned URL's X-Amz-Expires (seconds valid after X-Amz-Date)
        instead of the 5-minute window."""
        hdrs = {}
        for name, value in headers:
            ln = name.lower()
            v = _WS.sub(" ", value.strip())
            if ln in hdrs:
                hdrs[ln] = hdrs[ln] + "," + v
            else:
                hdrs[ln] = v
        auth = hdrs.get("authorization")
        if not auth:
            raise AuthError("MissingAuthenticationTokenException", "Missing Authentication Token")
        fields = _parse_authorization(auth)
        cred = fields["Credential"].split("/")
        if len(cred) != 5:
            raise AuthError("IncompleteSignatureException",
                            "Credential must have exactly 5 slash-delimited elements, e.g. "
                            "keyid/date/region/service/term, got '%s'" % fields["Credential"])
        akid, cdate, cregion, cservice, term = cred
        amzdate = hdrs.get("x-amz-date")
        if not amzdate:
            date_hdr = hdrs.get("date")
            if not date_hdr:
                raise AuthError("IncompleteSignatureException",
                                "Authorization header requires existence of either a 'X-Amz-Date' or "
                                "a 'Date' header. Authorization=" + auth)
            try:
                from email.utils import parsedate_to_datetime
                dt = parsedate_to_datetime(date_hdr)
                amzdate = dt.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            except (TypeError, ValueError):
                raise AuthError("IncompleteSignatureException", "Date header is not a valid date")
        try:
            req_time = _parse_amz_date(amzdate)
        except ValueError:
            raise AuthError("IncompleteSignatureException",
                            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
        with self._lock:
            entry = self.keys.get(akid)
        if entry is None:
            raise AuthError("UnrecognizedClientException",
                            "The security token included in the request is invalid.")
        secret, token, expires = entry
        if token is not None and hdrs.get("x-amz-security-token") != token:
            raise AuthError("UnrecognizedClientException",
                            "The security token included in the request is invalid.")
        if token is None and "x-amz-security-token" in hdrs:
            raise AuthError("UnrecognizedClientException",
                            "The security token included in the request is invalid.")
        if expires is not None and (time.time() if now is None else now) >= float(expires):
            raise AuthError("ExpiredTokenException",
                            "The security token included in the request is expired")
        if term != "aws4_request":
            raise AuthError("InvalidSignatureException",
                            "Credential should be scoped with a valid terminator: 'aws4_request', "
                            "not '%s'." % term)
        if cdate != amzdate[:8]:
            raise AuthError("InvalidSignatureException",
                            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version "
                            "of date from HTTP: '%s' != '%s', from '%s'." % (cdate, amzdate[:8], amzdate))
        want_service = "s3" if s3 else self.service
        if cservice != want_service:
            raise AuthError("InvalidSignatureException",
                            "Credential should be scoped to correct service: '%s'. " % want_service)
        if cregion != self.region:
            raise AuthError("InvalidSignatureException",
                            "Credential should be scoped to a valid region. ")
        signed = fields["SignedHeaders"].split(";")
        if "host" not in signed:
            raise AuthError("InvalidSignatureException",
                            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
        now = time.time() if now is None else now
        if valid_for is not None and now > req_time + valid_for:
            raise AuthError("AccessDenied", "Request has expired")
        if valid_for is None and req_time < now - MAX_SKEW:
            fmt = "%Y%m%dT%H%M%SZ"
            raise AuthError("InvalidSignatureException",
                            "Signature expired: %s is now earlier than %s (%s - 5 min.)"
                            % (amzdate, time.strftime(fmt, time.gmtime(now - MAX_SKEW)),
                               time.strftime(fmt, time.gmtime(now))))
        if req_time > now + MAX_SKEW:
            fmt = "%Y%m%dT%H%M%SZ"
            raise AuthError("InvalidSignatureException",
                            "Signature not yet current: %s is still later than %s (%s + 5 min.)"
                            % (amzdate, time.strftime(fmt, time.gmtime(now + MAX_SKEW)),
                               time.strftime(fmt, time.gmtime(now))))
        canon_headers = "".join(h + ":" + hdrs.get(h, "") + "\n" for h in signed)
        if s3:
            payload = hdrs.get("x-amz-content-sha256")
            if not payload:
                raise AuthError("InvalidRequest",
                                "Missing required header for this request: x-amz-content-sha256")
            uri = raw_path or "/"
        else:
            payload = hashlib.sha256(body).hexdigest()
            uri = canonical_uri(raw_path)
        creq = "\n".join((method, uri, canonical_query(raw_query),
                          canon_headers, fields["SignedHeaders"], payload))
        scope = "%s/%s/%s/aws4_request" % (cdate, cregion, cservice)
        sts = "\n".join((ALGORITHM, amzdate, scope, hashlib.sha256(creq.encode("utf-8", "surrogateescape")).hexdigest()))
        key = self._signing_key(secret, cdate, cregion, cservice)
        want = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, fields["Signature"]):
            raise AuthError("InvalidSignatureException",
                            "The request signature we calculated does not match the signature you "
                            "provided. Check your AWS Secret Access Key and signing method. Consult "
                            "the service documentation for details.")
        return {"access_key": akid, "key": key, "scope": scope, "amz_date": amzdate,
                "signature": fields["Signature"]}


def sign(method, url_host, path, query, headers, body, access_key, secret_key, region,
         session_token=None, amz_date=None, service="healthlake"):
    """Minimal client-side signer (for tests and the benchmark): returns the headers to send.
    headers: dict of extra headers to sign (e.g. content-type, x-amz-target)."""
    amz_date = amz_date or time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    h = {k.lower(): v for k, v in headers.items()}
    h["host"] = url_host
    h["x-amz-date"] = amz_date
    if session_token:
        h["x-amz-security-token"] = session_token
    names = sorted(h)
    creq = "\n".join((method, canonical_uri(path), canonical_query(query),
                      "".join(n + ":" + _WS.sub(" ", h[n].strip()) + "\n" for n in names),
                      ";".join(names), hashlib.sha256(body).hexdigest()))
    scope = "%s/%s/%s/aws4_request" % (amz_date[:8], region, service)
    sts = "\n".join((ALGORITHM, amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()))
    k = hmac.new(("AWS4" + secret_key).encode(), amz_date[:8].encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    h["authorization"] = "%s Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        ALGORITHM, access_key, scope, ";".join(names), sig)
    return h
