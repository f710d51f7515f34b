"""Malformed and hostile service answers, paging, and pacing bounded by timeout=."""
import errno
import os
import threading
import time

import pytest

from .hlutil import JOB_OPTS, assert_errno, job_ids, listing, read, seed_store


@pytest.mark.parametrize("mode", ["malformed_json", "truncated", "wrong_types", "missing_required"])
def test_bad_describe_answer_eio(server, store, mount_factory, mode):
    m = mount_factory(server, "attr_ttl=0,list_ttl=0,max_attempts=1")
    os.stat(m.p("clinic-a"))
    for op in ("DescribeFHIRDatastore", "ListFHIRDatastores"):
        server.admin("hostile", {"operation": op, "mode": mode, "count": 5})
    assert_errno(errno.EIO, read, m.p("clinic-a", "datastore.json"))


@pytest.mark.parametrize("mode", ["malformed_json", "wrong_types", "missing_required"])
def test_bad_listing_answer_eio(server, store, mount_factory, mode):
    m = mount_factory(server, "attr_ttl=0,list_ttl=0,max_attempts=1")
    server.admin("hostile", {"operation": "ListFHIRDatastores", "mode": mode, "count": 5})
    assert_errno(errno.EIO, os.listdir, m.path)


def test_mount_survives_huge_answer(server, store, mount_factory):
    m = mount_factory(server, "attr_ttl=0,list_ttl=0,max_attempts=1,timeout=10")
    os.stat(m.p("clinic-a"))
    for op in ("DescribeFHIRDatastore", "ListFHIRDatastores"):
        server.admin("hostile", {"operation": op, "mode": "huge", "count": 1})
    try:
        read(m.p("clinic-a", "status"))
    except OSError:
        pass
    server.admin("hostile", {})
    assert read(m.p("clinic-a", "status")) == "ACTIVE\n"
    assert m.proc.poll() is None


def test_next_token_loop_terminates_without_duplicates(server, mount_factory):
    server.seed(count=3, name_prefix="s")
    m = mount_factory(server, "attr_ttl=0,list_ttl=0,max_attempts=1,timeout=10")
    server.admin("hostile", {"operation": "ListFHIRDatastores", "mode": "next_token_loop",
                             "count": 50})
    t0 = time.monotonic()
    try:
        names = os.listdir(m.path)
    except OSError as e:
        assert e.errno == errno.EIO
    else:
        assert len(names) == len(set(names))
    assert time.monotonic() - t0 < 12


def test_error_after_malformed_answer_recorded(server, store, mount_factory):
    m = mount_factory(server, "attr_ttl=0,list_ttl=0,max_attempts=1")
    server.admin("hostile", {"operation": "ListFHIRDatastores", "mode": "malformed_json",
                             "count": 5})
    assert_errno(errno.EIO, os.listdir, m.path)
    text = open(m.p(".error")).read()
    assert text.endswith("\n") and text.count("\n") == 1


# ------------------------------------------------------------------ paging

def test_import_jobs_paged_all_listed(server, mount_factory):
    r = server.seed(count=1, name_prefix="big", import_jobs=250, job_status="COMPLETED")
    m = mount_factory(server)
    assert len(job_ids(m.p("big0000", "imports"))) == 250
    assert r["datastores"][0]["name"] == "big0000"


def test_export_jobs_paged_all_listed(server, mount_factory):
    server.seed(count=1, name_prefix="big", export_jobs=120, job_status="COMPLETED")
    m = mount_factory(server)
    assert len(job_ids(m.p("big0000", "exports"))) == 120


def test_ls_lt_many_seeded_jobs_latest_is_first(server, mount_factory):
    server.seed(count=1, name_prefix="big", import_jobs=30, job_status="COMPLETED")
    m = mount_factory(server)
    r = m.sh("ls -t big0000/imports/")
    first = [x for x in r.stdout.split() if x not in ("new", "latest")][0]
    assert os.readlink(m.p("big0000", "imports", "latest")) == first


# ------------------------------------------------------------------ pacing under timeout=

def test_pacing_wait_bounded_by_timeout(server, mount_factory):
    server.seed(count=6, name_prefix="p")
    m = mount_factory(server, "attr_ttl=0,list_ttl=60,max_tps=1,timeout=1")
    # The mount-time check was a call: with max_tps=1 its slot is free again
    # one second after it ended, which a listing right away would wait for
    # longer than timeout=1 allows. The test is about the six reads below.
    time.sleep(1.1)
    listing(m.path)
    time.sleep(1.1)
    results = []

    def worker(i):
        t0 = time.monotonic()
        try:
            read(m.p(f"p{i:04d}", "datastore.json"))
            results.append((0, time.monotonic() - t0))
        except OSError as e:
            results.append((e.errno, time.monotonic() - t0))

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    assert any(e == errno.ETIMEDOUT for e, _ in results), results
    assert all(d < 2.5 for _, d in results), results


# ------------------------------------------------------------------ writes against a dead server

def test_import_server_dead_eio_bash_message(server, store, mount_factory):
    m = mount_factory(server, "max_attempts=1,timeout=5," + JOB_OPTS)
    os.stat(m.p("clinic-a", "imports", "new"))
    server.stop()
    r = m.sh("echo s3://hl-input/in/ > clinic-a/imports/new")
    assert r.returncode == 1
    assert "Input/output error" in r.stderr


def test_mkdir_server_dead_eio(server, mount_factory):
    m = mount_factory(server, "max_attempts=1,timeout=5")
    os.listdir(m.path)
    server.stop()
    assert_errno(errno.EIO, os.mkdir, m.p("new-store"))


def test_http_localhost_endpoint_allowed(server, tmp_path, launches):
    from .hlutil import launch
    seed_store(server, "clinic-a")
    url = server.url.replace("127.0.0.1", "localhost")
    ln = launch(str(tmp_path / "lh"), f"endpoint={url},region={server.region}", server.env())
    launches.append(ln)
    assert ln.mounted(), ln.stderr()
    assert listing(ln.path) == ["clinic-a"]
