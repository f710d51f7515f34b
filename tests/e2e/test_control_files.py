"""imports/new and exports/new (DESIGN.md "Writes", "When a control file acts")."""
import errno
import json
import os

import pytest

from .hlutil import (IMPORT_OUTPUT, JOB_OPTS, KMS_KEY, ROLE_ARN, assert_one_line, boto_jobs,
                     error_file, job_ids, wait_for, write_once)

URI = "s3://hl-input/clinic-a/"
OUT = "s3://hl-export/clinic-a/"


def imports(m):
    return m.p("clinic-a", "imports")


def new(m, kind="imports"):
    return m.p("clinic-a", kind, "new")


# ------------------------------------------------------------------ URI line

def test_echo_uri_starts_import(server, store, jm):
    r = jm.sh(f"echo {URI} > clinic-a/imports/new")
    assert r.returncode == 0, r.stderr
    jobs = boto_jobs(server, store["id"])
    assert len(jobs) == 1
    assert jobs[0]["InputDataConfig"]["S3Uri"] == URI


def test_echo_uri_one_start_call(server, store, jm):
    server.reset_counters()
    jm.sh(f"echo {URI} > clinic-a/imports/new")
    assert server.calls("StartFHIRImportJob") == 1


def test_import_defaults_from_mount_options(server, store, jm):
    jm.sh(f"echo {URI} > clinic-a/imports/new")
    job = boto_jobs(server, store["id"])[0]
    assert job["DataAccessRoleArn"] == ROLE_ARN
    s3 = job["JobOutputDataConfig"]["S3Configuration"]
    assert s3["S3Uri"] == IMPORT_OUTPUT
    assert s3["KmsKeyId"] == KMS_KEY


def test_import_job_listed_as_soon_as_write_returns(server, store, jm):
    write_once(new(jm), URI + "\n")
    jid = boto_jobs(server, store["id"])[0]["JobId"]
    assert job_ids(imports(jm)) == [jid]


def test_import_latest_symlink_as_soon_as_write_returns(server, store, jm):
    write_once(new(jm), URI + "\n")
    jid = boto_jobs(server, store["id"])[0]["JobId"]
    assert os.readlink(os.path.join(imports(jm), "latest")) == jid


def test_import_write_returns_before_close(server, store, jm):
    fd = os.open(new(jm), os.O_WRONLY)
    try:
        os.write(fd, (URI + "\n").encode())
        assert server.calls("StartFHIRImportJob") == 1
    finally:
        os.close(fd)


def test_import_latest_points_to_newest(server, store, jm):
    write_once(new(jm), URI + "\n")
    first = os.readlink(os.path.join(imports(jm), "latest"))
    write_once(new(jm), "s3://hl-input/second/\n")
    second = os.readlink(os.path.join(imports(jm), "latest"))
    assert second != first
    job = [j for j in boto_jobs(server, store["id"]) if j["JobId"] == second][0]
    assert job["InputDataConfig"]["S3Uri"] == "s3://hl-input/second/"


def test_import_job_file_readable_after_start(server, store, jm):
    write_once(new(jm), URI + "\n")
    jid = os.readlink(os.path.join(imports(jm), "latest"))
    obj = json.loads(open(os.path.join(imports(jm), jid)).read())
    assert obj["JobId"] == jid


# ------------------------------------------------------------------ JSON input

def test_json_object_one_line(server, store, jm):
    body = json.dumps({"InputDataConfig": {"S3Uri": URI}, "JobName": "nightly"})
    r = jm.sh(f"echo '{body}' > clinic-a/imports/new")
    assert r.returncode == 0, r.stderr
    job = boto_jobs(server, store["id"])[0]
    assert job["JobName"] == "nightly"
    assert job["InputDataConfig"]["S3Uri"] == URI
    assert job["DataAccessRoleArn"] == ROLE_ARN


def test_pretty_json_in_one_write_is_one_input(server, store, jm):
    body = json.dumps({"InputDataConfig": {"S3Uri": URI}, "JobName": "pretty"}, indent=2) + "\n"
    assert write_once(new(jm), body) == (0, 0)
    jobs = boto_jobs(server, store["id"])
    assert [j["JobName"] for j in jobs] == ["pretty"]


def test_json_members_override_defaults(server, store, jm):
    role = "arn:aws:iam::123456789012:role/OtherRole"
    body = json.dumps({"InputDataConfig": {"S3Uri": URI}, "DataAccessRoleArn": role})
    assert write_once(new(jm), body + "\n") == (0, 0)
    assert boto_jobs(server, store["id"])[0]["DataAccessRoleArn"] == role


def test_json_without_newline_acts_on_write(server, store, jm):
    fd = os.open(new(jm), os.O_WRONLY)
    try:
        os.write(fd, json.dumps({"InputDataConfig": {"S3Uri": URI}}).encode())
        assert server.calls("StartFHIRImportJob") == 1
    finally:
        os.close(fd)


def test_json_split_over_two_writes(server, store, jm):
    fd = os.open(new(jm), os.O_WRONLY)
    try:
        os.write(fd, b'{"InputDataConfig": ')
        assert server.calls("StartFHIRImportJob") == 0
        os.write(fd, ('{"S3Uri": "%s"}}\n' % URI).encode())
        assert server.calls("StartFHIRImportJob") == 1
    finally:
        os.close(fd)
    assert len(boto_jobs(server, store["id"])) == 1


def test_unknown_member_einval_no_call(server, store, jm):
    server.reset_counters()
    body = json.dumps({"InputDataConfig": {"S3Uri": URI}, "Bogus": 1}) + "\n"
    assert write_once(new(jm), body)[0] == errno.EINVAL
    assert server.mutating_calls() == 0


def test_unknown_member_sets_imports_error(server, store, jm):
    body = json.dumps({"InputDataConfig": {"S3Uri": URI}, "Bogus": 1}) + "\n"
    write_once(new(jm), body)
    assert_one_line(error_file(imports(jm)))


def test_invalid_json_einval(server, store, jm):
    assert write_once(new(jm), '{"InputDataConfig": }\n')[0] == errno.EINVAL
    assert server.mutating_calls() == 0


# ------------------------------------------------------------------ refusals

def test_echo_bad_exits_1_invalid_argument(server, store, jm):
    r = jm.sh("echo bad > clinic-a/imports/new")
    assert r.returncode == 1
    assert "Invalid argument" in r.stderr
    assert server.mutating_calls() == 0


def test_non_s3_uri_einval(server, store, jm):
    assert write_once(new(jm), "https://example.com/data/\n")[0] == errno.EINVAL
    assert server.mutating_calls() == 0


def test_two_lines_in_one_write_einval(server, store, jm):
    assert write_once(new(jm), f"{URI}\ns3://hl-input/other/\n")[0] == errno.EINVAL
    assert server.mutating_calls() == 0


def test_more_than_64k_einval(server, store, jm):
    data = "s3://hl-input/" + "a" * (64 * 1024) + "\n"
    assert write_once(new(jm), data)[0] == errno.EINVAL
    assert server.mutating_calls() == 0


def test_more_than_64k_over_several_writes_einval(server, store, jm):
    fd = os.open(new(jm), os.O_WRONLY)
    errs = []
    try:
        os.write(fd, b"s3://hl-input/")
        for _ in range(17):
            try:
                os.write(fd, b"a" * 4096)
            except OSError as e:
                errs.append(e.errno)
                break
    finally:
        try:
            os.close(fd)
        except OSError as e:
            errs.append(e.errno)
    assert errno.EINVAL in errs
    assert server.mutating_calls() == 0


def test_empty_flush_does_nothing(server, store, jm):
    server.reset_counters()
    r = jm.sh(": > clinic-a/imports/new")
    assert r.returncode == 0, r.stderr
    assert server.mutating_calls() == 0
    assert error_file(imports(jm)) == ""


def test_incomplete_line_acted_on_at_close(server, store, jm):
    assert write_once(new(jm), URI) == (0, 0)
    assert [j["InputDataConfig"]["S3Uri"] for j in boto_jobs(server, store["id"])] == [URI]


def test_printf_without_newline_bash(server, store, jm):
    r = jm.sh(f"printf %s {URI} > clinic-a/imports/new")
    assert r.returncode == 0, r.stderr
    assert len(boto_jobs(server, store["id"])) == 1


def test_incomplete_bad_input_fails_at_close(server, store, jm):
    # Acted on "at the latest at close(2)": refusing it at write(2) is allowed too.
    werr, cerr = write_once(new(jm), "garbage-without-newline")
    assert (werr or cerr) == errno.EINVAL
    assert server.mutating_calls() == 0


def test_missing_role_einval_names_member(server, store, mount_factory):
    m = mount_factory(server, f"import_output={IMPORT_OUTPUT},kms_key={KMS_KEY}")
    assert write_once(new(m), URI + "\n")[0] == errno.EINVAL
    assert "DataAccessRoleArn" in error_file(imports(m))
    assert server.mutating_calls() == 0


def test_missing_output_einval_names_member(server, store, mount_factory):
    m = mount_factory(server, f"role_arn={ROLE_ARN},kms_key={KMS_KEY}")
    assert write_once(new(m), URI + "\n")[0] == errno.EINVAL
    assert "JobOutputDataConfig" in error_file(imports(m))
    assert server.mutating_calls() == 0


def test_missing_kms_key_einval_names_member(server, store, mount_factory):
    m = mount_factory(server, f"role_arn={ROLE_ARN},import_output={IMPORT_OUTPUT}")
    assert write_once(new(m), URI + "\n")[0] == errno.EINVAL
    assert "KmsKeyId" in error_file(imports(m))
    assert server.mutating_calls() == 0


def test_json_supplies_what_options_lack(server, store, mount_factory):
    m = mount_factory(server)
    body = {"InputDataConfig": {"S3Uri": URI}, "DataAccessRoleArn": ROLE_ARN,
            "JobOutputDataConfig": {"S3Configuration": {"S3Uri": IMPORT_OUTPUT, "KmsKeyId": KMS_KEY}}}
    assert write_once(new(m), json.dumps(body) + "\n") == (0, 0)
    assert len(boto_jobs(server, store["id"])) == 1


def test_import_into_unknown_store_enoent(server, store, jm):
    from .hlutil import assert_errno
    assert_errno(errno.ENOENT, os.open, jm.p("nope", "imports", "new"), os.O_WRONLY)


# ------------------------------------------------------------------ exports

def test_echo_uri_starts_export(server, store, jm):
    r = jm.sh(f"echo {OUT} > clinic-a/exports/new")
    assert r.returncode == 0, r.stderr
    jobs = boto_jobs(server, store["id"], "export")
    assert len(jobs) == 1
    s3 = jobs[0]["OutputDataConfig"]["S3Configuration"]
    assert s3["S3Uri"] == OUT
    assert s3["KmsKeyId"] == KMS_KEY
    assert jobs[0]["DataAccessRoleArn"] == ROLE_ARN


def test_export_one_start_call(server, store, jm):
    server.reset_counters()
    jm.sh(f"echo {OUT} > clinic-a/exports/new")
    assert server.calls("StartFHIRExportJob") == 1
    assert server.calls("StartFHIRImportJob") == 0


def test_export_listed_and_latest(server, store, jm):
    write_once(new(jm, "exports"), OUT + "\n")
    jid = boto_jobs(server, store["id"], "export")[0]["JobId"]
    exp = jm.p("clinic-a", "exports")
    assert job_ids(exp) == [jid]
    assert os.readlink(os.path.join(exp, "latest")) == jid


def test_export_json_object(server, store, jm):
    body = {"OutputDataConfig": {"S3Configuration": {"S3Uri": OUT, "KmsKeyId": KMS_KEY}},
            "JobName": "exp1"}
    assert write_once(new(jm, "exports"), json.dumps(body) + "\n") == (0, 0)
    assert boto_jobs(server, store["id"], "export")[0]["JobName"] == "exp1"


def test_export_unknown_member_einval(server, store, jm):
    body = json.dumps({"InputDataConfig": {"S3Uri": URI}}) + "\n"
    assert write_once(new(jm, "exports"), body)[0] == errno.EINVAL
    assert server.mutating_calls() == 0


def test_export_missing_role_einval_in_exports_error(server, store, mount_factory):
    m = mount_factory(server, f"kms_key={KMS_KEY}")
    assert write_once(new(m, "exports"), OUT + "\n")[0] == errno.EINVAL
    assert "DataAccessRoleArn" in error_file(m.p("clinic-a", "exports"))
    assert error_file(imports(m)) == ""


def test_export_does_not_need_import_output(server, store, mount_factory):
    m = mount_factory(server, f"role_arn={ROLE_ARN},kms_key={KMS_KEY}")
    assert write_once(new(m, "exports"), OUT + "\n") == (0, 0)


def test_export_bad_exits_1(server, store, jm):
    r = jm.sh("echo bad > clinic-a/exports/new")
    assert r.returncode == 1
    assert "Invalid argument" in r.stderr


# ------------------------------------------------------------------ idempotency

def test_lost_answer_retried_starts_one_job(server, store, jm):
    server.faults(drop_after_commit=1.0, operations=["StartFHIRImportJob"], first_n=1)
    r = jm.sh(f"echo {URI} > clinic-a/imports/new")
    assert r.returncode == 0, r.stderr
    assert len(boto_jobs(server, store["id"])) == 1


def test_lost_answers_exhausted_start_at_most_one_job(server, store, mount_factory):
    m = mount_factory(server, "max_attempts=2,list_ttl=0.5," + JOB_OPTS)
    server.faults(drop_after_commit=1.0, operations=["StartFHIRImportJob"], first_n=5)
    werr, cerr = write_once(new(m), URI + "\n")
    assert (werr or cerr) != 0
    server.faults()
    jobs = boto_jobs(server, store["id"])
    assert len(jobs) <= 1
    if jobs:
        wait_for(lambda: job_ids(imports(m)) == [jobs[0]["JobId"]], timeout=5,
                 what="started job listed")


def test_control_file_is_listed_write_only(server, store, jm):
    import stat
    st = os.stat(new(jm))
    assert stat.S_IMODE(st.st_mode) == 0o200
    assert stat.S_ISREG(st.st_mode)


@pytest.mark.parametrize("kind", ["imports", "exports"])
def test_control_file_always_listed(server, store, jm, kind):
    assert "new" in os.listdir(jm.p("clinic-a", kind))


def test_export_lost_answer_retried_starts_one_job(server, store, jm):
    server.faults(drop_after_commit=1.0, operations=["StartFHIRExportJob"], first_n=1)
    r = jm.sh(f"echo {OUT} > clinic-a/exports/new")
    assert r.returncode == 0, r.stderr
    assert len(boto_jobs(server, store["id"], "export")) == 1
