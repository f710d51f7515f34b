"""Job files, job ids, latest, ls -lt, jq and find (DESIGN.md "Tree", "Job ids", "Reads")."""
import errno
import json
import os
import stat
import time

import pytest

from .hlutil import (IMPORT_OUTPUT, KMS_KEY, ROLE_ARN, TERMINAL, _ts_variants, assert_errno,
                     check_pretty_format, job_ids, raw_json, read, wait_for)

PATIENT = {"resourceType": "Patient", "id": "p1", "name": [{"family": "Doe", "given": ["Jan"]}],
           "gender": "female", "birthDate": "1980-02-03"}


def put_s3(server, bucket, key, text):
    p = os.path.join(server.state, "s3", bucket, key)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w") as f:
        f.write(text)


def start_import(server, sid, uri="s3://hl-input/in/", name=None):
    kw = {"InputDataConfig": {"S3Uri": uri}, "DatastoreId": sid, "DataAccessRoleArn": ROLE_ARN,
          "JobOutputDataConfig": {"S3Configuration": {"S3Uri": IMPORT_OUTPUT, "KmsKeyId": KMS_KEY}}}
    if name:
        kw["JobName"] = name
    return server.boto3().start_fhir_import_job(**kw)["JobId"]


def start_export(server, sid):
    return server.boto3().start_fhir_export_job(
        DatastoreId=sid, DataAccessRoleArn=ROLE_ARN,
        OutputDataConfig={"S3Configuration": {"S3Uri": "s3://hl-export/out/", "KmsKeyId": KMS_KEY}}
    )["JobId"]


def describe_import(server, sid, jid):
    return raw_json(server, "DescribeFHIRImportJob",
                    {"DatastoreId": sid, "JobId": jid})["ImportJobProperties"]


def wait_terminal(server, sid, jid):
    c = server.boto3()
    return wait_for(lambda: c.describe_fhir_import_job(DatastoreId=sid, JobId=jid)
                    ["ImportJobProperties"]["JobStatus"] in TERMINAL, timeout=15, what="job done")


def imports(m):
    return m.p("clinic-a", "imports")


def test_job_listed_by_id(server, store, mount_factory):
    jid = start_import(server, store["id"])
    m = mount_factory(server)
    assert job_ids(imports(m)) == [jid]


def test_export_job_listed_by_id(server, store, mount_factory):
    jid = start_export(server, store["id"])
    m = mount_factory(server)
    assert job_ids(m.p("clinic-a", "exports")) == [jid]


def test_job_file_is_pretty_json(server, store, mount_factory):
    jid = start_import(server, store["id"])
    m = mount_factory(server)
    obj = check_pretty_format(read(os.path.join(imports(m), jid)))
    assert obj["JobId"] == jid


def test_job_file_matches_service(server, store, mount_factory):
    put_s3(server, "hl-input", "in/patients.ndjson", json.dumps(PATIENT) + "\n")
    jid = start_import(server, store["id"])
    wait_terminal(server, store["id"], jid)
    m = mount_factory(server)
    got = json.loads(read(os.path.join(imports(m), jid)))
    wire = describe_import(server, store["id"], jid)
    assert list(got.keys()) == list(wire.keys())
    for k, v in wire.items():
        if k in ("SubmitTime", "EndTime"):
            assert got[k] in _ts_variants(v), k
        elif k == "JobProgressReport":
            assert {a: float(b) for a, b in got[k].items()} == {a: float(b) for a, b in v.items()}
        else:
            assert got[k] == v, k


def test_job_file_size_exact(server, store, mount_factory):
    jid = start_import(server, store["id"])
    m = mount_factory(server)
    p = os.path.join(imports(m), jid)
    assert os.stat(p).st_size == len(open(p, "rb").read())


def test_job_file_mode_0400(server, store, mount_factory):
    jid = start_import(server, store["id"])
    m = mount_factory(server)
    assert stat.S_IMODE(os.stat(os.path.join(imports(m), jid)).st_mode) == 0o400


def test_job_mtime_is_submit_time(server, store, mount_factory):
    jid = start_import(server, store["id"])
    m = mount_factory(server)
    wire = describe_import(server, store["id"], jid)["SubmitTime"]
    assert abs(os.stat(os.path.join(imports(m), jid)).st_mtime - float(wire)) < 0.01


def test_ls_lt_newest_first(server, store, mount_factory):
    ids = []
    for i in range(3):
        ids.append(start_import(server, store["id"], name=f"j{i}"))
        time.sleep(0.3)
    m = mount_factory(server)
    r = m.sh("ls -t clinic-a/imports/")
    assert r.returncode == 0, r.stderr
    got = [x for x in r.stdout.split() if x not in ("new", "latest")]
    assert got == list(reversed(ids))


def test_ls_lt_long_format(server, store, mount_factory):
    jid = start_import(server, store["id"])
    m = mount_factory(server)
    r = m.sh("ls -lt clinic-a/imports/")
    assert r.returncode == 0, r.stderr
    assert any(ln.startswith("-r--------") and ln.endswith(" " + jid) for ln in r.stdout.splitlines())


def test_latest_is_relative_symlink(server, store, mount_factory):
    jid = start_import(server, store["id"])
    m = mount_factory(server)
    p = os.path.join(imports(m), "latest")
    assert stat.S_ISLNK(os.lstat(p).st_mode)
    assert os.readlink(p) == jid


def test_latest_is_newest_by_submit_time(server, store, mount_factory):
    start_import(server, store["id"])
    time.sleep(0.3)
    newest = start_import(server, store["id"])
    m = mount_factory(server)
    assert os.readlink(os.path.join(imports(m), "latest")) == newest


def test_latest_resolves_to_job_file(server, store, mount_factory):
    jid = start_import(server, store["id"])
    m = mount_factory(server)
    assert json.loads(read(os.path.join(imports(m), "latest")))["JobId"] == jid


def test_jq_job_status(server, store, mount_factory):
    jid = start_import(server, store["id"])
    m = mount_factory(server)
    r = m.sh(f"jq -r .JobStatus clinic-a/imports/{jid}")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() in ("SUBMITTED", "QUEUED", "IN_PROGRESS") + TERMINAL


def test_jq_on_latest(server, store, mount_factory):
    jid = start_import(server, store["id"])
    m = mount_factory(server)
    r = m.sh("jq -r .JobId clinic-a/imports/latest")
    assert r.returncode == 0, r.stderr
    assert r.stdout == jid + "\n"


def test_find_lists_tree(server, store, mount_factory):
    jid = start_import(server, store["id"])
    m = mount_factory(server)
    r = m.sh("find . -maxdepth 3")
    assert r.returncode == 0, r.stderr
    out = set(r.stdout.split("\n"))
    for p in ("./clinic-a", "./clinic-a/status", "./clinic-a/imports/new",
              f"./clinic-a/imports/{jid}", "./clinic-a/exports/new", "./clinic-a/tags"):
        assert p in out, p


def test_find_name_status_once_per_store(server, mount_factory):
    server.seed(count=3, name_prefix="f")
    m = mount_factory(server)
    r = m.sh("find . -name status | sort")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["./f0000/status", "./f0001/status", "./f0002/status"]


def test_job_id_of_33_chars_enoent_without_call(server, store, mount_factory):
    m = mount_factory(server)
    os.listdir(imports(m))
    server.reset_counters()
    assert_errno(errno.ENOENT, os.stat, os.path.join(imports(m), "a" * 33))
    assert server.calls("DescribeFHIRImportJob") == 0


def test_bad_job_name_enoent_without_call(server, store, mount_factory):
    m = mount_factory(server)
    os.listdir(imports(m))
    server.reset_counters()
    assert_errno(errno.ENOENT, os.stat, os.path.join(imports(m), "bad!job"))
    assert server.calls("DescribeFHIRImportJob") == 0


def test_job_name_outside_api_pattern_enoent_without_call(server, store, mount_factory):
    # "€" is a symbol, not a letter, number or separator of the JobId pattern: the same rule
    # as the API's check before sending, so no call and ENOENT (not EINVAL from that check).
    m = mount_factory(server)
    os.listdir(imports(m))
    server.reset_counters()
    assert_errno(errno.ENOENT, os.stat, os.path.join(imports(m), "abc\u20ac"))
    assert_errno(errno.ENOENT, os.stat, m.p("clinic-a", "exports", "abc\u20ac"))
    assert sum(server.calls().values()) == 0, server.calls()


def test_bad_export_job_name_enoent_without_call(server, store, mount_factory):
    m = mount_factory(server)
    os.listdir(m.p("clinic-a", "exports"))
    server.reset_counters()
    assert_errno(errno.ENOENT, os.stat, m.p("clinic-a", "exports", "x" * 40))
    assert server.calls("DescribeFHIRExportJob") == 0


def test_unknown_valid_job_id_enoent(server, store, mount_factory):
    m = mount_factory(server)
    assert_errno(errno.ENOENT, os.stat, os.path.join(imports(m), "0" * 32))


def test_job_started_elsewhere_reachable_by_id_before_listing_expires(server, store,
                                                                      mount_factory):
    m = mount_factory(server, "list_ttl=30")
    os.listdir(imports(m))
    jid = start_import(server, store["id"])
    assert json.loads(read(os.path.join(imports(m), jid)))["JobId"] == jid


def test_terminal_job_immutable_no_more_calls(server, store, mount_factory):
    put_s3(server, "hl-input", "in/patients.ndjson", json.dumps(PATIENT) + "\n")
    jid = start_import(server, store["id"])
    wait_terminal(server, store["id"], jid)
    m = mount_factory(server, "attr_ttl=0,list_ttl=0")
    p = os.path.join(imports(m), jid)
    first = read(p)
    server.reset_counters()
    for _ in range(5):
        assert read(p) == first
    assert server.calls("DescribeFHIRImportJob") == 0


def test_running_job_redescribed_after_ttl(server_factory, mount_factory):
    srv = server_factory("--create-delay", "0", "--delete-delay", "0", "--job-delay", "30")
    s = srv.seed(datastores=[{"name": "clinic-a", "status": "ACTIVE"}])["datastores"][0]
    jid = start_import(srv, s["id"])
    m = mount_factory(srv, "attr_ttl=0,list_ttl=0")
    p = os.path.join(imports(m), jid)
    read(p)
    srv.reset_counters()
    read(p)
    read(p)
    assert srv.calls("DescribeFHIRImportJob") + srv.calls("ListFHIRImportJobs") >= 2


def test_job_file_not_writable(server, store, mount_factory):
    jid = start_import(server, store["id"])
    m = mount_factory(server)
    r = m.sh(f"echo x > clinic-a/imports/{jid}")
    assert r.returncode != 0
    assert server.mutating_calls() == 1  # the start above, nothing more


def test_read_job_with_cat(server, store, mount_factory):
    jid = start_import(server, store["id"])
    m = mount_factory(server)
    r = m.sh(f"cat clinic-a/imports/{jid}")
    assert r.returncode == 0
    assert json.loads(r.stdout)["JobId"] == jid


def describe_export(server, sid, jid):
    return raw_json(server, "DescribeFHIRExportJob",
                    {"DatastoreId": sid, "JobId": jid})["ExportJobProperties"]


def test_export_job_file_matches_service(server, store, mount_factory):
    jid = start_export(server, store["id"])
    m = mount_factory(server)
    text = read(m.p("clinic-a", "exports", jid))
    got = check_pretty_format(text)
    wire = describe_export(server, store["id"], jid)
    assert list(got.keys()) == list(wire.keys())
    for k, v in wire.items():
        if k in ("SubmitTime", "EndTime"):
            assert got[k] in _ts_variants(v), k
        else:
            assert got[k] == v, k


def test_export_job_mtime_is_submit_time(server, store, mount_factory):
    jid = start_export(server, store["id"])
    m = mount_factory(server)
    wire = describe_export(server, store["id"], jid)["SubmitTime"]
    assert abs(os.stat(m.p("clinic-a", "exports", jid)).st_mtime - float(wire)) < 0.01


def test_terminal_job_file_stable(server, store, mount_factory):
    jid = start_export(server, store["id"])
    m = mount_factory(server, "attr_ttl=0,list_ttl=0")
    p = m.p("clinic-a", "exports", jid)
    a = (read(p), os.stat(p).st_size, os.stat(p).st_mtime)
    time.sleep(0.2)
    assert (read(p), os.stat(p).st_size, os.stat(p).st_mtime) == a


def test_unlink_job_file_eperm(server, store, mount_factory):
    jid = start_import(server, store["id"])
    m = mount_factory(server, "allow_delete")
    assert_errno(errno.EPERM, os.unlink, os.path.join(imports(m), jid))
    assert jid in job_ids(imports(m))


def test_unlink_control_file_and_latest_eperm(server, store, mount_factory):
    start_import(server, store["id"])
    m = mount_factory(server, "allow_delete")
    assert_errno(errno.EPERM, os.unlink, os.path.join(imports(m), "new"))
    assert_errno(errno.EPERM, os.unlink, os.path.join(imports(m), "latest"))
    assert "new" in os.listdir(imports(m))


def test_rm_rf_imports_calls_nothing_mutating(server, store, mount_factory):
    start_import(server, store["id"])
    m = mount_factory(server, "allow_delete")
    server.reset_counters()
    m.sh("rm -rf clinic-a/imports")
    assert server.mutating_calls() == 0
    assert len(job_ids(imports(m))) == 1


@pytest.mark.parametrize("first", ["read", "xattr"])
def test_job_that_finished_since_the_last_read_is_read_whole(server_factory, mount_factory, first):
    # The kernel still holds the running job's bytes and size when the open that first sees
    # it finished arrives: that open must not keep the kernel's page cache (terminal jobs
    # keep it from then on), nor its size -- also when an xattr read saw it finished first.
    srv = server_factory("--create-delay", "0", "--delete-delay", "0", "--job-delay", "2")
    s = srv.seed(datastores=[{"name": "clinic-a", "status": "ACTIVE"}])["datastores"][0]
    jid = start_import(srv, s["id"])
    m = mount_factory(srv, "attr_ttl=1,list_ttl=60")
    p = os.path.join(imports(m), jid)
    running = json.loads(read(p))
    assert running["JobStatus"] not in TERMINAL
    wait_terminal(srv, s["id"], jid)
    time.sleep(1.1)  # the kernel's attributes from the first read expire
    if first == "xattr":
        assert os.getxattr(p, "user.healthlake.status").decode() in TERMINAL
    os.stat(p)  # the kernel asks again and is told the running job's size, still cached
    with open(p, "rb") as f:
        data = f.read()
        assert len(data) == os.fstat(f.fileno()).st_size
    done = json.loads(data)
    assert done["JobStatus"] in TERMINAL
    assert done == json.loads(read(p))
