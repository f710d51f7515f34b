"""Cross-checks the data-plane requests the C clients build and sign against
botocore: FHIR REST requests (user queries re-encoded by api/query.c, Bundle
next links accepted by it) against SigV4Auth, and S3 object and listing
requests (keys encoded once, S3 signing rules) against S3SigV4Auth. The C
side runs through tests/sigv4_tool; the expected wire form is computed here
independently, and the canonical request, string to sign and Authorization
must be byte-equal."""

import base64
import json
import random
import subprocess
import urllib.parse

import pytest

import botocore.auth

from test_sigv4_botocore import TOOL, botocore_sign, run_tool

SEED = 20261205
N_FHIR = 260
N_S3 = 240

REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2", "cn-north-1"]
TYPES = ["Patient", "Observation", "Encounter", "MedicationRequest", "Condition", "Group"]
SEARCH_KEYS = ["_count", "_elements", "_include", "_revinclude", "_sort", "_lastUpdated",
               "name", "name:contains", "name:exact", "family", "given", "identifier",
               "identifier:of-type", "code:text", "subject:Patient", "subject:Patient.name",
               "address-city", "birthdate", "_id", "Zed", "status:not"]
VALUE_PARTS = ["smith", "Jos\u00e9 Mar\u00eda", "\u6771\u4eac", "urn:oid:1.2.36|a+b/c=d",
               "http://loinc.org|8867-4", "id,name", "ge2020-01-01", "a b", "a+b", "%20",
               "%2B", "%zz", "100", "", "\U0001F600", "=", "x:y", "-birthdate,name", "~",
               "Observation:subject", "\u00df\u03a9\u042f"]


def _recording(cls):
    class Recording(cls):
        def canonical_request(self, request):
            self.recorded_cr = super().canonical_request(request)
            return self.recorded_cr

        def string_to_sign(self, request, canonical_request):
            self.recorded_sts = super().string_to_sign(request, canonical_request)
            return self.recorded_sts
    return Recording


SIGNERS = {"healthlake": _recording(botocore.auth.SigV4Auth),
           "s3": _recording(botocore.auth.S3SigV4Auth)}


def strict(text_or_bytes):
    """RFC 3986 unreserved kept, everything else %XX (what the C side must send)."""
    b = text_or_bytes.encode("utf-8") if isinstance(text_or_bytes, str) else text_or_bytes
    return urllib.parse.quote(b, safe="")


def reencode(raw):
    """The expected wire form of a user's query string (AWS-CONVENTIONS §1.2)."""
    out = []
    for piece in raw.split("&"):
        if not piece:
            continue
        key, _, value = piece.partition("=")
        out.append(strict(urllib.parse.unquote_to_bytes(key)) + "=" +
                   strict(urllib.parse.unquote_to_bytes(value)))
    return "&".join(out)


def _creds(rng):
    token = None
    if rng.random() < 0.5:
        token = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+=")
                        for _ in range(rng.randint(16, 120)))
    return {
        "access_key": "AKIA" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16)),
        "secret_key": "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+")
                              for _ in range(40)),
        "token": token,
        "time": rng.randint(946684800, 4102444799),
    }


def _fhir_id(rng):
    return "".join(rng.choice("ABCDEFabcdef0123456789-.") for _ in range(rng.randint(1, 64)))


def _raw_query(rng):
    pairs = []
    for _ in range(rng.randint(1, 7)):
        key = rng.choice(SEARCH_KEYS)
        value = ",".join(rng.choice(VALUE_PARTS) for _ in range(rng.randint(1, 3)))
        if rng.random() < 0.3:
            value = urllib.parse.quote(value, safe=":|,+")  # a user who encoded some of it
        pairs.append(key + ("" if rng.random() < 0.05 else "=") + value)
        if rng.random() < 0.25:
            pairs.append(key + "=" + rng.choice(VALUE_PARTS))  # repeated key
    if rng.random() < 0.1:
        pairs.insert(rng.randrange(len(pairs) + 1), "")
    return "&".join(pairs)


def _fhir_case(rng, i):
    region = rng.choice(REGIONS)
    store = "".join(rng.choice("0123456789abcdef") for _ in range(32))
    host = rng.choice([f"healthlake.{region}.amazonaws.com", "127.0.0.1:8080", "localhost:4566"])
    base = f"/datastore/{store}/r4/"
    rtype = rng.choice(TYPES)
    rid = _fhir_id(rng)
    kind = rng.choice(["metadata", "read", "vread", "history", "everything", "search",
                       "search", "search", "update", "create", "delete", "next", "next",
                       "export"])
    method, body, path, raw_query, link = "GET", b"", None, None, None
    headers = [("Host", host), ("Accept", "application/fhir+json")]
    if kind == "metadata":
        path = base + "metadata"
    elif kind == "read":
        path = base + f"{rtype}/{rid}"
    elif kind == "vread":
        path = base + f"{rtype}/{rid}/_history/{rng.randint(1, 999)}"
    elif kind == "history":
        path = base + f"{rtype}/{rid}/_history"
        raw_query = rng.choice([None, "_count=50", "_since=2024-01-01T00:00:00Z"])
    elif kind == "everything":
        path = base + f"Patient/{rid}/$everything"
        raw_query = rng.choice([None, "_count=100", "_type=Observation,Condition"])
    elif kind == "export":
        path = base + rng.choice(["$export", "Patient/$export", f"Group/{rid}/$export"])
        raw_query = "_type=Patient,Observation&_since=2024-01-01T00:00:00Z"
    elif kind == "search":
        path = base + rtype
        raw_query = _raw_query(rng)
    elif kind in ("update", "create"):
        method = "PUT" if kind == "update" else "POST"
        path = base + (f"{rtype}/{rid}" if kind == "update" else rtype)
        body = json.dumps({"resourceType": rtype, "id": rid, "valueQuantity": {"value": 120.50},
                           "name": [{"text": rng.choice(VALUE_PARTS)}]},
                          ensure_ascii=False).replace("120.5", "120.50").encode("utf-8")
        headers.append(("Content-Type", "application/fhir+json"))
        if kind == "update" and rng.random() < 0.6:
            headers.append(("If-Match", f'W/"{rng.randint(1, 99)}"'))
        if kind == "create" and rng.random() < 0.7:
            headers.append(("x-amz-fhir-idempotency-key", "%08x-1111-4222-8333-%012x"
                            % (rng.getrandbits(32), rng.getrandbits(48))))
    elif kind == "delete":
        method = "DELETE"
        path = base + f"{rtype}/{rid}"
    else:  # a next link from a search's Bundle, opaque token included
        scheme = "http" if host.startswith(("127.", "localhost")) else "https"
        token = base64.b64encode(bytes(rng.getrandbits(8) for _ in range(rng.randint(4, 40)))).decode()
        link_query = "_count=%d&page=%s" % (rng.randint(1, 100), rng.choice([
            token, urllib.parse.quote(token, safe=""), token.replace("+", "%2B")]))
        if rng.random() < 0.5:
            link_query += "&" + _raw_query(rng).replace(" ", "%20")
        link_query = link_query.replace(" ", "%20")
        request_url = f"{scheme}://{host}{base}{rtype}?_count=10"
        link_path = base + rng.choice([rtype, f"Patient/{rid}/$everything"])
        link = {"request_url": request_url, "next_link": f"{scheme}://{host}{link_path}?{link_query}"}
        path, raw_query = link_path, link_query
    case = dict(_creds(rng), id=i, service="healthlake", region=region, method=method, body=body,
                headers=headers, path=path)
    if link:
        case.update(link)
    elif raw_query is not None:
        case["raw_query"] = raw_query
    case["want_query"] = reencode(raw_query) if raw_query is not None else None
    case["scheme"] = "https"
    return case


def _s3_key(rng):
    parts = []
    for _ in range(rng.randint(1, 5)):
        parts.append(rng.choice([
            "export", "a b", "Patient+1.ndjson", "", "..", ".", "\u00e9t\u00e9", "\u6771\u4eac",
            "x%20y", "semi;colon", "q?mark", "hash#", "amp&er", "eq=ual", "c:o,l", "~tilde",
            "d1-FHIR_EXPORT-j1", "Observation-2.ndjson", "\U0001F600", "sp  ace "]))
    return "/".join(parts)


def _s3_case(rng, i):
    region = rng.choice(REGIONS)
    bucket = rng.choice(["demo-bucket", "hl-output", "b.with.dots", "x1"])
    key = _s3_key(rng)
    virtual = rng.random() < 0.3 and "." not in bucket
    host = rng.choice([f"s3.{region}.amazonaws.com", "127.0.0.1:9000", "localhost:4566"])
    if virtual:
        host = f"{bucket}.s3.{region}.amazonaws.com"
    headers = [("Host", host)]
    kind = rng.choice(["get", "get", "head", "list"])
    method, path, raw_query = "GET", None, None
    case = dict(_creds(rng), id=i, service="s3", region=region, s3=True, body=b"")
    if kind == "list":
        path = "/" if virtual else "/" + bucket
        raw_query = "list-type=2&prefix=" + strict(key + "/")
        if rng.random() < 0.5:
            raw_query += "&continuation-token=" + strict(base64.b64encode(
                bytes(rng.getrandbits(8) for _ in range(rng.randint(4, 40)))).decode())
        if rng.random() < 0.3:
            raw_query += "&max-keys=%d" % rng.randint(1, 1000)
        case["path"] = path
        case["raw_query"] = raw_query
    else:
        method = "HEAD" if kind == "head" else "GET"
        case["s3_bucket"] = "" if virtual else bucket
        case["s3_key"] = key
        path = ("" if virtual else "/" + bucket) + "/" + urllib.parse.quote(
            key.encode("utf-8"), safe="/~")
        if kind == "get" and rng.random() < 0.7:
            a = rng.randint(0, 10**10)
            headers.append(("Range", "bytes=%d-%d" % (a, a + rng.randint(0, 8 << 20))))
        if rng.random() < 0.5:
            headers.append(("If-Match", '"%032x"' % rng.getrandbits(128)))
    case.update(method=method, headers=headers, want_path=path,
                want_query=reencode(raw_query) if raw_query is not None else None,
                scheme="http" if host.startswith(("127.", "localhost")) else "https")
    return case


def _cases():
    rng = random.Random(SEED)
    return [_fhir_case(rng, i) for i in range(N_FHIR)] + \
        [_s3_case(rng, 100000 + i) for i in range(N_S3)]


CASES = _cases()
TOOL_KEYS = ["method", "path", "raw_query", "next_link", "request_url", "s3_bucket", "s3_key",
             "s3", "access_key", "secret_key", "token", "region", "service", "time"]


def _tool_input(case):
    out = {k: case[k] for k in TOOL_KEYS if k in case}
    out["headers"] = [list(h) for h in case["headers"]]
    out["body_b64"] = base64.b64encode(case["body"]).decode("ascii")
    return out


def _botocore_sign(case, path, query):
    host = dict((k.lower(), v) for k, v in case["headers"])["host"]
    url = case["scheme"] + "://" + host + path + ("?" + query if query else "")
    return botocore_sign(SIGNERS[case["service"]], case, url)


@pytest.fixture(scope="module")
def c_results():
    results = run_tool([_tool_input(c) for c in CASES])
    return {c["id"]: r for c, r in zip(CASES, results)}


def test_enough_cases_and_coverage():
    fhir = [c for c in CASES if c["service"] == "healthlake"]
    s3 = [c for c in CASES if c["service"] == "s3"]
    assert len(fhir) >= 200 and len(s3) >= 200
    assert any("$" in c["path"] for c in fhir)
    assert any("." in c["path"].rsplit("/", 1)[-1] and "-" in c["path"] for c in fhir)
    raws = [c.get("raw_query") or "" for c in fhir]
    for needle in [":", "|", ",", " ", "+", "\u00e9", "&&"]:
        assert any(needle in r for r in raws), needle
    assert any(len(set(p.split("=")[0] for p in r.split("&"))) < len(r.split("&")) for r in raws)
    assert sum(1 for c in fhir if "next_link" in c) >= 20
    assert {c["method"] for c in fhir} == {"GET", "PUT", "POST", "DELETE"}
    keys = [c["s3_key"] for c in s3 if "s3_key" in c]
    for needle in [" ", "+", "//", "..", "\u00e9"]:
        assert any(needle in k for k in keys), needle
    assert sum(1 for c in s3 if any(n == "Range" for n, _ in c["headers"])) >= 50
    assert {c["method"] for c in s3} == {"GET", "HEAD"}


@pytest.mark.parametrize("case", CASES, ids=lambda c: "%s%d" % (c["service"], c["id"]))
def test_matches_botocore(case, c_results):
    got = c_results[case["id"]]
    assert "error" not in got, got
    if case.get("want_path") is not None:
        assert got["path"] == case["want_path"]
    else:
        assert got["path"] == case["path"]
    assert got.get("query") == case["want_query"]
    want = _botocore_sign(case, got["path"], got.get("query"))
    assert got["canonical_request"] == want["canonical_request"]
    assert got["string_to_sign"] == want["string_to_sign"]
    assert got["authorization"] == want["authorization"]
    if case["service"] == "s3":
        assert got["payload_hash"] == want["content_sha256"]


def test_next_link_to_another_origin_is_refused():
    base = {"method": "GET", "headers": [["Host", "127.0.0.1:8080"]], "access_key": "AKIDEXAMPLE",
            "secret_key": "s", "region": "us-east-1", "service": "healthlake", "time": 1705322096,
            "request_url": "http://127.0.0.1:8080/datastore/d/r4/Patient?_count=1"}
    for link in ["http://127.0.0.1:8081/datastore/d/r4/Patient?page=2",
                 "https://127.0.0.1:8080/datastore/d/r4/Patient?page=2",
                 "http://evil.example/datastore/d/r4/Patient?page=2",
                 "http://127.0.0.1:8080@evil.example/datastore/d/r4/Patient?page=2",
                 "/datastore/d/r4/Patient?page=2"]:
        proc = subprocess.run([TOOL], input=json.dumps(dict(base, next_link=link)).encode(),
                              capture_output=True, timeout=30)
        assert proc.returncode == 0
        assert json.loads(proc.stdout)["error"] == "PROTOCOL", link
