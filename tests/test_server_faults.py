"""Fault injection, quotas, hostile responses, counters and the log of healthlake-local."""
import json
import os
import socket
import sys
import threading
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "scripts"))

from hllocal.client import raw_call  # noqa: E402
from hllocal.sigv4 import sign  # noqa: E402

NODELAY = ("--create-delay", "0", "--delete-delay", "0", "--job-delay", "0")
ROLE = "arn:aws:iam::123456789012:role/r"
KMS = "alias/k"


@pytest.fixture
def srv(server_factory):
    return server_factory(*NODELAY)


def call(srv, op, body=None, timeout=10):
    return raw_call(srv.url, op, body or {}, srv.access_key, srv.secret_key, srv.region, timeout=timeout)


def raw_socket_call(srv, op, body=b"{}", timeout=5):
    """Sends one signed request on a fresh socket; returns ('answer', bytes) / ('eof', b'') / ('rst', None)."""
    host, port = srv.url.split("://")[1].split(":")
    h = sign("POST", "%s:%s" % (host, port), "/", "", {"content-type": "application/x-amz-json-1.0",
                                                       "x-amz-target": "HealthLake." + op},
             body, srv.access_key, srv.secret_key, srv.region)
    s = socket.create_connection((host, int(port)), timeout=timeout)
    req = "POST / HTTP/1.1\r\n" + "".join("%s: %s\r\n" % kv for kv in h.items())
    s.sendall(req.encode() + b"Content-Length: %d\r\n\r\n" % len(body) + body)
    data = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                return ("eof" if not data else "answer"), data
            data += d
            if b"\r\n\r\n" in data:
                head, _, rest = data.partition(b"\r\n\r\n")
                n = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")]
                if n and len(rest) >= n[0]:
                    return "answer", data
    except ConnectionResetError:
        return "rst", None
    except socket.timeout:
        return "timeout", data
    finally:
        s.close()


def test_throttle_and_5xx_rates_are_seeded(srv):
    srv.faults(throttle=0.3, error5xx=0.2, seed=7)
    a = [call(srv, "ListFHIRDatastores")[0] for _ in range(60)]
    srv.faults(throttle=0.3, error5xx=0.2, seed=7)
    b = [call(srv, "ListFHIRDatastores")[0] for _ in range(60)]
    assert a == b  # deterministic with a seed
    assert 5 < a.count(400) < 35 and 2 < a.count(500) < 25 and a.count(200) > 10
    srv.faults(throttle=1.0)
    st, h, body = call(srv, "ListFHIRDatastores")
    assert st == 400 and body["__type"] == "ThrottlingException" and h["x-amzn-requestid"]
    srv.faults(error5xx=1.0)
    st, h, body = call(srv, "ListFHIRDatastores")
    assert st == 500 and body["__type"] == "InternalServerException"
    srv.faults(error5xx=1.0, error_status=503, error_body="html")
    st, h, body = call(srv, "ListFHIRDatastores")
    assert st == 503 and body.startswith(b"<html>") and h["x-amzn-requestid"]
    srv.faults(error5xx=1.0, error_status=502, error_body="empty", first_n=1)
    st, h, body = call(srv, "ListFHIRDatastores")
    assert st == 502 and body == {}
    srv.faults()
    assert call(srv, "ListFHIRDatastores")[0] == 200
    assert srv.counters()["calls"]["ListFHIRDatastores"]["503"] == 1


def test_boto3_retries_through_throttling(srv):
    srv.faults(throttle=1.0, first_n=1)
    hl = srv.boto3()
    r = hl.list_fhir_datastores()
    assert r["ResponseMetadata"]["RetryAttempts"] == 1
    c = srv.counters()["calls"]["ListFHIRDatastores"]
    assert c == {"400": 1, "200": 1}


def test_first_n_and_operations_filter(srv):
    srv.faults(error5xx=0.01, first_n=3, operations=["CreateFHIRDatastore"])
    assert call(srv, "ListFHIRDatastores")[0] == 200  # other operation: untouched, not counted
    got = [call(srv, "CreateFHIRDatastore", {"DatastoreTypeVersion": "R4"})[0] for _ in range(5)]
    assert got == [500, 500, 500, 200, 200]
    # A faulted Create created nothing.
    assert len(call(srv, "ListFHIRDatastores")[2]["DatastorePropertiesList"]) == 2


def test_latency_and_jitter(srv):
    srv.faults(latency_ms=150)
    t = time.monotonic()
    assert call(srv, "ListFHIRDatastores")[0] == 200
    assert time.monotonic() - t >= 0.15
    srv.faults(latency_ms=0, jitter_ms=100, seed=3)
    ds = []
    for _ in range(8):
        t = time.monotonic()
        call(srv, "ListFHIRDatastores")
        ds.append(time.monotonic() - t)
    assert max(ds) - min(ds) > 0.02
    log = srv.admin("log")["log"]
    assert log[0]["ms"] >= 150 and log[0]["op"] == "ListFHIRDatastores"


def test_drop_after_commit_does_the_work(srv):
    srv.faults(drop_after_commit=1.0, first_n=1, operations=["CreateFHIRDatastore"])
    kind, _ = raw_socket_call(srv, "CreateFHIRDatastore", b'{"DatastoreTypeVersion": "R4"}')
    assert kind in ("eof", "rst")
    stores = call(srv, "ListFHIRDatastores")[2]["DatastorePropertiesList"]
    assert len(stores) == 1  # carried out, never answered
    assert srv.counters()["calls"]["CreateFHIRDatastore"] == {"0": 1}


def test_reset_sends_rst(srv):
    srv.faults(reset=True, first_n=1)
    kind, _ = raw_socket_call(srv, "ListFHIRDatastores")
    assert kind == "rst"
    assert raw_socket_call(srv, "ListFHIRDatastores")[0] == "answer"


def test_stall_never_answers(srv):
    srv.faults(stall=True, operations=["DescribeFHIRDatastore"])
    kind, data = raw_socket_call(srv, "DescribeFHIRDatastore", b'{"DatastoreId": "x"}', timeout=0.6)
    assert kind == "timeout" and data == b""
    assert call(srv, "ListFHIRDatastores")[0] == 200  # other ops still served
    assert srv.counters()["inflight"] >= 1


def test_fault_flags(server_factory):
    s = server_factory(*NODELAY, "--error-rate", "1", "--fault-ops", "ListFHIRDatastores")
    assert call(s, "ListFHIRDatastores")[0] == 500
    assert call(s, "CreateFHIRDatastore", {"DatastoreTypeVersion": "R4"})[0] == 200
    assert s.admin("faults")["error5xx"] == 1.0
    s2 = server_factory(*NODELAY, "--throttle-rate", "1", "--latency-ms", "50")
    t = time.monotonic()
    st, _, b = call(s2, "ListFHIRDatastores")
    assert st == 400 and b["__type"] == "ThrottlingException" and time.monotonic() - t >= 0.05
    s3 = server_factory(*NODELAY, "--drop-rate", "1")
    assert raw_socket_call(s3, "ListFHIRDatastores")[0] in ("eof", "rst")


def test_quota_mode(server_factory):
    s = server_factory(*NODELAY, "--quota")
    t0 = time.monotonic()
    answers = [call(s, "ListFHIRDatastores") for _ in range(25)]
    elapsed = time.monotonic() - t0
    codes = [a[0] for a in answers]
    assert codes[:10] == [200] * 10  # the burst
    # Never more than the burst plus 10/s for the time the calls took.
    assert codes.count(200) <= 10 + int(10 * elapsed) + 1, (codes, elapsed)
    if elapsed < 1.0:
        assert 400 in codes
    assert all(b["__type"] == "ThrottlingException" for st, _, b in answers if st != 200)
    time.sleep(0.5)
    assert call(s, "DescribeFHIRDatastore", {"DatastoreId": "x"})[0] in (200, 400)
    # One Create/Delete/Start per minute.
    st, _, b = call(s, "CreateFHIRDatastore", {"DatastoreTypeVersion": "R4"})
    assert st == 200
    sid = b["DatastoreId"]
    st, _, b = call(s, "CreateFHIRDatastore", {"DatastoreTypeVersion": "R4"})
    assert st == 400 and b["__type"] == "ThrottlingException"
    # Start* shares the 1-per-minute bucket.
    st, _, b = call(s, "StartFHIRExportJob", {
        "DatastoreId": sid, "DataAccessRoleArn": ROLE,
        "OutputDataConfig": {"S3Configuration": {"S3Uri": "s3://bkt-o/x", "KmsKeyId": KMS}}})
    assert st == 400 and b["__type"] == "ThrottlingException"
    s.faults(quota=True)  # posting the config refills the buckets
    st, _, b = call(s, "StartFHIRExportJob", {
        "DatastoreId": sid, "DataAccessRoleArn": ROLE,
        "OutputDataConfig": {"S3Configuration": {"S3Uri": "s3://bkt-o/x", "KmsKeyId": KMS}}})
    assert st == 200, b


def test_hostile_modes(srv):
    sid = call(srv, "CreateFHIRDatastore", {"DatastoreTypeVersion": "R4"})[2]["DatastoreId"]
    srv.admin("hostile", {"operation": "DescribeFHIRDatastore", "mode": "malformed_json", "count": 1})
    st, _, b = call(srv, "DescribeFHIRDatastore", {"DatastoreId": sid})
    assert st == 200 and isinstance(b, bytes)  # not JSON
    assert isinstance(call(srv, "DescribeFHIRDatastore", {"DatastoreId": sid})[2], dict)  # count used up
    srv.admin("hostile", {"operation": "DescribeFHIRDatastore", "mode": "wrong_types", "count": 1})
    b = call(srv, "DescribeFHIRDatastore", {"DatastoreId": sid})[2]
    assert b["DatastoreProperties"]["DatastoreId"] == 12345
    srv.admin("hostile", {"operation": "DescribeFHIRDatastore", "mode": "missing_required", "count": 1})
    assert call(srv, "DescribeFHIRDatastore", {"DatastoreId": sid})[2] == {}
    srv.admin("hostile", {"operation": "ListFHIRDatastores", "mode": "next_token_loop", "count": 3})
    p1 = call(srv, "ListFHIRDatastores")[2]
    p2 = call(srv, "ListFHIRDatastores", {"NextToken": p1["NextToken"]})[2]
    assert p1 == p2 and len(p1["DatastorePropertiesList"]) == 1  # the same page forever
    p3 = call(srv, "ListFHIRDatastores", {"NextToken": p2["NextToken"]})[2]
    assert p3 == p1
    assert "NextToken" not in call(srv, "ListFHIRDatastores", {"NextToken": p3["NextToken"]})[2]
    srv.admin("hostile", {"operation": "DescribeFHIRDatastore", "mode": "truncated", "count": 1})
    import http.client
    with pytest.raises(http.client.IncompleteRead):
        call(srv, "DescribeFHIRDatastore", {"DatastoreId": sid})
    srv.admin("hostile", {"operation": "DescribeFHIRDatastore", "mode": "huge", "count": 1})
    kind, data = huge_read(srv, sid)
    assert kind == "big"
    assert call(srv, "DescribeFHIRDatastore", {"DatastoreId": sid})[0] == 200


def huge_read(srv, sid):
    """Reads the head of the huge answer and its announced length, then hangs up."""
    host, port = srv.url.split("://")[1].split(":")
    body = json.dumps({"DatastoreId": sid}).encode()
    h = sign("POST", "%s:%s" % (host, port), "/", "", {"content-type": "application/x-amz-json-1.0",
                                                       "x-amz-target": "HealthLake.DescribeFHIRDatastore"},
             body, srv.access_key, srv.secret_key, srv.region)
    s = socket.create_connection((host, int(port)), timeout=10)
    req = "POST / HTTP/1.1\r\n" + "".join("%s: %s\r\n" % kv for kv in h.items())
    s.sendall(req.encode() + b"Content-Length: %d\r\n\r\n" % len(body) + body)
    data = b""
    while len(data) < 4 * 1024 * 1024:
        d = s.recv(1 << 20)
        if not d:
            break
        data += d
    s.close()
    head = data.split(b"\r\n\r\n")[0].decode()
    n = int([l.split(":")[1] for l in head.split("\r\n") if l.lower().startswith("content-length")][0])
    return ("big" if n >= 100 * 1024 * 1024 and len(data) >= 4 * 1024 * 1024 else "small"), data


def test_counters_connections_peak_and_log(srv):
    srv.reset_counters()
    hl = srv.boto3()
    for _ in range(3):
        hl.list_fhir_datastores()
    c = srv.counters()
    assert c["calls"] == {"ListFHIRDatastores": {"200": 3}}
    assert c["requests"] == 3 and c["connections"] == 1  # keep-alive: one connection
    srv.faults(latency_ms=300)
    ts = [threading.Thread(target=call, args=(srv, "ListFHIRDatastores")) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    c = srv.counters()
    assert c["peak_concurrent"] == 4 and c["connections"] == 5
    assert c["tcp_accepted"] >= 5 + 3  # plus the admin connections of this test
    srv.faults()
    call(srv, "DescribeFHIRDatastore", {"DatastoreId": "0" * 32})
    log = srv.admin("log")["log"]
    assert [e["op"] for e in log][:3] == ["ListFHIRDatastores"] * 3
    assert log[-1]["status"] == 400 and log[-1]["code"] == "ResourceNotFoundException"
    # In the order the answers were given: t is the arrival, t + ms the answer.
    done = [e["t"] + e["ms"] / 1000.0 for e in log]
    assert all(done[i] <= done[i + 1] + 0.005 for i in range(len(done) - 1)), log
    srv.reset_counters()
    c = srv.counters()
    assert c["calls"] == {} and c["requests"] == 0 and srv.admin("log")["log"] == []
    # One log line per request on stderr.
    with open(srv.log_path) as f:
        lines = [l for l in f if "DescribeFHIRDatastore 400 ResourceNotFoundException" in l]
    assert len(lines) == 1


def test_admin_state_and_seed_shapes(srv):
    out = srv.seed(datastores=[{"name": "weird name, any string", "status": "CREATING"},
                               {"id": "f" * 32, "status": "DELETED"}],
                   import_jobs=2, export_jobs=1, job_status="IN_PROGRESS")
    ds = out["datastores"]
    assert ds[1]["id"] == "f" * 32 and ds[1]["arn"].endswith("/" + "f" * 32)
    st = srv.admin("state")["datastores"]
    assert [d["DatastoreStatus"] for d in st] == ["CREATING", "DELETED"]
    assert len(st[0]["ImportJobs"]) == 2 and len(st[0]["ExportJobs"]) == 1
    assert st[0]["ImportJobs"][0]["JobStatus"] == "IN_PROGRESS"
    # A seeded CREATING store stays CREATING and cannot be deleted.
    st_, _, b = call(srv, "DeleteFHIRDatastore", {"DatastoreId": ds[0]["id"]})
    assert b["__type"] == "ConflictException"


def test_qualified_error_forms(srv):
    """error_form=qualified: __type and x-amzn-ErrorType in the long AWS forms; botocore
    still reads the plain code from them."""
    from botocore.exceptions import ClientError
    srv.faults(error_form="qualified")
    st, h, b = call(srv, "DescribeFHIRDatastore", {"DatastoreId": "0" * 32})
    assert st == 400 and b["__type"] == "com.amazonaws.healthlake#ResourceNotFoundException"
    assert h["x-amzn-errortype"] == \
        "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazonaws.healthlake/"
    st, h, b = raw_call(srv.url, "ListFHIRDatastores", {}, srv.access_key, "wrong", srv.region)
    assert st == 403 and b["__type"] == "com.amazon.coral.service#InvalidSignatureException"
    with pytest.raises(ClientError) as e:
        srv.boto3().describe_fhir_datastore(DatastoreId="0" * 32)
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    srv.faults()
    st, h, b = call(srv, "DescribeFHIRDatastore", {"DatastoreId": "0" * 32})
    assert b["__type"] == "ResourceNotFoundException" and h["x-amzn-errortype"] == "ResourceNotFoundException"


def test_access_denied(server_factory):
    """access_denied: 400 AccessDeniedException, as IAM answers a missing permission, on
    modelled and unmodelled operations alike; operations and first_n as for the other modes."""
    from botocore.exceptions import ClientError
    s = server_factory(*NODELAY, "--strict")
    s.faults(access_denied=1.0)
    st, h, b = call(s, "ListFHIRDatastores")
    assert st == 400 and h["x-amzn-errortype"] == "AccessDeniedException" and h["x-amzn-requestid"]
    assert h["content-type"] == "application/x-amz-json-1.0"
    assert b == {"__type": "AccessDeniedException",
                 "message": "User: arn:aws:iam::123456789012:user/healthlake-local is not "
                            "authorized to perform: healthlake:ListFHIRDatastores"}
    hl = s.boto3()
    with pytest.raises(ClientError) as e:  # not in ListFHIRDatastores' model: a plain ClientError
        hl.list_fhir_datastores()
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "healthlake:ListFHIRDatastores" in e.value.response["Error"]["Message"]
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert e.value.response["ResponseMetadata"]["RetryAttempts"] == 0  # not retryable
    with pytest.raises(hl.exceptions.AccessDeniedException):  # modelled here
        hl.create_fhir_datastore(DatastoreTypeVersion="R4")
    assert s.admin("faults")["access_denied"] == 1.0

    s.faults(access_denied=0.01, first_n=2, operations=["CreateFHIRDatastore"])
    assert call(s, "ListFHIRDatastores")[0] == 200  # other operation: untouched, not counted
    got = [call(s, "CreateFHIRDatastore", {"DatastoreTypeVersion": "R4"}) for _ in range(4)]
    assert [g[0] for g in got] == [400, 400, 200, 200]
    assert [g[2].get("__type") for g in got[:2]] == ["AccessDeniedException"] * 2
    # A denied Create created nothing.
    assert len(call(s, "ListFHIRDatastores")[2]["DatastorePropertiesList"]) == 2
    s.faults()
    assert call(s, "ListFHIRDatastores")[0] == 200
    c = s.counters()
    assert c["calls"]["CreateFHIRDatastore"] == {"400": 3, "200": 2}
    assert "strict_violations" not in c
    # A badly signed request still gets its 403 first.
    s.faults(access_denied=1.0)
    st, _, b = raw_call(s.url, "ListFHIRDatastores", {}, s.access_key, "wrong", s.region)
    assert st == 403 and b["__type"] == "InvalidSignatureException"
