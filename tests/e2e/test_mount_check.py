"""AccessDenied at the mount-time check and afterwards (DESIGN.md "At mount time", "Errors").

The mount-time ListFHIRDatastores(MaxResults=1) only warns on AccessDenied and the mount goes
ahead; a later AccessDeniedException is EACCES to the caller with the reason in `.error`. The
existing EACCES tests (test_errors.py) use rejected keys; these use healthlake-local's
`access_denied` fault, the answer IAM gives to a key that lacks the permission."""
import errno
import os

import pytest

from .hlutil import assert_errno, assert_one_line, error_file, listing, read


def list_answers(server):
    return server.counters()["calls"].get("ListFHIRDatastores", {})


def test_access_denied_at_mount_warns_and_mounts(server, store, mount_factory):
    server.faults(access_denied=1.0, operations=["ListFHIRDatastores"], first_n=1)
    server.reset_counters()
    m = mount_factory(server)
    assert os.path.ismount(m.path) and m.proc.poll() is None
    assert list_answers(server) == {"400": 1}  # the check was made, denied, and not retried
    err = m.stderr()
    assert "warning" in err.lower() and "AccessDenied" in err, err
    # The fault is used up: the tree works, and lists afresh (nothing was learnt at mount).
    assert listing(m.path) == ["clinic-a"]
    r = m.sh("ls")
    assert r.returncode == 0 and r.stdout.split() == ["clinic-a"], r
    assert read(m.p("clinic-a", "status")) == "ACTIVE\n"
    assert list_answers(server).get("200", 0) >= 1


def test_access_denied_throughout_mounts_then_ls_eacces(server, store, mount_factory):
    server.faults(access_denied=1.0, operations=["ListFHIRDatastores"])
    m = mount_factory(server, "max_attempts=1")
    assert os.path.ismount(m.path)
    assert "AccessDenied" in m.stderr()
    assert_errno(errno.EACCES, os.listdir, m.path)
    text = error_file(m.path)
    assert_one_line(text)
    assert "AccessDenied" in text, text
    r = m.sh("ls")
    assert r.returncode != 0 and "Permission denied" in r.stderr, r
    server.faults()
    assert listing(m.path) == ["clinic-a"]


def test_access_denied_on_read_eacces(server, store, mount_factory):
    m = mount_factory(server)
    assert listing(m.path) == ["clinic-a"]
    server.faults(access_denied=1.0, operations=["DescribeFHIRDatastore"])
    assert_errno(errno.EACCES, read, m.p("clinic-a", "status"))
    text = error_file(m.p("clinic-a"))
    assert_one_line(text)
    assert "AccessDenied" in text and "healthlake:DescribeFHIRDatastore" in text, text
    r = m.sh("cat clinic-a/status")
    assert r.returncode == 1 and "Permission denied" in r.stderr, r
    assert server.secret_key not in text and server.secret_key not in m.stderr()
    server.faults()
    assert read(m.p("clinic-a", "status")) == "ACTIVE\n"


def test_access_denied_on_job_listing_eacces(server, store, mount_factory):
    m = mount_factory(server)
    server.faults(access_denied=1.0, operations=["ListFHIRImportJobs"])
    assert_errno(errno.EACCES, os.listdir, m.p("clinic-a", "imports"))
    # Listing imports/ is an operation on an entry (imports) of the store's directory.
    text = error_file(m.p("clinic-a"))
    assert_one_line(text)
    assert "AccessDenied" in text and "healthlake:ListFHIRImportJobs" in text, text
    server.faults()
    assert listing(m.p("clinic-a", "imports")) == ["new"]


def _start_job(server, sid, kind):
    from .hlutil import IMPORT_OUTPUT, KMS_KEY, ROLE_ARN
    c = server.boto3()
    if kind == "imports":
        return c.start_fhir_import_job(
            DatastoreId=sid, DataAccessRoleArn=ROLE_ARN,
            InputDataConfig={"S3Uri": "s3://hl-input/in/"},
            JobOutputDataConfig={"S3Configuration": {"S3Uri": IMPORT_OUTPUT,
                                                     "KmsKeyId": KMS_KEY}})["JobId"]
    return c.start_fhir_export_job(
        DatastoreId=sid, DataAccessRoleArn=ROLE_ARN,
        OutputDataConfig={"S3Configuration": {"S3Uri": "s3://hl-export/out/",
                                              "KmsKeyId": KMS_KEY}})["JobId"]


@pytest.mark.parametrize("kind", ["imports", "exports"])
def test_access_denied_on_job_read_lands_in_jobs_error(server, store, mount_factory, kind):
    # A failed read of a job is an operation on an entry of imports/ (or exports/): its
    # reason goes to that directory's .error, not to the store's (as tags/<key> does).
    jid = _start_job(server, store["id"], kind)
    m = mount_factory(server, "max_attempts=1")
    assert listing(m.p("clinic-a")) != []
    op = "Import" if kind == "imports" else "Export"
    server.faults(access_denied=1.0,
                  operations=[f"ListFHIR{op}Jobs", f"DescribeFHIR{op}Job"])
    assert_errno(errno.EACCES, read, m.p("clinic-a", kind, jid))
    text = error_file(m.p("clinic-a", kind))
    assert_one_line(text)
    assert "AccessDenied" in text, text
    assert error_file(m.p("clinic-a")) == ""
    server.faults()
    assert read(m.p("clinic-a", kind, jid)).startswith("{")
