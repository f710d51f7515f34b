"""healthlake-local's FHIR R4 data plane over real HTTP, every request signed by
botocore's SigV4Auth (service healthlake): CRUD with versions, byte-for-byte
lexemes, If-Match, search parameters, stable paging, Bundles, auth, faults,
counters, imports and exports."""
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fhir_client import Fhir, load  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts"))
from hllocal.client import raw_call  # noqa: E402

NODELAY = ("--create-delay", "0", "--delete-delay", "0", "--job-delay", "0", "--strict")
ROLE = "arn:aws:iam::123456789012:role/HealthLakeImport"
OBS_TEXT = ('{"resourceType": "Observation", "id": "o1", "status": "final",\n'
            '  "code": {"coding": [{"system": "http://loinc.org", "code": "8302-2"}]},\n'
            '  "subject": {"reference": "Patient/p1"},\n'
            '  "valueQuantity": {"value": 172.30, "unit": "cm"}, "x": [1E+2, 0.10, -0.0, 1e-7],\n'
            '  "note": [{"text": "caf\\u00e9 \\"quoted\\" \\/ line\\nbreak"}]}')
LEXEMES = ['"value": 172.30', '[1E+2, 0.10, -0.0, 1e-7]', '"caf\\u00e9 \\"quoted\\" \\/ line\\nbreak"']


@pytest.fixture
def srv(server_factory):
    s = server_factory(*NODELAY)
    yield s
    assert "strict_violations" not in s.counters()


def new_store(srv, **kw):
    r = srv.boto3().create_fhir_datastore(DatastoreTypeVersion="R4", **kw)
    return r["DatastoreId"], r["DatastoreEndpoint"]


@pytest.fixture
def fx(srv):
    sid, ep = new_store(srv)
    f = Fhir(srv, ep)
    f.sid = sid
    yield f
    f.close()


def patient(pid, family="Okafor", given="Ana", gender="female", birth="1980-04-02", **kw):
    d = {"resourceType": "Patient", "id": pid, "gender": gender, "birthDate": birth,
         "name": [{"family": family, "given": [given]}],
         "identifier": [{"system": "urn:mrn", "value": "mrn-" + pid}]}
    d.update(kw)
    return d


def ids(bundle_or_entries):
    entries = bundle_or_entries.get("entry", []) if isinstance(bundle_or_entries, dict) else bundle_or_entries
    return [e["resource"]["id"] for e in entries if e.get("search", {}).get("mode", "match") == "match"]


def test_endpoint_is_the_server_and_metadata_lists_everything(srv, fx):
    assert fx.base == "%s/datastore/%s/r4/" % (srv.url, fx.sid)
    d = srv.boto3().describe_fhir_datastore(DatastoreId=fx.sid)["DatastoreProperties"]
    assert d["DatastoreEndpoint"] == fx.base
    cap = fx.get("metadata")
    assert cap["resourceType"] == "CapabilityStatement" and cap["fhirVersion"] == "4.0.1"
    res = {r["type"]: r for r in cap["rest"][0]["resource"]}
    assert len(res) == 146 and "Patient" in res and "VisionPrescription" in res
    names = {p["name"] for p in res["Patient"]["searchParam"]}
    assert names == {"_id", "_lastUpdated", "name", "family", "given", "birthdate", "gender", "identifier"}
    obs = {p["name"] for p in res["Observation"]["searchParam"]}
    assert {"subject", "patient", "code", "date", "status", "category"} <= obs
    assert {"read", "vread", "update", "delete", "create", "search-type", "history-instance"} <= \
        {i["code"] for i in res["Patient"]["interaction"]}


def test_crud_versions_and_headers(fx):
    st, h, b = fx.request("PUT", "Patient/p1", patient("p1"))
    assert st == 201 and h["etag"] == 'W/"1"' and h["location"] == fx.base + "Patient/p1/_history/1"
    assert h["last-modified"].endswith(" GMT") and h["content-type"].startswith("application/fhir+json")
    r = json.loads(b)
    assert r["id"] == "p1" and r["meta"]["versionId"] == "1" and r["meta"]["lastUpdated"].endswith("Z")
    st, h, b = fx.request("PUT", "Patient/p1", patient("p1", gender="other"))
    assert st == 200 and h["etag"] == 'W/"2"'
    assert fx.get("Patient/p1")["gender"] == "other"
    assert fx.get("Patient/p1/_history/1")["gender"] == "female"
    assert fx.get("Patient/p1/_history/2")["meta"]["versionId"] == "2"
    fx.get("Patient/p1/_history/9", want=404)
    fx.get("Patient/nope", want=404)
    # PUT with an id in the body that is not the URL's: 400; a body of another type: 400.
    assert fx.request("PUT", "Patient/p1", patient("p2"))[0] == 400
    assert fx.request("PUT", "Patient/p1", {"resourceType": "Observation"})[0] == 400
    assert fx.request("PUT", "Patient/p1", "{not json")[0] == 400
    assert fx.request("GET", "NoSuchType/x")[0] == 404
    assert fx.request("DELETE", "metadata")[0] == 405
    # POST: the server picks the id (an id in the body is replaced).
    st, h, b = fx.request("POST", "Patient", patient("client-id"))
    r = json.loads(b)
    assert st == 201 and r["id"] != "client-id" and h["location"].endswith("/Patient/%s/_history/1" % r["id"])
    # The idempotency key makes a retried create return the first one.
    key = {"x-amz-fhir-idempotency-key": "k-123"}
    a = fx.json("POST", "Patient", patient("x"), key, want=201)
    b2 = fx.json("POST", "Patient", patient("x"), key, want=201)
    assert a["id"] == b2["id"] and b2["meta"]["versionId"] == "1"
    # DELETE: 204; then read 404, vread of the deletion 410, earlier versions still there.
    st, h, b = fx.request("DELETE", "Patient/p1")
    assert st == 204 and b == b""
    o = fx.get("Patient/p1", want=404)
    assert o["resourceType"] == "OperationOutcome" and o["issue"][0]["severity"] == "error"
    fx.get("Patient/p1/_history/3", want=410)
    assert fx.get("Patient/p1/_history/2")["gender"] == "other"
    assert fx.request("DELETE", "Patient/never")[0] == 404
    # History: newest first, with _count and _since.
    hist = fx.get("Patient/p1/_history")
    assert hist["type"] == "history" and hist["total"] == 3
    assert [e["response"]["etag"] for e in hist["entry"]] == ['W/"3"', 'W/"2"', 'W/"1"']
    assert "resource" not in hist["entry"][0] and hist["entry"][1]["resource"]["gender"] == "other"
    page = fx.get("Patient/p1/_history?_count=2")
    assert len(page["entry"]) == 2
    nxt = [l["url"] for l in page["link"] if l["relation"] == "next"][0]
    assert [e["response"]["etag"] for e in fx.get(nxt)["entry"]] == ['W/"1"']
    since = hist["entry"][1]["response"]["lastModified"]
    assert [e["response"]["etag"] for e in fx.get("Patient/p1/_history?_since=" + since)["entry"]] == \
        ['W/"3"', 'W/"2"']
    # A PUT after a delete creates again (201), with the next version number.
    st, h, _ = fx.request("PUT", "Patient/p1", patient("p1"))
    assert st == 201 and h["etag"] == 'W/"4"'


def test_lexemes_are_kept_byte_for_byte(srv, fx):
    st, _, b = fx.request("PUT", "Observation/o1", OBS_TEXT)
    assert st == 201
    for body in (b, fx.request("GET", "Observation/o1")[2],
                 fx.request("GET", "Observation?_id=o1")[2],
                 fx.request("GET", "Observation/o1/_history/1")[2]):
        text = body.decode()
        for lex in LEXEMES:
            assert lex in text, (lex, text)
        assert '"id":"o1"' in text and '"versionId":"1"' in text
    # Exported NDJSON keeps them too, one resource per line.
    hl = srv.boto3()
    jid = hl.start_fhir_export_job(DatastoreId=fx.sid, DataAccessRoleArn=ROLE, OutputDataConfig={
        "S3Configuration": {"S3Uri": "s3://out-bucket/x/", "KmsKeyId": "alias/aws/s3"}})["JobId"]
    path = os.path.join(srv.state, "s3", "out-bucket", "x", "%s-FHIR_EXPORT-%s" % (fx.sid, jid), "Observation.ndjson")
    lines = open(path).read().splitlines()
    assert len(lines) == 1 and all(lex in lines[0] for lex in LEXEMES)
    assert json.loads(lines[0])["valueQuantity"]["value"] == 172.3


def test_stale_if_match_is_412_and_changes_nothing(fx):
    fx.request("PUT", "Patient/p1", patient("p1"))
    fx.request("PUT", "Patient/p1", patient("p1", gender="male"))
    before = fx.request("GET", "Patient/p1")[2]
    for method, body in (("PUT", patient("p1", gender="other")), ("DELETE", b"")):
        st, _, b = fx.request(method, "Patient/p1", body, {"If-Match": 'W/"1"'})
        assert st == 412, b
        assert json.loads(b)["resourceType"] == "OperationOutcome"
    assert fx.request("GET", "Patient/p1")[2] == before
    assert fx.get("Patient/p1/_history")["total"] == 2
    st, h, _ = fx.request("PUT", "Patient/p1", patient("p1", gender="other"), {"If-Match": 'W/"2"'})
    assert st == 200 and h["etag"] == 'W/"3"'
    assert fx.request("DELETE", "Patient/p1", b"", {"If-Match": 'W/"3"'})[0] == 204


@pytest.fixture
def cohort(fx):
    res = [patient("pa", "Okafor", "Ana", "female", "1980-04-02"),
           patient("pb", "Okafor-Smith", "Benjamin", "male", "1975-12-30"),
           patient("pc", "Schmidt", "Chloe", "female", "2001-07-15"),
           {"resourceType": "Patient", "id": "pd", "gender": "male"}]
    for i, (pid, code, val, date) in enumerate([("pa", "8302-2", "172.30", "2020-01-05T10:00:00Z"),
                                                ("pa", "29463-7", "70.10", "2021-03-01T10:00:00Z"),
                                                ("pb", "8302-2", "180.00", "2022-06-01T10:00:00Z")]):
        res.append('{"resourceType":"Observation","id":"o%d","status":"%s","category":[{"coding":[{'
                   '"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],'
                   '"code":{"coding":[{"system":"http://loinc.org","code":"%s"}]},"subject":{"reference":'
                   '"Patient/%s"},"effectiveDateTime":"%s","valueQuantity":{"value":%s}}'
                   % (i, "final" if i < 2 else "preliminary", code, pid, date, val))
    res.append({"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/pa"},
                "code": {"coding": [{"system": "http://snomed.info/sct", "code": "44054006"}]},
                "clinicalStatus": {"coding": [{"code": "active"}]}, "onsetDateTime": "2019-02-03"})
    res.append({"resourceType": "Encounter", "id": "e1", "status": "finished",
                "subject": {"reference": "Patient/pb"},
                "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                "period": {"start": "2022-06-01T09:00:00Z", "end": "2022-06-01T11:00:00Z"}})
    r = load(fx.srv, fx.sid, res)
    assert r["loaded"] == len(res) and r["failed"] == 0
    return fx


@pytest.mark.parametrize("query,want", [
    ("Patient?name=okaf", ["pa", "pb"]),
    ("Patient?name=benj", ["pb"]),
    ("Patient?family:exact=Okafor", ["pa"]),
    ("Patient?family:exact=okafor", []),
    ("Patient?family:contains=smi", ["pb"]),
    ("Patient?given=chl", ["pc"]),
    ("Patient?gender=male", ["pb", "pd"]),
    ("Patient?gender=male,female&_sort=_id", ["pa", "pb", "pc", "pd"]),
    ("Patient?birthdate=1980", ["pa"]),
    ("Patient?birthdate=ge1980-01-01", ["pa", "pc"]),
    ("Patient?birthdate=lt1980-01-01", ["pb"]),
    ("Patient?birthdate=ne1980-04-02", ["pb", "pc"]),
    ("Patient?birthdate:missing=true", ["pd"]),
    ("Patient?name:missing=false&gender=female", ["pa", "pc"]),
    ("Patient?identifier=urn:mrn|mrn-pc", ["pc"]),
    ("Patient?identifier=mrn-pa", ["pa"]),
    ("Patient?identifier=other|mrn-pa", []),
    ("Patient?_id=pa,pc", ["pa", "pc"]),
    ("Patient?_sort=-_id", ["pd", "pc", "pb", "pa"]),
    ("Observation?code=http://loinc.org|8302-2", ["o0", "o2"]),
    ("Observation?code=8302-2&subject=Patient/pb", ["o2"]),
    ("Observation?patient=pa", ["o0", "o1"]),
    ("Observation?subject=pa&date=gt2020-12-31", ["o1"]),
    ("Observation?date=le2021-03-01&date=ge2020-01-05", ["o0", "o1"]),
    ("Observation?date=2020-01", ["o0"]),
    ("Observation?status=preliminary", ["o2"]),
    ("Observation?category=vital-signs&status=final", ["o0", "o1"]),
    ("Observation?category=http://terminology.hl7.org/CodeSystem/observation-category|vital-signs", ["o0", "o1", "o2"]),
    ("Condition?patient=Patient/pa&clinical-status=active", ["c1"]),
    ("Condition?code=http://snomed.info/sct|44054006&onset-date=2019", ["c1"]),
    ("Encounter?date=2022-06-01&class=AMB&status=finished&subject=pb", ["e1"]),
    ("Patient?unknownparam=1&gender=female", ["pa", "pc"]),
])
def test_search_parameters(cohort, query, want):
    b = cohort.get(query)
    assert b["resourceType"] == "Bundle" and b["type"] == "searchset"
    got = ids(b)
    assert (got if "_sort" in query else sorted(got)) == want
    assert b["total"] == len(want)


def test_search_controls(cohort):
    f = cohort
    # _lastUpdated with prefixes and _sort.
    f.request("PUT", "Patient/pc", patient("pc", "Schmidt", "Chloe", "female", "2001-07-15"))
    lu = f.get("Patient/pc")["meta"]["lastUpdated"]
    assert ids(f.get("Patient?_lastUpdated=ge" + lu)) == ["pc"]
    assert sorted(ids(f.get("Patient?_lastUpdated=lt" + lu))) == ["pa", "pb", "pd"]
    assert ids(f.get("Patient?_sort=-_lastUpdated"))[0] == "pc"
    # Strict handling: an unknown parameter is 400, a known one is fine.
    st, _, b = f.request("GET", "Patient?bogus=1", headers={"Prefer": "handling=strict"})
    assert st == 400 and "bogus" in json.loads(b)["issue"][0]["diagnostics"]
    assert f.request("GET", "Patient?gender=male", headers={"Prefer": "handling=strict"})[0] == 200
    assert f.request("GET", "Patient?_sort=gender")[0] == 400
    assert f.request("GET", "Patient?birthdate=notadate")[0] == 400
    assert f.request("GET", "Patient?gender:contains=x")[0] == 400
    # _include and _revinclude.
    b = f.get("Observation?_id=o0&_include=Observation:subject")
    modes = [(e["resource"]["id"], e["search"]["mode"]) for e in b["entry"]]
    assert modes == [("o0", "match"), ("pa", "include")]
    b = f.get("Patient?_id=pa&_revinclude=Observation:subject&_revinclude=Condition:patient")
    modes = sorted((e["resource"]["id"], e["search"]["mode"]) for e in b["entry"])
    assert modes == [("c1", "include"), ("o0", "include"), ("o1", "include"), ("pa", "match")]
    assert b["total"] == 1
    # POST _search with a form body; GET pages always; parameters in both places -> 400.
    st, _, body = f.request("POST", "Patient/_search", "gender=female&_count=1",
                            {"Content-Type": "application/x-www-form-urlencoded"})
    b = json.loads(body)
    assert st == 200 and b["total"] == 2 and len(b["entry"]) == 1
    nxt = [l["url"] for l in b["link"] if l["relation"] == "next"][0]
    assert "female" not in nxt  # the query stays in the opaque token
    assert len(f.get(nxt)["entry"]) == 1
    assert f.request("POST", "Patient/_search?gender=male", "gender=female",
                     {"Content-Type": "application/x-www-form-urlencoded"})[0] == 400
    # _count: 0 gives the total only, above 100 is capped at 100.
    b = f.get("Patient?_count=0")
    assert b["total"] == 4 and "entry" not in b or b["entry"] == []
    assert f.request("GET", "Patient?page=garbage!")[0] == 400
    # $everything: the patient and what refers to it.
    b = f.get("Patient/pa/$everything")
    assert sorted(e["resource"]["id"] for e in b["entry"]) == ["c1", "o0", "o1", "pa"]
    f.get("Patient/zz/$everything", want=404)


def test_count_is_capped_and_paging_is_stable_under_writes(fx):
    load(fx.srv, fx.sid, [patient("p%03d" % i) for i in range(250)])
    b = fx.get("Patient?_count=500")
    assert len(b["entry"]) == 100 and b["total"] == 250
    b = fx.get("Patient?_count=40&gender=female")
    seen = ids(b)
    pages = 1
    n = 0
    while True:
        # Between pages: create, update and delete resources, some not yet seen.
        fx.request("PUT", "Patient/new%d" % n, patient("new%d" % n))
        fx.request("PUT", "Patient/p%03d" % (249 - n), patient("p%03d" % (249 - n), gender="female"))
        fx.request("DELETE", "Patient/p%03d" % (200 - n))
        n += 1
        nxt = [l["url"] for l in b["link"] if l["relation"] == "next"]
        if not nxt:
            break
        b = fx.get(nxt[0])
        pages += 1
        seen += ids(b)
    assert pages == 7
    assert len(seen) == len(set(seen)) == 250
    assert set(seen) == {"p%03d" % i for i in range(250)}
    # A new search sees the writes.
    b = fx.get("Patient?_count=1")
    assert b["total"] == 250 + n - n


def test_paging_while_another_thread_writes(fx):
    load(fx.srv, fx.sid, [patient("q%04d" % i) for i in range(1000)])
    stop = threading.Event()

    def writer():
        w = Fhir(fx.srv, fx.base)
        i = 0
        while not stop.is_set():
            w.request("PUT", "Patient/q%04d" % (i * 7 % 1000), patient("q%04d" % (i * 7 % 1000), given="X"))
            w.request("POST", "Patient", patient("ignored"))
            i += 1
        w.close()
    first = fx.get("Patient?_count=100&_sort=_lastUpdated")  # the search begins here
    t = threading.Thread(target=writer)
    t.start()
    try:
        entries, pages = fx.search_all([l["url"] for l in first["link"] if l["relation"] == "next"][0])
    finally:
        stop.set()
        t.join()
    got = ids(first) + ids(entries)
    pages += 1
    assert (pages, len(got), len(set(got))) == (10, 1000, 1000)


def test_batch_and_transaction(fx):
    tx = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:11111111-1111-1111-1111-111111111111",
         "resource": patient("tmp"), "request": {"method": "POST", "url": "Patient"}},
        {"resource": json.loads(OBS_TEXT) | {"id": "tx1", "subject": {"reference": "urn:uuid:11111111-1111-1111-1111-111111111111"}},
         "request": {"method": "PUT", "url": "Observation/tx1"}}]}
    body = json.dumps(tx).replace('"value": 172.3', '"value": 172.30')
    r = fx.json("POST", "", body)
    assert r["type"] == "transaction-response"
    assert [e["response"]["status"] for e in r["entry"]] == ["201 Created", "201 Created"]
    pid = r["entry"][0]["resource"]["id"]
    text = fx.request("GET", "Observation/tx1")[2].decode()
    assert '"reference": "Patient/%s"' % pid in text and '"value": 172.30' in text
    # A transaction with a stale ifMatch changes nothing.
    tx2 = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": patient("t2"), "request": {"method": "PUT", "url": "Patient/t2"}},
        {"request": {"method": "DELETE", "url": "Observation/tx1", "ifMatch": 'W/"7"'}}]}
    assert fx.request("POST", "", tx2)[0] == 412
    tx3 = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": patient("t2"), "request": {"method": "PUT", "url": "Patient/t2"}},
        {"resource": patient("other"), "request": {"method": "PUT", "url": "Patient/t3"}}]}
    assert fx.request("POST", "", tx3)[0] == 400
    fx.get("Patient/t2", want=404)
    fx.get("Observation/tx1")
    # A batch: each entry on its own.
    batch = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"resource": patient("b1"), "request": {"method": "PUT", "url": "Patient/b1"}},
        {"request": {"method": "GET", "url": "Patient/none"}},
        {"request": {"method": "DELETE", "url": "Observation/tx1"}},
        {"request": {"method": "GET", "url": "Patient/b1"}}]}
    r = fx.json("POST", "", batch)
    assert r["type"] == "batch-response"
    assert [e["response"]["status"] for e in r["entry"]] == ["201 Created", "404", "204 No Content", "200 OK"]
    fx.get("Observation/tx1", want=404)
    too_many = {"resourceType": "Bundle", "type": "batch",
                "entry": [{"request": {"method": "GET", "url": "Patient/b1"}}] * 161}
    assert fx.request("POST", "", too_many)[0] == 400
    calls = fx.srv.counters()["calls"]
    assert calls["fhir.transaction"] == {"200": 1, "412": 1, "400": 1} and calls["fhir.batch"] == {"200": 1, "400": 1}


def test_json_patch_keeps_lexemes(fx):
    fx.request("PUT", "Observation/o1", OBS_TEXT)
    patch = [{"op": "replace", "path": "/status", "value": "amended"},
             {"op": "add", "path": "/valueQuantity/comparator", "value": "<"},
             {"op": "test", "path": "/valueQuantity/unit", "value": "cm"}]
    st, h, b = fx.request("PATCH", "Observation/o1", patch, {"Content-Type": "application/json-patch+json"})
    assert st == 200 and h["etag"] == 'W/"2"'
    text = b.decode()
    assert '"status":"amended"' in text and "172.30" in text and "0.10" in text and "1E+2" in text
    bad = [{"op": "test", "path": "/status", "value": "final"}]
    assert fx.request("PATCH", "Observation/o1", bad, {"Content-Type": "application/json-patch+json"})[0] == 422
    assert fx.get("Observation/o1")["meta"]["versionId"] == "2"


def test_auth_like_the_control_plane(srv, fx):
    fx.request("PUT", "Patient/p1", patient("p1"))
    plain = Fhir(srv, fx.base, sign=False)
    st, _, b = plain.request("GET", "Patient/p1")
    assert st == 403 and json.loads(b)["resourceType"] == "OperationOutcome"

    def tamper_path(req):
        req["target"] = req["target"].replace("p1", "p2")

    def tamper_body(req):
        req["body"] = req["body"][:-2] + b"X}"
    assert fx.request("GET", "Patient/p1", mutate=tamper_path)[0] == 403
    assert fx.request("PUT", "Patient/p1", patient("p1"), mutate=tamper_body)[0] == 403
    assert fx.request("GET", "Patient/p1")[0] == 200
    # A scope for another service is refused.
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    req = botocore.awsrequest.AWSRequest(method="GET", url=fx.base + "Patient/p1")
    botocore.auth.SigV4Auth(botocore.credentials.Credentials(srv.access_key, srv.secret_key),
                            "s3", srv.region).add_auth(req)
    st, _, _ = plain.request("GET", "Patient/p1", headers=dict(req.headers.items()))
    assert st == 403
    # Stores that are not ACTIVE do not answer.
    srv.boto3().delete_fhir_datastore(DatastoreId=fx.sid)
    assert fx.request("GET", "Patient/p1")[0] == 404
    plain.close()


def test_session_tokens_and_expiring_keys(srv, fx):
    import botocore.credentials
    srv.admin("keys", {"keys": [{"access_key": "AKIDTMP", "secret_key": "s", "session_token": "tok"},
                                {"access_key": "AKIDOLD", "secret_key": "s", "session_token": "t1",
                                 "expires": time.time() - 1}]})
    fx.creds = botocore.credentials.Credentials("AKIDTMP", "s", "tok")
    assert fx.request("PUT", "Patient/p1", patient("p1"))[0] == 201
    fx.creds = botocore.credentials.Credentials("AKIDTMP", "s")
    st, _, b = fx.request("GET", "Patient/p1")
    assert st == 403 and "UnrecognizedClientException" in json.loads(b)["issue"][0]["diagnostics"]
    fx.creds = botocore.credentials.Credentials("AKIDOLD", "s", "t1")
    st, _, b = fx.request("GET", "Patient/p1")
    assert st == 403 and "ExpiredTokenException" in json.loads(b)["issue"][0]["diagnostics"]


def test_curl_aws_sigv4(srv, fx):
    fx.request("PUT", "Observation/o1", OBS_TEXT)
    r = subprocess.run(["curl", "-sS", "--aws-sigv4", "aws:amz:%s:healthlake" % srv.region,
                        "--user", "%s:%s" % (srv.access_key, srv.secret_key),
                        "-H", "Accept: application/json", "-w", "\n%{http_code}",
                        fx.base + "Observation/o1"], capture_output=True, text=True, timeout=30)
    body, code = r.stdout.rsplit("\n", 1)
    assert code == "200", r
    assert all(lex in body for lex in LEXEMES)
    r = subprocess.run(["curl", "-sS", "--aws-sigv4", "aws:amz:%s:healthlake" % srv.region,
                        "--user", "%s:%s" % (srv.access_key, srv.secret_key), "-w", "\n%{http_code}",
                        fx.base + "Observation?code=" + urllib.parse.quote("http://loinc.org|8302-2")],
                       capture_output=True, text=True, timeout=30)
    body, code = r.stdout.rsplit("\n", 1)
    assert code == "200" and json.loads(body)["total"] == 1


def test_counters_log_faults_and_quota(srv, fx):
    srv.reset_counters()
    fx.request("PUT", "Patient/p1", patient("p1"))
    fx.request("GET", "Patient/p1")
    fx.request("GET", "Patient/p9")
    fx.request("GET", "Patient?gender=female")
    c = srv.counters()["calls"]
    assert c["fhir.update"] == {"201": 1} and c["fhir.read"] == {"200": 1, "404": 1}
    assert c["fhir.search"] == {"200": 1}
    log = srv.admin("log")["log"]
    assert [(e["op"], e["method"], e["path"].rsplit("/r4/", 1)[1], e["query"]) for e in log] == [
        ("fhir.update", "PUT", "Patient/p1", ""), ("fhir.read", "GET", "Patient/p1", ""),
        ("fhir.read", "GET", "Patient/p9", ""), ("fhir.search", "GET", "Patient", "gender=female")]
    # Faults select a plane or one interaction.
    srv.faults(throttle=1.0, operations=["fhir.read"], first_n=1)
    st, _, b = fx.request("GET", "Patient/p1")
    assert st == 429 and json.loads(b)["issue"][0]["code"] == "throttled"
    assert fx.request("GET", "Patient/p1")[0] == 200
    srv.faults(error5xx=1.0, operations=["fhir.*"], first_n=1, error_status=503)
    assert fx.request("GET", "Patient?gender=male")[0] == 503
    srv.faults(access_denied=1.0, operations=["fhir.update"], first_n=1)
    assert fx.request("PUT", "Patient/p1", patient("p1", gender="male"))[0] == 403
    assert fx.get("Patient/p1")["meta"]["versionId"] == "1"
    srv.faults(drop_after_commit=1.0, operations=["fhir.update"], first_n=1)
    fx.retry = False
    with pytest.raises(Exception):
        # The write happens, then the connection drops without an answer.
        fx.request("PUT", "Patient/p1", patient("p1", gender="male"))
    fx.retry = True
    assert fx.get("Patient/p1")["meta"]["versionId"] == "2"
    srv.faults(operations=["CreateFHIRDatastore"], throttle=1.0)
    assert fx.request("GET", "Patient/p1")[0] == 200  # the control plane's faults leave FHIR alone
    # Quota: 100 requests/s for FHIR.
    srv.faults(quota=True)
    t0 = time.monotonic()
    ok = 0
    for _ in range(5000):
        st = fx.request("GET", "Patient/p1")[0]
        if st == 429:
            break
        ok += 1
    elapsed = time.monotonic() - t0
    assert st == 429 and 100 <= ok <= 100 + 100 * elapsed + 1, (ok, elapsed)
    srv.faults()


def test_import_then_export_through_the_control_plane(server_factory):
    srv = server_factory(*NODELAY, "--export-max-lines", "2")
    sid, ep = new_store(srv)
    f = Fhir(srv, ep)
    d = os.path.join(srv.state, "s3", "in-bucket", "batch")
    os.makedirs(d)
    with open(os.path.join(d, "a.ndjson"), "w") as out:
        out.write(OBS_TEXT.replace("\n", "").replace('"o1"', '"imp1"') + "\n")
        for i in range(4):
            out.write(json.dumps(patient("ip%d" % i)) + "\n")
        out.write('{"resourceType":"Nope","id":"x"}\n')
    hl = srv.boto3()
    jid = hl.start_fhir_import_job(DatastoreId=sid, DataAccessRoleArn=ROLE,
                                   InputDataConfig={"S3Uri": "s3://in-bucket/batch/"},
                                   JobOutputDataConfig={"S3Configuration": {"S3Uri": "s3://rep-bucket/",
                                                                            "KmsKeyId": "alias/aws/s3"}})["JobId"]
    # (JobProgressReport is newer than this botocore's model: read the raw answer.)
    st, _, j = raw_call(srv.url, "DescribeFHIRImportJob", {"DatastoreId": sid, "JobId": jid},
                        srv.access_key, srv.secret_key, srv.region)
    j = j["ImportJobProperties"]
    assert j["JobStatus"] == "COMPLETED_WITH_ERRORS"
    assert j["JobProgressReport"]["TotalNumberOfResourcesImported"] == 5
    assert j["JobProgressReport"]["TotalNumberOfResourcesWithCustomerError"] == 1
    text = f.request("GET", "Observation/imp1")[2].decode()
    assert all(lex in text for lex in LEXEMES)
    assert f.get("Patient?_count=1")["total"] == 4
    jid = hl.start_fhir_export_job(DatastoreId=sid, DataAccessRoleArn=ROLE, OutputDataConfig={
        "S3Configuration": {"S3Uri": "s3://out-bucket/e", "KmsKeyId": "alias/aws/s3"}})["JobId"]
    assert hl.describe_fhir_export_job(DatastoreId=sid, JobId=jid)["ExportJobProperties"]["JobStatus"] == "COMPLETED"
    d = os.path.join(srv.state, "s3", "out-bucket", "e", "%s-FHIR_EXPORT-%s" % (sid, jid))
    assert sorted(os.listdir(d)) == ["Observation.ndjson", "Patient-2.ndjson", "Patient.ndjson"]
    pats = [json.loads(l) for fn in ("Patient.ndjson", "Patient-2.ndjson") for l in open(os.path.join(d, fn))]
    assert [p["id"] for p in pats] == ["ip0", "ip1", "ip2", "ip3"]
    assert all(lex in open(os.path.join(d, "Observation.ndjson")).read() for lex in LEXEMES)
    f.close()


def test_state_survives_restart_and_kill(server_factory, tmp_path):
    state = str(tmp_path / "st")
    srv = server_factory(*NODELAY, state=state)
    sid, ep = new_store(srv)
    f = Fhir(srv, ep)
    f.request("PUT", "Observation/o1", OBS_TEXT)
    f.request("PUT", "Patient/p1", patient("p1"))
    f.request("PUT", "Patient/p1", patient("p1", gender="male"))
    f.request("DELETE", "Observation/o1")
    for i in range(5):
        f.request("PUT", "Patient/r%d" % i, patient("r%d" % i, gender="male"))
    first = f.get("Patient?gender=male&_count=2")
    nxt = [l["url"] for l in first["link"] if l["relation"] == "next"][0]
    f.close()
    srv.proc.kill()
    srv.proc.wait()
    with open(os.path.join(state, "resources", sid + ".fhir"), "ab") as torn:
        torn.write(b'{"t":"Patient","i":"half"')  # a write cut short by the kill
    srv2 = server_factory(*NODELAY, state=state)
    ep2 = "%s/datastore/%s/r4/" % (srv2.url, sid)
    f = Fhir(srv2, ep2)
    # Writes after the search began, then its later pages: computed again from the
    # snapshot (the result cache died with the server), each match exactly once.
    f.request("PUT", "Patient/r0", patient("r0", gender="female"))
    f.request("DELETE", "Patient/r3")
    f.request("PUT", "Patient/r9", patient("r9", gender="male"))
    got = ids(first)
    entries, _ = f.search_all(nxt.replace(srv.url, srv2.url))
    got += ids(entries)
    assert sorted(got) == ["p1", "r0", "r1", "r2", "r3", "r4"] and len(got) == 6
    assert f.get("Patient/p1")["meta"]["versionId"] == "2"
    assert f.get("Patient?gender=male")["total"] == 5
    f.get("Observation/o1", want=404)
    assert all(lex in f.request("GET", "Observation/o1/_history/1")[2].decode() for lex in LEXEMES)
    assert f.request("PUT", "Patient/p2", patient("p2"))[0] == 201
    f.close()
