"""The store naming rule and DELETED stores (DESIGN.md "Store names")."""
import errno
import os
import time

import pytest

from .hlutil import assert_errno, listing, read, seed_store, wait_for


def create_via_boto3(server, name):
    r = server.boto3().create_fhir_datastore(DatastoreName=name, DatastoreTypeVersion="R4")
    return r["DatastoreId"]


def test_duplicate_names_listed_by_id(server, mount_factory):
    a = seed_store(server, "dup")
    b = seed_store(server, "dup")
    m = mount_factory(server)
    assert listing(m.path) == sorted([a["id"], b["id"]])


def test_duplicate_created_through_boto3_listed_by_id(server, mount_factory):
    a = create_via_boto3(server, "twin")
    b = create_via_boto3(server, "twin")
    m = mount_factory(server)
    assert listing(m.path) == sorted([a, b])


def test_duplicate_reachable_by_id_with_its_name(server, mount_factory):
    a = seed_store(server, "dup")
    seed_store(server, "dup")
    m = mount_factory(server)
    assert read(m.p(a["id"], "name")) == "dup\n"


def test_deleted_duplicate_does_not_make_name_ambiguous(server, mount_factory):
    seed_store(server, "solo")
    seed_store(server, "solo", status="DELETED")
    m = mount_factory(server)
    assert listing(m.path) == ["solo"]


@pytest.mark.parametrize("name", ["a/b", "..", ".stats", ".error", ".", "x/"])
def test_unsafe_name_created_through_boto3_listed_by_id(server, mount_factory, name):
    sid = create_via_boto3(server, name)
    m = mount_factory(server)
    assert listing(m.path) == [sid]
    assert read(m.p(sid, "name")) == name + "\n"


def test_unsafe_name_does_not_shadow_stats(server, mount_factory):
    create_via_boto3(server, ".stats")
    m = mount_factory(server)
    text = read(m.p(".stats"))
    assert "cache.hits" in text


def test_name_longer_than_255_bytes_listed_by_id(server, mount_factory):
    sid = create_via_boto3(server, "n" * 256)
    m = mount_factory(server)
    assert listing(m.path) == [sid]


def test_name_of_255_bytes_listed_by_name(server, mount_factory):
    seed_store(server, "n" * 255)
    m = mount_factory(server)
    assert listing(m.path) == ["n" * 255]


def test_utf8_name_listed_by_name(server, mount_factory):
    create_via_boto3(server, "klinik-ö")
    m = mount_factory(server)
    assert listing(m.path) == ["klinik-ö"]


def test_name_equal_to_another_stores_id(server, mount_factory):
    a_id = "0123456789abcdef0123456789abcdef"
    r = server.seed(datastores=[{"id": a_id, "name": "alpha", "status": "ACTIVE"},
                                {"name": a_id, "status": "ACTIVE"}])
    b_id = r["datastores"][1]["id"]
    m = mount_factory(server)
    assert listing(m.path) == sorted(["alpha", b_id])


def test_id_lookup_wins_over_name_equal_to_id(server, mount_factory):
    a_id = "0123456789abcdef0123456789abcdef"
    server.seed(datastores=[{"id": a_id, "name": "alpha", "status": "ACTIVE"},
                            {"name": a_id, "status": "ACTIVE"}])
    m = mount_factory(server)
    assert read(m.p(a_id, "name")) == "alpha\n"


def test_directory_renamed_when_duplicate_appears(server, mount_factory):
    a = seed_store(server, "shared")
    m = mount_factory(server, "list_ttl=0.2,attr_ttl=0.2")
    assert listing(m.path) == ["shared"]
    b = create_via_boto3(server, "shared")
    wait_for(lambda: listing(m.path) == sorted([a["id"], b]), timeout=5, what="ids listed")


def test_deleted_hidden_by_default(server, mount_factory):
    seed_store(server, "gone", status="DELETED")
    seed_store(server, "here")
    m = mount_factory(server)
    assert listing(m.path) == ["here"]


def test_deleted_by_id_is_enoent(server, mount_factory):
    s = seed_store(server, "gone", status="DELETED")
    m = mount_factory(server)
    assert_errno(errno.ENOENT, os.stat, m.p(s["id"]))


def test_deleted_by_name_is_enoent(server, mount_factory):
    seed_store(server, "gone", status="DELETED")
    m = mount_factory(server)
    assert_errno(errno.ENOENT, os.stat, m.p("gone"))


def test_show_deleted_lists_deleted(server, mount_factory):
    seed_store(server, "gone", status="DELETED")
    m = mount_factory(server, "show_deleted")
    assert listing(m.path) == ["gone"]
    assert read(m.p("gone", "status")) == "DELETED\n"


def test_show_deleted_reachable_by_id(server, mount_factory):
    s = seed_store(server, "gone", status="DELETED")
    m = mount_factory(server, "show_deleted")
    assert read(m.p(s["id"], "status")) == "DELETED\n"


def test_show_deleted_duplicate_with_deleted_listed_by_id(server, mount_factory):
    a = seed_store(server, "solo")
    b = seed_store(server, "solo", status="DELETED")
    m = mount_factory(server, "show_deleted")
    assert listing(m.path) == sorted([a["id"], b["id"]])


def test_lookup_of_id_does_not_list_it(server, mount_factory):
    s = seed_store(server, "clinic")
    m = mount_factory(server)
    os.stat(m.p(s["id"]))
    time.sleep(0.05)
    assert listing(m.path) == ["clinic"]
