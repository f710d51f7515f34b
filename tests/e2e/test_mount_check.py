"""AccessDenied at the mount-time check and afterwards (DESIGN.md "At mount time", "Errors").

The mount-time ListFHIRDatastores(MaxResults=1) only warns on AccessDenied and the mount goes
ahead; a later AccessDeniedException is EACCES to the caller with the reason in `.error`. The
existing EACCES tests (test_errors.py) use rejected keys; these use healthlake-local's
`access_denied` fault, the answer IAM gives to a key that lacks the permission."""
import errno
import os

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
