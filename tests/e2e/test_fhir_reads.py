"""FHIR data as files, reads (DESIGN.md "FHIR data as files", issue #15): the fhir/ tree,
metadata.json, type directories, resource files (format, lexemes, sizes, mtimes), listings
with their page counts, fhir_list_max, history, $everything and /.stats, with the request
counts taken from healthlake-local's counters."""
import datetime
import errno
import json
import math
import os
import stat
import subprocess
import threading
import time

import pytest

from .conftest import DEFAULT_ARGS
from .hlutil import (FhirSite, all_at_once, assert_errno, check_pretty_format, error_file, fhir_calls,
                     json_compact, json_numbers, json_tokens, listing, read, read_bytes, seed_store, stats,
                     wait_for)

N_PATIENTS = 250          # ls = ceil(250/100) = 3 search pages
N_BASIC = 10000           # a type at the default fhir_list_max
N_VERSIONS = 105          # _history pages hold 100

# A decimal keeps its digits (120.50), exponents and signs keep their spelling, a string
# keeps the meaning of its escapes.
OBS_DEC = ('{"resourceType":"Observation","id":"obs-dec","status":"final",'
           '"code":{"coding":[{"system":"http://loinc.org","code":"8480-6",'
           '"display":"Systolic blood pressure"}]},"subject":{"reference":"Patient/pt000"},'
           '"effectiveDateTime":"2024-03-01T10:00:00+01:00",'
           '"valueQuantity":{"value":120.50,"unit":"mm[Hg]","system":"http://unitsofmeasure.org",'
           '"code":"mm[Hg]"},"component":[{"valueQuantity":{"value":1.000e2}},'
           '{"valueQuantity":{"value":0.10}},{"valueQuantity":{"value":-0.0}},'
           '{"valueQuantity":{"value":1E+2}}],'
           '"note":[{"text":"caf\\u00e9 \\"q\\" \\/ line\\nbreak"}],"zeta":1,"alpha":2}')
DEC_LEXEMES = ["120.50", "1.000e2", "0.10", "-0.0", "1E+2"]


def patient(pid, family="Okafor", given="Ana", gender="female", **kw):
    d = {"resourceType": "Patient", "id": pid, "gender": gender, "birthDate": "1980-04-02",
         "name": [{"family": family, "given": [given]}]}
    d.update(kw)
    return d


def _resources():
    res = [patient("pt%03d" % i, gender="female" if i % 2 else "male") for i in range(N_PATIENTS - 2)]
    res.append(patient("pat-main", family="Main"))
    res.append(patient("hist-1", family="Hist", gender="female"))
    res.append(OBS_DEC)
    for i in range(3):
        res.append({"resourceType": "Observation", "id": "om-%d" % i, "status": "final",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
                    "subject": {"reference": "Patient/pat-main"},
                    "valueQuantity": {"value": 70 + i}})
    res.append({"resourceType": "Condition", "id": "cm-1", "subject": {"reference": "Patient/pat-main"},
                "code": {"coding": [{"system": "http://snomed.info/sct", "code": "44054006"}]}})
    res += ['{"resourceType":"Basic","id":"b%05d","code":{"text":"x"}}' % i for i in range(N_BASIC)]
    # A resource with more versions than one page of _history holds.
    res += ['{"resourceType":"Device","id":"dev-many","lotNumber":"v%d"}' % v for v in range(1, N_VERSIONS + 1)]
    return res


@pytest.fixture(scope="module")
def site(_server_pool, tmp_path_factory):
    srv = _server_pool.get(DEFAULT_ARGS)
    s = FhirSite(srv, str(tmp_path_factory.mktemp("fhirreads")))
    s.load(_resources())
    # hist-1 gets a second version through the service's own API.
    api = s.api()
    st, _, body = api.request("PUT", "Patient/hist-1", patient("hist-1", family="Hist", gender="male"))
    api.close()
    assert st == 200, body
    # A store that is not ACTIVE: it has no fhir/.
    s.creating = seed_store(srv, "clinic-b", status="CREATING")
    s.default = s.mount()
    yield s
    s.close()
    srv.stop()


def fresh(site, opts=""):
    """A new mount (an empty cache) on the module's server."""
    return site.mount(opts)


def warm(site, m, typ):
    """Looks up the store, fhir/ and the type directory (control-plane calls, the
    CapabilityStatement), then zeroes the server's counters."""
    os.stat(site.fhir(m, typ))
    site.server.reset_counters()


def service_copy(site, path):
    st, body = site.get_raw(path)
    assert st == 200, (path, st, body[:300])
    return body.decode()


# ------------------------------------------------------------------ the tree

def test_fhir_present_for_active_store_only(site):
    m = site.default
    assert "fhir" in os.listdir(m.p("clinic-a"))
    assert stat.S_ISDIR(os.stat(site.fhir(m)).st_mode)
    assert "fhir" not in os.listdir(m.p("clinic-b"))
    os.stat(m.p("clinic-b"))
    site.server.reset_counters()
    assert_errno(errno.ENOENT, os.stat, m.p("clinic-b", "fhir"))
    assert_errno(errno.ENOENT, os.stat, m.p("clinic-b", "fhir", "Patient"))
    assert fhir_calls(site.server) == {}


def test_metadata_json_is_the_capability_statement(site):
    m = site.default
    text = read(site.fhir(m, "metadata.json"))
    cap = check_pretty_format(text)
    want = json.loads(service_copy(site, "metadata"))
    assert cap == want
    assert json_tokens(text) == json_tokens(service_copy(site, "metadata"))
    assert os.stat(site.fhir(m, "metadata.json")).st_size == len(text.encode())


def test_one_directory_per_capability_type(site):
    m = site.default
    cap = json.loads(service_copy(site, "metadata"))
    types = sorted(r["type"] for r in cap["rest"][0]["resource"])
    assert len(types) == 146
    assert listing(site.fhir(m)) == sorted(types + ["metadata.json"])
    for t in ("Patient", "Observation", "VisionPrescription"):
        assert stat.S_ISDIR(os.stat(site.fhir(m, t)).st_mode)


def test_unknown_type_enoent_without_call(site):
    m = site.default
    os.stat(site.fhir(m))
    site.server.reset_counters()
    for name in ("NotAType", "patient", "Resource", "DomainResource", "NotAType?name=x", "patient?name=x"):
        assert_errno(errno.ENOENT, os.stat, site.fhir(m, name))
    assert fhir_calls(site.server) == {}


@pytest.mark.parametrize("rel,mode", [
    ((), 0o700), (("Patient",), 0o700), (("metadata.json",), 0o400),
    (("Patient", "pat-main.json"), 0o600), (("Patient", "hist-1.history"), 0o700),
    (("Patient", "hist-1.history", "1.json"), 0o400),
    (("Patient", "pat-main.everything.ndjson"), 0o400),
    (("Observation?code=29463-7",), 0o700), (("Observation?code=29463-7", "all.ndjson"), 0o400),
    (("Patient", ".error"), 0o400), ((".error",), 0o400),
])
def test_modes(site, rel, mode):
    st = os.stat(site.fhir(site.default, *rel))
    assert stat.S_IMODE(st.st_mode) == mode, oct(st.st_mode)
    assert stat.S_ISDIR(st.st_mode) == (mode == 0o700)


def test_resource_mode_0400_on_ro_mount(site):
    m = site.mount("ro")
    assert stat.S_IMODE(os.stat(site.fhir(m, "Patient", "pat-main.json")).st_mode) == 0o400


def test_error_files_start_empty(site):
    m = fresh(site)
    assert read(site.fhir(m, ".error")) == ""
    assert read(site.fhir(m, "Patient", ".error")) == ""


# ------------------------------------------------------------------ reading a resource

def test_resource_is_pretty_json_with_service_order_and_lexemes(site):
    m = site.default
    path = site.fhir(m, "Observation", "obs-dec.json")
    text = read(path)
    check_pretty_format(text)
    # Same members, same order, same lexemes as the service's copy.
    assert json_tokens(text) == json_tokens(service_copy(site, "Observation/obs-dec"))
    assert '"value": 120.50' in text, text
    assert json_numbers(text) == json_numbers(OBS_DEC)
    for lex in DEC_LEXEMES:
        assert lex in json_numbers(text)
    assert json.loads(text)["note"][0]["text"] == 'caf\u00e9 "q" / line\nbreak'
    keys = list(json.loads(text))
    assert keys.index("zeta") < keys.index("alpha")


def test_resource_size_exact_and_fstat(site):
    m = site.default
    path = site.fhir(m, "Observation", "obs-dec.json")
    data = open(path, "rb").read()
    assert os.stat(path).st_size == len(data)
    with open(path, "rb") as f:
        assert os.fstat(f.fileno()).st_size == len(data)
        assert f.read() == data


def test_resource_mtime_is_last_updated(site):
    m = site.default
    path = site.fhir(m, "Patient", "hist-1.json")
    lu = json.loads(read(path))["meta"]["lastUpdated"]
    ts = datetime.datetime.fromisoformat(lu.replace("Z", "+00:00")).timestamp()
    st = os.stat(path)
    assert int(st.st_mtime) == int(ts), (st.st_mtime, lu)
    assert abs(st.st_mtime - ts) < 1.0


def test_cold_cat_is_one_read(site):
    m = fresh(site)
    warm(site, m, "Observation")
    r = m.sh("cat clinic-a/fhir/Observation/om-0.json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["id"] == "om-0"
    assert fhir_calls(site.server) == {"fhir.read": 1}


def test_50_concurrent_cold_cats_one_read(site):
    m = fresh(site)
    warm(site, m, "Observation")
    site.server.faults(latency_ms=300, operations=["fhir.read"])
    try:
        path = site.fhir(m, "Observation", "om-1.json")
        results = all_at_once(lambda: read_bytes(path), 50)
    finally:
        site.server.faults()
    assert len(results) == 50 and all(isinstance(x, bytes) for x in results), results[:3]
    assert len(set(results)) == 1 and json.loads(results[0])["id"] == "om-1"
    assert fhir_calls(site.server) == {"fhir.read": 1}


def test_cold_lookups_in_one_directory_overlap(site):
    # Distinct cold resources in one type directory: their lookups (one GET each)
    # reach the service side by side, not one at a time (FUSE_PARALLEL_DIROPS, which
    # libfuse 3.14 leaves out of its INIT reply unless the mount adds it: fs/kio.c).
    m = fresh(site)
    warm(site, m, "Patient")
    site.server.faults(latency_ms=500, operations=["fhir.read"])
    try:
        paths = [site.fhir(m, "Patient", "pt%03d.json" % i) for i in range(8)]
        it = iter(paths)
        lock = threading.Lock()

        def one():
            with lock:
                p = next(it)
            return os.stat(p).st_size

        sizes = all_at_once(one, 8)
    finally:
        site.server.faults()
    assert all(isinstance(x, int) and x > 0 for x in sizes), sizes
    assert fhir_calls(site.server) == {"fhir.read": 8}
    # One at a time, the peak would be 1; the 8 threads start together and each GET
    # takes 500 ms, so any overlap at all shows here.
    assert site.server.counters()["peak_concurrent"] >= 2


def test_unknown_id_enoent_one_read(site):
    m = fresh(site)
    warm(site, m, "Observation")
    assert_errno(errno.ENOENT, os.stat, site.fhir(m, "Observation", "no-such-obs.json"))
    assert fhir_calls(site.server) == {"fhir.read": 1}


@pytest.mark.parametrize("name", ["p1.txt", "a b.json", "a_b.json", "pat-main.JSON", ".json",
                                  "x" * 65 + ".json", "a_b.history", "x" * 65 + ".history",
                                  "a%b.json", "pat-main"])
def test_bad_name_enoent_without_call(site, name):
    m = site.default
    warm(site, m, "Patient")
    assert_errno(errno.ENOENT, os.stat, site.fhir(m, "Patient", name))
    assert fhir_calls(site.server) == {}


def test_everything_outside_patient_enoent_without_call(site):
    m = site.default
    warm(site, m, "Observation")
    assert_errno(errno.ENOENT, os.stat, site.fhir(m, "Observation", "om-0.everything.ndjson"))
    assert fhir_calls(site.server) == {}


@pytest.mark.parametrize("fault,want", [({"access_denied": 1.0}, errno.EACCES),
                                         ({"error5xx": 1.0}, errno.EIO),
                                         ({"throttle": 1.0}, errno.EAGAIN)])
def test_read_errors_map_to_errno_with_reason(site, fault, want):
    m = fresh(site, "max_attempts=2")
    warm(site, m, "Observation")
    site.server.faults(operations=["fhir.read"], **fault)
    try:
        assert_errno(want, os.stat, site.fhir(m, "Observation", "om-2.json"))
    finally:
        site.server.faults()
    reason = error_file(site.fhir(m, "Observation"))
    assert reason.endswith("\n") and reason.count("\n") == 1, repr(reason)
    # Retried as the other calls are (max_attempts=2), except an access denial.
    assert fhir_calls(site.server) == {"fhir.read": 1 if want == errno.EACCES else 2}


def test_transient_5xx_on_read_retried_transparently(site):
    m = fresh(site)
    warm(site, m, "Observation")
    site.server.faults(operations=["fhir.read"], error5xx=1.0, first_n=1)
    try:
        assert json.loads(read(site.fhir(m, "Observation", "om-2.json")))["id"] == "om-2"
    finally:
        site.server.faults()
    assert fhir_calls(site.server) == {"fhir.read": 2}
    assert stats(m)["retries"] >= 1


def test_read_past_timeout_is_etimedout(site):
    m = fresh(site, "timeout=1")
    warm(site, m, "Observation")
    site.server.faults(operations=["fhir.read"], latency_ms=3000)
    try:
        assert_errno(errno.ETIMEDOUT, os.stat, site.fhir(m, "Observation", "om-2.json"))
    finally:
        site.server.faults()
    # The abandoned request ends at the server 3 s after it began (and is counted then):
    # wait for it, so that it falls in no later test's counts.
    wait_for(lambda: fhir_calls(site.server).get("fhir.read", 0) >= 1, timeout=30,
             what="the timed-out read to end at the server")


def test_fhir_tps_paces_data_plane_calls(site):
    m = fresh(site, "fhir_tps=4")
    warm(site, m, "Patient")
    time.sleep(1.1)   # the budget spent by the lookups above is back
    site.server.reset_counters()
    out = []
    ts = [threading.Thread(target=lambda i=i: out.append(read(site.fhir(m, "Patient", "pt%03d.json" % i))))
          for i in range(12)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert len(out) == 12
    arrivals = sorted(e["t"] for e in site.server.admin("log")["log"]
                      if e["op"].startswith("fhir.") and "/Patient/pt" in e["path"])
    assert len(arrivals) == 12, arrivals
    # Arrival times carry a few ms of jitter; a 0.95 s window keeps the check honest.
    worst = max(sum(1 for u in arrivals if t <= u < t + 0.95) for t in arrivals)
    assert worst <= 4, arrivals


# ------------------------------------------------------------------ listing a type

def test_ls_type_pages_then_ls_l_and_reads_free(site):
    m = fresh(site, "attr_ttl=60,list_ttl=60")
    warm(site, m, "Patient")
    r = m.sh("ls clinic-a/fhir/Patient")
    assert r.returncode == 0, r.stderr
    names = r.stdout.split()
    assert len(names) == N_PATIENTS
    assert {"pt000.json", "pat-main.json", "hist-1.json"} <= set(names)
    assert all(n.endswith(".json") for n in names)
    assert fhir_calls(site.server) == {"fhir.search": math.ceil(N_PATIENTS / 100)}
    # The pages carried the resources: ls -l, stat and reading every file cost nothing.
    site.server.reset_counters()
    r = m.sh("ls -l clinic-a/fhir/Patient | tail -n +2 | wc -l; cat clinic-a/fhir/Patient/*.json | wc -c")
    assert r.returncode == 0, r.stderr
    count, total = r.stdout.split()
    assert int(count) == N_PATIENTS
    sizes = sum(e.stat().st_size for e in os.scandir(site.fhir(m, "Patient")) if e.name.endswith(".json"))
    assert int(total) == sizes
    assert fhir_calls(site.server) == {}


def test_empty_type_lists_nothing_with_one_page(site):
    m = fresh(site)
    warm(site, m, "Goal")
    assert listing(site.fhir(m, "Goal")) == []
    assert fhir_calls(site.server) == {"fhir.search": 1}


def test_listed_sizes_exact(site):
    m = site.default
    d = site.fhir(m, "Patient")
    for e in list(os.scandir(d))[:40]:
        with open(e.path, "rb") as f:
            assert len(f.read()) == e.stat().st_size == os.stat(e.path).st_size, e.name


def test_history_and_everything_not_listed(site):
    m = site.default
    os.stat(site.fhir(m, "Patient", "hist-1.history"))
    os.stat(site.fhir(m, "Patient", "pat-main.everything.ndjson"))
    names = os.listdir(site.fhir(m, "Patient"))
    assert not [n for n in names if not n.endswith(".json") and n != ".error"], names


def test_read_one_entry_of_10000_is_one_page(site):
    m = fresh(site)
    warm(site, m, "Basic")
    it = os.scandir(site.fhir(m, "Basic"))
    try:
        first = next(iter(it))
    finally:
        it.close()
    assert first.name.endswith(".json") or first.name == ".error"
    assert fhir_calls(site.server) == {"fhir.search": 1}
    # What `ls -f | head -1` costs: GNU ls reads the whole directory before printing,
    # so it is every page (reported, bounded by the whole type).
    m2 = fresh(site)
    warm(site, m2, "Basic")
    r = m2.sh("ls -f clinic-a/fhir/Basic | head -1")
    assert r.stdout.strip()
    pages = fhir_calls(site.server).get("fhir.search", 0)
    print("ls -f | head -1 on %d resources: %d search pages" % (N_BASIC, pages))
    assert 1 <= pages <= math.ceil(N_BASIC / 100)


def test_listing_past_fhir_list_max_is_eoverflow(site, tmp_path):
    m = fresh(site, "fhir_list_max=150")
    warm(site, m, "Patient")
    assert_errno(errno.EOVERFLOW, os.listdir, site.fhir(m, "Patient"))
    reason = error_file(site.fhir(m, "Patient"))
    assert reason.endswith("\n") and reason.count("\n") == 1, repr(reason)
    assert "search" in reason or "export" in reason, reason
    # Never a silent part: ls gets the first 150 entries, then the error once, and ends.
    # (GNU ls goes on reading after EOVERFLOW, so a listing that failed again at the same
    # offset would never end: bounded here by timeout(1).)
    m2 = fresh(site, "fhir_list_max=150")
    warm(site, m2, "Patient")
    out, err = tmp_path / "out", tmp_path / "err"
    with open(out, "wb") as o, open(err, "wb") as e:
        rc = subprocess.run(["timeout", "10", "ls", "-f", site.fhir(m2, "Patient")], stdout=o,
                            stderr=e).returncode
    assert rc not in (0, 124), rc
    errs = err.read_text(errors="replace")
    assert errs.count("Value too large for defined data type") == 1, errs[:2000]
    assert len([n for n in out.read_text().split() if n.endswith(".json")]) == 150
    assert fhir_calls(site.server) == {"fhir.search": 2}


# ------------------------------------------------------------------ history and $everything

def test_history_versions_and_diff(site):
    m = site.default
    h = site.fhir(m, "Patient", "hist-1.history")
    assert listing(h) == ["1.json", "2.json"]
    v1, v2 = read(os.path.join(h, "1.json")), read(os.path.join(h, "2.json"))
    check_pretty_format(v1)
    assert json.loads(v1)["meta"]["versionId"] == "1" and json.loads(v1)["gender"] == "female"
    assert json.loads(v2)["meta"]["versionId"] == "2" and json.loads(v2)["gender"] == "male"
    assert json_tokens(v1) == json_tokens(service_copy(site, "Patient/hist-1/_history/1"))
    for v in ("1.json", "2.json"):
        assert os.stat(os.path.join(h, v)).st_size == len(read(os.path.join(h, v)).encode())
    r = m.sh("diff clinic-a/fhir/Patient/hist-1.history/1.json clinic-a/fhir/Patient/hist-1.history/2.json")
    assert r.returncode == 1, r.stderr
    assert '<   "gender": "female"' in r.stdout and '>   "gender": "male"' in r.stdout, r.stdout
    assert_errno(errno.ENOENT, os.stat, os.path.join(h, "3.json"))


def test_history_of_many_versions_lists_every_page(site):
    m = fresh(site)
    warm(site, m, "Device")
    h = site.fhir(m, "Device", "dev-many.history")
    assert sorted(listing(h), key=lambda n: int(n.split(".")[0])) == \
        ["%d.json" % v for v in range(1, N_VERSIONS + 1)]
    assert fhir_calls(site.server).get("fhir.history") == 2
    assert json.loads(read(os.path.join(h, "7.json")))["lotNumber"] == "v7"
    assert json.loads(read(site.fhir(m, "Device", "dev-many.json")))["meta"]["versionId"] == str(N_VERSIONS)


def test_history_of_unknown_resource_enoent(site):
    m = site.default
    warm(site, m, "Patient")
    assert_errno(errno.ENOENT, os.listdir, site.fhir(m, "Patient", "nobody-here.history"))


def test_history_version_one_call_then_cached_for_life_of_mount(site):
    m = fresh(site)
    warm(site, m, "Patient")
    p = site.fhir(m, "Patient", "hist-1.history", "1.json")
    a = read(p)
    assert json.loads(a)["meta"]["versionId"] == "1"
    # A cold version costs one call: its vread, or the history page that holds it.
    first = fhir_calls(site.server)
    assert sum(first.values()) == 1 and set(first) <= {"fhir.vread", "fhir.history"}, first
    # With nothing cached for any time, the version itself is never fetched again: only the
    # history directory's own lookup may ask the service (list_ttl=0).
    m0 = fresh(site, "attr_ttl=0,list_ttl=0")
    p0 = site.fhir(m0, "Patient", "hist-1.history", "1.json")
    assert read(p0) == a
    site.server.reset_counters()
    for _ in range(3):
        assert read(p0) == a
    again = fhir_calls(site.server)
    assert set(again) <= {"fhir.history"}, again


def test_metadata_cached_for_life_of_mount(site):
    m = fresh(site, "attr_ttl=0,list_ttl=0")
    site.server.reset_counters()
    for _ in range(3):
        read(site.fhir(m, "metadata.json"))
        os.listdir(site.fhir(m))
        os.stat(site.fhir(m, "Patient"))
    assert fhir_calls(site.server) == {"fhir.capabilities": 1}


def test_everything_ndjson(site):
    m = fresh(site)
    warm(site, m, "Patient")
    path = site.fhir(m, "Patient", "pat-main.everything.ndjson")
    st = os.stat(path)
    assert st.st_size == 0 and stat.S_IMODE(st.st_mode) == 0o400
    r = m.sh("jq -r .resourceType clinic-a/fhir/Patient/pat-main.everything.ndjson | sort | uniq -c")
    assert r.returncode == 0, r.stderr
    got = {ln.split()[1]: int(ln.split()[0]) for ln in r.stdout.splitlines()}
    assert got == {"Patient": 1, "Observation": 3, "Condition": 1}, r.stdout
    assert fhir_calls(site.server) == {"fhir.everything": 1}
    lines = read(path).split("\n")
    assert lines[-1] == "" and len(lines) == 6
    for ln in lines[:-1]:
        assert json_compact(ln), ln
    assert json.loads(lines[0])["id"] == "pat-main"
    # Each line the service's resource (its lexemes and order), whitespace outside strings dropped.
    assert json_tokens(lines[0]) == json_tokens(service_copy(site, "Patient/pat-main"))


def test_everything_of_unknown_patient_enoent(site):
    m = site.default
    warm(site, m, "Patient")
    assert_errno(errno.ENOENT, read, site.fhir(m, "Patient", "nobody-here.everything.ndjson"))
    assert set(fhir_calls(site.server)) <= {"fhir.read", "fhir.everything"}


# ------------------------------------------------------------------ /.stats

def test_stats_calls_fhir_keys(site):
    m = fresh(site)
    site.server.reset_counters()
    read(site.fhir(m, "metadata.json"))
    read(site.fhir(m, "Patient", "pat-main.json"))
    read(site.fhir(m, "Patient", "hist-1.history", "2.json"))
    os.listdir(site.fhir(m, "Patient", "hist-1.history"))
    os.listdir(site.fhir(m, "Observation?code=29463-7"))
    read(site.fhir(m, "Patient", "pat-main.everything.ndjson"))
    assert_errno(errno.ENOENT, os.stat, site.fhir(m, "Patient", "missing-1.json"))
    s = stats(m)
    for k in ("read", "search", "everything", "capabilities"):
        assert s.get("calls.fhir." + k, 0) >= 1, (k, s)
    assert s.get("calls.fhir.history", 0) + s.get("calls.fhir.vread", 0) >= 1, s
    # Each call counted once, under its interaction, as the service saw them (no retries here).
    mine = {k[len("calls."):]: v for k, v in s.items() if k.startswith("calls.fhir.")}
    assert mine == fhir_calls(site.server), (mine, fhir_calls(site.server))
    assert s.get("errors.fhir.404", 0) >= 1, s


# ------------------------------------------------------------------ memory

N_BIG = 100000


def _vm_mb(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    raise AssertionError(field)


def test_100000_resources_listed_and_read_within_cache_mb(server_factory, tmp_path):
    from .test_job_output import instrumented
    srv = server_factory(*DEFAULT_ARGS)
    s = FhirSite(srv, str(tmp_path))
    s.load(['{"resourceType":"Basic","id":"m%06d","code":{"text":"x"},"subject":{"reference":'
            '"Patient/p%d"}}' % (i, i % 977) for i in range(N_BIG)])
    try:
        cache_mb = 4
        m = s.mount("cache_mb=%d,fhir_list_max=200000" % cache_mb)
        os.stat(s.fhir(m, "Basic"))
        before = _vm_mb(m.proc.pid, "VmRSS")
        r = m.sh("ls -l clinic-a/fhir/Basic | tail -n +2 | wc -l", timeout=600)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == str(N_BIG)
        # The listing's pages were evicted long ago: resources are fetched again, never wrong.
        for i in range(0, N_BIG, N_BIG // 300):
            p = s.fhir(m, "Basic", "m%06d.json" % i)
            data = open(p, "rb").read()
            got = json.loads(data)
            assert got["id"] == "m%06d" % i and got["subject"]["reference"] == "Patient/p%d" % (i % 977)
            assert os.stat(p).st_size == len(data)
        grew = _vm_mb(m.proc.pid, "VmHWM") - before
        print("100,000 resources, cache_mb=%d: the daemon grew %.1f MB" % (cache_mb, grew))
        # An ASan build's quarantine and shadow memory make RSS no measure of the cache.
        if not instrumented():
            assert grew <= cache_mb + 8, "grew %.1f MB with cache_mb=%d" % (grew, cache_mb)
    finally:
        s.close()
