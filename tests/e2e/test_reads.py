"""Modes, exact sizes, fstat of open files and snapshots (DESIGN.md "Reads", modes)."""
import os
import stat

import pytest

from .hlutil import read_bytes, seed_store


def mode(p):
    return stat.S_IMODE(os.lstat(p).st_mode)


def test_root_mode_0700(shared):
    server, store, m = shared
    assert mode(m.path) == 0o700


@pytest.mark.parametrize("d", ["", "tags", "imports", "exports"])
def test_store_directories_mode_0700(shared, d):
    server, store, m = shared
    p = m.p("clinic-a", d) if d else m.p("clinic-a")
    assert stat.S_ISDIR(os.stat(p).st_mode)
    assert mode(p) == 0o700


@pytest.mark.parametrize("f", ["status", "datastore.json", "id", "arn", "endpoint", "name",
                               "type_version", "created_at", ".error"])
def test_read_only_files_mode_0400(shared, f):
    server, store, m = shared
    p = m.p("clinic-a", f)
    assert stat.S_ISREG(os.stat(p).st_mode)
    assert mode(p) == 0o400


@pytest.mark.parametrize("f", [".stats", ".error"])
def test_root_files_mode_0400(shared, f):
    server, store, m = shared
    assert mode(m.p(f)) == 0o400


@pytest.mark.parametrize("d", ["imports", "exports"])
def test_control_files_mode_0200(shared, d):
    server, store, m = shared
    assert mode(m.p("clinic-a", d, "new")) == 0o200


@pytest.mark.parametrize("d", ["imports", "exports", "tags"])
def test_subdir_error_mode_0400(shared, d):
    server, store, m = shared
    assert mode(m.p("clinic-a", d, ".error")) == 0o400


def test_files_owned_by_mounting_user(shared):
    server, store, m = shared
    st = os.stat(m.p("clinic-a", "status"))
    assert (st.st_uid, st.st_gid) == (os.getuid(), os.getgid())


@pytest.mark.parametrize("f", ["status", "datastore.json", "id", "arn", "endpoint", "name",
                               "type_version", "created_at"])
def test_stat_size_exact(shared, f):
    server, store, m = shared
    p = m.p("clinic-a", f)
    size = os.stat(p).st_size
    assert size == len(read_bytes(p))


def test_stat_size_exact_unnamed_name(server, mount_factory):
    s = seed_store(server, None)
    m = mount_factory(server)
    assert os.stat(m.p(s["id"], "name")).st_size == 1


def test_stat_size_exact_before_any_read(server, store, mount_factory):
    m = mount_factory(server)
    size = os.stat(m.p("clinic-a", "datastore.json")).st_size
    assert size > 2
    assert size == len(read_bytes(m.p("clinic-a", "datastore.json")))


def test_fstat_matches_read(shared):
    server, store, m = shared
    fd = os.open(m.p("clinic-a", "datastore.json"), os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        data = b""
        while True:
            chunk = os.read(fd, 7)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(fd)
    assert size == len(data)


def test_open_sees_one_snapshot(server, store, mount_factory):
    m = mount_factory(server, "attr_ttl=0,list_ttl=0")
    fd = os.open(m.p("clinic-a", "status"), os.O_RDONLY)
    try:
        first = os.pread(fd, 100, 0)
        # The store changes underneath the open file; the open keeps its snapshot.
        server.boto3().delete_fhir_datastore(DatastoreId=store["id"])
        again = os.pread(fd, 100, 0)
        assert again == first
        assert os.fstat(fd).st_size == len(first)
    finally:
        os.close(fd)


def test_stats_fstat_is_snapshot_size(shared):
    server, store, m = shared
    fd = os.open(m.p(".stats"), os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        data = b""
        while True:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(fd)
    assert size == len(data)


def test_status_pread_offsets(shared):
    server, store, m = shared
    fd = os.open(m.p("clinic-a", "status"), os.O_RDONLY)
    try:
        assert os.pread(fd, 3, 2) == b"TIV"
        assert os.pread(fd, 10, 7) == b""
    finally:
        os.close(fd)


def test_wc_c_matches_ls_size(shared):
    server, store, m = shared
    r = m.sh("stat -c %s clinic-a/datastore.json; wc -c < clinic-a/datastore.json")
    a, b = r.stdout.split()
    assert a == b


def test_store_mtime_is_created_at(shared):
    server, store, m = shared
    import json
    created = json.loads(read_bytes(m.p("clinic-a", "datastore.json")))["CreatedAt"]
    import datetime
    t = datetime.datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp()
    assert abs(os.stat(m.p("clinic-a")).st_mtime - t) < 1.0
