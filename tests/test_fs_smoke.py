"""Smoke tests of healthlakefs on real mounts against healthlake-local: the basics
end to end, and the request counts the cache promises."""
import errno
import json
import os
import subprocess
import threading

import pytest

from conftest import start_mount, wait_for

ROLE = "arn:aws:iam::123456789012:role/HealthLakeImport"
JOB_OPTS = f"role_arn={ROLE},import_output=s3://bucket/reports/,kms_key=alias/healthlake"


def read(path):
    with open(path) as f:
        return f.read()


def seed_one(server, name="alpha"):
    return server.seed(datastores=[{"name": name, "status": "ACTIVE"}])["datastores"][0]


def test_ls_root_lists_stores_and_control_files(server, mount_factory):
    seed_one(server, "alpha")
    unnamed = server.seed(datastores=[{"status": "ACTIVE"}])["datastores"][0]
    m = mount_factory(server)
    names = set(os.listdir(m.path))
    assert {"alpha", unnamed["id"], ".stats", ".error"} <= names
    assert os.path.isdir(m.p("alpha"))
    assert os.path.isdir(m.p(unnamed["id"]))


def test_store_reachable_by_id_but_listed_once(server, mount_factory):
    s = seed_one(server, "alpha")
    m = mount_factory(server)
    assert os.listdir(m.path).count("alpha") == 1
    assert s["id"] not in os.listdir(m.path)
    assert read(m.p(s["id"], "id")) == s["id"] + "\n"


def test_modes_are_owner_only(server, mount_factory):
    seed_one(server, "alpha")
    m = mount_factory(server)
    mode = lambda *p: os.lstat(m.p(*p)).st_mode & 0o777
    assert mode("alpha") == 0o700
    assert mode("alpha", "status") == 0o400
    assert mode(".stats") == 0o400
    assert mode(".error") == 0o400
    assert mode("alpha", "imports", "new") == 0o200
    assert mode("alpha", "exports") == 0o700


def test_mkdir_is_creating_at_once_then_active(server_factory, mount_factory):
    server = server_factory("--create-delay", "1.5", "--delete-delay", "0", "--job-delay", "0")
    m = mount_factory(server, "attr_ttl=0.2,list_ttl=0.2")
    os.mkdir(m.p("clinic-a"))
    assert "clinic-a" in os.listdir(m.path)
    assert read(m.p("clinic-a", "status")) == "CREATING\n"
    wait_for(lambda: read(m.p("clinic-a", "status")) == "ACTIVE\n", timeout=15, what="ACTIVE")
    assert server.calls("CreateFHIRDatastore") == 1


def test_stat_size_is_exact(server, mount_factory):
    seed_one(server, "alpha")
    m = mount_factory(server)
    for f in ("status", "datastore.json", "id", "arn", "endpoint", "name", "type_version",
              "created_at"):
        p = m.p("alpha", f)
        assert os.stat(p).st_size == len(open(p, "rb").read()), f


def test_datastore_json_through_jq(server, mount_factory):
    s = seed_one(server, "alpha")
    m = mount_factory(server)
    r = m.sh("jq -r '.DatastoreId, .DatastoreName, .DatastoreStatus' alpha/datastore.json")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [s["id"], "alpha", "ACTIVE"]
    text = read(m.p("alpha", "datastore.json"))
    assert text.startswith('{\n  "DatastoreId": ') and text.endswith("}\n")
    created = json.loads(text)["CreatedAt"]
    assert created.endswith("Z") and "T" in created


def test_echo_uri_to_imports_new_starts_a_job(server, mount_factory):
    seed_one(server, "alpha")
    bucket = os.path.join(server.state, "s3", "bucket", "in")
    os.makedirs(bucket, exist_ok=True)
    with open(os.path.join(bucket, "p.ndjson"), "w") as f:
        f.write(json.dumps({"resourceType": "Patient", "id": "p1"}) + "\n")
    m = mount_factory(server, JOB_OPTS)
    r = m.sh("echo s3://bucket/in/ > alpha/imports/new")
    assert r.returncode == 0, r.stderr
    assert server.calls("StartFHIRImportJob") == 1
    jobs = [n for n in os.listdir(m.p("alpha", "imports")) if n not in ("new", "latest", ".error")]
    assert len(jobs) == 1
    assert os.readlink(m.p("alpha", "imports", "latest")) == jobs[0]
    r = m.sh("jq -r .JobStatus alpha/imports/latest")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() in ("SUBMITTED", "IN_PROGRESS", "COMPLETED", "COMPLETED_WITH_ERRORS",
                                "FAILED")


def test_import_without_role_is_einval_naming_the_member(server, mount_factory):
    seed_one(server, "alpha")
    m = mount_factory(server)
    r = m.sh("echo s3://bucket/in/ > alpha/imports/new")
    assert r.returncode != 0
    assert "Invalid argument" in r.stderr
    err = read(m.p("alpha", "imports", ".error"))
    assert "JobOutputDataConfig" in err or "DataAccessRoleArn" in err
    assert err.endswith("\n") and err.count("\n") == 1
    assert server.mutating_calls() == 0


def test_two_lines_in_one_write_is_einval(server, mount_factory):
    seed_one(server, "alpha")
    m = mount_factory(server, JOB_OPTS)
    fd = os.open(m.p("alpha", "imports", "new"), os.O_WRONLY)
    try:
        with pytest.raises(OSError) as e:
            os.write(fd, b"s3://bucket/a/\ns3://bucket/b/\n")
        assert e.value.errno == errno.EINVAL
    finally:
        os.close(fd)
    assert server.calls("StartFHIRImportJob") == 0


def test_tags_write_and_read(server, mount_factory):
    s = seed_one(server, "alpha")
    m = mount_factory(server)
    r = m.sh("echo oncology > alpha/tags/team")
    assert r.returncode == 0, r.stderr
    assert read(m.p("alpha", "tags", "team")) == "oncology\n"
    assert os.stat(m.p("alpha", "tags", "team")).st_mode & 0o777 == 0o600
    tags = server.boto3().list_tags_for_resource(ResourceARN=s["arn"])["Tags"]
    assert {"Key": "team", "Value": "oncology"} in tags
    with pytest.raises(PermissionError):
        os.unlink(m.p("alpha", "tags", "team"))  # needs allow_delete


def test_error_file_says_why(server, mount_factory):
    seed_one(server, "alpha")
    m = mount_factory(server)
    assert read(m.p(".error")) == ""
    with pytest.raises(FileExistsError):
        os.mkdir(m.p("alpha"))
    with pytest.raises(OSError) as e:
        os.mkdir(m.p("bad*name"))
    assert e.value.errno == errno.EINVAL
    err = read(m.p(".error"))
    assert "bad*name" in err and err.endswith("\n") and err.count("\n") == 1
    assert server.secret_key not in err
    assert server.mutating_calls() == 0


def test_rmdir_needs_allow_delete_and_rm_rf_never_deletes(server, mount_factory):
    seed_one(server, "alpha")
    m = mount_factory(server, "allow_delete")
    r = m.sh("rm -rf alpha")
    assert r.returncode != 0
    assert server.calls("DeleteFHIRDatastore") == 0
    m2 = mount_factory(server)
    with pytest.raises(PermissionError):
        os.rmdir(m2.p("alpha"))
    assert server.calls("DeleteFHIRDatastore") == 0
    os.rmdir(m.p("alpha"))
    assert server.calls("DeleteFHIRDatastore") == 1


def test_ro_mount_is_erofs_without_calls(server, mount_factory):
    seed_one(server, "alpha")
    m = mount_factory(server, "ro," + JOB_OPTS)
    for action in (lambda: os.mkdir(m.p("beta")),
                   lambda: open(m.p("alpha", "imports", "new"), "w").write("s3://b/x/\n"),
                   lambda: open(m.p("alpha", "tags", "k"), "w").write("v\n")):
        with pytest.raises(OSError) as e:
            action()
        assert e.value.errno == errno.EROFS
    assert server.mutating_calls() == 0


def test_bad_job_id_is_enoent_without_a_call(server, mount_factory):
    seed_one(server, "alpha")
    m = mount_factory(server)
    os.listdir(m.p("alpha"))
    server.reset_counters()
    for name in ("bad*id", "x" * 33):
        with pytest.raises(FileNotFoundError):
            os.stat(m.p("alpha", "imports", name))
    assert sum(server.calls().values()) == 0


def test_ls_l_of_1000_stores_costs_two_list_calls(server, mount_factory):
    server.seed(count=1000, name_prefix="s")
    m = mount_factory(server)
    server.reset_counters()
    r = m.sh("ls -l")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("\nd") == 1000
    assert server.calls("ListFHIRDatastores") == 2
    assert server.calls("DescribeFHIRDatastore") == 0


def test_50_concurrent_cold_reads_of_status_make_one_describe(server, mount_factory):
    seed_one(server, "alpha")
    m = mount_factory(server)
    server.reset_counters()
    server.faults(latency_ms=300, operations=["DescribeFHIRDatastore"])
    barrier = threading.Barrier(50)
    results = []

    def worker():
        barrier.wait()
        results.append(read(m.p("alpha", "status")))

    threads = [threading.Thread(target=worker) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    server.faults()
    assert results == ["ACTIVE\n"] * 50
    assert server.calls("DescribeFHIRDatastore") == 1
    assert server.calls("ListFHIRDatastores") <= 1
    stats = dict(line.split() for line in read(m.p(".stats")).splitlines())
    assert int(stats["coalesced"]) >= 1


def test_stats_has_the_fixed_keys(server, mount_factory):
    m = mount_factory(server)
    keys = {line.split()[0] for line in read(m.p(".stats")).splitlines()}
    assert {"retries", "throttled", "cache.hits", "cache.misses", "coalesced", "inflight",
            "bytes.in", "bytes.out", "calls.ListFHIRDatastores"} <= keys


def test_bad_credentials_fail_before_mounting(server, tmp_path):
    mnt = str(tmp_path / "mnt")
    env = server.env(AWS_SECRET_ACCESS_KEY="wrong-secret")
    m = start_mount(server, mnt, env=env, wait=False)
    try:
        rc = m.proc.wait(30)
    finally:
        m.unmount()
    assert rc != 0
    assert not os.path.ismount(mnt)
    err = m.stderr()
    assert "cannot mount" in err
    assert "wrong-secret" not in err


def test_unreachable_service_only_warns(server, mount_factory):
    # A closed port on loopback: connection refused is not a set-up error.
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    m = mount_factory(server, f"endpoint=http://127.0.0.1:{port},max_attempts=1,timeout=2")
    assert os.path.ismount(m.path)
    assert "warning" in m.stderr()


def test_fstat_gives_the_size_of_the_open_snapshot(server, mount_factory):
    s = seed_one(server, "alpha")
    m = mount_factory(server, "attr_ttl=0,list_ttl=0,allow_delete")
    fd = os.open(m.p("alpha", "status"), os.O_RDONLY)
    try:
        first = os.pread(fd, 100, 0)
        assert first == b"ACTIVE\n"
        server.boto3().delete_fhir_datastore(DatastoreId=s["id"])
        os.listdir(m.path)  # a fresh listing no longer shows the store
        assert os.pread(fd, 100, 0) == first
        assert os.fstat(fd).st_size == len(first)
    finally:
        os.close(fd)


def test_mkdir_of_a_name_made_elsewhere_is_eexist(server, mount_factory):
    m = mount_factory(server, "list_ttl=30")
    os.listdir(m.path)
    server.boto3().create_fhir_datastore(DatastoreName="late", DatastoreTypeVersion="R4")
    with pytest.raises(FileExistsError):
        os.mkdir(m.p("late"))
    assert server.calls("CreateFHIRDatastore") == 1  # the boto3 one only


def _is_sanitized(binary):
    r = subprocess.run(["ldd", binary], capture_output=True, text=True)
    return "libasan" in r.stdout or "libubsan" in r.stdout


@pytest.mark.slow
def test_valgrind_clean_short_session(server, tmp_path):
    import shutil
    from conftest import HEALTHLAKEFS
    if not shutil.which("valgrind") or _is_sanitized(HEALTHLAKEFS):
        pytest.skip("needs valgrind and a build without sanitizers")
    seed_one(server, "alpha")
    mnt = str(tmp_path / "mnt")
    os.makedirs(mnt)
    vlog = str(tmp_path / "vg.log")
    proc = subprocess.Popen(
        ["valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect,possible",
         "--error-exitcode=9", "--log-file=" + vlog, HEALTHLAKEFS, "-f", "-o",
         f"endpoint={server.url},region={server.region},allow_delete," + JOB_OPTS, mnt],
        env=server.env(), stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: os.path.ismount(mnt) or proc.poll() is not None, timeout=60,
                 what="mount under valgrind")
        assert os.path.ismount(mnt)
        for c in ["ls -l", "mkdir beta", "cat beta/status alpha/datastore.json",
                  "echo s3://bucket/in/ > alpha/imports/new", "ls -l alpha/imports",
                  "echo v > alpha/tags/k", "cat alpha/tags/k", "mkdir 'bad*'",
                  "cat .error .stats", "rmdir beta"]:
            subprocess.run(["bash", "-c", c], cwd=mnt, capture_output=True, timeout=60)
    finally:
        subprocess.run(["fusermount3", "-u", "-z", mnt], capture_output=True)
        try:
            rc = proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
    log = open(vlog).read()
    assert rc == 0, log[-3000:]
    assert "ERROR SUMMARY: 0 errors" in log, log[-3000:]


def test_daemonises_without_f(server, tmp_path):
    from conftest import HEALTHLAKEFS
    seed_one(server, "alpha")
    mnt = str(tmp_path / "mnt")
    os.makedirs(mnt)
    r = subprocess.run([HEALTHLAKEFS, "-o", f"endpoint={server.url},region={server.region}", mnt],
                       env=server.env(), capture_output=True, text=True, timeout=60)
    try:
        assert r.returncode == 0, r.stderr
        assert os.path.ismount(mnt)
        assert read(os.path.join(mnt, "alpha", "status")) == "ACTIVE\n"
    finally:
        subprocess.run(["fusermount3", "-u", mnt], capture_output=True)
