"""SigV4 verification in healthlake-local: botocore and AWS CLI v2 requests are
accepted, any tampered byte and every kind of bad signature is refused (403),
and TLS works with the throw-away CA from scripts/make-test-certs."""
import json
import os
import subprocess
import sys
import time

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest
from botocore.exceptions import ClientError

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "scripts"))

from hllocal import sigv4  # noqa: E402
from hllocal.client import raw_call  # noqa: E402

AWS = "/usr/bin/aws"  # AWS CLI v2 from Debian
NODELAY = ("--create-delay", "0", "--delete-delay", "0", "--job-delay", "0", "--strict")


@pytest.fixture
def srv(server_factory):
    return server_factory(*NODELAY)


def keys(srv):
    return (srv.access_key, srv.secret_key, srv.region)


def botocore_signed(srv, op, body, token=None):
    """A request signed by botocore's own SigV4Auth, as raw parts."""
    creds = botocore.credentials.Credentials(srv.access_key, srv.secret_key, token)
    req = botocore.awsrequest.AWSRequest(
        method="POST", url=srv.url + "/", data=body,
        headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "HealthLake." + op})
    botocore.auth.SigV4Auth(creds, "healthlake", srv.region).add_auth(req)
    return dict(req.headers.items()), body


def send(srv, headers, body, path="/"):
    import http.client
    host, port = srv.url.split("://")[1].split(":")
    c = http.client.HTTPConnection(host, int(port), timeout=10)
    c.putrequest("POST", path, skip_host=True, skip_accept_encoding=True)
    for k, v in headers.items():
        c.putheader(k, v)
    if not any(k.lower() == "host" for k in headers):
        c.putheader("Host", "%s:%s" % (host, port))
    c.putheader("Content-Length", str(len(body)))
    c.endheaders(body)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, json.loads(data) if data else {}


def test_test_vector_from_conventions():
    """Worked example A of AWS-CONVENTIONS.md, byte for byte."""
    body = b'{"DatastoreId":"a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"}'
    h = sigv4.sign("POST", "healthlake.us-east-1.amazonaws.com", "/", "",
                   {"content-type": "application/x-amz-json-1.0",
                    "x-amz-target": "HealthLake.DescribeFHIRDatastore"}, body,
                   "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1",
                   amz_date="20240115T123456Z")
    assert h["authorization"].endswith(
        "Signature=5ab9dda41de5e96e7f95ad4c2188b40b860ea78cb45bf7198c0b432ef08ec75c")
    v = sigv4.Verifier([{"access_key": "AKIDEXAMPLE",
                         "secret_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}], "us-east-1")
    now = 1705322096  # 2024-01-15T12:34:56Z
    assert v.verify("POST", "/", "", list(h.items()), body, now=now) == "AKIDEXAMPLE"
    with pytest.raises(sigv4.AuthError) as e:
        v.verify("POST", "/", "", list(h.items()), body, now=now + 301)
    assert e.value.code == "InvalidSignatureException" and "Signature expired" in e.value.message
    # Canonical URI examples from the conventions.
    for raw, want in (("/a//b/./c/../d", "/a/b/d"), ("/r4/Patient/$export", "/r4/Patient/%24export"),
                      ("/a%20b/c d", "/a%2520b/c%20d"), ("//double//", "/double/"), ("/a/..", "/"),
                      ("", "/")):
        assert sigv4.canonical_uri(raw) == want
    assert sigv4.canonical_query("b=2&a=1&a=0&c") == "a=0&a=1&b=2&c="


def test_botocore_signed_accepted_and_any_tampered_byte_rejected(srv):
    body = json.dumps({"MaxResults": 5}).encode()
    headers, body = botocore_signed(srv, "ListFHIRDatastores", body)
    st, b = send(srv, headers, body)
    assert st == 200, b
    # One byte of the body changed.
    st, b = send(srv, headers, body.replace(b"5", b"6"))
    assert st == 403 and b["__type"] == "InvalidSignatureException"
    # The signed target changed.
    h2 = dict(headers, **{"X-Amz-Target": "HealthLake.ListFHIRDatastoreS"})
    st, b = send(srv, h2, body)
    assert st == 403 and b["__type"] == "InvalidSignatureException"
    # One hex digit of the signature changed.
    auth = headers["Authorization"]
    last = auth[-1]
    h3 = dict(headers, Authorization=auth[:-1] + ("0" if last != "0" else "1"))
    st, b = send(srv, h3, body)
    assert st == 403 and b["__type"] == "InvalidSignatureException"
    # Path changed (canonical URI is signed).
    st, b = send(srv, headers, body, path="/other")
    assert st == 403
    # Every single byte flip of the body is caught.
    for i in range(len(body)):
        bad = body[:i] + bytes([body[i] ^ 0x01]) + body[i + 1:]
        st, b = send(srv, headers, bad)
        assert st == 403, i


def test_boto3_with_session_token(server_factory):
    srv = server_factory(*NODELAY, "--session-token", "FQoGZXIvYXdzEXAMPLE/token+==")
    import boto3
    ok = boto3.client("healthlake", region_name=srv.region, endpoint_url=srv.url,
                      aws_access_key_id=srv.access_key, aws_secret_access_key=srv.secret_key,
                      aws_session_token="FQoGZXIvYXdzEXAMPLE/token+==")
    assert ok.list_fhir_datastores()["DatastorePropertiesList"] == []
    with pytest.raises(ClientError) as e:
        srv.boto3().list_fhir_datastores()  # no token
    assert e.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    bad = boto3.client("healthlake", region_name=srv.region, endpoint_url=srv.url,
                       aws_access_key_id=srv.access_key, aws_secret_access_key=srv.secret_key,
                       aws_session_token="wrong")
    with pytest.raises(ClientError) as e:
        bad.list_fhir_datastores()
    assert e.value.response["Error"]["Code"] == "UnrecognizedClientException"


def test_signature_rejections(srv):
    k = keys(srv)
    cases = []
    # Missing Authorization.
    cases.append(("MissingAuthenticationTokenException",
                  dict(mutate=lambda r: r["headers"].pop("authorization"))))
    # Authorization without Signature.
    cases.append(("IncompleteSignatureException", dict(mutate=lambda r: r["headers"].update(
        authorization=r["headers"]["authorization"].split(", Signature=")[0]))))
    # Missing X-Amz-Date.
    cases.append(("IncompleteSignatureException", dict(mutate=lambda r: r["headers"].pop("x-amz-date"))))
    # Unknown access key.
    cases.append(("UnrecognizedClientException", dict(mutate=lambda r: r["headers"].update(
        authorization=r["headers"]["authorization"].replace(srv.access_key, "AKIDUNKNOWN00000")))))
    # Wrong secret.
    cases.append(("InvalidSignatureException", dict(override=(srv.access_key, "not-the-secret", srv.region))))
    # Wrong region in the scope.
    cases.append(("InvalidSignatureException", dict(override=(srv.access_key, srv.secret_key, "eu-west-1"))))
    # Wrong service in the scope.
    cases.append(("InvalidSignatureException", dict(scope_service="s3")))
    # Clock skew beyond 5 minutes, both ways.
    past = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() - 400))
    future = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() + 400))
    cases.append(("InvalidSignatureException", dict(amz_date=past)))
    cases.append(("InvalidSignatureException", dict(amz_date=future)))
    # Session token sent for a key that has none.
    cases.append(("UnrecognizedClientException", dict(session_token="unexpected")))
    # Host not signed.
    def drop_host_from_signed(r):
        a = r["headers"]["authorization"]
        r["headers"]["authorization"] = a.replace("SignedHeaders=content-type;host;", "SignedHeaders=content-type;")
    cases.append(("InvalidSignatureException", dict(mutate=drop_host_from_signed)))
    # Host header changed after signing.
    cases.append(("InvalidSignatureException", dict(mutate=lambda r: r["headers"].update(host="evil:1"))))
    for want, kw in cases:
        args = kw.pop("override", k)
        st, h, b = raw_call(srv.url, "ListFHIRDatastores", {}, *args, **kw)
        assert st == 403, (want, st, b)
        assert b["__type"] == want, (want, b)
        assert h["x-amzn-requestid"]
    within = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() - 200))
    st, _, b = raw_call(srv.url, "ListFHIRDatastores", {}, *k, amz_date=within)
    assert st == 200, b
    c = srv.counters()["calls"]["ListFHIRDatastores"]
    assert c["403"] == len(cases) and c["200"] == 1


def test_admin_keys_replaces_credentials(srv):
    hl = srv.boto3()
    hl.list_fhir_datastores()
    srv.admin("keys", {"keys": [{"access_key": "AKIDNEW", "secret_key": "new-secret"}]})
    with pytest.raises(ClientError) as e:
        hl.list_fhir_datastores()
    assert e.value.response["Error"]["Code"] == "UnrecognizedClientException"
    st, _, b = raw_call(srv.url, "ListFHIRDatastores", {}, "AKIDNEW", "new-secret", srv.region)
    assert st == 200
    srv.admin("keys", {"keys": [{"access_key": "AKIDTMP", "secret_key": "s", "session_token": "tok"}]})
    st, _, b = raw_call(srv.url, "ListFHIRDatastores", {}, "AKIDTMP", "s", srv.region)
    assert st == 403 and b["__type"] == "UnrecognizedClientException"
    st, _, b = raw_call(srv.url, "ListFHIRDatastores", {}, "AKIDTMP", "s", srv.region, session_token="tok")
    assert st == 200
    srv.admin("keys", {"keys": [{"access_key": "AKIDOLD", "secret_key": "s", "session_token": "t1",
                                 "expires": time.time() - 1},
                                {"access_key": "AKIDNEWER", "secret_key": "s2", "session_token": "t2",
                                 "expires": time.time() + 3600}]})
    st, _, b = raw_call(srv.url, "ListFHIRDatastores", {}, "AKIDOLD", "s", srv.region, session_token="t1")
    assert st == 403 and b["__type"] == "ExpiredTokenException"
    st, _, b = raw_call(srv.url, "ListFHIRDatastores", {}, "AKIDNEWER", "s2", srv.region, session_token="t2")
    assert st == 200


def aws(srv, *args):
    r = subprocess.run([AWS, "healthlake", *args, "--endpoint-url", srv.url, "--output", "json"],
                       capture_output=True, text=True, env=srv.env(), timeout=60)
    return r.returncode, (json.loads(r.stdout) if r.stdout.strip() else None), r.stderr


def test_aws_cli_v2_drives_all_operations(srv, tmp_path):
    rc, out, err = aws(srv, "create-fhir-datastore", "--datastore-name", "cli-store",
                       "--datastore-type-version", "R4", "--tags", "Key=a,Value=b")
    assert rc == 0, err
    sid, arn = out["DatastoreId"], out["DatastoreArn"]
    rc, out, err = aws(srv, "describe-fhir-datastore", "--datastore-id", sid)
    assert rc == 0 and out["DatastoreProperties"]["DatastoreStatus"] == "ACTIVE", err
    rc, out, err = aws(srv, "list-fhir-datastores", "--max-results", "5")
    assert rc == 0 and len(out["DatastorePropertiesList"]) == 1
    os.makedirs(os.path.join(srv.state, "s3", "cli-in"), exist_ok=True)
    with open(os.path.join(srv.state, "s3", "cli-in", "x.ndjson"), "w") as f:
        f.write('{"resourceType":"Patient","id":"1"}\n')
    role = "arn:aws:iam::123456789012:role/cli"
    out_cfg = "S3Configuration={S3Uri=s3://cli-out/r/,KmsKeyId=alias/k}"
    rc, out, err = aws(srv, "start-fhir-import-job", "--datastore-id", sid, "--data-access-role-arn", role,
                       "--input-data-config", "S3Uri=s3://cli-in/", "--job-output-data-config", out_cfg)
    assert rc == 0, err
    jid = out["JobId"]
    rc, out, err = aws(srv, "describe-fhir-import-job", "--datastore-id", sid, "--job-id", jid)
    assert rc == 0 and out["ImportJobProperties"]["JobStatus"] == "COMPLETED", (out, err)
    rc, out, err = aws(srv, "list-fhir-import-jobs", "--datastore-id", sid)
    assert rc == 0 and out["ImportJobPropertiesList"][0]["JobId"] == jid
    rc, out, err = aws(srv, "start-fhir-export-job", "--datastore-id", sid, "--data-access-role-arn", role,
                       "--output-data-config", out_cfg)
    assert rc == 0, err
    ejid = out["JobId"]
    rc, out, err = aws(srv, "describe-fhir-export-job", "--datastore-id", sid, "--job-id", ejid)
    assert rc == 0 and out["ExportJobProperties"]["JobStatus"] == "COMPLETED"
    rc, out, err = aws(srv, "list-fhir-export-jobs", "--datastore-id", sid)
    assert rc == 0 and len(out["ExportJobPropertiesList"]) == 1
    rc, out, err = aws(srv, "tag-resource", "--resource-arn", arn, "--tags", "Key=c,Value=d")
    assert rc == 0, err
    rc, out, err = aws(srv, "untag-resource", "--resource-arn", arn, "--tag-keys", "a")
    assert rc == 0, err
    rc, out, err = aws(srv, "list-tags-for-resource", "--resource-arn", arn)
    assert rc == 0 and out["Tags"] == [{"Key": "c", "Value": "d"}]
    rc, out, err = aws(srv, "delete-fhir-datastore", "--datastore-id", sid)
    assert rc == 0 and out["DatastoreStatus"] == "DELETING"
    # Errors come out as the CLI prints them.
    rc, out, err = aws(srv, "describe-fhir-datastore", "--datastore-id", "0" * 32)
    assert rc != 0 and "ResourceNotFoundException" in err
    rc, out, err = aws(srv, "delete-fhir-datastore", "--datastore-id", sid)
    assert rc != 0 and "ConflictException" in err
    calls = srv.calls()
    assert len(calls) == 13 and all(n >= 1 for n in calls.values())


def test_tls_with_throwaway_ca(server_factory, tmp_path):
    certs = str(tmp_path / "certs")
    ca = subprocess.run([os.path.join(REPO, "scripts", "make-test-certs"), certs],
                        capture_output=True, text=True, check=True).stdout.strip()
    assert os.path.exists(ca)
    srv = server_factory(*NODELAY, "--tls-cert", os.path.join(certs, "server.pem"),
                         "--tls-key", os.path.join(certs, "server.key"), cafile=ca)
    assert srv.url.startswith("https://127.0.0.1:")
    hl = srv.boto3()
    sid = hl.create_fhir_datastore(DatastoreTypeVersion="R4")["DatastoreId"]
    assert hl.describe_fhir_datastore(DatastoreId=sid)["DatastoreProperties"]["DatastoreStatus"] == "ACTIVE"
    assert srv.counters()["calls"]["CreateFHIRDatastore"] == {"200": 1}
    # localhost is in the certificate too.
    import boto3
    lh = boto3.client("healthlake", region_name=srv.region,
                      endpoint_url=srv.url.replace("127.0.0.1", "localhost"),
                      aws_access_key_id=srv.access_key, aws_secret_access_key=srv.secret_key, verify=ca)
    assert len(lh.list_fhir_datastores()["DatastorePropertiesList"]) == 1
    # Without the CA, verification fails.
    from botocore.exceptions import SSLError
    nover = boto3.client("healthlake", region_name=srv.region, endpoint_url=srv.url,
                         aws_access_key_id=srv.access_key, aws_secret_access_key=srv.secret_key,
                         config=botocore.config.Config(retries={"max_attempts": 1}))
    with pytest.raises(SSLError):
        nover.list_fhir_datastores()
    # The CLI with AWS_CA_BUNDLE from server.env().
    rc, out, err = aws(srv, "list-fhir-datastores")
    assert rc == 0 and len(out["DatastorePropertiesList"]) == 1, err
    # A plain-HTTP client on the TLS port does not break the server.
    import socket
    host, port = srv.url.split("://")[1].split(":")
    s = socket.create_connection((host, int(port)))
    s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    s.settimeout(5)
    try:
        s.recv(100)
    except OSError:
        pass
    s.close()
    assert len(hl.list_fhir_datastores()["DatastorePropertiesList"]) == 1
