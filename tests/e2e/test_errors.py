"""The errno table, EROFS on ro mounts, and .error semantics (DESIGN.md "Errors", ".error")."""
import errno
import os
import stat
import time

import pytest

from .hlutil import (JOB_OPTS, assert_errno, assert_one_line, error_file, listing, read,
                     seed_store, write_once)

URI = "s3://hl-input/in/"


# ------------------------------------------------------------------ EPERM: not offered

def test_rename_store_eperm(shared):
    server, store, m = shared
    assert_errno(errno.EPERM, os.rename, m.p("clinic-a"), m.p("clinic-z"))
    assert server.mutating_calls() == 0


def test_mv_bash_message(shared):
    server, store, m = shared
    r = m.sh("mv clinic-a clinic-z")
    assert r.returncode == 1
    assert "Operation not permitted" in r.stderr


def test_rename_file_eperm(shared):
    server, store, m = shared
    assert_errno(errno.EPERM, os.rename, m.p("clinic-a", "status"), m.p("clinic-a", "state"))


def test_link_eperm(shared):
    server, store, m = shared
    assert_errno(errno.EPERM, os.link, m.p("clinic-a", "status"), m.p("clinic-a", "status2"))


def test_chmod_eperm(shared):
    server, store, m = shared
    assert_errno(errno.EPERM, os.chmod, m.p("clinic-a", "status"), 0o644)


def test_chmod_dir_eperm(shared):
    server, store, m = shared
    assert_errno(errno.EPERM, os.chmod, m.p("clinic-a"), 0o755)


def test_symlink_eperm(shared):
    server, store, m = shared
    assert_errno(errno.EPERM, os.symlink, "clinic-a", m.p("alias"))


def test_symlink_in_imports_eperm(shared):
    server, store, m = shared
    assert_errno(errno.EPERM, os.symlink, "x", m.p("clinic-a", "imports", "mine"))


def test_mknod_eperm(shared):
    server, store, m = shared
    assert_errno(errno.EPERM, os.mknod, m.p("clinic-a", "fifo"), stat.S_IFIFO | 0o600)


def test_create_file_in_root_eperm(shared):
    server, store, m = shared
    assert_errno(errno.EPERM, os.open, m.p("file"), os.O_WRONLY | os.O_CREAT, 0o600)


def test_unlink_status_eperm(server, store, mount_factory):
    m = mount_factory(server, "allow_delete")
    assert_errno(errno.EPERM, os.unlink, m.p("clinic-a", "status"))


def test_eperm_made_no_call(server, store, mount_factory):
    m = mount_factory(server)
    server.reset_counters()
    assert_errno(errno.EPERM, os.rename, m.p("clinic-a"), m.p("z"))
    assert_errno(errno.EPERM, os.chmod, m.p("clinic-a", "status"), 0o644)
    assert server.mutating_calls() == 0


# ------------------------------------------------------------------ ENOENT / EEXIST

def test_enoent_unknown_store(shared):
    server, store, m = shared
    assert_errno(errno.ENOENT, open, m.p("missing", "status"))


def test_cat_unknown_store_bash_message(shared):
    server, store, m = shared
    r = m.sh("cat missing/status")
    assert r.returncode == 1
    assert "No such file or directory" in r.stderr


def test_eexist_bash_message(server, store, mount_factory):
    m = mount_factory(server)
    r = m.sh("mkdir clinic-a")
    assert r.returncode == 1
    assert "File exists" in r.stderr


# ------------------------------------------------------------------ EROFS

@pytest.fixture
def ro(server, store, mount_factory):
    server.boto3().tag_resource(ResourceARN=store["arn"], Tags=[{"Key": "env", "Value": "prod"}])
    m = mount_factory(server, "ro,allow_delete," + JOB_OPTS)
    server.reset_counters()
    return m


def test_ro_mkdir_erofs(server, ro):
    assert_errno(errno.EROFS, os.mkdir, ro.p("new-store"))
    assert server.mutating_calls() == 0


def test_ro_rmdir_erofs(server, ro):
    assert_errno(errno.EROFS, os.rmdir, ro.p("clinic-a"))
    assert server.mutating_calls() == 0


def test_ro_import_erofs(server, ro):
    r = ro.sh(f"echo {URI} > clinic-a/imports/new")
    assert r.returncode == 1
    assert "Read-only file system" in r.stderr
    assert server.mutating_calls() == 0


def test_ro_export_erofs(server, ro):
    assert_errno(errno.EROFS, os.open, ro.p("clinic-a", "exports", "new"), os.O_WRONLY)
    assert server.mutating_calls() == 0


def test_ro_tag_write_erofs(server, ro):
    assert_errno(errno.EROFS, os.open, ro.p("clinic-a", "tags", "env"), os.O_WRONLY)
    assert server.mutating_calls() == 0


def test_ro_tag_create_erofs(server, ro):
    r = ro.sh("echo x > clinic-a/tags/newkey")
    assert r.returncode == 1
    assert server.mutating_calls() == 0


def test_ro_tag_unlink_erofs(server, ro):
    assert_errno(errno.EROFS, os.unlink, ro.p("clinic-a", "tags", "env"))
    assert server.mutating_calls() == 0


def test_ro_rm_rf_changes_nothing(server, ro):
    ro.sh("rm -rf ./*")
    assert server.mutating_calls() == 0


def test_ro_reads_work(server, ro):
    assert read(ro.p("clinic-a", "status")) == "ACTIVE\n"
    assert read(ro.p("clinic-a", "tags", "env")) == "prod\n"


# ------------------------------------------------------------------ EACCES

def test_bad_keys_eacces(server, store, mount_factory):
    m = mount_factory(server, "attr_ttl=0,list_ttl=0,max_attempts=1")
    server.admin("keys", {"keys": [{"access_key": "AKIDOTHER000000000", "secret_key": "other"}]})
    assert_errno(errno.EACCES, os.listdir, m.path)


def test_bad_keys_eacces_on_read(server, store, mount_factory):
    m = mount_factory(server, "attr_ttl=0,list_ttl=0,max_attempts=1")
    os.stat(m.p("clinic-a"))
    server.admin("keys", {"keys": [{"access_key": "AKIDOTHER000000000", "secret_key": "other"}]})
    assert_errno(errno.EACCES, read, m.p("clinic-a", "status"))


def test_bad_keys_error_names_no_secret(server, store, mount_factory):
    m = mount_factory(server, "attr_ttl=0,list_ttl=0,max_attempts=1")
    server.admin("keys", {"keys": [{"access_key": "AKIDOTHER000000000", "secret_key": "other"}]})
    assert_errno(errno.EACCES, os.listdir, m.path)
    text = error_file(m.path)
    assert_one_line(text)
    assert server.secret_key not in text
    assert server.secret_key not in m.stderr()


# ------------------------------------------------------------------ EBUSY

def test_conflict_ebusy(server, mount_factory):
    seed_store(server, "busy", status="CREATING")
    m = mount_factory(server, "allow_delete")
    assert_errno(errno.EBUSY, os.rmdir, m.p("busy"))


def test_conflict_error_recorded(server, mount_factory):
    seed_store(server, "busy", status="CREATING")
    m = mount_factory(server, "allow_delete")
    assert_errno(errno.EBUSY, os.rmdir, m.p("busy"))
    assert_one_line(error_file(m.path))


# ------------------------------------------------------------------ EIO / EAGAIN / ETIMEDOUT

def test_server_dead_eio(server, store, mount_factory):
    m = mount_factory(server, "attr_ttl=0,list_ttl=0,max_attempts=1,timeout=5")
    os.stat(m.p("clinic-a"))
    server.stop()
    assert_errno(errno.EIO, read, m.p("clinic-a", "status"))


def test_server_dead_listing_eio(server, store, mount_factory):
    m = mount_factory(server, "attr_ttl=0,list_ttl=0,max_attempts=1,timeout=5")
    server.stop()
    assert_errno(errno.EIO, os.listdir, m.path)


def test_5xx_after_last_retry_eio(server, store, mount_factory):
    m = mount_factory(server, "attr_ttl=0,list_ttl=0,max_attempts=2")
    os.stat(m.p("clinic-a"))
    server.faults(error5xx=1.0)
    assert_errno(errno.EIO, read, m.p("clinic-a", "status"))


def test_malformed_response_eio(server, store, mount_factory):
    m = mount_factory(server, "attr_ttl=0,list_ttl=0,max_attempts=1")
    os.stat(m.p("clinic-a"))
    for op in ("DescribeFHIRDatastore", "ListFHIRDatastores"):
        server.admin("hostile", {"operation": op, "mode": "malformed_json", "count": 10})
    assert_errno(errno.EIO, read, m.p("clinic-a", "status"))


def test_throttled_after_last_retry_eagain(server, store, mount_factory):
    m = mount_factory(server, "attr_ttl=0,list_ttl=0,max_attempts=2")
    os.stat(m.p("clinic-a"))
    server.faults(throttle=1.0)
    assert_errno(errno.EAGAIN, read, m.p("clinic-a", "status"))


def test_stall_etimedout_within_timeout(server, store, mount_factory):
    m = mount_factory(server, "attr_ttl=0,list_ttl=0,timeout=1")
    os.stat(m.p("clinic-a"))
    server.faults(stall=True)
    t0 = time.monotonic()
    assert_errno(errno.ETIMEDOUT, read, m.p("clinic-a", "status"))
    assert time.monotonic() - t0 < 3.0


def test_stall_mkdir_etimedout(server, mount_factory):
    m = mount_factory(server, "attr_ttl=0,list_ttl=0,timeout=1")
    os.listdir(m.path)
    server.faults(stall=True, operations=["CreateFHIRDatastore"])
    t0 = time.monotonic()
    assert_errno(errno.ETIMEDOUT, os.mkdir, m.p("slowpoke"))
    assert time.monotonic() - t0 < 3.0


def test_stall_listing_bounded(server, store, mount_factory):
    m = mount_factory(server, "attr_ttl=0,list_ttl=0,timeout=1.5")
    server.faults(stall=True)
    t0 = time.monotonic()
    assert_errno(errno.ETIMEDOUT, os.listdir, m.path)
    assert time.monotonic() - t0 < 3.5


def test_validation_exception_einval(server, store, mount_factory):
    # ValidationLevel is an enum; the JSON passes through to the service which refuses it
    # (or the driver refuses it first): either way EINVAL.
    m = mount_factory(server, JOB_OPTS)
    body = '{"InputDataConfig": {"S3Uri": "s3://hl-input/in/"}, "ValidationLevel": "bogus"}\n'
    assert write_once(m.p("clinic-a", "imports", "new"), body)[0] == errno.EINVAL


# ------------------------------------------------------------------ .error semantics

def test_error_empty_at_start(server, store, mount_factory):
    m = mount_factory(server)
    assert error_file(m.path) == ""


def test_error_one_line_after_failure(server, mount_factory):
    m = mount_factory(server)
    assert_errno(errno.EINVAL, os.mkdir, m.p("bad!"))
    assert_one_line(error_file(m.path))


def test_error_not_cleared_by_success(server, mount_factory):
    m = mount_factory(server)
    assert_errno(errno.EINVAL, os.mkdir, m.p("bad!"))
    before = error_file(m.path)
    os.mkdir(m.p("good"))
    assert error_file(m.path) == before


def test_error_replaced_by_later_failure(server, store, mount_factory):
    m = mount_factory(server)
    assert_errno(errno.EINVAL, os.mkdir, m.p("bad!"))
    first = error_file(m.path)
    assert_errno(errno.EPERM, os.rmdir, m.p("clinic-a"))
    second = error_file(m.path)
    assert_one_line(second)
    assert second != first


def test_error_size_exact(server, mount_factory):
    m = mount_factory(server)
    assert_errno(errno.EINVAL, os.mkdir, m.p("bad!"))
    assert os.stat(m.p(".error")).st_size == len(read_b(m.p(".error")))


def read_b(p):
    with open(p, "rb") as f:
        return f.read()


def test_import_failure_lands_in_imports_error_only(server, store, mount_factory):
    m = mount_factory(server, JOB_OPTS)
    m.sh("echo bad > clinic-a/imports/new")
    assert_one_line(error_file(m.p("clinic-a", "imports")))
    assert error_file(m.path) == ""
    assert error_file(m.p("clinic-a")) == ""
    assert error_file(m.p("clinic-a", "exports")) == ""


def test_export_failure_lands_in_exports_error(server, store, mount_factory):
    m = mount_factory(server, JOB_OPTS)
    m.sh("echo bad > clinic-a/exports/new")
    assert_one_line(error_file(m.p("clinic-a", "exports")))
    assert error_file(m.p("clinic-a", "imports")) == ""


def test_failed_status_read_recorded(server, store, mount_factory):
    m = mount_factory(server, "attr_ttl=0,list_ttl=0,max_attempts=1")
    os.stat(m.p("clinic-a"))
    server.faults(error5xx=1.0, operations=["DescribeFHIRDatastore", "ListFHIRDatastores"])
    assert_errno(errno.EIO, read, m.p("clinic-a", "status"))
    server.faults()
    texts = [error_file(m.p("clinic-a")), error_file(m.path)]
    assert any(t for t in texts), texts
    for t in texts:
        if t:
            assert_one_line(t)


def test_mkdir_failure_does_not_touch_store_error(server, store, mount_factory):
    # (EEXIST for a listed name is answered by the kernel's own lookup and never reaches
    # the driver, so it cannot be recorded; an invalid name does reach it.)
    m = mount_factory(server)
    assert_errno(errno.EINVAL, os.mkdir, m.p("bad!"))
    assert error_file(m.p("clinic-a")) == ""
    assert_one_line(error_file(m.path))


def test_error_file_not_writable(server, mount_factory):
    m = mount_factory(server)
    r = m.sh("echo hi > .error")
    assert r.returncode != 0
    assert listing(m.path) == []
