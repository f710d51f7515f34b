"""healthlake-local state: durability across kill -9, timers resumed after a
restart, clean SIGTERM exit, and bulk seeding with O(change) writes."""
import json
import os
import signal
import sys
import threading
import time


REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "scripts"))

from hllocal.client import raw_call  # noqa: E402

ROLE = "arn:aws:iam::123456789012:role/HealthLakeImport"
KMS = "alias/aws/s3"


def kill9(srv):
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait(10)


def test_acknowledged_writes_survive_kill9(server_factory, tmp_path):
    state = str(tmp_path / "st")
    srv = server_factory("--create-delay", "0", "--job-delay", "0", "--delete-delay", "0", state=state)
    hl = srv.boto3()
    a = hl.create_fhir_datastore(DatastoreName="keep", DatastoreTypeVersion="R4",
                                 Tags=[{"Key": "k", "Value": "v"}], ClientToken="ct-1")
    hl.tag_resource(ResourceARN=a["DatastoreArn"], Tags=[{"Key": "k2", "Value": "v2"}])
    exp = hl.start_fhir_export_job(DatastoreId=a["DatastoreId"], DataAccessRoleArn=ROLE,
                                   OutputDataConfig={"S3Configuration": {"S3Uri": "s3://o-b/x/",
                                                                         "KmsKeyId": KMS}})
    b = hl.create_fhir_datastore(DatastoreName="gone", DatastoreTypeVersion="R4")
    hl.delete_fhir_datastore(DatastoreId=b["DatastoreId"])
    # Mutations racing with the kill: every acknowledged one must survive.
    acked, stop = [], threading.Event()

    def hammer():
        k = (srv.access_key, srv.secret_key, srv.region)
        while not stop.is_set():
            try:
                st, _, body = raw_call(srv.url, "CreateFHIRDatastore",
                                       {"DatastoreTypeVersion": "R4", "DatastoreName": "race"}, *k,
                                       timeout=5)
            except OSError:
                return
            if st == 200:
                acked.append(body["DatastoreId"])
    t = threading.Thread(target=hammer)
    t.start()
    time.sleep(0.4)
    kill9(srv)
    stop.set()
    t.join(10)
    assert len(acked) > 5

    srv2 = server_factory("--create-delay", "0", "--job-delay", "0", "--delete-delay", "0", state=state)
    hl2 = srv2.boto3()
    ids = {p["DatastoreId"]: p for p in hl2.list_fhir_datastores(MaxResults=500)["DatastorePropertiesList"]}
    assert a["DatastoreId"] in ids and ids[a["DatastoreId"]]["DatastoreStatus"] == "ACTIVE"
    assert ids[b["DatastoreId"]]["DatastoreStatus"] == "DELETED"
    missing = [x for x in acked if x not in ids]
    assert missing == []
    tags = hl2.list_tags_for_resource(ResourceARN=a["DatastoreArn"])["Tags"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("k", "v"), ("k2", "v2")]
    j = hl2.describe_fhir_export_job(DatastoreId=a["DatastoreId"], JobId=exp["JobId"])
    assert j["ExportJobProperties"]["JobStatus"] == "COMPLETED"
    # Idempotency tokens survive too.
    again = hl2.create_fhir_datastore(DatastoreName="keep", DatastoreTypeVersion="R4", ClientToken="ct-1")
    assert again["DatastoreId"] == a["DatastoreId"]


def test_restart_resumes_timers(server_factory, tmp_path):
    state = str(tmp_path / "st")
    args = ("--create-delay", "1.0", "--job-delay", "1.0", "--delete-delay", "1.0")
    srv = server_factory("--create-delay", "0", "--job-delay", "1.0", state=state)
    hl = srv.boto3()
    ready = hl.create_fhir_datastore(DatastoreTypeVersion="R4")["DatastoreId"]
    os.makedirs(os.path.join(state, "s3", "in-b"), exist_ok=True)
    with open(os.path.join(state, "s3", "in-b", "a.ndjson"), "w") as f:
        f.write('{"resourceType":"Patient","id":"p1"}\n')
    imp = hl.start_fhir_import_job(DatastoreId=ready, DataAccessRoleArn=ROLE,
                                   InputDataConfig={"S3Uri": "s3://in-b/"},
                                   JobOutputDataConfig={"S3Configuration": {"S3Uri": "s3://out-b/r/",
                                                                            "KmsKeyId": KMS}})
    queued = hl.start_fhir_export_job(DatastoreId=ready, DataAccessRoleArn=ROLE, OutputDataConfig={
        "S3Configuration": {"S3Uri": "s3://out-b/e/", "KmsKeyId": KMS}})["JobId"]
    assert hl.describe_fhir_export_job(DatastoreId=ready, JobId=queued)[
        "ExportJobProperties"]["JobStatus"] == "QUEUED"
    srv.stop()
    srv_b = server_factory(*args, state=state)
    hl = srv_b.boto3()
    creating = hl.create_fhir_datastore(DatastoreTypeVersion="R4")["DatastoreId"]
    kill9(srv_b)
    srv2 = server_factory(*args, state=state)
    hl2 = srv2.boto3()
    st = lambda i: hl2.describe_fhir_datastore(DatastoreId=i)["DatastoreProperties"]["DatastoreStatus"]
    js = lambda: hl2.describe_fhir_import_job(DatastoreId=ready, JobId=imp["JobId"])["ImportJobProperties"]
    deadline = time.time() + 6
    while not (st(creating) == "ACTIVE" and js()["JobStatus"] == "COMPLETED"):
        assert time.time() < deadline, (st(creating), js())
        time.sleep(0.05)
    es = lambda: hl2.describe_fhir_export_job(DatastoreId=ready, JobId=queued)["ExportJobProperties"]
    while es()["JobStatus"] != "COMPLETED":  # the queued job ran after the import
        assert time.time() < deadline + 4, es()
        time.sleep(0.05)
    assert es()["EndTime"] > js()["EndTime"]
    # (Debian's botocore predates JobProgressReport and drops it: read it raw.)
    st_, _, raw = raw_call(srv2.url, "DescribeFHIRImportJob", {"DatastoreId": ready, "JobId": imp["JobId"]},
                           srv2.access_key, srv2.secret_key, srv2.region)
    assert raw["ImportJobProperties"]["JobProgressReport"]["TotalNumberOfResourcesImported"] == 1
    assert os.path.exists(os.path.join(state, "s3", "out-b", "r",
                                       "%s-FHIR_IMPORT-%s" % (ready, imp["JobId"]), "SUCCESS",
                                       "SUCCESS.ndjson"))


def test_sigterm_exits_zero_and_state_is_json(server_factory, tmp_path):
    state = str(tmp_path / "st")
    srv = server_factory("--create-delay", "0", state=state)
    srv.boto3().create_fhir_datastore(DatastoreName="x", DatastoreTypeVersion="R4")
    with open(os.path.join(state, "state.json")) as f:
        snap = json.load(f)  # small states: state.json is rewritten before each answer
    assert any(r.get("name") == "x" for r in snap["records"])
    srv.proc.send_signal(signal.SIGTERM)
    assert srv.proc.wait(10) == 0
    # SIGINT too, with a stalled request in flight (released at shutdown).
    srv2 = server_factory("--stall", state=state)
    k = (srv2.access_key, srv2.secret_key, srv2.region)
    errs = []

    def stalled():
        try:
            raw_call(srv2.url, "ListFHIRDatastores", {}, *k, timeout=20)
        except Exception as e:
            errs.append(e)
    t = threading.Thread(target=stalled)
    t.start()
    time.sleep(0.3)
    t0 = time.time()
    srv2.proc.send_signal(signal.SIGINT)
    assert srv2.proc.wait(10) == 0
    assert time.time() - t0 < 5
    t.join(10)
    assert errs  # the stalled request got no answer


def test_torn_journal_tail_is_ignored(server_factory, tmp_path):
    state = str(tmp_path / "st")
    srv = server_factory("--create-delay", "0", state=state)
    srv.seed(count=2500, name_prefix="big")  # beyond the small-state limit: journal mode
    hl = srv.boto3()
    one = hl.create_fhir_datastore(DatastoreName="after", DatastoreTypeVersion="R4")["DatastoreId"]
    kill9(srv)
    with open(os.path.join(state, "state.journal"), "ab") as f:
        f.write(b'{"t":"s","id":"torn')
    srv2 = server_factory("--create-delay", "0", state=state)
    hl2 = srv2.boto3()
    assert hl2.describe_fhir_datastore(DatastoreId=one)["DatastoreProperties"]["DatastoreName"] == "after"
    two = hl2.create_fhir_datastore(DatastoreName="next", DatastoreTypeVersion="R4")["DatastoreId"]
    kill9(srv2)
    srv3 = server_factory("--create-delay", "0", state=state)
    names = [p.get("DatastoreName") for p in srv3.admin("state")["datastores"]]
    assert len(names) == 2502 and names[-2:] == ["after", "next"]
    assert srv3.boto3().describe_fhir_datastore(DatastoreId=two)["DatastoreProperties"]["DatastoreId"] == two


def test_seed_10000_stores_x_10_jobs_is_fast_and_writes_stay_small(server_factory, tmp_path):
    state = str(tmp_path / "st")
    srv = server_factory("--create-delay", "0", "--quiet", state=state)
    t0 = time.monotonic()
    out = srv.seed(count=10000, name_prefix="s", import_jobs=5, export_jobs=5)
    seed_s = time.monotonic() - t0
    assert len(out["datastores"]) == 10000 and out["datastores"][0]["name"] == "s0000"
    assert seed_s < 20, seed_s
    k = (srv.access_key, srv.secret_key, srv.region)
    journal = os.path.join(state, "state.journal")
    size0 = os.path.getsize(journal)
    lat = []
    for i in range(20):
        t = time.monotonic()
        st, _, b = raw_call(srv.url, "TagResource", {"ResourceARN": out["datastores"][i]["arn"],
                                                     "Tags": [{"Key": "n", "Value": str(i)}]}, *k)
        lat.append(time.monotonic() - t)
        assert st == 200
    grew = os.path.getsize(journal) - size0
    # O(change): 20 small records appended, not 20 copies of a 30+ MB state.
    assert grew < 20 * 2000, grew
    lat.sort()
    assert lat[10] < 0.05, lat
    sid = out["datastores"][9999]["id"]
    st, _, b = raw_call(srv.url, "ListFHIRImportJobs", {"DatastoreId": sid}, *k)
    assert st == 200 and len(b["ImportJobPropertiesList"]) == 5
    st, _, b = raw_call(srv.url, "ListFHIRDatastores", {"Filter": {"DatastoreName": "s9999"}}, *k)
    assert [p["DatastoreId"] for p in b["DatastorePropertiesList"]] == [sid]
    print("seed 10000x10: %.2fs, tag p50 %.1fms" % (seed_s, lat[10] * 1000))
