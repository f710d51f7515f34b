"""mkdir / rmdir / rm -rf and their API calls (DESIGN.md "Writes and their API calls")."""
import errno
import os

from .hlutil import (KMS_KEY, assert_errno, assert_one_line, error_file, listing, live_stores,
                     read, seed_store, wait_for)


# ------------------------------------------------------------------ mkdir

def test_mkdir_creates_store(server, mount_factory):
    m = mount_factory(server)
    os.mkdir(m.p("clinic-b"))
    assert [s.get("DatastoreName") for s in live_stores(server)] == ["clinic-b"]


def test_mkdir_makes_one_create_call(server, mount_factory):
    m = mount_factory(server)
    server.reset_counters()
    os.mkdir(m.p("clinic-b"))
    assert server.calls("CreateFHIRDatastore") == 1


def test_mkdir_store_is_r4(server, mount_factory):
    m = mount_factory(server)
    os.mkdir(m.p("clinic-b"))
    assert live_stores(server)[0]["DatastoreTypeVersion"] == "R4"


def test_mkdir_visible_at_once_with_status_creating(slow_server, mount_factory):
    m = mount_factory(slow_server)
    os.mkdir(m.p("clinic-b"))
    assert "clinic-b" in listing(m.path)
    assert read(m.p("clinic-b", "status")) == "CREATING\n"


def test_mkdir_then_active(slow_server, mount_factory):
    m = mount_factory(slow_server, "attr_ttl=0.2,list_ttl=0.2")
    os.mkdir(m.p("clinic-b"))
    wait_for(lambda: read(m.p("clinic-b", "status")) == "ACTIVE\n", timeout=10, what="ACTIVE")


def test_mkdir_bash_exit_status(server, mount_factory):
    m = mount_factory(server)
    r = m.sh("mkdir clinic-c")
    assert r.returncode == 0, r.stderr
    assert os.path.isdir(m.p("clinic-c"))


def test_mkdir_existing_name_eexist(server, store, mount_factory):
    m = mount_factory(server)
    server.reset_counters()
    assert_errno(errno.EEXIST, os.mkdir, m.p("clinic-a"))
    assert server.calls("CreateFHIRDatastore") == 0


def test_mkdir_duplicated_name_eexist_creates_nothing(server, mount_factory):
    seed_store(server, "dup")
    seed_store(server, "dup")
    m = mount_factory(server)
    assert_errno(errno.EEXIST, os.mkdir, m.p("dup"))
    assert len(live_stores(server)) == 2


def test_mkdir_name_of_deleted_store_allowed(server, mount_factory):
    seed_store(server, "reborn", status="DELETED")
    m = mount_factory(server)
    os.mkdir(m.p("reborn"))
    assert [s["DatastoreName"] for s in live_stores(server)] == ["reborn"]


def test_mkdir_name_created_elsewhere_eexist(server, mount_factory):
    m = mount_factory(server, "list_ttl=30")
    os.listdir(m.path)
    server.boto3().create_fhir_datastore(DatastoreName="late", DatastoreTypeVersion="R4")
    assert_errno(errno.EEXIST, os.mkdir, m.p("late"))
    assert len(live_stores(server)) == 1


def test_mkdir_bad_pattern_einval_no_call(server, mount_factory):
    m = mount_factory(server)
    server.reset_counters()
    assert_errno(errno.EINVAL, os.mkdir, m.p("bad!name"))
    assert server.mutating_calls() == 0


def test_mkdir_bad_pattern_bash_message(server, mount_factory):
    m = mount_factory(server)
    r = m.sh("mkdir 'what*ever'")
    assert r.returncode == 1
    assert "Invalid argument" in r.stderr


def test_mkdir_bad_pattern_sets_root_error(server, mount_factory):
    m = mount_factory(server)
    assert_errno(errno.EINVAL, os.mkdir, m.p("bad#name"))
    assert_one_line(error_file(m.path))


def test_mkdir_inside_store_eperm(server, store, mount_factory):
    m = mount_factory(server)
    assert_errno(errno.EPERM, os.mkdir, m.p("clinic-a", "sub"))
    assert server.mutating_calls() == 0


def test_mkdir_preload_synthea(server, mount_factory):
    m = mount_factory(server, "preload=synthea")
    os.mkdir(m.p("synth"))
    p = server.boto3().describe_fhir_datastore(DatastoreId=live_stores(server)[0]["DatastoreId"])
    assert p["DatastoreProperties"]["PreloadDataConfig"]["PreloadDataType"] == "SYNTHEA"


def test_mkdir_without_preload_has_none(server, mount_factory):
    m = mount_factory(server)
    os.mkdir(m.p("plain"))
    p = server.boto3().describe_fhir_datastore(DatastoreId=live_stores(server)[0]["DatastoreId"])
    assert "PreloadDataConfig" not in p["DatastoreProperties"]


def test_mkdir_kms_key_default(server, mount_factory):
    m = mount_factory(server, f"kms_key={KMS_KEY}")
    os.mkdir(m.p("enc"))
    p = server.boto3().describe_fhir_datastore(DatastoreId=live_stores(server)[0]["DatastoreId"])
    cfg = p["DatastoreProperties"]["SseConfiguration"]["KmsEncryptionConfig"]
    assert cfg["KmsKeyId"] == KMS_KEY


# ------------------------------------------------------------------ rmdir

def test_rmdir_without_allow_delete_eperm(server, store, mount_factory):
    m = mount_factory(server)
    server.reset_counters()
    assert_errno(errno.EPERM, os.rmdir, m.p("clinic-a"))
    assert server.calls("DeleteFHIRDatastore") == 0
    assert len(live_stores(server)) == 1


def test_rmdir_without_allow_delete_bash_message(server, store, mount_factory):
    m = mount_factory(server)
    r = m.sh("rmdir clinic-a")
    assert r.returncode == 1
    assert "Operation not permitted" in r.stderr


def test_rmdir_eperm_sets_root_error(server, store, mount_factory):
    m = mount_factory(server)
    assert_errno(errno.EPERM, os.rmdir, m.p("clinic-a"))
    assert_one_line(error_file(m.path))


def test_rmdir_with_allow_delete_deletes(server, store, mount_factory):
    m = mount_factory(server, "allow_delete")
    server.reset_counters()
    os.rmdir(m.p("clinic-a"))
    assert server.calls("DeleteFHIRDatastore") == 1


def test_rmdir_by_id_with_allow_delete(server, store, mount_factory):
    m = mount_factory(server, "allow_delete")
    os.rmdir(m.p(store["id"]))
    st = server.boto3().describe_fhir_datastore(DatastoreId=store["id"])["DatastoreProperties"]
    assert st["DatastoreStatus"] in ("DELETING", "DELETED")


def test_rmdir_store_listed_deleting_then_gone(slow_server, mount_factory):
    seed_store(slow_server, "doomed")
    m = mount_factory(slow_server, "allow_delete,attr_ttl=0.2,list_ttl=0.2")
    os.rmdir(m.p("doomed"))
    assert "doomed" in listing(m.path)
    assert read(m.p("doomed", "status")) == "DELETING\n"
    wait_for(lambda: "doomed" not in listing(m.path), timeout=10, what="store gone")


def test_rmdir_unknown_enoent(server, mount_factory):
    m = mount_factory(server, "allow_delete")
    assert_errno(errno.ENOENT, os.rmdir, m.p("nobody"))
    assert server.mutating_calls() == 0


def test_rm_rf_root_deletes_nothing(server, mount_factory):
    server.seed(count=3, name_prefix="keep")
    s = seed_store(server, "tagged")
    server.boto3().tag_resource(ResourceARN=s["arn"], Tags=[{"Key": "env", "Value": "prod"}])
    m = mount_factory(server)
    server.reset_counters()
    m.sh("rm -rf ./*")
    assert server.calls("DeleteFHIRDatastore") == 0
    assert server.calls("UntagResource") == 0
    assert len(live_stores(server)) == 4


def test_rm_rf_store_with_allow_delete_never_deletes_store(server, store, mount_factory):
    m = mount_factory(server, "allow_delete")
    server.reset_counters()
    r = m.sh("rm -rf clinic-a")
    assert r.returncode != 0
    assert server.calls("DeleteFHIRDatastore") == 0
    assert len(live_stores(server)) == 1


def test_rm_rf_leaves_tree_listable(server, store, mount_factory):
    m = mount_factory(server)
    m.sh("rm -rf clinic-a")
    assert listing(m.path) == ["clinic-a"]
    assert read(m.p("clinic-a", "status")) == "ACTIVE\n"


def test_rm_rf_of_the_mount_itself_deletes_nothing(server, mount_factory):
    import subprocess
    server.seed(count=2, name_prefix="keep")
    m = mount_factory(server)
    server.reset_counters()
    subprocess.run(["rm", "-rf", m.path], capture_output=True, timeout=60)
    assert server.calls("DeleteFHIRDatastore") == 0
    assert server.calls("UntagResource") == 0
    assert len(live_stores(server)) == 2
    assert os.path.ismount(m.path)


def test_mkdir_lost_answer_retried_creates_one_store(server, mount_factory):
    m = mount_factory(server)
    server.faults(drop_after_commit=1.0, operations=["CreateFHIRDatastore"], first_n=1)
    os.mkdir(m.p("once"))
    assert [s["DatastoreName"] for s in live_stores(server)] == ["once"]
