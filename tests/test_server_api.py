"""healthlake-local through boto3: all 13 operations, every modelled error,
paging, filters, idempotency, and agreement of the server's rules with the model."""
import copy
import json
import os
import re
import sys
import time

import pytest
from botocore.exceptions import ClientError

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "scripts"))

from hllocal import validate  # noqa: E402
from hllocal.client import raw_call  # noqa: E402

MODEL = validate.Model()
SHARED_MODEL = "/work/shared/healthlake-2017-07-01.model.json"
ROLE = "arn:aws:iam::123456789012:role/HealthLakeImport"
KMS = "arn:aws:kms:us-east-1:123456789012:key/abcd-1234"
NODELAY = ("--create-delay", "0", "--delete-delay", "0", "--job-delay", "0", "--strict")


def code_of(exc):
    return exc.value.response["Error"]["Code"]


def check_model(op, resp):
    """Every successful response must satisfy the model's output shape."""
    body = {k: v for k, v in resp.items() if k != "ResponseMetadata"}
    # boto3 turns timestamps into datetimes: map them back to epoch seconds.
    def back(v):
        if hasattr(v, "timestamp"):
            return v.timestamp()
        if isinstance(v, dict):
            return {k: back(x) for k, x in v.items()}
        if isinstance(v, list):
            return [back(x) for x in v]
        return v
    errs = MODEL.validate(MODEL.output_shape(op), back(body), output=True)
    assert errs == [], (op, errs)


@pytest.fixture
def srv(server_factory):
    s = server_factory(*NODELAY)
    yield s
    assert "strict_violations" not in s.counters(), s.counters().get("strict_violations")


@pytest.fixture
def hl(srv):
    return srv.boto3()


def make_store(hl, name="clinic-a", **kw):
    r = hl.create_fhir_datastore(DatastoreName=name, DatastoreTypeVersion="R4", **kw)
    check_model("CreateFHIRDatastore", r)
    return r


def put_s3(srv, uri, text):
    bucket, _, key = uri[len("s3://"):].partition("/")
    path = os.path.join(srv.state, "s3", bucket, key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def test_model_copy_is_verbatim():
    with open(SHARED_MODEL, "rb") as a, open(validate.MODEL_PATH, "rb") as b:
        assert a.read() == b.read()


def test_all_thirteen_operations(srv, hl):
    r = make_store(hl, "clinic-a", Tags=[{"Key": "team", "Value": "x"}])
    sid, arn = r["DatastoreId"], r["DatastoreArn"]
    assert re.fullmatch(r"[0-9a-f]{32}", sid)
    assert arn == "arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/" + sid
    # Every store answers FHIR on the server itself (the service: healthlake.<region>.amazonaws.com).
    assert r["DatastoreEndpoint"] == "%s/datastore/%s/r4/" % (srv.url, sid)
    assert r["DatastoreStatus"] == "CREATING"
    assert re.fullmatch(r"[0-9a-f-]{36}", r["ResponseMetadata"]["RequestId"])

    d = hl.describe_fhir_datastore(DatastoreId=sid)
    check_model("DescribeFHIRDatastore", d)
    p = d["DatastoreProperties"]
    assert p["DatastoreStatus"] == "ACTIVE" and p["DatastoreName"] == "clinic-a"
    assert p["DatastoreTypeVersion"] == "R4"
    assert abs(p["CreatedAt"].timestamp() - time.time()) < 60

    l = hl.list_fhir_datastores()
    check_model("ListFHIRDatastores", l)
    assert [x["DatastoreId"] for x in l["DatastorePropertiesList"]] == [sid]

    put_s3(srv, "s3://in-bucket/data/p.ndjson",
           json.dumps({"resourceType": "Patient", "id": "p1"}) + "\n")
    imp = hl.start_fhir_import_job(
        JobName="imp1", DatastoreId=sid, DataAccessRoleArn=ROLE,
        InputDataConfig={"S3Uri": "s3://in-bucket/data/"},
        JobOutputDataConfig={"S3Configuration": {"S3Uri": "s3://out-bucket/reports/", "KmsKeyId": KMS}})
    check_model("StartFHIRImportJob", imp)
    assert imp["JobStatus"] == "SUBMITTED" and imp["DatastoreId"] == sid
    di = hl.describe_fhir_import_job(DatastoreId=sid, JobId=imp["JobId"])
    check_model("DescribeFHIRImportJob", di)
    assert di["ImportJobProperties"]["JobStatus"] == "COMPLETED"
    li = hl.list_fhir_import_jobs(DatastoreId=sid)
    check_model("ListFHIRImportJobs", li)
    assert [j["JobId"] for j in li["ImportJobPropertiesList"]] == [imp["JobId"]]

    exp = hl.start_fhir_export_job(
        JobName="exp1", DatastoreId=sid, DataAccessRoleArn=ROLE,
        OutputDataConfig={"S3Configuration": {"S3Uri": "s3://out-bucket/export/", "KmsKeyId": KMS}})
    check_model("StartFHIRExportJob", exp)
    de = hl.describe_fhir_export_job(DatastoreId=sid, JobId=exp["JobId"])
    check_model("DescribeFHIRExportJob", de)
    assert de["ExportJobProperties"]["JobStatus"] == "COMPLETED"
    le = hl.list_fhir_export_jobs(DatastoreId=sid)
    check_model("ListFHIRExportJobs", le)
    assert len(le["ExportJobPropertiesList"]) == 1

    check_model("TagResource", hl.tag_resource(ResourceARN=arn, Tags=[{"Key": "env", "Value": "dev"}]))
    t = hl.list_tags_for_resource(ResourceARN=arn)
    check_model("ListTagsForResource", t)
    assert sorted((x["Key"], x["Value"]) for x in t["Tags"]) == [("env", "dev"), ("team", "x")]
    check_model("UntagResource", hl.untag_resource(ResourceARN=arn, TagKeys=["team"]))
    assert hl.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "env", "Value": "dev"}]

    dd = hl.delete_fhir_datastore(DatastoreId=sid)
    check_model("DeleteFHIRDatastore", dd)
    assert dd["DatastoreStatus"] == "DELETING"
    assert hl.describe_fhir_datastore(DatastoreId=sid)["DatastoreProperties"]["DatastoreStatus"] == "DELETED"
    # DELETED stores stay listed and describable.
    assert hl.list_fhir_datastores()["DatastorePropertiesList"][0]["DatastoreStatus"] == "DELETED"
    assert set(srv.calls()) == set(MODEL.operations)


def test_status_transitions_follow_delays(server_factory):
    srv = server_factory("--create-delay", "0.6", "--delete-delay", "0.6", "--job-delay", "0.8",
                         "--strict")
    hl = srv.boto3()
    sid = make_store(hl)["DatastoreId"]
    st = lambda: hl.describe_fhir_datastore(DatastoreId=sid)["DatastoreProperties"]["DatastoreStatus"]
    assert st() == "CREATING"
    with pytest.raises(ClientError) as e:
        hl.delete_fhir_datastore(DatastoreId=sid)
    assert code_of(e) == "ConflictException"
    with pytest.raises(ClientError) as e:
        hl.start_fhir_export_job(DatastoreId=sid, DataAccessRoleArn=ROLE, OutputDataConfig={
            "S3Configuration": {"S3Uri": "s3://b-out/x/", "KmsKeyId": KMS}})
    assert code_of(e) == "ValidationException"
    time.sleep(0.7)
    assert st() == "ACTIVE"
    job = hl.start_fhir_export_job(DatastoreId=sid, DataAccessRoleArn=ROLE, OutputDataConfig={
        "S3Configuration": {"S3Uri": "s3://b-out/x/", "KmsKeyId": KMS}})
    js = lambda: hl.describe_fhir_export_job(DatastoreId=sid, JobId=job["JobId"])["ExportJobProperties"]
    assert js()["JobStatus"] == "SUBMITTED"
    time.sleep(0.3)
    assert js()["JobStatus"] == "IN_PROGRESS"
    deadline = time.time() + 5
    while js()["JobStatus"] != "COMPLETED":
        assert time.time() < deadline
        time.sleep(0.05)
    assert "EndTime" in js()
    hl.delete_fhir_datastore(DatastoreId=sid)
    assert st() == "DELETING"
    with pytest.raises(ClientError) as e:
        hl.delete_fhir_datastore(DatastoreId=sid)
    assert code_of(e) == "ConflictException"
    time.sleep(0.7)
    assert st() == "DELETED"


def test_modelled_errors(srv, hl):
    sid = make_store(hl)["DatastoreId"]
    missing = "0" * 32
    cases = [
        (lambda: hl.describe_fhir_datastore(DatastoreId=missing), "ResourceNotFoundException"),
        (lambda: hl.delete_fhir_datastore(DatastoreId=missing), "ResourceNotFoundException"),
        (lambda: hl.describe_fhir_import_job(DatastoreId=sid, JobId=missing), "ResourceNotFoundException"),
        (lambda: hl.describe_fhir_export_job(DatastoreId=sid, JobId=missing), "ResourceNotFoundException"),
        (lambda: hl.describe_fhir_import_job(DatastoreId=missing, JobId=missing), "ResourceNotFoundException"),
        (lambda: hl.list_fhir_import_jobs(DatastoreId=missing), "ResourceNotFoundException"),
        (lambda: hl.list_fhir_export_jobs(DatastoreId=missing), "ResourceNotFoundException"),
        (lambda: hl.start_fhir_export_job(DatastoreId=missing, DataAccessRoleArn=ROLE, OutputDataConfig={
            "S3Configuration": {"S3Uri": "s3://bkt/x", "KmsKeyId": KMS}}), "ResourceNotFoundException"),
        (lambda: hl.list_tags_for_resource(
            ResourceARN="arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/" + missing),
         "ResourceNotFoundException"),
        (lambda: hl.tag_resource(
            ResourceARN="arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/" + missing,
            Tags=[{"Key": "a", "Value": "b"}]), "ResourceNotFoundException"),
        (lambda: hl.untag_resource(
            ResourceARN="arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/" + missing,
            TagKeys=["a"]), "ResourceNotFoundException"),
        (lambda: hl.create_fhir_datastore(DatastoreName="bad,name", DatastoreTypeVersion="R4"),
         "ValidationException"),
        (lambda: hl.create_fhir_datastore(DatastoreName="x" * 257, DatastoreTypeVersion="R4"),
         "ValidationException"),
        (lambda: hl.list_fhir_datastores(NextToken="garbage!"), "ValidationException"),
        (lambda: hl.start_fhir_import_job(DatastoreId=sid, DataAccessRoleArn="arn:aws:iam::12345:role/too-few-digits",
                                          InputDataConfig={"S3Uri": "s3://bkt/in/"},
                                          JobOutputDataConfig={"S3Configuration": {
                                              "S3Uri": "s3://bkt/o/", "KmsKeyId": KMS}}),
         "ValidationException"),
    ]
    for fn, want in cases:
        with pytest.raises(ClientError) as e:
            fn()
        assert code_of(e) == want
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert e.value.response["Error"]["Message"]
    sid2 = make_store(hl, "gone")["DatastoreId"]
    hl.delete_fhir_datastore(DatastoreId=sid2)
    with pytest.raises(ClientError) as e:
        hl.delete_fhir_datastore(DatastoreId=sid2)
    assert code_of(e) == "ConflictException"


def test_wire_error_shapes(srv):
    """Raw JSON 1.0 errors: body __type/message, x-amzn-RequestId, status codes."""
    k = (srv.access_key, srv.secret_key, srv.region)
    st, h, b = raw_call(srv.url, "DescribeFHIRDatastore", {"DatastoreId": "f" * 32}, *k)
    assert st == 400 and b["__type"] == "ResourceNotFoundException" and b["message"]
    assert h["x-amzn-requestid"] and h["content-type"] == "application/x-amz-json-1.0"
    st, h, b = raw_call(srv.url, "NoSuchOperation", {}, *k)
    assert st == 400 and b["__type"] == "UnknownOperationException"
    st, h, b = raw_call(srv.url, "DescribeFHIRDatastore", b"{not json", *k)
    assert st == 400 and b["__type"] == "SerializationException"
    st, h, b = raw_call(srv.url, "CreateFHIRDatastore",
                        {"DatastoreTypeVersion": "R4", "Bogus": 1}, *k)
    assert st == 400 and b["__type"] == "ValidationException" and "Bogus" in b["message"]
    st, h, b = raw_call(srv.url, "CreateFHIRDatastore", {}, *k)
    assert st == 400 and "DatastoreTypeVersion" in b["message"]
    st, h, b = raw_call(srv.url, "ListFHIRDatastores", {"MaxResults": "7"}, *k)
    assert st == 400 and "MaxResults" in b["message"]
    for bad in (0, 501):
        st, h, b = raw_call(srv.url, "ListFHIRDatastores", {"MaxResults": bad}, *k)
        assert st == 400 and b["__type"] == "ValidationException" and "MaxResults" in b["message"]
    st, h, b = raw_call(srv.url, "ListFHIRDatastores", {"Filter": {"CreatedAfter": "yesterday"}}, *k)
    assert st == 400 and "Filter.CreatedAfter" in b["message"]
    # Union: exactly one member.
    st, h, b = raw_call(srv.url, "StartFHIRImportJob", {
        "DatastoreId": "a" * 32, "DataAccessRoleArn": ROLE, "InputDataConfig": {},
        "JobOutputDataConfig": {"S3Configuration": {"S3Uri": "s3://bkt/o", "KmsKeyId": KMS}}}, *k)
    assert st == 400 and "InputDataConfig" in b["message"]
    # Any endpoint path is accepted for JSON 1.0 (custom endpoint with a path).
    st, h, b = raw_call(srv.url, "ListFHIRDatastores", {}, *k, path="/base/path/")
    assert st == 200 and b == {"DatastorePropertiesList": []}
    st, h, b = raw_call(srv.url, "ListFHIRDatastores", b"", *k)
    assert st == 200


def test_paging_over_1200_stores(srv, hl):
    seeded = srv.seed(count=1200, name_prefix="p")["datastores"]
    assert len(seeded) == 1200
    seen, token, pages = [], None, 0
    while True:
        kw = {"MaxResults": 500}
        if token:
            kw["NextToken"] = token
        r = hl.list_fhir_datastores(**kw)
        pages += 1
        seen += [p["DatastoreName"] for p in r["DatastorePropertiesList"]]
        token = r.get("NextToken")
        if not token:
            break
    assert pages == 3
    assert seen == ["p%04d" % i for i in range(1200)]
    # Default page size and the filter in the token.
    r = hl.list_fhir_datastores()
    assert len(r["DatastorePropertiesList"]) == 100 and r["NextToken"]
    with pytest.raises(ClientError) as e:
        hl.list_fhir_datastores(NextToken=r["NextToken"], Filter={"DatastoreStatus": "ACTIVE"})
    assert code_of(e) == "ValidationException"


def test_list_filters(srv, hl):
    a = make_store(hl, "alpha")["DatastoreId"]
    t_mid = time.time()
    time.sleep(0.02)
    b = make_store(hl, "beta")["DatastoreId"]
    c = make_store(hl, "beta")["DatastoreId"]  # duplicate names are allowed
    assert len({a, b, c}) == 3
    hl.delete_fhir_datastore(DatastoreId=c)
    ids = lambda **f: [p["DatastoreId"] for p in hl.list_fhir_datastores(Filter=f)["DatastorePropertiesList"]]
    assert ids(DatastoreName="beta") == [b, c]
    assert ids(DatastoreStatus="DELETED") == [c]
    assert ids(DatastoreStatus="ACTIVE") == [a, b]
    # botocore sends whole epoch seconds; the wire allows fractions: check both.
    assert ids(CreatedAfter=time.time() + 5) == []
    assert ids(CreatedBefore=time.time() + 5) == [a, b, c]
    k = (srv.access_key, srv.secret_key, srv.region)
    raw = lambda **f: [p["DatastoreId"] for p in raw_call(
        srv.url, "ListFHIRDatastores", {"Filter": f}, *k)[2]["DatastorePropertiesList"]]
    assert raw(CreatedBefore=t_mid) == [a]
    assert raw(CreatedAfter=t_mid) == [b, c]
    assert ids(DatastoreName="beta", DatastoreStatus="ACTIVE") == [b]


def test_jobs_newest_first_filters_and_paging(srv, hl):
    sid = make_store(hl)["DatastoreId"]
    out = {"S3Configuration": {"S3Uri": "s3://bkt-out/e/", "KmsKeyId": KMS}}
    jobs = []
    for i in range(5):
        jobs.append(hl.start_fhir_export_job(JobName="job%d" % (i % 2), DatastoreId=sid,
                                             DataAccessRoleArn=ROLE, OutputDataConfig=out)["JobId"])
        time.sleep(0.002)
    newest_first = list(reversed(jobs))
    got, token = [], None
    while True:
        kw = {"DatastoreId": sid, "MaxResults": 2}
        if token:
            kw["NextToken"] = token
        r = hl.list_fhir_export_jobs(**kw)
        got += [j["JobId"] for j in r["ExportJobPropertiesList"]]
        token = r.get("NextToken")
        if not token:
            break
    assert got == newest_first
    named = hl.list_fhir_export_jobs(DatastoreId=sid, JobName="job1")["ExportJobPropertiesList"]
    assert [j["JobId"] for j in named] == [jobs[3], jobs[1]]
    assert len(hl.list_fhir_export_jobs(DatastoreId=sid, JobStatus="COMPLETED")["ExportJobPropertiesList"]) == 5
    assert hl.list_fhir_export_jobs(DatastoreId=sid, JobStatus="FAILED")["ExportJobPropertiesList"] == []
    k = (srv.access_key, srv.secret_key, srv.region)
    st, _, d = raw_call(srv.url, "DescribeFHIRExportJob", {"DatastoreId": sid, "JobId": jobs[2]}, *k)
    j2 = d["ExportJobProperties"]["SubmitTime"]
    assert isinstance(j2, float) and abs(j2 - time.time()) < 60
    lst = lambda **f: [j["JobId"] for j in raw_call(srv.url, "ListFHIRExportJobs", dict(
        DatastoreId=sid, **f), *k)[2]["ExportJobPropertiesList"]]
    assert lst(SubmittedBefore=j2) == [jobs[1], jobs[0]]
    assert lst(SubmittedAfter=j2) == [jobs[4], jobs[3]]
    assert len(hl.list_fhir_export_jobs(DatastoreId=sid, SubmittedBefore=time.time() + 5)[
        "ExportJobPropertiesList"]) == 5
    # Import and export jobs are separate namespaces.
    assert hl.list_fhir_import_jobs(DatastoreId=sid)["ImportJobPropertiesList"] == []
    with pytest.raises(ClientError) as e:
        hl.describe_fhir_import_job(DatastoreId=sid, JobId=jobs[0])
    assert code_of(e) == "ResourceNotFoundException"


def test_tag_limits(srv, hl):
    arn = make_store(hl)["DatastoreArn"]
    hl.tag_resource(ResourceARN=arn, Tags=[{"Key": "k%02d" % i, "Value": "v"} for i in range(50)])
    hl.tag_resource(ResourceARN=arn, Tags=[{"Key": "k00", "Value": "new"}])  # overwrite: still 50
    with pytest.raises(ClientError) as e:
        hl.tag_resource(ResourceARN=arn, Tags=[{"Key": "one-more", "Value": "v"}])
    assert code_of(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        hl.tag_resource(ResourceARN=arn, Tags=[{"Key": "aws:reserved", "Value": "v"}])
    assert code_of(e) == "ValidationException"
    tags = {t["Key"]: t["Value"] for t in hl.list_tags_for_resource(ResourceARN=arn)["Tags"]}
    assert len(tags) == 50 and tags["k00"] == "new"
    # Untagging keys that are not there is fine.
    hl.untag_resource(ResourceARN=arn, TagKeys=["nope", "k01"])
    assert len(hl.list_tags_for_resource(ResourceARN=arn)["Tags"]) == 49


def test_concurrent_clients(srv):
    """Eight connections mixing reads and writes: no 5xx, nothing lost."""
    import threading
    k = (srv.access_key, srv.secret_key, srv.region)
    made, errors = [], []

    def worker(n):
        for i in range(15):
            st, _, b = raw_call(srv.url, "CreateFHIRDatastore",
                                {"DatastoreTypeVersion": "R4", "DatastoreName": "w%d" % n}, *k)
            if st != 200:
                errors.append(b)
                continue
            made.append(b["DatastoreId"])
            st, _, b = raw_call(srv.url, "DescribeFHIRDatastore", {"DatastoreId": made[-1]}, *k)
            if st != 200:
                errors.append(b)
            st, _, b = raw_call(srv.url, "ListFHIRDatastores", {"MaxResults": 3}, *k)
            if st != 200:
                errors.append(b)
    ts = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert errors == []
    listed = srv.admin("state")["datastores"]
    assert sorted(d["DatastoreId"] for d in listed) == sorted(made) and len(made) == 120
    assert srv.counters()["peak_concurrent"] >= 2


def test_client_token_idempotency(srv, hl):
    r1 = hl.create_fhir_datastore(DatastoreName="idem", DatastoreTypeVersion="R4", ClientToken="tok-1")
    r2 = hl.create_fhir_datastore(DatastoreName="idem", DatastoreTypeVersion="R4", ClientToken="tok-1")
    assert r1["DatastoreId"] == r2["DatastoreId"]
    assert len(hl.list_fhir_datastores()["DatastorePropertiesList"]) == 1
    r3 = hl.create_fhir_datastore(DatastoreName="idem", DatastoreTypeVersion="R4", ClientToken="tok-2")
    assert r3["DatastoreId"] != r1["DatastoreId"]
    sid = r1["DatastoreId"]
    put_s3(srv, "s3://bkt-in/a.ndjson", '{"resourceType": "Patient", "id": "x"}\n')
    args = dict(DatastoreId=sid, DataAccessRoleArn=ROLE, InputDataConfig={"S3Uri": "s3://bkt-in/a"},
                JobOutputDataConfig={"S3Configuration": {"S3Uri": "s3://bkt-out/r/", "KmsKeyId": KMS}})
    i1 = hl.start_fhir_import_job(ClientToken="imp-tok", **args)
    i2 = hl.start_fhir_import_job(ClientToken="imp-tok", **args)
    assert i1["JobId"] == i2["JobId"]
    assert len(hl.list_fhir_import_jobs(DatastoreId=sid)["ImportJobPropertiesList"]) == 1
    eargs = dict(DatastoreId=sid, DataAccessRoleArn=ROLE,
                 OutputDataConfig={"S3Configuration": {"S3Uri": "s3://bkt-out/e/", "KmsKeyId": KMS}})
    e1 = hl.start_fhir_export_job(ClientToken="exp-tok", **eargs)
    e2 = hl.start_fhir_export_job(ClientToken="exp-tok", **eargs)
    assert e1["JobId"] == e2["JobId"]
    assert len(hl.list_fhir_export_jobs(DatastoreId=sid)["ExportJobPropertiesList"]) == 1
    # botocore fills ClientToken itself: two plain calls make two stores.
    a = hl.create_fhir_datastore(DatastoreTypeVersion="R4")
    b = hl.create_fhir_datastore(DatastoreTypeVersion="R4")
    assert a["DatastoreId"] != b["DatastoreId"]


def _members(shape_name, seen=None):
    """Every (shape, member) reachable from a shape."""
    seen = set() if seen is None else seen
    if shape_name in seen:
        return
    seen.add(shape_name)
    sh = MODEL.shapes[shape_name]
    if sh["type"] == "structure":
        for m, ref in sh.get("members", {}).items():
            yield shape_name, m, ref["shape"]
            yield from _members(ref["shape"], seen)
    elif sh["type"] == "list":
        yield from _members(sh["member"]["shape"], seen)


def _valid_value(shape_name):
    sh = MODEL.shapes[shape_name]
    t = sh["type"]
    samples = {"DatastoreId": "a" * 32, "JobId": "b" * 32, "IamRoleArn": ROLE,
               "S3Uri": "s3://bucket-x/in/", "EncryptionKeyID": KMS, "NextToken": "",
               "AmazonResourceName": "arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/" + "c" * 32,
               "LambdaArn": "arn:aws:lambda:us-east-1:123456789012:function:my-function-name-x",
               "ClientTokenString": "token-1", "TagKey": "k", "TagValue": "v"}
    if shape_name in samples:
        return samples[shape_name]
    if t == "string":
        return sh["enum"][0] if "enum" in sh else "x" * max(1, sh.get("min", 1))
    if t in ("integer", "long"):
        return sh.get("min", 1)
    if t in ("double", "float", "timestamp"):
        return 1.5
    if t == "boolean":
        return True
    if t == "list":
        return [_valid_value(sh["member"]["shape"])]
    out = {}
    for m, ref in sh.get("members", {}).items():
        if m in sh.get("required", []) or (sh.get("union") and not out):
            out[m] = _valid_value(ref["shape"])
    return out


def _paths(shape_name, prefix=()):
    """Every member path under a shape: tuples of member names and list indexes (0)."""
    sh = MODEL.shapes[shape_name]
    if sh["type"] == "structure":
        for m, ref in sh.get("members", {}).items():
            yield prefix + (m,), shape_name, m, ref["shape"]
            yield from _paths(ref["shape"], prefix + (m,))
    elif sh["type"] == "list":
        yield from _paths(sh["member"]["shape"], prefix + (0,))


def _with(base, in_shape, path, value, remove=False):
    """A copy of base with value set at path (ancestors created valid)."""
    req = copy.deepcopy(base)
    cur, sname = req, in_shape
    for key in path[:-1]:
        sh = MODEL.shapes[sname]
        if sh["type"] == "structure":
            child = sh["members"][key]["shape"]
            if not isinstance(cur.get(key), (dict, list)):
                cur[key] = _valid_value(child)
            if sh.get("union"):
                for other in [o for o in cur if o != key]:
                    del cur[other]
            cur, sname = cur[key], child
        else:
            child = sh["member"]["shape"]
            if not cur:
                cur.append(_valid_value(child))
            cur, sname = cur[0], child
    last = path[-1]
    if remove:
        cur.pop(last, None)
    else:
        cur[last] = value
        if MODEL.shapes[sname].get("union"):
            for other in [o for o in cur if o != last]:
                del cur[other]
    return req


def _bad_values(parent, member, mshape):
    sh = MODEL.shapes[mshape]
    t = sh["type"]
    out = []
    if member in MODEL.shapes[parent].get("required", []):
        out.append(("missing", None))
    out.append(("type", 12345 if t in ("string", "structure", "list", "boolean") else "str"))
    if "enum" in sh:
        out.append(("enum", "NOT_AN_ENUM_VALUE"))
    if t == "string" and sh.get("min", 0) > 0 and "enum" not in sh:
        out.append(("min", ""))
    if t == "string" and "max" in sh:
        out.append(("max", "a" * (sh["max"] + 1)))
    if t in ("integer", "long") and "max" in sh:
        out.append(("max", sh["max"] + 1))
    if t in ("integer", "long") and "min" in sh:
        out.append(("min", sh["min"] - 1))
    # NextToken's pattern \p{ASCII}{0,8192} is not anchored (Smithy patterns are searched),
    # so it matches every string and cannot be broken.
    if t == "string" and "pattern" in sh and "enum" not in sh and mshape != "NextToken":
        out.append(("pattern", "http://x" if mshape == "S3Uri" else "\u00e9\u0301,!\"' \U0001F600"))
    if t == "list" and "max" in sh:
        out.append(("max", [_valid_value(sh["member"]["shape"])] * (sh["max"] + 1)))
    if t == "structure" and sh.get("union"):
        out.append(("union", {}))
    if t == "structure":
        out.append(("unknown", dict(_valid_value(mshape), Extra=1)))
    return out


def test_server_rules_agree_with_model(srv):
    """For every operation and every member of its input, at any depth: the server
    rejects what the model forbids (missing required, wrong type, enum, length,
    pattern, list bounds, unions, unknown members) with a ValidationException naming
    the member's path, and accepts a minimal valid request (any error then is
    semantic, never about shapes)."""
    k = (srv.access_key, srv.secret_key, srv.region)
    checked, members = 0, set()
    for op in MODEL.operations:
        in_shape = MODEL.input_shape(op)
        base = _valid_value(in_shape)
        st, _, b = raw_call(srv.url, op, base, *k)
        assert st == 200 or b["__type"] != "ValidationException" or "not in ACTIVE" in b["message"] \
            or "pagination" in b["message"], (op, b)
        st, _, b = raw_call(srv.url, op, dict(base, NotAMember=1), *k)
        assert st == 400 and b["__type"] == "ValidationException" and "NotAMember" in b["message"]
        for path, parent, member, mshape in _paths(in_shape):
            members.add((parent, member))
            name = ".".join(str(x + 1) if isinstance(x, int) else x for x in path)
            for kind, v in _bad_values(parent, member, mshape):
                req = _with(base, in_shape, path, v, remove=(kind == "missing"))
                st, _, b = raw_call(srv.url, op, req, *k)
                assert st == 400 and b["__type"] == "ValidationException", (op, name, kind, b)
                want = "'%s.Extra'" % name if kind == "unknown" else "'%s'" % name
                assert want in b["message"], (op, name, kind, b["message"])
                checked += 1
            # The valid value at this path is accepted as far as shapes go.
            req = _with(base, in_shape, path, _valid_value(mshape))
            st, _, b = raw_call(srv.url, op, req, *k)
            assert st == 200 or b["__type"] != "ValidationException" or "not in ACTIVE" in b["message"] \
                or "pagination" in b["message"], (op, name, b)
    # Every input member the model has was exercised.
    all_members = {(sn, m) for op in MODEL.operations for _, sn, m, _ in _paths(MODEL.input_shape(op))}
    assert members == all_members and len(all_members) > 40
    assert checked > 150, checked


def test_nested_rules(srv):
    k = (srv.access_key, srv.secret_key, srv.region)
    good = {"DatastoreTypeVersion": "R4",
            "SseConfiguration": {"KmsEncryptionConfig": {"CmkType": "CUSTOMER_MANAGED_KMS_KEY",
                                                         "KmsKeyId": KMS}},
            "PreloadDataConfig": {"PreloadDataType": "SYNTHEA"},
            "IdentityProviderConfiguration": {"AuthorizationStrategy": "AWS_AUTH"},
            "Tags": [{"Key": "a", "Value": ""}]}
    st, _, b = raw_call(srv.url, "CreateFHIRDatastore", good, *k)
    assert st == 200, b
    bads = [
        ("SseConfiguration.KmsEncryptionConfig.CmkType",
         dict(good, SseConfiguration={"KmsEncryptionConfig": {"CmkType": "NOPE"}})),
        ("SseConfiguration.KmsEncryptionConfig",
         dict(good, SseConfiguration={})),
        ("PreloadDataConfig.PreloadDataType", dict(good, PreloadDataConfig={"PreloadDataType": "X"})),
        ("Tags.1.Key", dict(good, Tags=[{"Key": "", "Value": "v"}])),
        ("Tags.1.Value", dict(good, Tags=[{"Key": "k"}])),
        ("Tags.2.Value", dict(good, Tags=[{"Key": "k", "Value": "v"}, {"Key": "k", "Value": "a,b"}])),
        ("IdentityProviderConfiguration.IdpLambdaArn",
         dict(good, IdentityProviderConfiguration={"AuthorizationStrategy": "AWS_AUTH",
                                                   "IdpLambdaArn": "arn:short"})),
        ("IdentityProviderConfiguration.FineGrainedAuthorizationEnabled",
         dict(good, IdentityProviderConfiguration={"AuthorizationStrategy": "AWS_AUTH",
                                                   "FineGrainedAuthorizationEnabled": "yes"})),
        ("Tags", dict(good, Tags=[{"Key": "k%d" % i, "Value": "v"} for i in range(201)])),
    ]
    for member, req in bads:
        st, _, b = raw_call(srv.url, "CreateFHIRDatastore", req, *k)
        assert st == 400 and b["__type"] == "ValidationException", (member, b)
        assert member in b["message"], (member, b["message"])


def test_unicode_patterns(srv, hl):
    # \p{L}, \p{Z}, \p{N} are Unicode classes: these names are valid.
    for name in ("Clínica São Paulo", "東京 クリニック ٣", "a\u00a0b"):
        make_store(hl, name)
    for name in ("emoji \U0001F600", "tab\there", "comma,"):
        with pytest.raises(ClientError) as e:
            make_store(hl, name)
        assert code_of(e) == "ValidationException"


def test_pattern_translation_matches_unicodedata():
    import unicodedata
    p = validate.Pattern(r"^([\p{L}\p{Z}\p{N}_.:/=+\-%@]*)$")
    for cp in list(range(0, 0x3000, 7)) + [0x1F600, 0x10FFFD, 0x00A0, 0x2003, 0x0660]:
        ch = chr(cp)
        want = unicodedata.category(ch)[0] in "LZN" or ch in "_.:/=+-%@"
        assert p.search(ch) == want, hex(cp)
    anyc = validate.Pattern(r"[\P{M}\p{M}]{0,10000}")
    assert anyc.search("\u0301x") and anyc.search("")
    ascii_p = validate.Pattern(r"\p{ASCII}{0,8192}")
    assert ascii_p.search("abc")
