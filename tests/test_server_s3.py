"""The S3 API of healthlake-local, driven by the real AWS CLI v2 (/usr/bin/aws)
and Debian's boto3 against its s3:// files: listings with paging, ranged and
conditional reads, uploads both ways, errors, signatures, faults, hostile keys
and the job output that imports and exports write."""
import filecmp
import hashlib
import http.client
import json
import os
import subprocess
import sys
import time
import urllib.parse

import pytest

boto3 = pytest.importorskip("boto3")
from botocore.auth import S3SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "scripts"))
from hllocal.client import raw_call  # noqa: E402

AWS = "/usr/bin/aws"
ROLE = "arn:aws:iam::123456789012:role/HealthLakeImport"
KMS = "alias/aws/s3"


def s3client(srv, retries=1, **cfg):
    return boto3.client("s3", endpoint_url=srv.url, region_name=srv.region,
                        aws_access_key_id=srv.access_key, aws_secret_access_key=srv.secret_key,
                        config=Config(s3={"addressing_style": "path"},
                                      retries={"max_attempts": retries, "mode": "standard"}, **cfg))


def aws(srv, *args, check=True):
    env = srv.env()
    env.pop("AWS_ENDPOINT_URL", None)  # the CLI gets it as an option, as users pass it
    r = subprocess.run([AWS, "--endpoint-url", srv.url, *args], capture_output=True, text=True,
                       env=env, timeout=300)
    if check:
        assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r


def s3calls(srv):
    return {k: v for k, v in srv.counters()["calls"].items() if k.startswith("s3.")}


class _Signer(S3SigV4Auth):
    """botocore's S3 signer with a chosen x-amz-content-sha256 (UNSIGNED-PAYLOAD, STREAMING-...)."""
    fixed = None

    def payload(self, request):
        return self.fixed or super().payload(request)


def signed(srv, method, path, query="", headers=None, body=b"", payload_hash=None, secret=None,
           host=None):
    """A request signed by botocore's S3 signer; returns (path+query, headers) to send as is."""
    target = path + ("?" + query if query else "")
    netloc = host or urllib.parse.urlsplit(srv.url).netloc
    req = AWSRequest(method=method, url="http://" + netloc + target, data=body,
                     headers=dict(headers or {}, Host=netloc))
    signer = _Signer(Credentials(srv.access_key, secret or srv.secret_key), "s3", srv.region)
    signer.fixed = payload_hash
    signer.add_auth(req)
    return target, dict(req.headers.items())


def send(srv, method, target, headers, body=b""):
    u = urllib.parse.urlsplit(srv.url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    c.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
    for k, v in headers.items():
        c.putheader(k, v)
    c.putheader("Content-Length", str(len(body)))
    c.endheaders(body)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, data


def err_code(e):
    return e.value.response["Error"]["Code"]


def test_aws_cli_copy_both_ways_and_list(server, tmp_path):
    aws(server, "s3", "mb", "s3://cli-bucket")
    small = tmp_path / "small.ndjson"
    small.write_bytes(b'{"resourceType":"Patient","id":"p1","x":120.50}\n')
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(19 * 1024 * 1024 + 17))  # > 8 MiB: multipart up, ranged down
    aws(server, "s3", "cp", "--only-show-errors", str(small), "s3://cli-bucket/in/small.ndjson")
    aws(server, "s3", "cp", "--only-show-errors", str(big), "s3://cli-bucket/in/sub/big.bin")
    # Placed where imports read them.
    assert (tmp_path / "state0" / "s3" / "cli-bucket" / "in" / "small.ndjson").read_bytes() == small.read_bytes()
    out = aws(server, "s3", "ls", "s3://cli-bucket/in/").stdout
    assert "PRE sub/" in out and "small.ndjson" in out and "big.bin" not in out
    out = aws(server, "s3", "ls", "--recursive", "s3://cli-bucket/").stdout
    assert [l.split()[-1] for l in out.splitlines()] == ["in/small.ndjson", "in/sub/big.bin"]
    assert str(big.stat().st_size) in out
    down = tmp_path / "down"
    aws(server, "s3", "cp", "--only-show-errors", "--recursive", "s3://cli-bucket/in/", str(down))
    assert filecmp.cmp(down / "small.ndjson", small, shallow=False)
    assert filecmp.cmp(down / "sub" / "big.bin", big, shallow=False)
    calls = s3calls(server)
    assert calls["s3.CreateMultipartUpload"] == {"200": 1}
    assert calls["s3.CompleteMultipartUpload"] == {"200": 1}
    assert calls["s3.UploadPart"]["200"] >= 3
    assert calls["s3.GetObject"]["206"] >= 3  # the CLI downloads a large object in ranges
    head = json.loads(aws(server, "s3api", "head-object", "--bucket", "cli-bucket",
                          "--key", "in/small.ndjson").stdout)
    assert head["ContentLength"] == small.stat().st_size
    assert head["ETag"] == '"%s"' % hashlib.md5(small.read_bytes()).hexdigest()
    r = aws(server, "s3", "cp", "s3://cli-bucket/in/nothing", str(tmp_path / "x"), check=False)
    assert r.returncode != 0 and "404" in r.stderr
    aws(server, "s3", "rm", "--only-show-errors", "--recursive", "s3://cli-bucket/in/")
    assert aws(server, "s3", "ls", "--recursive", "s3://cli-bucket/", check=False).stdout == ""
    aws(server, "s3", "rb", "s3://cli-bucket")
    assert "cli-bucket" not in aws(server, "s3", "ls").stdout


def test_list_paging_v2_and_v1(server):
    server.admin("s3/objects", {"bucket": "page-bucket", "prefix": "export/p", "count": 2500,
                                "content": "x"})
    server.admin("s3/objects", {"bucket": "page-bucket",
                                "keys": ["export/d%d/k%d" % (d, k) for d in range(30) for k in range(3)]
                                + ["other/z", "export", "exporter"]})
    s3 = s3client(server)
    server.reset_counters()
    pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket="page-bucket", Prefix="export/p",
                                                              PaginationConfig={"PageSize": 1000}))
    keys = [o["Key"] for p in pages for o in p["Contents"]]
    assert keys == ["export/p%06d" % i for i in range(2500)]
    assert [p["KeyCount"] for p in pages] == [1000, 1000, 500]
    assert [p["IsTruncated"] for p in pages] == [True, True, False]
    assert s3calls(server)["s3.ListObjectsV2"] == {"200": 3}
    # Delimiter: common prefixes count toward max-keys and are never repeated across pages.
    seen_k, seen_p = [], []
    for p in s3.get_paginator("list_objects_v2").paginate(Bucket="page-bucket", Prefix="export/",
                                                          Delimiter="/",
                                                          PaginationConfig={"PageSize": 7}):
        assert p["KeyCount"] <= 7
        seen_k += [o["Key"] for o in p.get("Contents", [])]
        seen_p += [c["Prefix"] for c in p.get("CommonPrefixes", [])]
    assert sorted(seen_p) == sorted("export/d%d/" % d for d in range(30)) and len(set(seen_p)) == 30
    assert len(seen_k) == 2500 and len(set(seen_k)) == 2500
    top = s3.list_objects_v2(Bucket="page-bucket", Delimiter="/")
    assert [o["Key"] for o in top["Contents"]] == ["export", "exporter"]
    assert [c["Prefix"] for c in top["CommonPrefixes"]] == ["export/", "other/"]
    r = s3.list_objects_v2(Bucket="page-bucket", StartAfter="export/p002497", Prefix="export/p")
    assert [o["Key"] for o in r["Contents"]] == ["export/p002498", "export/p002499"]
    r = s3.list_objects_v2(Bucket="page-bucket", MaxKeys=0)
    assert r["KeyCount"] == 0 and "Contents" not in r
    r = s3.list_objects_v2(Bucket="page-bucket", Prefix="export/d1/", FetchOwner=True)
    assert r["Contents"][0]["Owner"]["ID"] and r["Contents"][0]["Size"] == 0
    # v1 with markers.
    v1 = [o["Key"] for p in s3.get_paginator("list_objects").paginate(
        Bucket="page-bucket", Prefix="export/d", PaginationConfig={"PageSize": 40}) for o in p["Contents"]]
    assert v1 == sorted("export/d%d/k%d" % (d, k) for d in range(30) for k in range(3))
    cps = [c["Prefix"] for p in s3.get_paginator("list_objects").paginate(
        Bucket="page-bucket", Prefix="export/d", Delimiter="/", PaginationConfig={"PageSize": 4})
        for c in p.get("CommonPrefixes", [])]
    assert cps == sorted("export/d%d/" % d for d in range(30))
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket="page-bucket", ContinuationToken="not-a-token")
    assert err_code(e) == "InvalidArgument"


def test_list_xml_escaping_and_url_encoding(server):
    key = "a&b<c>/sp ace+plus%/é\"q"
    server.admin("s3/objects", {"bucket": "enc-bucket", "keys": [key]})
    path, hdrs = signed(server, "GET", "/enc-bucket", "list-type=2")
    st, h, body = send(server, "GET", path, hdrs)
    assert st == 200 and h["content-type"] == "application/xml"
    assert "<Key>a&amp;b&lt;c&gt;/sp ace+plus%/é&quot;q</Key>" in body.decode()
    path, hdrs = signed(server, "GET", "/enc-bucket", "encoding-type=url&list-type=2")
    st, h, body = send(server, "GET", path, hdrs)
    assert "<Key>a%26b%3Cc%3E/sp%20ace%2Bplus%25/%C3%A9%22q</Key>" in body.decode()
    assert [o["Key"] for o in s3client(server).list_objects_v2(Bucket="enc-bucket")["Contents"]] == [key]


def test_get_ranges_and_conditions(server):
    data = bytes(range(256)) * 40  # 10240 bytes
    s3 = s3client(server)
    s3.create_bucket(Bucket="range-bucket")
    tag = s3.put_object(Bucket="range-bucket", Key="obj", Body=data)["ETag"]
    assert tag == '"%s"' % hashlib.md5(data).hexdigest()
    for rng, want, cr in [("bytes=0-9", data[:10], "bytes 0-9/10240"),
                          ("bytes=10230-", data[10230:], "bytes 10230-10239/10240"),
                          ("bytes=-5", data[-5:], "bytes 10235-10239/10240"),
                          ("bytes=100-99999", data[100:], "bytes 100-10239/10240")]:
        r = s3.get_object(Bucket="range-bucket", Key="obj", Range=rng)
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert r["ContentRange"] == cr and r["Body"].read() == want and r["ContentLength"] == len(want)
    r = s3.get_object(Bucket="range-bucket", Key="obj", Range="bytes=5-1")  # malformed: ignored
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200 and r["Body"].read() == data
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="range-bucket", Key="obj", Range="bytes=10240-")
    assert err_code(e) == "InvalidRange" and e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 416
    r = s3.get_object(Bucket="range-bucket", Key="obj", Range="bytes=0-3", IfMatch=tag)
    assert r["Body"].read() == data[:4]
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="range-bucket", Key="obj", Range="bytes=0-3", IfMatch='"0000"')
    assert err_code(e) == "PreconditionFailed"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="range-bucket", Key="obj", IfNoneMatch=tag)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket="range-bucket", Key="obj", IfModifiedSince=time.time() + 3600)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="range-bucket", Key="obj", IfUnmodifiedSince=time.time() - 3600)
    assert err_code(e) == "PreconditionFailed"
    # A changed object changes its ETag: a reader holding the old one gets 412.
    s3.put_object(Bucket="range-bucket", Key="obj", Body=data[::-1])
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="range-bucket", Key="obj", Range="bytes=4-7", IfMatch=tag)
    assert err_code(e) == "PreconditionFailed"
    s3.put_object(Bucket="range-bucket", Key="empty", Body=b"")
    assert s3.get_object(Bucket="range-bucket", Key="empty")["Body"].read() == b""
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="range-bucket", Key="empty", Range="bytes=0-")
    assert err_code(e) == "InvalidRange"


def test_errors_are_s3_xml(server):
    s3 = s3client(server)
    s3.create_bucket(Bucket="err-bucket")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="err-bucket", Key="missing/key")
    assert err_code(e) == "NoSuchKey" and e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="no-such-bucket", Key="k")
    assert err_code(e) == "NoSuchBucket"
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket="err-bucket", Key="missing")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket="no-such-bucket")
    assert err_code(e) == "NoSuchBucket"
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket="err-bucket")
    assert err_code(e) == "BucketAlreadyOwnedByYou"
    s3.put_object(Bucket="err-bucket", Key="k", Body=b"1")
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket="err-bucket")
    assert err_code(e) == "BucketNotEmpty"
    path, hdrs = signed(server, "GET", "/err-bucket/missing")
    st, h, body = send(server, "GET", path, hdrs)
    assert st == 404 and h["x-amz-request-id"]
    text = body.decode()
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code>')
    assert "<Key>missing</Key>" in text and "<RequestId>%s</RequestId>" % h["x-amz-request-id"] in text
    # Unsigned: AccessDenied, not the control plane's JSON.
    st, h, body = send(server, "GET", "/err-bucket/k", {"Host": "127.0.0.1"})
    assert st == 403 and b"<Code>AccessDenied</Code>" in body
    assert s3calls(server)["s3.GetObject"]["403"] == 1


def test_signatures(server):
    s3 = s3client(server)
    s3.create_bucket(Bucket="sig-bucket")
    s3.put_object(Bucket="sig-bucket", Key="a b/x+y", Body=b"payload")
    # The path is signed exactly as sent: %20 and %2B, not normalised, not encoded twice.
    path, hdrs = signed(server, "GET", "/sig-bucket/a%20b/x%2By")
    assert send(server, "GET", path, hdrs)[:3:2] == (200, b"payload")
    rpath, rhdrs = signed(server, "GET", "/sig-bucket/a%20b/x%2By", headers={"Range": "bytes=0-3"})
    assert send(server, "GET", rpath, rhdrs)[:3:2] == (206, b"payl")
    tampered = [("path", path.replace("x%2By", "x%2Bz"), hdrs),
                ("header", rpath, dict(rhdrs, Range="bytes=0-4")),
                ("signature", path, dict(hdrs, Authorization=hdrs["Authorization"][:-1]
                                         + ("0" if hdrs["Authorization"][-1] != "0" else "1")))]
    for what, p, hd in tampered:
        st, _, body = send(server, "GET", p, hd)
        assert st == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body, what
    p2, h2 = signed(server, "GET", "/sig-bucket/a%20b/x%2By", secret="wrong-secret")
    st, _, body = send(server, "GET", p2, h2)
    assert st == 403 and b"SignatureDoesNotMatch" in body
    # A dot segment is part of the key and of the signature, never resolved.
    p3, h3 = signed(server, "GET", "/sig-bucket/a%20b/../a%20b/x%2By")
    st, _, body = send(server, "GET", p3, h3)
    assert st == 404 and b"<Key>a b/../a b/x+y</Key>" in body
    # The body must match x-amz-content-sha256 when it is a hash.
    p4, h4 = signed(server, "PUT", "/sig-bucket/up", body=b"good")
    st, _, body = send(server, "PUT", p4, h4, b"evil")
    assert st == 400 and b"XAmzContentSHA256Mismatch" in body
    with pytest.raises(ClientError):
        s3.head_object(Bucket="sig-bucket", Key="up")
    p5, h5 = signed(server, "PUT", "/sig-bucket/up", body=b"", payload_hash="UNSIGNED-PAYLOAD")
    assert send(server, "PUT", p5, h5, b"unsigned body")[0] == 200
    assert s3.get_object(Bucket="sig-bucket", Key="up")["Body"].read() == b"unsigned body"
    # A request signed for the control plane's service is not an S3 request.
    st, _, b = raw_call(server.url, "ListFHIRDatastores", {}, server.access_key, server.secret_key,
                        server.region)
    assert st == 200 and b["DatastorePropertiesList"] == []


def _aws_chunked(srv, path, chunks, tamper=False):
    """A STREAMING-AWS4-HMAC-SHA256-PAYLOAD upload built by hand (the chunk
    signature chain of the S3 docs), signed with botocore's seed signature."""
    import hmac
    payload = b"".join(chunks)
    p, hdrs = signed(srv, "PUT", path, headers={"Content-Encoding": "aws-chunked",
                                                "x-amz-decoded-content-length": str(len(payload))},
                     payload_hash="STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    auth = hdrs["Authorization"]
    seed = auth.rsplit("Signature=", 1)[1]
    date = hdrs["X-Amz-Date"]
    scope = "%s/%s/s3/aws4_request" % (date[:8], srv.region)
    k = hmac.new(("AWS4" + srv.secret_key).encode(), date[:8].encode(), hashlib.sha256).digest()
    for part in (srv.region, "s3", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    prev, out = seed, b""
    for c in list(chunks) + [b""]:
        sts = "\n".join(("AWS4-HMAC-SHA256-PAYLOAD", date, scope, prev, hashlib.sha256(b"").hexdigest(),
                         hashlib.sha256(c).hexdigest()))
        sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
        prev = sig
        if tamper and c:
            c = c[:-1] + bytes([c[-1] ^ 1])
        out += b"%x;chunk-signature=%s\r\n%s\r\n" % (len(c), sig.encode(), c)
    return send(srv, "PUT", p, hdrs, out)


def test_aws_chunked_signed_upload(server):
    s3 = s3client(server)
    s3.create_bucket(Bucket="chunk-bucket")
    chunks = [os.urandom(65536), os.urandom(1000)]
    st, _, body = _aws_chunked(server, "/chunk-bucket/streamed", chunks)
    assert st == 200, body
    assert s3.get_object(Bucket="chunk-bucket", Key="streamed")["Body"].read() == b"".join(chunks)
    st, _, body = _aws_chunked(server, "/chunk-bucket/tampered", chunks, tamper=True)
    assert st == 403 and b"SignatureDoesNotMatch" in body
    with pytest.raises(ClientError):
        s3.head_object(Bucket="chunk-bucket", Key="tampered")


HOSTILE = ["a//b", "/lead", "trail/", ".", "..", "a/./b", "a/../b", "../../escape", "%self", "%tmp.x",
           "x/%e", "%e2E", "sp ace+plus", "é/ü/✓", "a", "a/b", "a/b/c", "ctl\x01char", "tab\there",
           "new\nline", "q?x=1&y#z", "s" * 250, "-", "~"]


def test_hostile_keys_round_trip(server):
    s3 = s3client(server)
    s3.create_bucket(Bucket="hostile-bucket")
    for i, k in enumerate(HOSTILE):
        s3.put_object(Bucket="hostile-bucket", Key=k, Body=("%d:%s" % (i, k)).encode())
    listed = [o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(
        Bucket="hostile-bucket", PaginationConfig={"PageSize": 5}) for o in p["Contents"]]
    assert listed == sorted(HOSTILE, key=lambda k: k.encode())
    for i, k in enumerate(HOSTILE):
        assert s3.get_object(Bucket="hostile-bucket", Key=k)["Body"].read() == ("%d:%s" % (i, k)).encode()
    # Nothing leaves the bucket's directory, and every file there is an object or a directory of one.
    state = server.state
    for dirpath, dirs, files in os.walk(os.path.join(state, "s3")):
        assert dirpath.startswith(os.path.join(state, "s3", "hostile-bucket")) or dirpath == os.path.join(state, "s3")
    assert set(os.listdir(os.path.join(state, "s3"))) == {"hostile-bucket"}
    assert sorted(os.listdir(state)) == ["s3", "state.json"] or "escape" not in os.listdir(state)
    r = s3.list_objects_v2(Bucket="hostile-bucket", Prefix="a/", Delimiter="/")
    # S3 order is UTF-8 byte order: "." (0x2E) before "/" (0x2F).
    assert [o["Key"] for o in r["Contents"]] == ["a/b"] and [c["Prefix"] for c in r["CommonPrefixes"]] == [
        "a/../", "a/./", "a//", "a/b/"]
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="hostile-bucket", Key="x" * 300, Body=b"")
    assert err_code(e) == "KeyTooLongError"
    # Quiet: S3 (and this server) would echo "ctl\x01char" as &#x1;, which botocore cannot parse.
    r = s3.delete_objects(Bucket="hostile-bucket", Delete={"Objects": [{"Key": k} for k in HOSTILE],
                                                           "Quiet": True})
    assert "Errors" not in r
    assert s3.list_objects_v2(Bucket="hostile-bucket")["KeyCount"] == 0
    assert os.listdir(os.path.join(state, "s3", "hostile-bucket")) == []


def test_faults_and_counters(server, tmp_path):
    s3 = s3client(server, retries=4)
    s3.create_bucket(Bucket="fault-bucket")
    data = os.urandom(300000)
    s3.put_object(Bucket="fault-bucket", Key="obj", Body=data)
    server.reset_counters()
    server.faults(throttle=1, operations=["s3.GetObject"], first_n=2)
    assert s3.get_object(Bucket="fault-bucket", Key="obj")["Body"].read() == data
    assert s3calls(server) == {"s3.GetObject": {"503": 2, "200": 1}}
    log = [e for e in server.admin("log")["log"] if e["op"] == "s3.GetObject"]
    assert [e["code"] for e in log] == ["SlowDown", "SlowDown", ""]
    assert log[-1]["path"] == "/fault-bucket/obj" and log[-1]["method"] == "GET"
    # Faults of one plane leave the other alone.
    server.faults(error5xx=1, operations=["s3.*"])
    with pytest.raises(ClientError) as e:
        s3client(server).head_object(Bucket="fault-bucket", Key="obj")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert raw_call(server.url, "ListFHIRDatastores", {}, server.access_key, server.secret_key,
                    server.region)[0] == 200
    server.faults(access_denied=1, operations=["s3.ListObjectsV2"], first_n=1)
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket="fault-bucket")
    assert err_code(e) == "AccessDenied"
    # A download cut in the middle of its body: the CLI retries and still gets every byte.
    server.faults(drop_after_commit=1, operations=["s3.GetObject"], first_n=1)
    server.reset_counters()
    aws(server, "s3", "cp", "--only-show-errors", "s3://fault-bucket/obj", str(tmp_path / "obj"))
    assert (tmp_path / "obj").read_bytes() == data
    assert s3calls(server)["s3.GetObject"] == {"0": 1, "200": 1}
    assert [e["code"] for e in server.admin("log")["log"] if e["op"] == "s3.GetObject"] == ["drop_body", ""]
    server.faults()


def test_job_output_visible_through_s3(server, tmp_path):
    k = (server.access_key, server.secret_key, server.region)

    def call(op, body):
        st, _, b = raw_call(server.url, op, body, *k)
        assert st == 200, (op, b)
        return b
    src = tmp_path / "in.ndjson"
    src.write_text('{"resourceType":"Patient","id":"p1"}\nnot json\n{"resourceType":"Patient","id":"p2"}\n')
    aws(server, "s3", "mb", "s3://job-in")
    aws(server, "s3", "cp", "--only-show-errors", str(src), "s3://job-in/batch/in.ndjson")
    sid = call("CreateFHIRDatastore", {"DatastoreTypeVersion": "R4"})["DatastoreId"]
    jid = call("StartFHIRImportJob", {
        "DatastoreId": sid, "DataAccessRoleArn": ROLE, "InputDataConfig": {"S3Uri": "s3://job-in/batch/"},
        "JobOutputDataConfig": {"S3Configuration": {"S3Uri": "s3://job-out/reports/", "KmsKeyId": KMS}}})["JobId"]
    s3 = s3client(server)
    folder = "reports/%s-FHIR_IMPORT-%s/" % (sid, jid)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="job-out", Prefix=folder)["Contents"]]
    assert keys == [folder + "FAILURE/FAILURE.ndjson", folder + "SUCCESS/SUCCESS.ndjson", folder + "manifest.json"]
    fail = s3.get_object(Bucket="job-out", Key=folder + "FAILURE/FAILURE.ndjson")["Body"].read().decode()
    assert [json.loads(l)["line"] for l in fail.splitlines()] == [2]
    manifest = json.loads(s3.get_object(Bucket="job-out", Key=folder + "manifest.json")["Body"].read())
    assert manifest["numberOfResourcesImportedSuccessfully"] == 2
    xid = call("StartFHIRExportJob", {
        "DatastoreId": sid, "DataAccessRoleArn": ROLE,
        "OutputDataConfig": {"S3Configuration": {"S3Uri": "s3://job-out/export/", "KmsKeyId": KMS}}})["JobId"]
    efolder = "export/%s-FHIR_EXPORT-%s/" % (sid, xid)
    # A half-written object (the temp file a job writes before its rename) is never listed.
    edir = os.path.join(server.state, "s3", "job-out", "export", "%s-FHIR_EXPORT-%s" % (sid, xid))
    with open(os.path.join(edir, "%tmp.in-progress"), "w") as f:
        f.write("partial")
    r = s3.list_objects_v2(Bucket="job-out", Prefix=efolder)
    assert [o["Key"] for o in r["Contents"]] == [efolder + "Patient.ndjson"]
    out = tmp_path / "Patient.ndjson"
    aws(server, "s3", "cp", "--only-show-errors", "s3://job-out/" + efolder + "Patient.ndjson", str(out))
    assert sorted(json.loads(l)["id"] for l in out.read_text().splitlines()) == ["p1", "p2"]


def test_big_sparse_object_streams(server):
    """A 3 GiB object (sparse) read by range reads only that range, and a full
    1 GiB read keeps the server's memory flat (sendfile)."""
    server.admin("s3/sparse", {"bucket": "big-bucket", "key": "huge.bin", "size": 3 << 30,
                               "at": 2 << 30, "data": "MARK"})
    server.admin("s3/sparse", {"bucket": "big-bucket", "key": "gig.bin", "size": 1 << 30})
    s3 = s3client(server)
    head = s3.head_object(Bucket="big-bucket", Key="huge.bin")
    assert head["ContentLength"] == 3 << 30 and head["ETag"].endswith('-1"')
    assert s3.head_object(Bucket="big-bucket", Key="huge.bin")["ETag"] == head["ETag"]  # stable
    t0 = time.monotonic()
    r = s3.get_object(Bucket="big-bucket", Key="huge.bin", Range="bytes=%d-%d" % ((2 << 30) - 2, (2 << 30) + 5))
    assert r["Body"].read() == b"\0\0MARK\0\0"
    assert time.monotonic() - t0 < 2
    r = s3.get_object(Bucket="big-bucket", Key="gig.bin", IfMatch=s3.head_object(
        Bucket="big-bucket", Key="gig.bin")["ETag"])
    n = 0
    for chunk in r["Body"].iter_chunks(1 << 20):
        n += len(chunk)
    assert n == 1 << 30
    with open("/proc/%d/status" % server.proc.pid) as f:
        rss_kb = int([l for l in f if l.startswith("VmHWM:")][0].split()[1])
    assert rss_kb < 200 * 1024, rss_kb


def test_virtual_hosted_style(server):
    s3 = s3client(server)
    s3.create_bucket(Bucket="vhost-bucket")
    s3.put_object(Bucket="vhost-bucket", Key="dir/obj", Body=b"virtual")
    port = urllib.parse.urlsplit(server.url).port
    path, hdrs = signed(server, "GET", "/dir/obj", host="vhost-bucket.localhost:%d" % port)
    st, _, body = send(server, "GET", path, hdrs)
    assert (st, body) == (200, b"virtual")


def test_presigned_urls(server):
    import urllib.error
    import urllib.request
    s3 = s3client(server, signature_version="s3v4")  # this botocore presigns with SigV2 otherwise
    s3.create_bucket(Bucket="pre-bucket")
    s3.put_object(Bucket="pre-bucket", Key="dir/a b+c", Body=b"presigned body")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "pre-bucket", "Key": "dir/a b+c"},
                                    ExpiresIn=600)
    assert "X-Amz-Signature=" in url
    with urllib.request.urlopen(url, timeout=30) as r:
        assert r.read() == b"presigned body"
    bad = url.replace("dir/a%20b", "dir/a%20c")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(bad, timeout=30)
    assert e.value.code == 403 and b"SignatureDoesNotMatch" in e.value.read()
    put = s3.generate_presigned_url("put_object", Params={"Bucket": "pre-bucket", "Key": "up"}, ExpiresIn=600)
    req = urllib.request.Request(put, data=b"uploaded", method="PUT")
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status == 200
    assert s3.get_object(Bucket="pre-bucket", Key="up")["Body"].read() == b"uploaded"
    cli = aws(server, "s3", "presign", "s3://pre-bucket/up", "--expires-in", "300").stdout.strip()
    with urllib.request.urlopen(cli, timeout=30) as r:
        assert r.read() == b"uploaded"
    short = s3.generate_presigned_url("get_object", Params={"Bucket": "pre-bucket", "Key": "up"}, ExpiresIn=1)
    time.sleep(2.1)
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(short, timeout=30)
    assert e.value.code == 403 and b"<Message>Request has expired</Message>" in e.value.read()


def test_client_gone_mid_upload(server):
    import socket
    s3 = s3client(server)
    s3.create_bucket(Bucket="gone-bucket")
    path, hdrs = signed(server, "PUT", "/gone-bucket/partial", payload_hash="UNSIGNED-PAYLOAD")
    u = urllib.parse.urlsplit(server.url)
    sock = socket.create_connection((u.hostname, u.port))
    head = "PUT %s HTTP/1.1\r\n%sContent-Length: 1048576\r\n\r\n" % (
        path, "".join("%s: %s\r\n" % kv for kv in hdrs.items()))
    sock.sendall(head.encode() + b"x" * 1000)
    sock.close()
    conftest = sys.modules["conftest"]
    conftest.wait_for(lambda: s3calls(server).get("s3.PutObject") == {"0": 1}, what="upload counted")
    conftest.wait_for(lambda: server.counters()["inflight"] == 0, what="nothing in flight")
    assert os.listdir(os.path.join(server.state, "s3", "gone-bucket")) == []  # no temp file left
    with pytest.raises(ClientError):
        s3.head_object(Bucket="gone-bucket", Key="partial")


def test_over_tls(server_factory, tmp_path):
    """HTTPS: the CLI signs uploads over TLS differently (unsigned payloads with
    Content-MD5), and downloads cannot use sendfile on a TLS socket."""
    certs = str(tmp_path / "certs")
    ca = subprocess.run([os.path.join(REPO, "scripts", "make-test-certs"), certs],
                        capture_output=True, text=True, check=True).stdout.strip()
    srv = server_factory("--tls-cert", os.path.join(certs, "server.pem"),
                         "--tls-key", os.path.join(certs, "server.key"), cafile=ca)
    assert srv.url.startswith("https://")
    data = tmp_path / "data.bin"
    data.write_bytes(os.urandom(9 * 1024 * 1024 + 3))
    aws(srv, "s3", "mb", "s3://tls-bucket")
    aws(srv, "s3", "cp", "--only-show-errors", str(data), "s3://tls-bucket/d/data.bin")
    aws(srv, "s3", "cp", "--only-show-errors", "s3://tls-bucket/d/data.bin", str(tmp_path / "back.bin"))
    assert filecmp.cmp(data, tmp_path / "back.bin", shallow=False)
    s3 = boto3.client("s3", endpoint_url=srv.url, region_name=srv.region, verify=ca,
                      aws_access_key_id=srv.access_key, aws_secret_access_key=srv.secret_key,
                      config=Config(s3={"addressing_style": "path"}))
    r = s3.get_object(Bucket="tls-bucket", Key="d/data.bin", Range="bytes=1000-1999")
    assert r["Body"].read() == data.read_bytes()[1000:2000]
    s3.put_object(Bucket="tls-bucket", Key="small", Body=b"over tls")
    assert s3.get_object(Bucket="tls-bucket", Key="small")["Body"].read() == b"over tls"


def test_session_tokens_and_expired_keys(server):
    server.admin("keys", {"keys": [
        {"access_key": server.access_key, "secret_key": server.secret_key},
        {"access_key": "AKIDSESSION0000001", "secret_key": "session-secret", "session_token": "tok-1"},
        {"access_key": "AKIDEXPIRED0000001", "secret_key": "expired-secret", "expires": time.time() - 1}]})
    s3client(server).create_bucket(Bucket="tok-bucket")

    def client(ak, sk, token=None):
        return boto3.client("s3", endpoint_url=server.url, region_name=server.region,
                            aws_access_key_id=ak, aws_secret_access_key=sk, aws_session_token=token,
                            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    client("AKIDSESSION0000001", "session-secret", "tok-1").put_object(Bucket="tok-bucket", Key="k", Body=b"1")
    with pytest.raises(ClientError) as e:
        client("AKIDSESSION0000001", "session-secret", "tok-2").head_object(Bucket="tok-bucket", Key="k")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(ClientError) as e:
        client("AKIDSESSION0000001", "session-secret", "tok-2").get_object(Bucket="tok-bucket", Key="k")
    assert err_code(e) == "InvalidAccessKeyId"
    with pytest.raises(ClientError) as e:
        client("AKIDEXPIRED0000001", "expired-secret").get_object(Bucket="tok-bucket", Key="k")
    assert err_code(e) == "ExpiredToken"
