"""Job output as files: <jobs>/<job-id>.files/ over healthlake-local's S3 API
(DESIGN.md "Job output as files")."""
import errno
import json
import math
import os
import random
import subprocess

import pytest

from .hlutil import IMPORT_OUTPUT, KMS_KEY, ROLE_ARN, TERMINAL, assert_errno, error_file, wait_for
from .test_jobs import put_s3

EXPORT_URI = "s3://hl-export/out/"


def aws(server, *args):
    return subprocess.run(["aws", "--endpoint-url", server.url, *args], env=server.env(),
                          capture_output=True, check=True, timeout=60).stdout


def start(server, sid, kind, uri="s3://hl-input/in/"):
    c = server.boto3()
    if kind == "export":
        jid = c.start_fhir_export_job(
            DatastoreId=sid, DataAccessRoleArn=ROLE_ARN,
            OutputDataConfig={"S3Configuration": {"S3Uri": EXPORT_URI, "KmsKeyId": KMS_KEY}})["JobId"]
        props = lambda: c.describe_fhir_export_job(DatastoreId=sid, JobId=jid)["ExportJobProperties"]
    else:
        jid = c.start_fhir_import_job(
            InputDataConfig={"S3Uri": uri}, DatastoreId=sid, DataAccessRoleArn=ROLE_ARN,
            JobOutputDataConfig={"S3Configuration": {"S3Uri": IMPORT_OUTPUT, "KmsKeyId": KMS_KEY}}
        )["JobId"]
        props = lambda: c.describe_fhir_import_job(DatastoreId=sid, JobId=jid)["ImportJobProperties"]
    wait_for(lambda: props()["JobStatus"] in TERMINAL, timeout=20, what="job done")
    return jid


def patients(n):
    return "".join(json.dumps({"resourceType": "Patient", "id": "p%d" % i,
                               "gender": "female" if i % 2 else "male"}) + "\n" for i in range(n))


def s3_objects(server, uri):
    """{relative key: size} as `aws s3 ls --recursive` shows them."""
    out = aws(server, "s3", "ls", "--recursive", uri).decode()
    bucket, _, prefix = uri[len("s3://"):].partition("/")
    got = {}
    for line in out.splitlines():
        parts = line.split(None, 3)
        assert parts[3].startswith(prefix), line
        got[parts[3][len(prefix):]] = int(parts[2])
    return got


def walk_files(top):
    got = {}
    for d, _, files in os.walk(top):
        for f in files:
            p = os.path.join(d, f)
            got[os.path.relpath(p, top)] = os.stat(p).st_size
    return got


def s3_calls(server):
    return {k: v for k, v in server.calls().items() if k.startswith("s3.")}


@pytest.fixture
def exported(server, store, mount_factory):
    put_s3(server, "hl-input", "in/patients.ndjson", patients(50))
    start(server, store["id"], "import")
    jid = start(server, store["id"], "export")
    m = mount_factory(server)
    uri = "%s%s-FHIR_EXPORT-%s/" % (EXPORT_URI, store["id"], jid)
    return m, jid, uri


def test_export_files_match_aws_cli(server, store, exported, tmp_path):
    m, jid, uri = exported
    top = m.p("clinic-a", "exports", jid + ".files")
    want = s3_objects(server, uri)
    assert want and walk_files(top) == want
    for rel in want:
        dst = tmp_path / "copy"
        aws(server, "s3", "cp", uri + rel, str(dst))
        assert subprocess.run(["cmp", str(dst), os.path.join(top, rel)]).returncode == 0, rel
    # Lookup only: not listed among the jobs.
    assert jid + ".files" not in os.listdir(m.p("clinic-a", "exports"))
    assert os.path.isdir(top)
    assert_errno(errno.EROFS, os.open, os.path.join(top, "Patient.ndjson"), os.O_WRONLY)


def test_import_failures_under_failure(server, store, mount_factory):
    put_s3(server, "hl-input", "in/mixed.ndjson",
           patients(3) + "this is not json\n" + json.dumps({"resourceType": "Patient"}) + "\n")
    jid = start(server, store["id"], "import")
    m = mount_factory(server)
    top = m.p("clinic-a", "imports", jid + ".files")
    assert "FAILURE" in os.listdir(top) and "SUCCESS" in os.listdir(top)
    failed = "".join(open(os.path.join(top, "FAILURE", f)).read()
                     for f in os.listdir(os.path.join(top, "FAILURE")))
    assert len(failed.splitlines()) == 2, failed
    r = m.sh("cat clinic-a/imports/%s.files/FAILURE/*.ndjson | wc -l" % jid)
    assert r.stdout.strip() == "2"


def test_not_terminal_is_enoent_with_reason(server_factory, mount_factory):
    from .hlutil import seed_store
    slow = server_factory("--job-delay", "30")
    s = seed_store(slow)
    c = slow.boto3()
    jid = c.start_fhir_export_job(
        DatastoreId=s["id"], DataAccessRoleArn=ROLE_ARN,
        OutputDataConfig={"S3Configuration": {"S3Uri": EXPORT_URI, "KmsKeyId": KMS_KEY}})["JobId"]
    m = mount_factory(slow)
    exports = m.p("clinic-a", "exports")
    assert_errno(errno.ENOENT, os.stat, os.path.join(exports, jid + ".files"))
    assert jid + ".files" in error_file(exports)
    # No such job: plain ENOENT, and no S3 call at all.
    assert_errno(errno.ENOENT, os.stat, os.path.join(exports, "nosuchjob.files"))
    assert s3_calls(slow) == {}


def test_random_reads(server, store, mount_factory):
    size = 9 * 1024 * 1024 + 12345  # more than two read-ahead windows
    data = random.Random(7).randbytes(size)
    put_s3(server, "hl-input", "in/patients.ndjson", patients(2))
    jid = start(server, store["id"], "import")
    # A large object of random bytes in the job's output folder.
    rel = "%s/%s-FHIR_IMPORT-%s/big.bin" % (IMPORT_OUTPUT[len("s3://"):].split("/", 1)[1].rstrip("/"),
                                            store["id"], jid)
    bucket = IMPORT_OUTPUT[len("s3://"):].split("/", 1)[0]
    with open(os.path.join(server.state, "s3", bucket, rel), "wb") as f:
        f.write(data)
    m = mount_factory(server)
    path = m.p("clinic-a", "imports", jid + ".files", "big.bin")
    assert os.stat(path).st_size == size
    rnd = random.Random(11)
    fd = os.open(path, os.O_RDONLY)
    try:
        for _ in range(60):
            off = rnd.randrange(size + 10)
            n = rnd.choice([1, 100, 4096, 131072, 5 * 1024 * 1024])
            assert os.pread(fd, n, off) == data[off:off + n], (off, n)
    finally:
        os.close(fd)
    with open(path, "rb") as f:
        assert f.read() == data


def test_ls_counts_one_list_per_thousand(server, store, mount_factory):
    put_s3(server, "hl-input", "in/patients.ndjson", patients(1))
    jid = start(server, store["id"], "import")
    bucket, _, prefix = IMPORT_OUTPUT[len("s3://"):].partition("/")
    folder = "%s/%s-FHIR_IMPORT-%s/many/" % (prefix.rstrip("/"), store["id"], jid)
    k = 2345
    server.admin("s3/objects", {"bucket": bucket, "prefix": folder, "count": k, "width": 6,
                                "content": "x", "size": 3})
    m = mount_factory(server)
    top = m.p("clinic-a", "imports", jid + ".files")
    os.stat(os.path.join(m.p("clinic-a", "imports"), jid))  # the job itself, before counting
    server.reset_counters()
    r = m.sh("ls -l %s.files/many | tail -n +2 | wc -l" % os.path.join("clinic-a", "imports", jid))
    assert r.stdout.strip() == str(k)
    all_ok = sum(1 for e in os.scandir(os.path.join(top, "many")) if e.stat().st_size == 3)
    assert all_ok == k
    expected_lists = math.ceil((k + 3) / 1000)  # the job's reports are in the same folder
    # Nothing else, on either plane: the terminal job was already known.
    assert server.calls() == {"s3.ListObjectsV2": expected_lists}


@pytest.mark.parametrize("fault", [{"throttle": 1.0}, {"error5xx": 1.0}, {"reset": True}])
def test_faults_during_reads_are_retried(server, store, exported, fault):
    m, jid, uri = exported
    path = m.p("clinic-a", "exports", jid + ".files", "Patient.ndjson")
    want = aws(server, "s3", "cp", uri + "Patient.ndjson", "-")
    os.stat(path)
    server.faults(operations=["s3.GetObject"], first_n=2, **fault)
    with open(path, "rb") as f:
        assert f.read() == want
    assert sum(server.counters()["calls"]["s3.GetObject"].values()) >= 3


def test_changed_object_is_estale(server, store, exported):
    m, jid, uri = exported
    path = m.p("clinic-a", "exports", jid + ".files", "Patient.ndjson")
    bucket, _, key = uri[len("s3://"):].partition("/")
    fd = os.open(path, os.O_RDONLY)
    try:
        with open(os.path.join(server.state, "s3", bucket, key + "Patient.ndjson"), "a") as f:
            f.write("{}\n")
        assert_errno(errno.ESTALE, os.pread, fd, 100, 0)
    finally:
        os.close(fd)
    assert "changed" in error_file(m.p("clinic-a", "exports"))


def test_access_denied_is_eacces_with_reason(server, store, exported):
    m, jid, uri = exported
    path = m.p("clinic-a", "exports", jid + ".files", "Patient.ndjson")
    os.stat(path)
    server.faults(operations=["s3.GetObject"], access_denied=1.0)
    assert_errno(errno.EACCES, lambda: open(path, "rb").read())
    assert "AccessDenied" in error_file(m.p("clinic-a", "exports"))


def vm(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise AssertionError(field)


def instrumented():
    """True for an ASan build, whose quarantine and shadow memory make RSS no measure."""
    from tests.conftest import build_path
    with open(build_path("fs", "healthlakefs"), "rb") as f:
        return b"__asan_init" in f.read()


def test_sequential_read_bounded_memory_and_gets(server, store, mount_factory):
    from tests.conftest import daemons_for
    put_s3(server, "hl-input", "in/patients.ndjson", patients(1))
    jid = start(server, store["id"], "import")
    bucket, _, prefix = IMPORT_OUTPUT[len("s3://"):].partition("/")
    size = 64 << 20
    key = "%s/%s-FHIR_IMPORT-%s/big.ndjson" % (prefix.rstrip("/"), store["id"], jid)
    server.admin("s3/sparse", {"bucket": bucket, "key": key, "size": size, "data": "end\n",
                               "at": size - 4})
    m = mount_factory(server, "cache_mb=8")
    path = m.p("clinic-a", "imports", jid + ".files", "big.ndjson")
    assert os.stat(path).st_size == size
    (pid,) = daemons_for(m.path)
    before = vm(pid, "VmRSS")
    server.reset_counters()
    r = m.sh("tail -c 4 clinic-a/imports/%s.files/big.ndjson; cat clinic-a/imports/%s.files/big.ndjson | wc -c"
             % (jid, jid))
    assert r.stdout == "end\n%d\n" % size
    gets = sum(server.counters()["calls"].get("s3.GetObject", {}).values())
    window = 4 << 20
    # The tail is one exact range; the sequential read about size / window GETs.
    # A read-ahead chunk handed over after its window has gone costs one GET
    # (see test_late_read_ahead_chunk_keeps_the_window); under ASan the daemon
    # is several times slower and that happens more often (17-19 seen).
    slack = 6 if instrumented() else 3
    assert size // window <= gets <= size // window + slack, gets
    grew = vm(pid, "VmHWM") - before
    print("RSS before %d KiB, peak growth %d KiB, GETs %d" % (before // 1024, grew // 1024, gets))
    # cache_mb=8 bounds the cache; the read adds one window and the transfer's buffers.
    if not instrumented():
        assert grew < (8 << 20), grew


def test_late_read_ahead_chunk_keeps_the_window(server, store, mount_factory):
    """A chunk that reaches the daemon after the window has moved past it (FUSE
    worker threads can reorder the kernel's read-ahead) is fetched on its own;
    the window stays, on its 4 MiB boundary, and the reader goes on from it."""
    put_s3(server, "hl-input", "in/patients.ndjson", patients(1))
    jid = start(server, store["id"], "import")
    bucket, _, prefix = IMPORT_OUTPUT[len("s3://"):].partition("/")
    window, chunk = 4 << 20, 128 << 10
    size = 3 * window
    key = "%s/%s-FHIR_IMPORT-%s/late.ndjson" % (prefix.rstrip("/"), store["id"], jid)
    server.admin("s3/sparse", {"bucket": bucket, "key": key, "size": size, "data": "end\n",
                               "at": size - 4})
    m = mount_factory(server)
    path = m.p("clinic-a", "imports", jid + ".files", "late.ndjson")
    assert os.stat(path).st_size == size
    server.reset_counters()
    fd = os.open(path, os.O_RDONLY)
    try:
        for off in (0, window, window - chunk, window + chunk, 2 * window - chunk):
            assert os.pread(fd, chunk, off) == b"\0" * chunk, off
        gets = sum(server.counters()["calls"].get("s3.GetObject", {}).values())
        # window 0, window 1, the late chunk on its own; the last two reads
        # come from window 1 (before: the late chunk replaced the window and
        # the next read fetched a window off its boundary: 4 GETs).
        # Under ASan a kernel read-ahead chunk can land after the window
        # moved too (one GET more, seen once in CI); the plain build is exact.
        assert gets == 3 or (instrumented() and gets == 4), gets
        assert os.pread(fd, 4, size - 4) == b"end\n"
    finally:
        os.close(fd)
