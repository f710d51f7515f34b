"""Cross-checks the C SigV4 signer (through tests/sigv4_tool) against
botocore's SigV4Auth on a fixed-seed set of randomized requests: the
canonical request, string to sign and Authorization header must be
byte-equal. botocore's clock is pinned by replacing botocore.auth.datetime,
the module add_auth() reads utcnow() from."""

import base64
import datetime
import json
import os
import random
import subprocess
import types
from unittest import mock

import pytest

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("HLFS_BUILD_DIR", os.path.join(REPO, "build"))
TOOL = os.path.join(BUILD, "tests", "sigv4_tool")

SEED = 20240115
N_RANDOM = 240

UNRESERVED = "ABCXYZabcxyz0189-_.~"
RESERVED = "$:@!*'()+,;=&"
ODD_ASCII = "\"<>\\^`{|}% "
NON_ASCII = ["é", "ñ", "東京", "ß", "Ω", "Я", "😀", "\u00a0"]
# Whitespace Python's str.split() folds; botocore trims header values with it.
UNICODE_WS = ["\u00a0", "\u3000", "\u2003", "\u0085", "\u202f", "\x0b", "\x1f"]
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2", "cn-north-1",
           "us-gov-west-1", "me-central-1", "il-central-1"]
HEADER_NAMES = ["Content-Type", "X-Amz-Target", "X-Custom", "x-custom", "X-CUSTOM",
                "Accept", "X-Amz-Meta-Thing", "x-a", "X-b", "If-Match", "Content-MD5",
                "x-amz-user-agent-ish", "X_Under", "x.dot", "x~tilde", "X-Amz-Date",
                "X-Amz-Security-Token", "Authorization", "CamelCase-Header"]


class _PinnedDatetime(datetime.datetime):
    """datetime whose utcnow() is whatever the current case says."""
    pinned = None

    @classmethod
    def utcnow(cls):
        return cls.pinned


class _RecordingSigV4Auth(botocore.auth.SigV4Auth):
    """Keeps the canonical request and string to sign computed in add_auth()
    (recomputing them afterwards would include the new Authorization)."""

    def canonical_request(self, request):
        self.recorded_cr = super().canonical_request(request)
        return self.recorded_cr

    def string_to_sign(self, request, canonical_request):
        self.recorded_sts = super().string_to_sign(request, canonical_request)
        return self.recorded_sts


def _rand_text(rng, alphabet_parts, lo, hi):
    n = rng.randint(lo, hi)
    out = []
    for _ in range(n):
        part = rng.choice(alphabet_parts)
        out.append(rng.choice(part) if isinstance(part, str) else rng.choice(part))
    return "".join(out)


def _path_segment(rng):
    kind = rng.random()
    if kind < 0.08:
        return "."
    if kind < 0.16:
        return ".."
    if kind < 0.24:
        return ""
    if kind < 0.28:
        return "$export"
    return _rand_text(rng, [UNRESERVED, UNRESERVED, RESERVED, ODD_ASCII,
                            ["%20", "%2F", "%25", "%C3%A9", "%3a"], NON_ASCII], 1, 8)


def _rand_path(rng):
    if rng.random() < 0.05:
        return ""
    segs = [_path_segment(rng) for _ in range(rng.randint(0, 6))]
    path = "/" + "/".join(segs)
    if rng.random() < 0.3:
        path += "/"
    return path


def _strict(s):
    # The C client's wire form: hl_buf_append_uri without keeping '/'.
    out = []
    for b in s.encode("utf-8"):
        c = chr(b)
        if c.isascii() and (c.isalnum() or c in "-_.~"):
            out.append(c)
        else:
            out.append("%%%02X" % b)
    return "".join(out)


def _rand_query(rng):
    r = rng.random()
    if r < 0.15:
        return None
    if r < 0.2:
        return ""
    keys = ["_count", "Zed", "address", "given", "name", "a", "A", "_elements", "k"]
    pairs = []
    for _ in range(rng.randint(1, 7)):
        style = rng.random()
        if style < 0.4:
            key = rng.choice(keys)
        else:
            key = _strict(_rand_text(rng, [UNRESERVED, RESERVED, ODD_ASCII, NON_ASCII], 0, 6))
        value = _strict(_rand_text(rng, [UNRESERVED, RESERVED, ODD_ASCII, NON_ASCII], 0, 10))
        if style > 0.9:
            pairs.append(key)  # no '=' at all
        elif style > 0.85:
            pairs.append(key + "=" + value + "=" + value)  # split at the first '='
        else:
            pairs.append(key + "=" + value)
        if rng.random() < 0.2:
            pairs.append(key + "=" + _strict(rng.choice(["b", "a", "", "é"])))  # repeated key
    if rng.random() < 0.1:
        pairs.insert(rng.randrange(len(pairs) + 1), "")  # empty piece: "a&&b"
    return "&".join(pairs)


def _header_value(rng):
    r = rng.random()
    if r < 0.1:
        return ""
    words = [_rand_text(rng, [UNRESERVED, RESERVED, "/\"?#[]", NON_ASCII[:7]], 1, 6)
             for _ in range(rng.randint(1, 4))]
    seps = [" ", "  ", "   ", "\t", " \t ", rng.choice(UNICODE_WS)]
    value = words[0]
    for w in words[1:]:
        value += rng.choice(seps) + w
    if rng.random() < 0.4:
        value = rng.choice(seps) + value
    if rng.random() < 0.4:
        value = value + rng.choice(seps)
    return value


def _rand_case(rng, i):
    method = rng.choice(["GET", "POST", "PUT", "DELETE"])
    region = rng.choice(REGIONS) if rng.random() < 0.8 else "%s-%s-%d" % (
        rng.choice(["xx", "ap", "eu"]), rng.choice(["north", "weird"]), rng.randint(1, 9))
    service = "healthlake" if rng.random() < 0.85 else rng.choice(["execute-api", "sts"])
    host = rng.choice([f"healthlake.{region}.amazonaws.com", "example.com:8443", "127.0.0.1:4566",
                       "[::1]:9000", "localhost"])
    headers = [(rng.choice(["Host", "host", "HOST"]), host)]
    for _ in range(rng.randint(0, 6)):
        headers.append((rng.choice(HEADER_NAMES), _header_value(rng)))
    rng.shuffle(headers)
    body_kind = rng.random()
    if body_kind < 0.35:
        body = b""
    elif body_kind < 0.7:
        body = bytes(rng.randrange(256) for _ in range(rng.randint(1, 300)))
    else:
        body = json.dumps({"Name": _rand_text(rng, [UNRESERVED, NON_ASCII], 0, 20)},
                          ensure_ascii=False).encode("utf-8")
    token = None
    if rng.random() < 0.5:
        token = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+=")
                        for _ in range(rng.randint(16, 120)))
    return {
        "id": i,
        "method": method if rng.random() < 0.9 else method.lower(),
        "path": _rand_path(rng),
        "query": _rand_query(rng),
        "headers": headers,
        "body": body,
        "access_key": "AKIA" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16)),
        "secret_key": "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+")
                              for _ in range(40)),
        "token": token,
        "region": region,
        "service": service,
        "time": rng.randint(946684800, 4102444799),  # 2000-01-01 .. 2099-12-31
    }


def _fixed_cases():
    """The canonical-URI examples of AWS-CONVENTIONS.md plus a few edges."""
    out = []
    paths = ["/a//b/./c/../d", "/r4/Patient/$export", "/a%20b/c d", "/x/é", "//double//",
             "/a/..", "", "/", "/..", "/a/b/"]
    for n, p in enumerate(paths):
        out.append({"id": 10000 + n, "method": "GET", "path": p, "query": None,
                    "headers": [("Host", "h.example")], "body": b"",
                    "access_key": "AKIDEXAMPLE",
                    "secret_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                    "token": None, "region": "us-east-1", "service": "healthlake",
                    "time": 1705322096})
    return out


def _cases():
    rng = random.Random(SEED)
    return _fixed_cases() + [_rand_case(rng, i) for i in range(N_RANDOM)]


CASES = _cases()


def _url(case):
    url = "https://" + dict((k.lower(), v) for k, v in case["headers"])["host"] + case["path"]
    if case["query"] is not None:
        url += "?" + case["query"]
    return url


def botocore_sign(signer_cls, case, url):
    """Signs case (method, headers, body, credentials, region, service, time)
    for url with signer_cls at the case's pinned time; returns the recorded
    canonical request and string to sign and the signed headers."""
    req = AWSRequest(method=case["method"], url=url, data=case["body"])
    for name, value in case["headers"]:
        req.headers[name] = value  # HTTPHeaders appends: repeats are kept
    creds = Credentials(case["access_key"], case["secret_key"], case["token"])
    signer = signer_cls(creds, case["service"], case["region"])
    pinned = _PinnedDatetime.fromtimestamp(case["time"], tz=datetime.timezone.utc)
    _PinnedDatetime.pinned = pinned.replace(tzinfo=None)
    with mock.patch.object(botocore.auth, "datetime",
                           types.SimpleNamespace(datetime=_PinnedDatetime)):
        signer.add_auth(req)
    return {
        "canonical_request": signer.recorded_cr,
        "string_to_sign": signer.recorded_sts,
        "authorization": req.headers["Authorization"],
        "amz_date": req.headers["X-Amz-Date"],
        "content_sha256": req.headers.get("X-Amz-Content-SHA256"),
    }


def _botocore_sign(case):
    return botocore_sign(_RecordingSigV4Auth, case, _url(case))


def run_tool(inputs):
    """Runs sigv4_tool on a list of descriptions; returns its list of results."""
    assert os.path.exists(TOOL), f"{TOOL} not built (set HLFS_BUILD_DIR)"
    payload = json.dumps(inputs, ensure_ascii=False).encode("utf-8")
    proc = subprocess.run([TOOL], input=payload, capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    assert b"runtime error" not in proc.stderr and b"AddressSanitizer" not in proc.stderr, \
        proc.stderr.decode(errors="replace")
    results = json.loads(proc.stdout.decode("utf-8"))
    assert len(results) == len(inputs)
    return results


def _tool_input(case):
    return {
        "method": case["method"],
        "path": case["path"],
        "query": case["query"],
        "headers": [list(h) for h in case["headers"]],
        "body_b64": base64.b64encode(case["body"]).decode("ascii"),
        "access_key": case["access_key"],
        "secret_key": case["secret_key"],
        "token": case["token"],
        "region": case["region"],
        "service": case["service"],
        "time": case["time"],
    }


@pytest.fixture(scope="module")
def c_results():
    results = run_tool([_tool_input(c) for c in CASES])
    return {c["id"]: r for c, r in zip(CASES, results)}


def test_enough_cases_and_coverage():
    rand = [c for c in CASES if c["id"] < 10000]
    assert len(rand) >= 200
    assert {c["method"].upper() for c in rand} == {"GET", "POST", "PUT", "DELETE"}
    assert any(c["token"] for c in rand) and any(not c["token"] for c in rand)
    assert any(c["body"] == b"" for c in rand) and any(b"\x00" in c["body"] for c in rand)
    assert any(any(ord(ch) > 127 for ch in c["path"]) for c in rand)
    assert any(c["query"] and "&&" in c["query"] for c in rand)
    assert any(c["query"] and any("=" not in p for p in c["query"].split("&")) for c in rand)
    assert any(any(v != " ".join(v.split()) for _, v in c["headers"]) for c in rand)
    names = [[n.lower() for n, _ in c["headers"]] for c in rand]
    assert any(len(n) != len(set(n)) for n in names)  # repeated headers


@pytest.mark.parametrize("case", CASES, ids=lambda c: "case%d" % c["id"])
def test_matches_botocore(case, c_results):
    want = _botocore_sign(case)
    got = c_results[case["id"]]
    assert "error" not in got, got
    assert got["canonical_request"] == want["canonical_request"]
    assert got["string_to_sign"] == want["string_to_sign"]
    assert got["authorization"] == want["authorization"]
    assert got["amz_date"] == want["amz_date"]


def test_tool_reports_invalid_request():
    bad = dict(_tool_input(CASES[0]), method=None)
    proc = subprocess.run([TOOL], input=json.dumps(bad).encode(), capture_output=True, timeout=30)
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["error"] == "INVALID"
