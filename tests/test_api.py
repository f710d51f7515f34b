"""libhealthlake end to end: every operation through tests/hlcli against
healthlake-local over HTTP and HTTPS, cross-checked with boto3; retries,
throttling, validation before the wire, deadlines, pacing, connection reuse
and hostile answers."""
import json
import os
import subprocess
import time
from datetime import datetime

import pytest

from conftest import REPO, SANITIZER_RE, build_path

HLCLI = build_path("tests", "hlcli")
ROLE = "arn:aws:iam::123456789012:role/HealthLakeImportRole"
KMS = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab"

pytestmark = pytest.mark.skipif(not os.path.exists(HLCLI), reason="hlcli not built")


class Result:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.out = json.loads(proc.stdout) if proc.stdout.strip() else None
        self.stats = [json.loads(line) for line in proc.stderr.splitlines()
                      if line.startswith("{")]

    @property
    def error(self):
        return (self.out or {}).get("error")

    def __repr__(self):
        return f"rc={self.rc} stdout={self.stdout!r} stderr={self.stderr[-2000:]!r}"


def hlcli(server, op, *kv, opts=(), env=None, timeout=60):
    e = server.env(**(env or {}))
    p = subprocess.run([HLCLI, "--stats", *opts, op, *kv], capture_output=True, text=True,
                       env=e, timeout=timeout)
    m = SANITIZER_RE.search(p.stderr)
    assert not m, "sanitizer report from hlcli:\n" + p.stderr[max(0, m.start() - 200):][:6000]
    return Result(p)


def ok(server, op, *kv, **kw):
    r = hlcli(server, op, *kv, **kw)
    assert r.rc == 0, r
    return r.out


def create_store(server, name="clinic", *kv):
    out = ok(server, "CreateFHIRDatastore", f"name={name}", *kv)
    return out["DatastoreId"], out["DatastoreArn"]


def put_s3(server, bucket, key, text):
    path = os.path.join(server.state, "s3", bucket, key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


PATIENT = json.dumps({"resourceType": "Patient", "id": "p1", "name": [{"family": "Doe"}]})


@pytest.fixture(params=["http", "https"])
def any_server(request, server_factory, tmp_path):
    """The same tests over plain HTTP and over verified TLS."""
    args = ["--create-delay", "0", "--delete-delay", "0", "--job-delay", "0"]
    if request.param == "http":
        return server_factory(*args)
    certs = tmp_path / "certs"
    mk = os.path.join(REPO, "scripts", "make-test-certs")
    if not os.path.exists(mk):
        pytest.skip("scripts/make-test-certs not available")
    subprocess.run([mk, str(certs)], check=True, capture_output=True)
    return server_factory(*args, "--tls-cert", str(certs / "server.pem"),
                          "--tls-key", str(certs / "server.key"),
                          cafile=str(certs / "ca.pem"))


# ---- every operation -----------------------------------------------------------------

def test_datastore_lifecycle(any_server):
    s = any_server
    out = ok(s, "CreateFHIRDatastore", "name=clinic-a", "preload_synthea=0", "tag=team=blue",
             "tag=env=test")
    ds, arn = out["DatastoreId"], out["DatastoreArn"]
    assert out["DatastoreStatus"] in ("CREATING", "ACTIVE")
    assert arn.endswith(ds)

    d = ok(s, "DescribeFHIRDatastore", f"id={ds}")
    assert d["DatastoreId"] == ds
    assert d["DatastoreName"] == "clinic-a"
    assert d["DatastoreTypeVersion"] == "R4"
    assert isinstance(d["CreatedAt"], (int, float))

    page = ok(s, "ListFHIRDatastores")
    assert ds in [x["DatastoreId"] for x in page["DatastorePropertiesList"]]
    flt = ok(s, "ListFHIRDatastores", "name=clinic-a", "status=ACTIVE")
    assert [x["DatastoreId"] for x in flt["DatastorePropertiesList"]] == [ds]

    tags = ok(s, "ListTagsForResource", f"arn={arn}")["Tags"]
    assert {t["Key"]: t["Value"] for t in tags} == {"team": "blue", "env": "test"}
    ok(s, "TagResource", f"arn={arn}", "tag=owner=ops", "tag=team=red")
    ok(s, "UntagResource", f"arn={arn}", "key=env")
    tags = ok(s, "ListTagsForResource", f"arn={arn}")["Tags"]
    assert {t["Key"]: t["Value"] for t in tags} == {"team": "red", "owner": "ops"}

    gone = ok(s, "DeleteFHIRDatastore", f"id={ds}")
    assert gone["DatastoreId"] == ds
    assert gone["DatastoreStatus"] in ("DELETING", "DELETED")
    assert ok(s, "DescribeFHIRDatastore", f"id={ds}")["DatastoreStatus"] in ("DELETING", "DELETED")


def test_jobs(any_server):
    s = any_server
    ds, _ = create_store(s, "jobs")
    put_s3(s, "hl-in", "in/patients.ndjson", PATIENT + "\n")
    imp = ok(s, "StartFHIRImportJob", f"datastore_id={ds}", "job_name=imp1",
             "input_s3_uri=s3://hl-in/in/", "output_s3_uri=s3://hl-out/import-log/",
             f"kms_key_id={KMS}", f"role_arn={ROLE}")
    assert imp["JobStatus"] == "SUBMITTED"
    jid = imp["JobId"]
    d = ok(s, "DescribeFHIRImportJob", f"datastore_id={ds}", f"job_id={jid}")
    assert d["JobId"] == jid and d["DatastoreId"] == ds and d["JobName"] == "imp1"
    assert d["InputDataConfig"]["S3Uri"] == "s3://hl-in/in/"
    lst = ok(s, "ListFHIRImportJobs", f"datastore_id={ds}")
    assert [j["JobId"] for j in lst["ImportJobPropertiesList"]] == [jid]

    exp = ok(s, "StartFHIRExportJob", f"datastore_id={ds}", "job_name=exp1",
             "output_s3_uri=s3://hl-out/export/", f"kms_key_id={KMS}", f"role_arn={ROLE}")
    ejid = exp["JobId"]
    d = ok(s, "DescribeFHIRExportJob", f"datastore_id={ds}", f"job_id={ejid}")
    assert d["JobId"] == ejid
    assert d["OutputDataConfig"]["S3Configuration"]["S3Uri"] == "s3://hl-out/export/"
    lst = ok(s, "ListFHIRExportJobs", f"datastore_id={ds}", "all=1")
    assert [j["JobId"] for j in lst["ExportJobPropertiesList"]] == [ejid]


def test_client_token_idempotent(server):
    a = ok(server, "CreateFHIRDatastore", "name=same", "client_token=tok-123")
    b = ok(server, "CreateFHIRDatastore", "name=same", "client_token=tok-123")
    assert a["DatastoreId"] == b["DatastoreId"]
    c = ok(server, "CreateFHIRDatastore", "name=same")
    assert c["DatastoreId"] != a["DatastoreId"]


def test_paging_all(server):
    server.seed(count=7, name_prefix="pg")
    one = ok(server, "ListFHIRDatastores", "max_results=3")
    assert len(one["DatastorePropertiesList"]) == 3 and one.get("NextToken")
    nxt = ok(server, "ListFHIRDatastores", "max_results=3", f"next_token={one['NextToken']}")
    assert not {x["DatastoreId"] for x in nxt["DatastorePropertiesList"]} & \
        {x["DatastoreId"] for x in one["DatastorePropertiesList"]}
    server.reset_counters()
    allp = ok(server, "ListFHIRDatastores", "max_results=3", "all=1")
    assert len(allp["DatastorePropertiesList"]) == 7
    assert "NextToken" not in allp
    assert server.calls("ListFHIRDatastores") == 3
    r = hlcli(server, "ListFHIRDatastores", "max_results=3", "all=1", "max_items=5")
    assert r.rc == 1 and r.error["code"] == "PROTOCOL", r


def test_service_errors(server):
    r = hlcli(server, "DescribeFHIRDatastore", "id=" + "f" * 32)
    assert r.rc == 1, r
    assert r.error["code"] == "NOT_FOUND"
    assert r.error["aws_code"] == "ResourceNotFoundException"
    assert r.error["http_status"] == 400
    assert len(r.error["request_id"]) >= 16
    assert r.stats[-1]["attempts"] == 1


# ---- boto3 cross-check ----------------------------------------------------------------

def _norm(v):
    """boto3 turns timestamps into datetimes; the wire (and hlcli) has epoch numbers."""
    if isinstance(v, datetime):
        return round(v.timestamp(), 3)
    if isinstance(v, dict):
        return {k: _norm(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_norm(x) for x in v]
    if isinstance(v, float):
        return round(v, 3)
    return v


def agree(mine, theirs):
    """Field by field over what boto3 knows: its (possibly older) model drops
    members it has no shape for, which the raw JSON keeps."""
    if isinstance(theirs, dict):
        assert isinstance(mine, dict) and set(theirs) <= set(mine), (mine, theirs)
        for k in theirs:
            agree(mine[k], theirs[k])
    elif isinstance(theirs, list):
        assert isinstance(mine, list) and len(mine) == len(theirs), (mine, theirs)
        for a, b in zip(mine, theirs):
            agree(a, b)
    else:
        assert _norm(mine) == _norm(theirs), (mine, theirs)


def test_boto3_agrees(server):
    server.seed(count=3, name_prefix="bx", import_jobs=2, export_jobs=1)
    b = server.boto3()
    ds, arn = create_store(server, "crosscheck", "tag=k1=v1")

    mine = ok(server, "DescribeFHIRDatastore", f"id={ds}")
    theirs = b.describe_fhir_datastore(DatastoreId=ds)["DatastoreProperties"]
    agree(mine, theirs)

    mine = ok(server, "ListFHIRDatastores", "all=1")["DatastorePropertiesList"]
    theirs = b.list_fhir_datastores()["DatastorePropertiesList"]
    agree(mine, theirs)

    seeded = [x for x in theirs if x.get("DatastoreName", "").startswith("bx")][0]["DatastoreId"]
    mine = ok(server, "ListFHIRImportJobs", f"datastore_id={seeded}")["ImportJobPropertiesList"]
    theirs = b.list_fhir_import_jobs(DatastoreId=seeded)["ImportJobPropertiesList"]
    assert len(mine) == 2
    agree(mine, theirs)
    for j in mine:
        one = ok(server, "DescribeFHIRImportJob", f"datastore_id={seeded}", f"job_id={j['JobId']}")
        agree(one, b.describe_fhir_import_job(
            DatastoreId=seeded, JobId=j["JobId"])["ImportJobProperties"])

    mine = ok(server, "ListFHIRExportJobs", f"datastore_id={seeded}")["ExportJobPropertiesList"]
    theirs = b.list_fhir_export_jobs(DatastoreId=seeded)["ExportJobPropertiesList"]
    assert len(mine) == 1
    agree(mine, theirs)

    mine = ok(server, "ListTagsForResource", f"arn={arn}")["Tags"]
    assert mine == b.list_tags_for_resource(ResourceARN=arn)["Tags"]


# ---- retries, throttling, faults -------------------------------------------------------

def test_dropped_start_is_retried_once_and_creates_one_job(server):
    ds, _ = create_store(server, "drop")
    server.faults(drop_after_commit=1.0, operations=["StartFHIRImportJob"], first_n=1)
    r = hlcli(server, "StartFHIRImportJob", f"datastore_id={ds}",
              "input_s3_uri=s3://hl-in/in/", "output_s3_uri=s3://hl-out/log/",
              f"kms_key_id={KMS}", f"role_arn={ROLE}")
    assert r.rc == 0, r
    assert r.stats[-1]["attempts"] == 2
    assert server.calls("StartFHIRImportJob") == 2
    jobs = server.boto3().list_fhir_import_jobs(DatastoreId=ds)["ImportJobPropertiesList"]
    assert [j["JobId"] for j in jobs] == [r.out["JobId"]]


def test_throttling_retried_and_counted(server):
    ds, _ = create_store(server, "thr")
    server.faults(throttle=1.0, operations=["DescribeFHIRDatastore"], first_n=2)
    r = hlcli(server, "DescribeFHIRDatastore", f"id={ds}", opts=("--max-attempts", "3"))
    assert r.rc == 0, r
    st = r.stats[-1]
    assert (st["attempts"], st["throttled"], st["code"]) == (3, 2, "OK")
    assert server.counters()["calls"]["DescribeFHIRDatastore"]["400"] == 2


def test_throttling_exhausted(server):
    ds, _ = create_store(server, "thr2")
    server.faults(throttle=1.0, operations=["DescribeFHIRDatastore"], first_n=10)
    r = hlcli(server, "DescribeFHIRDatastore", f"id={ds}", opts=("--max-attempts", "2"))
    assert r.rc == 1, r
    assert r.error["code"] == "THROTTLED"
    assert r.error["aws_code"] == "ThrottlingException"
    assert (r.stats[-1]["attempts"], r.stats[-1]["throttled"]) == (2, 2)
    assert server.calls("DescribeFHIRDatastore") == 2


def test_5xx_retried(server):
    ds, _ = create_store(server, "five")
    server.faults(error5xx=1.0, operations=["DescribeFHIRDatastore"], first_n=1)
    r = hlcli(server, "DescribeFHIRDatastore", f"id={ds}")
    assert r.rc == 0, r
    assert r.stats[-1]["attempts"] == 2


def test_connection_reset_retried(server):
    server.faults(reset=True, operations=["ListFHIRDatastores"], first_n=1)
    r = hlcli(server, "ListFHIRDatastores")
    assert r.rc == 0, r
    assert r.stats[-1]["attempts"] == 2


def test_validation_sends_nothing(server):
    server.reset_counters()
    bad = [
        ("DescribeFHIRDatastore", "id=not/an id!"),
        ("DescribeFHIRDatastore", "id=" + "a" * 33),
        ("CreateFHIRDatastore", "name=" + "n" * 257),
        ("CreateFHIRDatastore", "name=ok", "client_token=bad token"),
        ("ListFHIRDatastores", "max_results=501"),
        ("StartFHIRImportJob", "datastore_id=" + "a" * 32, "input_s3_uri=http://x/",
         "output_s3_uri=s3://hl-out/x/", f"kms_key_id={KMS}", f"role_arn={ROLE}"),
        ("StartFHIRExportJob", "datastore_id=" + "a" * 32, "output_s3_uri=s3://hl-out/x/",
         f"kms_key_id={KMS}", "role_arn=arn:aws:iam::12:role/x"),
        ("DescribeFHIRExportJob", "datastore_id=" + "a" * 32),
        ("ListFHIRImportJobs", "job_status=DONE", "datastore_id=" + "a" * 32),
        ("TagResource", "arn=arn:aws:s3:::bucket", "tag=a=b"),
        ("UntagResource", "arn=arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/" + "a" * 32,
         "key="),
        ("ListTagsForResource", "arn=nope"),
    ]
    for op, *kv in bad:
        r = hlcli(server, op, *kv)
        assert r.rc == 1, (op, kv, r)
        assert r.error["code"] == "INVALID", (op, kv, r)
        assert r.error["message"], (op, kv)
        assert r.stats == [], (op, kv, r)  # refused before the call: no call reported
    c = server.counters()
    assert c["calls"] == {} and c["requests"] == 0, c


def test_auth_error_not_retried(server):
    r = hlcli(server, "ListFHIRDatastores", env={"AWS_SECRET_ACCESS_KEY": "wrong-secret"})
    assert r.rc == 1, r
    assert r.error["code"] == "AUTH", r
    assert r.error["http_status"] in (400, 403)
    assert r.stats[-1]["attempts"] == 1


# ---- deadlines, pacing, connections --------------------------------------------------

def test_deadline_against_stalled_server(server):
    server.faults(stall=True)
    t0 = time.monotonic()
    r = hlcli(server, "ListFHIRDatastores", opts=("--timeout-ms", "1500"))
    took = time.monotonic() - t0
    assert r.rc == 1, r
    assert r.error["code"] == "TIMEOUT"
    assert 1.4 <= took < 1.5 + 0.7, took
    assert r.stats[-1]["ms"] < 1500 + 100


def test_deadline_while_backing_off(server):
    server.faults(error5xx=1.0)
    t0 = time.monotonic()
    r = hlcli(server, "ListFHIRDatastores", opts=("--timeout-ms", "1200", "--max-attempts", "20"))
    took = time.monotonic() - t0
    assert r.rc == 1, r
    assert r.error["code"] == "TIMEOUT", r
    assert r.error["aws_code"] == "InternalServerException"
    assert took < 1.2 + 0.7, took


def test_connection_reused(server):
    server.reset_counters()
    r = hlcli(server, "ListFHIRDatastores", opts=("--repeat", "6"))
    assert r.rc == 0, r
    assert len(r.stats) == 6
    c = server.counters()
    assert c["requests"] == 6 and c["connections"] == 1, c


def test_connection_reused_over_tls(any_server):
    any_server.reset_counters()
    r = hlcli(any_server, "ListFHIRDatastores", opts=("--repeat", "4"))
    assert r.rc == 0, r
    assert any_server.counters()["connections"] == 1


def test_pacing_across_threads(server):
    server.reset_counters()
    t0 = time.monotonic()
    r = hlcli(server, "ListFHIRDatastores", opts=("--max-tps", "5", "--threads", "3",
                                                  "--repeat", "5"))
    took = time.monotonic() - t0
    assert r.rc == 0, r
    assert len(r.stats) == 15
    assert took >= 1.9, took  # 5 at once, 5 after 1 s, 5 after 2 s
    starts = sorted(e["t"] for e in server.admin("log")["log"])
    assert len(starts) == 15
    for i in range(5, len(starts)):
        assert starts[i] - starts[i - 5] >= 0.8, (i, starts)  # slack: arrival jitter


def test_tls_verification_required(server_factory, tmp_path):
    mk = os.path.join(REPO, "scripts", "make-test-certs")
    if not os.path.exists(mk):
        pytest.skip("scripts/make-test-certs not available")
    certs = tmp_path / "certs"
    subprocess.run([mk, str(certs)], check=True, capture_output=True)
    s = server_factory("--tls-cert", str(certs / "server.pem"), "--tls-key",
                       str(certs / "server.key"))
    r = hlcli(s, "ListFHIRDatastores")  # no CA bundle: the system store does not know it
    assert r.rc == 1 and r.error["code"] == "TLS", r
    r = hlcli(s, "ListFHIRDatastores", opts=("--ca-file", str(certs / "ca.pem")))
    assert r.rc == 0, r


def test_plain_http_only_to_loopback(server):
    r = hlcli(server, "ListFHIRDatastores", opts=("--endpoint", "http://192.0.2.1:8080"))
    assert r.rc == 1 and r.error["code"] == "CONFIG", r
    assert r.stats == []


# ---- hostile answers -----------------------------------------------------------------

@pytest.mark.parametrize("mode,want", [
    ("malformed_json", "PROTOCOL"),
    ("wrong_types", "PROTOCOL"),
    ("missing_required", "PROTOCOL"),
    ("huge", "TOO_LARGE"),
])
def test_hostile_describe(server, mode, want):
    ds, _ = create_store(server, "hostile")
    server.admin("hostile", {"operation": "DescribeFHIRDatastore", "mode": mode, "count": 5})
    r = hlcli(server, "DescribeFHIRDatastore", f"id={ds}")
    assert r.rc == 1, r
    assert r.error["code"] == want, r
    assert r.stats[-1]["attempts"] == 1


def test_hostile_truncated_is_retried(server):
    ds, _ = create_store(server, "trunc")
    server.admin("hostile", {"operation": "DescribeFHIRDatastore", "mode": "truncated",
                             "count": 1})
    r = hlcli(server, "DescribeFHIRDatastore", f"id={ds}")
    assert r.rc == 0, r
    assert r.stats[-1]["attempts"] == 2


def test_hostile_next_token_loop(server):
    server.seed(count=3, name_prefix="loop")
    server.admin("hostile", {"operation": "ListFHIRDatastores", "mode": "next_token_loop",
                             "count": 10})
    r = hlcli(server, "ListFHIRDatastores", "all=1")
    assert r.rc == 1, r
    assert r.error["code"] == "PROTOCOL"
    assert "NextToken" in r.error["message"]


def test_hostile_names_are_stored_verbatim(server):
    weird = "a/b\\c\n\u00e9\u6771 \"q\" ../.."
    out = server.seed(datastores=[{"name": weird, "status": "ACTIVE"}])
    ds = out["datastores"][0]["id"]
    d = ok(server, "DescribeFHIRDatastore", f"id={ds}")
    assert d["DatastoreName"] == weird


def test_many_threads_share_one_client(server):
    server.seed(count=4, name_prefix="mt")
    server.reset_counters()
    r = hlcli(server, "ListFHIRDatastores", opts=("--max-tps", "1000", "--threads", "8",
                                                  "--repeat", "10"))
    assert r.rc == 0, r
    assert len(r.stats) == 80 and all(s["code"] == "OK" for s in r.stats)
    assert len(r.out["DatastorePropertiesList"]) == 4
    c = server.counters()
    assert c["requests"] == 80
    assert 1 <= c["connections"] <= 8, c  # pooled handles, shared connection cache
