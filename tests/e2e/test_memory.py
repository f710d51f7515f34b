"""cache_mb bounds memory however large the account (DESIGN.md "Cache"): the cache charges what
its values hold and the libfuse nodes the kernel keeps for their entries, and when it lets a
store go the kernel is told to forget the store's entries (fs/forget.c). Seen from outside: a
file's inode number is libfuse's node id, and a node that was forgotten comes back with a new
one.

The walks here are of the control plane's tree: they leave out each store's fhir/, whose
listing searches every resource type the store's CapabilityStatement names (146 searches a
store, 44,000 for these 300 stores at fhir_tps=100). The FHIR tree's own memory bound is
test_fhir_reads.py's 100,000-resource walk."""
import os
import subprocess
import time

import pytest

STORES, JOBS = 300, 10
FILES_PER_STORE = 14 + JOBS  # 8 fields, 4 .error files, 2 new controls, the jobs


@pytest.fixture
def big(server):
    server.seed(count=STORES, name_prefix="s", import_jobs=JOBS, job_status="COMPLETED")
    return server


# find's arguments for a walk of everything but the stores' fhir/ directories.
NO_FHIR = ["(", "-path", "*/fhir", "-prune", ")", "-o", "-type", "f", "-print"]


def walk(m):
    r = subprocess.run(["find", m.path, *NO_FHIR], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


def first_store(m):
    return sorted(n for n in os.listdir(m.path) if not n.startswith("."))[0]


def wait_new_ino(path, ino, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = os.stat(path).st_ino
        if now != ino:
            return now
        time.sleep(0.05)
    return ino


def test_walk_past_the_bound_lists_everything(big, mount_factory):
    m = mount_factory(big, "cache_mb=1,max_tps=100000")
    assert len(walk(m)) == STORES * FILES_PER_STORE + 2  # and /.stats, /.error


def test_store_let_go_is_forgotten_by_the_kernel(big, mount_factory):
    m = mount_factory(big, "cache_mb=1,max_tps=100000")
    s = first_store(m)
    ino = os.stat(m.p(s, "status")).st_ino
    walk(m)
    assert wait_new_ino(m.p(s, "status"), ino) != ino, "the kernel still holds the node"
    assert open(m.p(s, "status")).read() == "ACTIVE\n"


def test_within_the_bound_nothing_is_forgotten(big, mount_factory):
    m = mount_factory(big, "max_tps=100000")  # cache_mb=64: the whole walk fits
    s = first_store(m)
    ino = os.stat(m.p(s, "status")).st_ino
    walk(m)
    time.sleep(0.5)
    assert os.stat(m.p(s, "status")).st_ino == ino


def test_open_file_in_a_forgotten_store_still_reads(big, mount_factory):
    m = mount_factory(big, "cache_mb=1,max_tps=100000")
    s = first_store(m)
    job = sorted(n for n in os.listdir(m.p(s, "imports")) if n not in ("new", "latest"))[0]
    ino = os.stat(m.p(s, "status")).st_ino
    with open(m.p(s, "imports", job), "rb") as f:
        before = f.read()
        walk(m)
        assert wait_new_ino(m.p(s, "status"), ino) != ino
        f.seek(0)
        assert f.read() == before
        assert os.fstat(f.fileno()).st_size == len(before)


def test_shell_inside_a_forgotten_store_carries_on(big, mount_factory):
    m = mount_factory(big, "cache_mb=1,max_tps=100000")
    s = first_store(m)
    script = f"""
        cd {s} || exit 9
        ls >/dev/null
        find {m.path} {" ".join(repr(a) if a in ("(", ")", "*/fhir") else a for a in NO_FHIR)} >/dev/null
        sleep 0.5
        cat status
        ls imports | wc -l
        cd .. && ls | wc -l
    """
    r = m.sh(script, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["ACTIVE", str(JOBS + 2), str(STORES)]
