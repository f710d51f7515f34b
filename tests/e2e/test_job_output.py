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
# fs/s3read.h: the read-ahead window, and the windows one open file may hold.
WINDOW = 4 << 20
SLOTS = 3
SPARES = 16  # windows past each open file's first, mount-wide


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
    gets = get_count(server, size // WINDOW + 1)
    # The tail is one exact range; the sequential read one GET per window:
    # the window behind the reader stays until it is half way into the next,
    # so the kernel's late chunks cost nothing (17 on both builds; before the
    # window behind, the ASan build made up to 26). One GET of slack for a
    # chunk later than half a window on a loaded machine.
    assert size // WINDOW + 1 <= gets <= size // WINDOW + 2, gets
    grew = vm(pid, "VmHWM") - before
    print("RSS before %d KiB, peak growth %d KiB, GETs %d" % (before // 1024, grew // 1024, gets))
    # cache_mb=8 bounds the cache; the read adds at most SLOTS windows (the one
    # behind, the one read, the one ahead) and the transfers' buffers and
    # threads: a bound of the file, not of the object (64 MiB here).
    if not instrumented():
        assert grew < SLOTS * WINDOW + (4 << 20), grew


def test_late_read_ahead_chunk_keeps_the_window(server, store, mount_factory):
    """A chunk that reaches the daemon after the reader has moved into the next
    window (FUSE worker threads can reorder the kernel's read-ahead) is served
    from the window behind, which is kept; no window is fetched twice."""
    put_s3(server, "hl-input", "in/patients.ndjson", patients(1))
    jid = start(server, store["id"], "import")
    bucket, _, prefix = IMPORT_OUTPUT[len("s3://"):].partition("/")
    window, chunk = WINDOW, 128 << 10
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
        gets = get_count(server, 3)
        # Windows 0, 1 and 2, each once: 1 and 2 are fetched ahead while 0
        # is read, and 0 is kept while the reader is in the first half of 1
        # (before: one window, and the late chunk cost a GET of its own; 4 on
        # the ASan build once in CI).
        assert gets == 3, (gets, server.admin("log"))
        assert os.pread(fd, 4, size - 4) == b"end\n"
    finally:
        os.close(fd)


def job_object(server, store, name, data):
    """A terminal import job with an object of bytes data in its output folder:
    (job id, the object's file in healthlake-local's state)."""
    put_s3(server, "hl-input", "in/patients.ndjson", patients(1))
    jid = start(server, store["id"], "import")
    bucket, _, prefix = IMPORT_OUTPUT[len("s3://"):].partition("/")
    key = "%s/%s-FHIR_IMPORT-%s/%s" % (prefix.rstrip("/"), store["id"], jid, name)
    state = os.path.join(server.state, "s3", bucket, key)
    os.makedirs(os.path.dirname(state), exist_ok=True)
    with open(state, "wb") as f:
        f.write(data)
    return jid, state


def get_count(server, at_least=0):
    """GETs answered, once there are at least at_least and none is in flight:
    the server counts a call when it ends, and a window ahead may still be
    on its way, or waiting for the client's pacer before it is sent."""
    def settled():
        c = server.counters()
        return (c["inflight"] == 0 and
                sum(c["calls"].get("s3.GetObject", {}).values()) >= at_least)
    wait_for(settled, timeout=30, what="%d GETs answered" % at_least)
    return sum(server.counters()["calls"].get("s3.GetObject", {}).values())


def test_chunk_later_than_the_window_behind_is_fetched_alone(server, store, mount_factory):
    """A chunk behind the windows kept (more than half a window behind the
    reader) costs one GET of just itself; the windows stay, and none is
    fetched twice."""
    chunk = 128 << 10
    data = random.Random(3).randbytes(6 * WINDOW)
    jid, _ = job_object(server, store, "behind.bin", data)
    m = mount_factory(server)
    path = m.p("clinic-a", "imports", jid + ".files", "behind.bin")
    assert os.stat(path).st_size == len(data)
    server.reset_counters()
    fd = os.open(path, os.O_RDONLY)
    try:
        # In the first half of window 2 the reader still has window 1: a
        # chunk of it costs nothing. In the second half window 1 has made
        # room for window 4, and a chunk of it is one GET of its own.
        for off in (0, WINDOW, 2 * WINDOW, 2 * WINDOW - chunk, 2 * WINDOW + 3 * (WINDOW // 4),
                    2 * WINDOW - 2 * chunk, 2 * WINDOW + 3 * (WINDOW // 4) + chunk):
            assert os.pread(fd, chunk, off) == data[off:off + chunk], off
        # Windows 0-4 once each, and the late chunk.
        assert get_count(server, 6) == 6, server.admin("log")
    finally:
        os.close(fd)


def test_spare_windows_are_a_mount_wide_budget(server, store, mount_factory):
    """Windows past a file's first come from a budget of SPARES for the mount:
    with SPARES / 2 files open and read, the next one reads without windows
    ahead; closing one gives its spares back to a file opened after."""
    put_s3(server, "hl-input", "in/patients.ndjson", patients(1))
    jid = start(server, store["id"], "import")
    bucket, _, prefix = IMPORT_OUTPUT[len("s3://"):].partition("/")
    n = SPARES // (SLOTS - 1) + 1
    for i in range(n + 3):
        key = "%s/%s-FHIR_IMPORT-%s/budget/%02d.bin" % (prefix.rstrip("/"), store["id"], jid, i)
        server.admin("s3/sparse", {"bucket": bucket, "key": key, "size": 3 * WINDOW,
                                   "data": "end\n", "at": 3 * WINDOW - 4})
    m = mount_factory(server)
    top = m.p("clinic-a", "imports", jid + ".files", "budget")
    names = sorted(os.listdir(top))
    assert len(names) == n + 3
    server.reset_counters()
    fds = []

    def first_read(name):
        fds.append(os.open(os.path.join(top, name), os.O_RDONLY))
        assert os.pread(fds[-1], 4096, 0) == b"\0" * 4096
        return fds[-1]

    try:
        for i in range(n - 1):
            first_read(names[i])
            # Window 0, and the two ahead.
            assert get_count(server, 3 * (i + 1)) == 3 * (i + 1)
        last = first_read(names[n - 1])
        # No spare left: window 0 only; and a jump then is one exact GET,
        # with nothing fetched ahead.
        assert get_count(server, 3 * (n - 1) + 1) == 3 * (n - 1) + 1
        assert os.pread(last, 4096, 2 * WINDOW) == b"\0" * 4096
        assert get_count(server, 3 * (n - 1) + 2) == 3 * (n - 1) + 2
        os.close(fds.pop(0))
        # The kernel sends RELEASE after close returns: a file opened just
        # after may still find the budget spent, so up to three are tried.
        for name in names[n:]:
            before = get_count(server)
            first_read(name)
            try:
                wait_for(lambda: get_count(server) >= before + 3, timeout=10, what="spares")
                break
            except TimeoutError:
                pass
        else:
            raise AssertionError("the closed file's spares never came back")
    finally:
        for fd in fds:
            os.close(fd)


def test_concurrent_readers_of_one_file_get_the_right_bytes(server, store, mount_factory):
    """Threads reading one descriptor at random offsets while another reads it
    in order: every byte right (windows being fetched ahead are shared)."""
    import threading
    size = 5 * WINDOW + 777
    data = random.Random(5).randbytes(size)
    jid, _ = job_object(server, store, "shared.bin", data)
    m = mount_factory(server)
    path = m.p("clinic-a", "imports", jid + ".files", "shared.bin")
    fd = os.open(path, os.O_RDONLY)
    bad = []

    def randoms(seed):
        rnd = random.Random(seed)
        for _ in range(40):
            off, n = rnd.randrange(size), rnd.choice([1, 4096, 100000, 1 << 20])
            if os.pread(fd, n, off) != data[off:off + n]:
                bad.append((off, n))

    def sequential():
        with open(path, "rb") as f:
            if f.read() != data:
                bad.append("sequential")

    try:
        ts = [threading.Thread(target=randoms, args=(i,)) for i in range(3)]
        ts.append(threading.Thread(target=sequential))
        for t in ts:
            t.start()
        for t in ts:
            t.join(120)
        assert not any(t.is_alive() for t in ts)
    finally:
        os.close(fd)
    assert bad == []


@pytest.mark.parametrize("fault", [{"throttle": 1.0}, {"error5xx": 1.0}, {"reset": True}])
def test_faults_during_read_ahead_are_retried(server, store, mount_factory, fault):
    """Faults that hit the windows fetched ahead (in threads of their own) are
    retried like the reader's own GET, without a wrong byte."""
    data = random.Random(9).randbytes(4 * WINDOW + 4321)
    jid, _ = job_object(server, store, "faulty.bin", data)
    m = mount_factory(server)
    path = m.p("clinic-a", "imports", jid + ".files", "faulty.bin")
    os.stat(path)
    server.reset_counters()
    server.faults(operations=["s3.GetObject"], first_n=4, **fault)
    with open(path, "rb") as f:
        assert f.read() == data
    # 5 windows, 4 of the attempts failed and were retried.
    assert get_count(server, 5 + 4) >= 5 + 4


def test_changed_object_is_estale_for_windows_ahead(server, store, mount_factory):
    """Windows fetched before the object changed still read (they are the
    listed version); the first window fetched after the change is ESTALE."""
    data = random.Random(13).randbytes(6 * WINDOW)
    jid, state = job_object(server, store, "changing.bin", data)
    m = mount_factory(server)
    path = m.p("clinic-a", "imports", jid + ".files", "changing.bin")
    fd = os.open(path, os.O_RDONLY)
    try:
        assert os.pread(fd, 4096, 0) == data[:4096]
        get_count(server, 3)  # windows 0-2
        with open(state, "r+b") as f:
            f.write(b"changed")
        off, err = 4096, None
        while off < len(data):
            try:
                got = os.pread(fd, 1 << 20, off)
            except OSError as e:
                err = e.errno
                break
            assert got == data[off:off + len(got)], off
            off += len(got)
        assert err == errno.ESTALE, (err, off)
        assert off >= WINDOW, off  # the windows held before the change still read
    finally:
        os.close(fd)
    assert "changed" in error_file(m.p("clinic-a", "imports"))


def open_with_fetches_in_flight(server, path, data):
    """A descriptor of path whose windows 3 and 4 are being fetched ahead
    (each GET now answers after a second) when it is returned."""
    fd = os.open(path, os.O_RDONLY)
    for off in (0, WINDOW):
        assert os.pread(fd, 4096, off) == data[off:off + 4096]
    get_count(server, 3)  # windows 0-2
    server.faults(operations=["s3.GetObject"], latency_ms=1000)
    # Window 2 is held: these return at once, having started windows 3 and 4.
    for off in (2 * WINDOW, 2 * WINDOW + 3 * (WINDOW // 4)):
        assert os.pread(fd, 4096, off) == data[off:off + 4096]
    return fd


def test_release_with_fetches_in_flight(server, store, mount_factory):
    """Closing a file while its windows ahead are still being fetched: release
    waits for them (ASan would see a use after free otherwise), and the next
    open reads every byte."""
    data = random.Random(17).randbytes(5 * WINDOW)
    jid, _ = job_object(server, store, "inflight.bin", data)
    m = mount_factory(server)
    path = m.p("clinic-a", "imports", jid + ".files", "inflight.bin")
    os.stat(path)
    server.reset_counters()
    fd = open_with_fetches_in_flight(server, path, data)
    os.close(fd)
    server.faults()
    with open(path, "rb") as f:
        assert f.read() == data
    assert m.proc.poll() is None


def test_unmount_with_fetches_in_flight(server, store, mount_factory):
    """SIGTERM while a file is open and its windows ahead are being fetched:
    the daemon waits for them before freeing the S3 client, and exits without
    a crash (the fixture fails on any sanitizer report in its stderr)."""
    import signal
    data = random.Random(19).randbytes(5 * WINDOW)
    jid, _ = job_object(server, store, "term.bin", data)
    m = mount_factory(server)
    path = m.p("clinic-a", "imports", jid + ".files", "term.bin")
    os.stat(path)
    server.reset_counters()
    fd = open_with_fetches_in_flight(server, path, data)
    try:
        m.proc.send_signal(signal.SIGTERM)
        # libfuse makes a loop ended by a signal exit 1; a crash is a signal.
        assert m.proc.wait(60) in (0, 1)
    finally:
        try:
            os.close(fd)
        except OSError:
            pass


def test_stalled_read_ahead_ends_by_timeout(server, store, mount_factory):
    """With S3 stalled, a reader waiting for a window another thread is
    fetching gives up at its deadline (timeout=), as the fetching one does;
    once S3 answers again the file reads."""
    import threading
    data = random.Random(23).randbytes(3 * WINDOW)
    jid, _ = job_object(server, store, "stall.bin", data)
    m = mount_factory(server, "timeout=3")
    path = m.p("clinic-a", "imports", jid + ".files", "stall.bin")
    os.stat(path)
    server.faults(operations=["s3.GetObject"], stall=True)
    fd = os.open(path, os.O_RDONLY)
    errs = {}

    def reader(off):
        try:
            os.pread(fd, 4096, off)
            errs[off] = 0
        except OSError as e:
            errs[off] = e.errno

    try:
        # Offset 0 starts windows 1 and 2 ahead; once the three GETs are at
        # the server, a reader of window 1 waits for the fetch of it.
        ts = [threading.Thread(target=reader, args=(off,)) for off in (0, WINDOW)]
        ts[0].start()
        wait_for(lambda: server.counters()["inflight"] >= 3, timeout=30, what="3 GETs stalled")
        ts[1].start()
        for t in ts:
            t.join(60)
        assert not any(t.is_alive() for t in ts), "a read hung past timeout="
        assert errs == {0: errno.ETIMEDOUT, WINDOW: errno.ETIMEDOUT}, errs
    finally:
        os.close(fd)
    server.faults()
    with open(path, "rb") as f:
        assert f.read() == data
