"""Tree layout and file contents (DESIGN.md "Tree", "JSON files")."""
import errno
import json
import os
import stat

from .hlutil import (RFC3339, STORE_FILES, _ts_variants, assert_errno, check_pretty_format,
                     expected_renderings, listing, raw_json, read, rfc3339, seed_store)


def describe_raw(server, sid):
    return raw_json(server, "DescribeFHIRDatastore", {"DatastoreId": sid})["DatastoreProperties"]


def test_root_lists_store_by_name(shared):
    server, store, m = shared
    assert listing(m.path) == ["clinic-a"]


def test_named_store_not_listed_twice(shared):
    server, store, m = shared
    assert store["id"] not in os.listdir(m.path)


def test_store_reachable_by_id(shared):
    server, store, m = shared
    assert stat.S_ISDIR(os.stat(m.p(store["id"])).st_mode)
    assert read(m.p(store["id"], "name")) == "clinic-a\n"


def test_store_directory_entries(shared):
    server, store, m = shared
    # An ACTIVE store also has its FHIR data (DESIGN.md "FHIR data as files").
    assert listing(m.p("clinic-a")) == sorted(STORE_FILES | {"fhir"})


def test_store_subdirectories_are_directories(shared):
    server, store, m = shared
    for d in ("tags", "imports", "exports"):
        assert stat.S_ISDIR(os.stat(m.p("clinic-a", d)).st_mode), d


def test_imports_lists_new_and_no_latest_without_jobs(shared):
    server, store, m = shared
    assert listing(m.p("clinic-a", "imports")) == ["new"]
    assert not os.path.lexists(m.p("clinic-a", "imports", "latest"))


def test_exports_lists_new_and_no_latest_without_jobs(shared):
    server, store, m = shared
    assert listing(m.p("clinic-a", "exports")) == ["new"]
    assert not os.path.lexists(m.p("clinic-a", "exports", "latest"))


def test_status_file(shared):
    server, store, m = shared
    assert read(m.p("clinic-a", "status")) == "ACTIVE\n"


def test_id_file(shared):
    server, store, m = shared
    assert read(m.p("clinic-a", "id")) == store["id"] + "\n"


def test_arn_file(shared):
    server, store, m = shared
    assert read(m.p("clinic-a", "arn")) == describe_raw(server, store["id"])["DatastoreArn"] + "\n"


def test_endpoint_file(shared):
    server, store, m = shared
    want = describe_raw(server, store["id"])["DatastoreEndpoint"]
    assert read(m.p("clinic-a", "endpoint")) == want + "\n"


def test_type_version_file(shared):
    server, store, m = shared
    assert read(m.p("clinic-a", "type_version")) == "R4\n"


def test_name_file(shared):
    server, store, m = shared
    assert read(m.p("clinic-a", "name")) == "clinic-a\n"


def test_name_is_newline_when_unnamed(server, mount_factory):
    s = seed_store(server, None)
    m = mount_factory(server)
    assert listing(m.path) == [s["id"]]
    assert read(m.p(s["id"], "name")) == "\n"


def test_created_at_is_rfc3339_of_service_value(shared):
    server, store, m = shared
    text = read(m.p("clinic-a", "created_at"))
    assert text.endswith("\n") and text.count("\n") == 1
    assert RFC3339.match(text[:-1]), text
    wire = describe_raw(server, store["id"])["CreatedAt"]
    assert text[:-1] in _ts_variants(wire)


def test_datastore_json_exact_format(shared):
    server, store, m = shared
    text = read(m.p("clinic-a", "datastore.json"))
    assert text in expected_renderings(describe_raw(server, store["id"])), text


def test_datastore_json_structure(shared):
    server, store, m = shared
    obj = check_pretty_format(read(m.p("clinic-a", "datastore.json")))
    assert obj["DatastoreId"] == store["id"]
    assert obj["DatastoreStatus"] == "ACTIVE"


def test_datastore_json_member_order_is_the_services(shared):
    server, store, m = shared
    got = list(json.loads(read(m.p("clinic-a", "datastore.json"))).keys())
    assert got == list(describe_raw(server, store["id"]).keys())


def test_stats_file_in_root(shared):
    server, store, m = shared
    assert stat.S_ISREG(os.stat(m.p(".stats")).st_mode)


def test_error_file_in_every_directory_and_empty(shared):
    server, store, m = shared
    for d in ("", "clinic-a", "clinic-a/imports", "clinic-a/exports", "clinic-a/tags"):
        p = m.p(d, ".error") if d else m.p(".error")
        assert read(p) == "", p
        assert os.stat(p).st_size == 0, p


def test_created_at_is_store_mtime(shared):
    server, store, m = shared
    wire = describe_raw(server, store["id"])["CreatedAt"]
    assert abs(os.stat(m.p("clinic-a")).st_mtime - float(wire)) < 1.0


def test_unknown_store_is_enoent(shared):
    server, store, m = shared
    assert_errno(errno.ENOENT, os.stat, m.p("no-such-store"))


def test_unknown_file_in_store_is_enoent(shared):
    server, store, m = shared
    assert_errno(errno.ENOENT, os.stat, m.p("clinic-a", "nonsense"))


def test_many_stores_all_listed(server, mount_factory):
    server.seed(count=30, name_prefix="s")
    m = mount_factory(server)
    assert listing(m.path) == [f"s{i:04d}" for i in range(30)]


def test_rfc3339_helper_selfcheck():
    # The expectation helper itself: fractions get milliseconds, whole seconds none.
    assert rfc3339(0) == "1970-01-01T00:00:00Z"
    assert rfc3339(1.5) == "1970-01-01T00:00:01.500Z"
