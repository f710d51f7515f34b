"""Import and export jobs of healthlake-local on real NDJSON files (S3 as
files under the state directory), and the SYNTHEA preload."""
import json
import os
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "scripts"))

from hllocal.client import raw_call  # noqa: E402

ROLE = "arn:aws:iam::123456789012:role/HealthLakeImport"
KMS = "alias/aws/s3"
NODELAY = ("--create-delay", "0", "--delete-delay", "0", "--job-delay", "0", "--strict")


@pytest.fixture
def srv(server_factory):
    s = server_factory(*NODELAY)
    yield s
    assert "strict_violations" not in s.counters()


def call(srv, op, body):
    st, _, b = raw_call(srv.url, op, body, srv.access_key, srv.secret_key, srv.region)
    assert st == 200, (op, b)
    return b


def put(srv, uri, lines):
    bucket, _, key = uri[len("s3://"):].partition("/")
    path = os.path.join(srv.state, "s3", bucket, key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("".join(l if isinstance(l, str) else json.dumps(l) for l in lines))


def s3_read(srv, uri):
    bucket, _, key = uri[len("s3://"):].partition("/")
    with open(os.path.join(srv.state, "s3", bucket, key)) as f:
        return [json.loads(l) for l in f if l.strip()]


def new_store(srv, **kw):
    return call(srv, "CreateFHIRDatastore", dict(DatastoreTypeVersion="R4", **kw))["DatastoreId"]


def start_import(srv, sid, uri, out="s3://report-bucket/imports/"):
    return call(srv, "StartFHIRImportJob", {
        "DatastoreId": sid, "DataAccessRoleArn": ROLE, "InputDataConfig": {"S3Uri": uri},
        "JobOutputDataConfig": {"S3Configuration": {"S3Uri": out, "KmsKeyId": KMS}}})["JobId"]


def start_export(srv, sid, out="s3://export-bucket/out/"):
    return call(srv, "StartFHIRExportJob", {
        "DatastoreId": sid, "DataAccessRoleArn": ROLE,
        "OutputDataConfig": {"S3Configuration": {"S3Uri": out, "KmsKeyId": KMS}}})["JobId"]


def describe(srv, kind, sid, jid):
    op = "DescribeFHIRImportJob" if kind == "import" else "DescribeFHIRExportJob"
    key = "ImportJobProperties" if kind == "import" else "ExportJobProperties"
    return call(srv, op, {"DatastoreId": sid, "JobId": jid})[key]


def test_import_then_export_round_trip(srv):
    sid = new_store(srv)
    pats = [{"resourceType": "Patient", "id": "p%d" % i, "gender": "female"} for i in range(3)]
    obs = [{"resourceType": "Observation", "id": "o1", "status": "final",
            "subject": {"reference": "Patient/p0"}}]
    put(srv, "s3://in-bucket/batch1/patients.ndjson", [json.dumps(p) + "\n" for p in pats])
    put(srv, "s3://in-bucket/batch1/nested/obs.ndjson", [json.dumps(o) + "\n" for o in obs])
    put(srv, "s3://in-bucket/batch1/readme.txt", ["not ndjson, ignored\n"])
    put(srv, "s3://in-bucket/batch10/other.ndjson", [json.dumps({"resourceType": "Patient", "id": "z"}) + "\n"])
    jid = start_import(srv, sid, "s3://in-bucket/batch1/")
    j = describe(srv, "import", sid, jid)
    assert j["JobStatus"] == "COMPLETED" and "EndTime" in j and "Message" not in j
    p = j["JobProgressReport"]
    assert p["TotalNumberOfScannedFiles"] == 2
    assert p["TotalNumberOfResourcesScanned"] == 4 and p["TotalNumberOfResourcesImported"] == 4
    assert p["TotalNumberOfResourcesWithCustomerError"] == 0
    assert p["TotalNumberOfFilesReadWithCustomerError"] == 0
    assert p["TotalNumberOfImportedFiles"] == 2 and p["TotalSizeOfScannedFilesInMB"] > 0
    report = "s3://report-bucket/imports/%s-FHIR_IMPORT-%s/" % (sid, jid)
    assert len(s3_read(srv, report + "SUCCESS/SUCCESS.ndjson")) == 4
    with open(os.path.join(srv.state, "s3", "report-bucket", "imports",
                           "%s-FHIR_IMPORT-%s" % (sid, jid), "manifest.json")) as f:
        man = json.load(f)
    assert man["inputDataConfig"]["s3Uri"] == "s3://in-bucket/batch1/"
    assert man["outputDataConfig"]["s3Uri"] == report
    assert man["successOutput"]["successOutputS3Uri"] == report + "SUCCESS/"
    assert man["numberOfResourcesScanned"] == 4 and man["numberOfResourcesImportedSuccessfully"] == 4
    assert man["numberOfScannedFiles"] == 2 and man["numberOfResourcesWithCustomerError"] == 0
    assert s3_read(srv, report + "FAILURE/FAILURE.ndjson") == []
    # A second import updates a resource (last version wins in the export).
    put(srv, "s3://in-bucket/batch2/p.ndjson",
        [json.dumps({"resourceType": "Patient", "id": "p1", "gender": "male"}) + "\n"])
    start_import(srv, sid, "s3://in-bucket/batch2/p.ndjson")
    ejid = start_export(srv, sid)
    e = describe(srv, "export", sid, ejid)
    assert e["JobStatus"] == "COMPLETED"
    base = "s3://export-bucket/out/%s-FHIR_EXPORT-%s/" % (sid, ejid)
    d = os.path.join(srv.state, "s3", "export-bucket", "out", "%s-FHIR_EXPORT-%s" % (sid, ejid))
    assert sorted(os.listdir(d)) == ["Observation.ndjson", "Patient.ndjson"]
    exported = {r["id"]: r for r in s3_read(srv, base + "Patient.ndjson")}
    assert sorted(exported) == ["p0", "p1", "p2"]
    assert exported["p1"]["gender"] == "male"
    # The store adds meta (versionId, lastUpdated) as the service does; the rest is as imported.
    got = s3_read(srv, base + "Observation.ndjson")
    assert [r["meta"]["versionId"] for r in got] == ["1"]
    assert [{k: v for k, v in r.items() if k != "meta"} for r in got] == obs
    assert exported["p1"]["meta"]["versionId"] == "2" and exported["p0"]["meta"]["versionId"] == "1"


def test_prefix_without_trailing_slash_is_an_s3_prefix(srv):
    sid = new_store(srv)
    put(srv, "s3://in-bucket/data/a.ndjson", ['{"resourceType":"Patient","id":"a"}\n'])
    put(srv, "s3://in-bucket/data-2.ndjson", ['{"resourceType":"Patient","id":"b"}\n'])
    jid = start_import(srv, sid, "s3://in-bucket/data")
    assert describe(srv, "import", sid, jid)["JobProgressReport"]["TotalNumberOfScannedFiles"] == 2


def test_bad_lines_complete_with_errors(srv):
    sid = new_store(srv)
    put(srv, "s3://in-bucket/mixed/a.ndjson", [
        '{"resourceType":"Patient","id":"ok1"}\n',
        '{"resourceType":"Patient"}\n',            # no id
        '{"id":"x"}\n',                            # no resourceType
        '[1,2,3]\n',                               # not an object
        '{"resourceType":"Patient","id":"ok2"\n',  # broken JSON
        '\n',
        '{"resourceType":"Encounter","id":"e1"}\n'])
    put(srv, "s3://in-bucket/mixed/b.ndjson", ['{"resourceType":"Patient","id":"ok3"}\n'])
    jid = start_import(srv, sid, "s3://in-bucket/mixed/")
    j = describe(srv, "import", sid, jid)
    assert j["JobStatus"] == "COMPLETED_WITH_ERRORS"
    assert j["Message"]
    p = j["JobProgressReport"]
    assert p["TotalNumberOfResourcesScanned"] == 7
    assert p["TotalNumberOfResourcesImported"] == 3
    assert p["TotalNumberOfResourcesWithCustomerError"] == 4
    assert p["TotalNumberOfFilesReadWithCustomerError"] == 1
    fails = s3_read(srv, "s3://report-bucket/imports/%s-FHIR_IMPORT-%s/FAILURE/FAILURE.ndjson" % (sid, jid))
    assert sorted(f["line"] for f in fails) == [2, 3, 4, 5]
    assert all(f["file"] == "s3://in-bucket/mixed/a.ndjson" for f in fails)


def test_missing_input_fails_with_message(srv):
    sid = new_store(srv)
    jid = start_import(srv, sid, "s3://no-such-bucket/x/")
    j = describe(srv, "import", sid, jid)
    assert j["JobStatus"] == "FAILED" and "no-such-bucket" in j["Message"]
    os.makedirs(os.path.join(srv.state, "s3", "empty-bucket"))
    jid = start_import(srv, sid, "s3://empty-bucket/nothing/")
    j = describe(srv, "import", sid, jid)
    assert j["JobStatus"] == "FAILED" and "s3://empty-bucket/nothing/" in j["Message"]
    # Messages always fit the model's Message pattern (strict mode checks every answer).
    jid = start_import(srv, sid, "s3://empty-bucket/odd,name(1)~/")
    j = describe(srv, "import", sid, jid)
    assert j["JobStatus"] == "FAILED" and "odd_name_1__" in j["Message"]


def test_synthea_preload_is_deterministic_fhir(server_factory):
    srv = server_factory(*NODELAY, "--synthea-patients", "4")
    a = new_store(srv, PreloadDataConfig={"PreloadDataType": "SYNTHEA"})
    b = new_store(srv, PreloadDataConfig={"PreloadDataType": "SYNTHEA"})
    empty = new_store(srv)
    outs = {}
    for sid in (a, b, empty):
        jid = start_export(srv, sid)
        d = os.path.join(srv.state, "s3", "export-bucket", "out", "%s-FHIR_EXPORT-%s" % (sid, jid))
        outs[sid] = {fn: open(os.path.join(d, fn)).read() for fn in sorted(os.listdir(d))}
    assert outs[empty] == {}
    assert outs[a] == outs[b]
    assert sorted(outs[a]) == ["Condition.ndjson", "Encounter.ndjson", "Observation.ndjson", "Patient.ndjson"]
    res = {k: [json.loads(l) for l in v.splitlines()] for k, v in outs[a].items()}
    pats = res["Patient.ndjson"]
    assert len(pats) == 4
    pids = {p["id"] for p in pats}
    for p in pats:
        assert p["resourceType"] == "Patient" and p["gender"] in ("male", "female")
        assert p["name"][0]["family"] and len(p["birthDate"]) == 10
    encs = {e["id"] for e in res["Encounter.ndjson"]}
    for kind in ("Encounter.ndjson", "Condition.ndjson", "Observation.ndjson"):
        for r in res[kind]:
            assert r["subject"]["reference"].split("/")[1] in pids
            if kind != "Encounter.ndjson":
                assert r["encounter"]["reference"].split("/")[1] in encs
    for o in res["Observation.ndjson"]:
        assert o["status"] == "final" and o["code"]["coding"][0]["system"] == "http://loinc.org"
        assert isinstance(o["valueQuantity"]["value"], float)
    # Default cohort size.
    srv2 = server_factory(*NODELAY)
    c = new_store(srv2, PreloadDataConfig={"PreloadDataType": "SYNTHEA"})
    jid = start_export(srv2, c)
    assert len(s3_read(srv2, "s3://export-bucket/out/%s-FHIR_EXPORT-%s/Patient.ndjson" % (c, jid))) == 10


def test_one_job_at_a_time_per_store_fifo(server_factory):
    """The service runs one import or export job at a time per data store; later
    ones are QUEUED and start in submission order (FIFO) as earlier ones finish."""
    import time
    srv = server_factory("--create-delay", "0", "--job-delay", "0.4", "--strict")
    sid = new_store(srv)
    other = new_store(srv)
    put(srv, "s3://in-bucket/q/a.ndjson", ['{"resourceType":"Patient","id":"a"}\n'])
    j1 = start_import(srv, sid, "s3://in-bucket/q/")
    j2 = start_export(srv, sid)
    j3 = start_import(srv, sid, "s3://in-bucket/q/")
    j4 = start_export(srv, other)  # another store is not blocked
    st = lambda kind, jid, s=sid: describe(srv, kind, s, jid)["JobStatus"]
    assert st("import", j1) in ("SUBMITTED", "IN_PROGRESS")
    assert st("export", j2) == "QUEUED" and st("import", j3) == "QUEUED"
    assert st("export", j4, other) in ("SUBMITTED", "IN_PROGRESS")
    listed = call(srv, "ListFHIRImportJobs", {"DatastoreId": sid, "JobStatus": "QUEUED"})
    assert [j["JobId"] for j in listed["ImportJobPropertiesList"]] == [j3]
    deadline = time.time() + 10
    order = []
    while len(order) < 3:
        assert time.time() < deadline
        for kind, jid in (("import", j1), ("export", j2), ("import", j3)):
            if jid not in order and st(kind, jid) == "COMPLETED":
                order.append(jid)
        time.sleep(0.02)
    assert order == [j1, j2, j3]
    ends = [describe(srv, k, sid, j)["EndTime"] for k, j in (("import", j1), ("export", j2), ("import", j3))]
    assert ends[0] < ends[1] < ends[2]
    assert ends[2] - ends[0] >= 0.7  # each ran its own job delay after the one before
