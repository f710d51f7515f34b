"""FHIR data as files, searches (DESIGN.md "FHIR data as files", issue #15): `<Type>?<query>/`
directories, their `<id>.json` matches and `all.ndjson`, the user's percent-encoding, `:`
modifiers and `|`, mount-owned parameters, caching and the drop on a write, with request
counts from healthlake-local's counters."""
import errno
import json
import os
import stat

import pytest

from .conftest import DEFAULT_ARGS
from .hlutil import (FhirSite, all_at_once, assert_errno, check_pretty_format, error_file, fhir_calls,
                     json_compact, json_tokens, listing, read, write_once)

N_SYS = 150   # Observations with LOINC 8480-6: two pages
N_WT = 20     # Observations with LOINC 29463-7, subjects among 5 patients
MRN = "http://hosp.example/mrn"


def obs(oid, code, pid, value):
    return ('{"resourceType":"Observation","id":"%s","status":"final","code":{"coding":[{'
            '"system":"http://loinc.org","code":"%s"}]},"subject":{"reference":"Patient/%s"},'
            '"valueQuantity":{"value":%s,"unit":"mm[Hg]"}}' % (oid, code, pid, value))


def _resources():
    res = []
    for i in range(5):
        res.append({"resourceType": "Patient", "id": "sp%d" % i, "gender": "female",
                    "name": [{"family": "Person%d" % i, "given": ["Ana"]}]})
    # The search with %2F, ':' and '|' matches q1 only: q2 is not an exact family match,
    # q3 has the value under another system.
    res.append({"resourceType": "Patient", "id": "q1", "name": [{"family": "Quill"}],
                "identifier": [{"system": MRN, "value": "m-17"}]})
    res.append({"resourceType": "Patient", "id": "q2", "name": [{"family": "Quillon"}],
                "identifier": [{"system": MRN, "value": "m-17"}]})
    res.append({"resourceType": "Patient", "id": "q3", "name": [{"family": "Quill"}],
                "identifier": [{"system": "urn:other", "value": "m-17"}]})
    res += [obs("sys-%03d" % i, "8480-6", "sp%d" % (i % 5), "1%02d.50" % (i % 100)) for i in range(N_SYS)]
    res += [obs("wt-%02d" % i, "29463-7", "sp%d" % (i % 5), "7%d.10" % (i % 10)) for i in range(N_WT)]
    return res


@pytest.fixture(scope="module")
def site(_server_pool, tmp_path_factory):
    srv = _server_pool.get(DEFAULT_ARGS)
    s = FhirSite(srv, str(tmp_path_factory.mktemp("fhirsearch")))
    s.load(_resources())
    s.default = s.mount()
    yield s
    s.close()
    srv.stop()


def matches(d):
    """The resource files of a search directory (all.ndjson left out)."""
    return [n for n in listing(d) if n != "all.ndjson"]


def warm(site, m):
    os.stat(site.fhir(m, "Observation"))
    site.server.reset_counters()


def test_search_directory_lists_matches(site):
    m = site.mount()
    warm(site, m)
    r = m.sh("ls 'clinic-a/fhir/Observation?code=29463-7'")
    assert r.returncode == 0, r.stderr
    assert sorted(r.stdout.split()) == sorted(["all.ndjson"] + ["wt-%02d.json" % i for i in range(N_WT)])
    assert fhir_calls(site.server) == {"fhir.search": 1}
    d = site.fhir(m, "Observation?code=29463-7")
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
    # Each match is the whole resource, pretty, as the search returned it; size exact.
    site.server.reset_counters()
    text = read(os.path.join(d, "wt-03.json"))
    check_pretty_format(text)
    assert os.stat(os.path.join(d, "wt-03.json")).st_size == len(text.encode())
    st, body = site.get_raw("Observation/wt-03")
    assert json_tokens(text) == json_tokens(body.decode())
    assert '"value": 73.10' in text
    site.server.reset_counters()
    read(os.path.join(d, "wt-04.json"))
    assert fhir_calls(site.server) == {}


def test_search_spanning_pages(site):
    m = site.default
    r = m.sh("ls 'clinic-a/fhir/Observation?code=8480-6' | grep -c '^sys-.*[.]json$'")
    assert r.stdout.strip() == str(N_SYS), r.stderr


def test_all_ndjson_every_entry_compact(site):
    m = site.mount()
    warm(site, m)
    path = site.fhir(m, "Observation?code=8480-6", "all.ndjson")
    st = os.stat(path)
    assert st.st_size == 0 and stat.S_IMODE(st.st_mode) == 0o400
    data = read(path)
    assert data.endswith("\n")
    lines = data.split("\n")[:-1]
    assert len(lines) == N_SYS
    assert sorted(json.loads(ln)["id"] for ln in lines) == sorted("sys-%03d" % i for i in range(N_SYS))
    assert fhir_calls(site.server) == {"fhir.search": 2}
    site.server.reset_counters()
    for ln in lines[:5]:
        assert json_compact(ln), ln
        rid = json.loads(ln)["id"]
        code, body = site.get_raw("Observation/" + rid)
        assert ln == body.decode(), (ln, body)   # as the service sent it, byte for byte
    # Decimal lexemes kept in the stream too.
    assert any('"value":100.50' in ln for ln in lines)


def test_head_1_all_ndjson_one_page(site):
    m = site.mount()
    warm(site, m)
    r = m.sh("head -1 'clinic-a/fhir/Observation?code=8480-6/all.ndjson'")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["resourceType"] == "Observation"
    assert fhir_calls(site.server) == {"fhir.search": 1}


def test_all_ndjson_matches_then_includes(site):
    m = site.default
    d = site.fhir(m, "Observation?code=29463-7&_include=Observation:subject")
    lines = read(os.path.join(d, "all.ndjson")).split("\n")[:-1]
    types = [json.loads(ln)["resourceType"] for ln in lines]
    assert types == ["Observation"] * N_WT + ["Patient"] * 5, types
    # The directory lists the matches only (and all.ndjson).
    assert listing(d) == sorted(["all.ndjson"] + ["wt-%02d.json" % i for i in range(N_WT)])


def test_query_with_percent_2f_modifier_and_bar(site):
    m = site.mount()
    warm(site, m)
    name = "Patient?family:exact=Quill&identifier=http:%2F%2Fhosp.example%2Fmrn|m-17"
    r = m.sh("ls 'clinic-a/fhir/%s'" % name)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["all.ndjson", "q1.json"]
    assert json.loads(read(site.fhir(m, name, "q1.json")))["identifier"][0]["system"] == MRN
    assert fhir_calls(site.server) == {"fhir.search": 1}
    # Sent with GET, the query on the URL, re-encoded strictly (AWS-CONVENTIONS.md §1.2).
    (sent,) = [e for e in site.server.admin("log")["log"] if e["op"] == "fhir.search"]
    assert sent["method"] == "GET" and sent["path"].endswith("/r4/Patient"), sent
    q = sent["query"].split("&")
    assert "family%3Aexact=Quill" in q and "identifier=http%3A%2F%2Fhosp.example%2Fmrn%7Cm-17" in q, sent
    assert "_count=100" in q, sent
    # The same search written with other escapes is the same directory (one request).
    assert matches(site.fhir(m, "Patient?family:exact=Qui%6Cl&identifier=http:%2f%2fhosp.example%2Fmrn|m-17")) \
        == ["q1.json"]
    assert fhir_calls(site.server) == {"fhir.search": 1}
    assert matches(site.fhir(m, "Patient?name:exact=Quillon")) == ["q2.json"]
    assert matches(site.fhir(m, "Patient?identifier=m-17")) == ["q1.json", "q2.json", "q3.json"]


@pytest.mark.parametrize("query", ["_count=5", "name=Quill&_count=5", "page=abc", "_count:x=1",
                                   "%5Fcount=5"])
def test_mount_owned_parameters_einval_without_call(site, query):
    m = site.default
    warm(site, m)
    assert_errno(errno.EINVAL, os.stat, site.fhir(m, "Patient?" + query))
    assert fhir_calls(site.server) == {}


def test_query_refused_by_service_is_einval_with_reason(site):
    m = site.default
    assert_errno(errno.EINVAL, os.listdir, site.fhir(m, "Observation?code:exact=8480-6"))
    # The search is looked up in fhir/ and belongs to Observation/: its reason is in one of
    # their .error files, the service's diagnostics on one line.
    reasons = [error_file(site.fhir(m)), error_file(site.fhir(m, "Observation"))]
    hit = [r for r in reasons if "exact" in r]
    assert hit, reasons
    assert hit[0].endswith("\n") and hit[0].count("\n") == 1


def test_search_directory_not_listed(site):
    m = site.default
    os.listdir(site.fhir(m, "Observation?code=29463-7"))
    os.stat(site.fhir(m, "Patient?identifier=m-17"))
    assert not [n for n in os.listdir(site.fhir(m)) if "?" in n]


def test_no_match_is_an_empty_directory(site):
    m = site.default
    d = site.fhir(m, "Observation?code=0000-0")
    assert listing(d) == ["all.ndjson"]
    assert read(os.path.join(d, "all.ndjson")) == ""
    assert_errno(errno.ENOENT, os.stat, os.path.join(d, "sys-000.json"))


def test_search_read_only(site):
    m = site.default
    d = site.fhir(m, "Observation?code=29463-7")
    os.listdir(d)
    site.server.reset_counters()
    assert errno_of_create(os.path.join(d, "new.json")) in (errno.EROFS, errno.EPERM, errno.EACCES)
    assert errno_of_create(os.path.join(d, "scratch.tmp")) in (errno.EROFS, errno.EPERM, errno.EACCES,
                                                                errno.ENOENT)
    assert "fhir.update" not in fhir_calls(site.server)


def errno_of_create(path):
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as e:
        return e.errno
    os.close(fd)
    return 0


def test_search_cached_then_dropped_by_a_write(site):
    m = site.mount("attr_ttl=60,list_ttl=60")
    d = site.fhir(m, "Observation?code=55284-4")
    assert matches(d) == []
    site.server.reset_counters()
    assert matches(d) == []
    assert fhir_calls(site.server) == {}
    # A resource written through the mount drops the type's searches.
    werr, cerr = write_once(site.fhir(m, "Observation", "bp-new.json"), obs("bp-new", "55284-4", "sp1", "80.5"),
                            os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    assert (werr, cerr) == (0, 0)
    assert matches(d) == ["bp-new.json"]
    assert fhir_calls(site.server).get("fhir.update") == 1
    assert fhir_calls(site.server).get("fhir.search") == 1


def test_concurrent_listings_of_one_search_share_one_request(site):
    m = site.mount()
    warm(site, m)
    d = site.fhir(m, "Observation?code=29463-7&status=final")
    site.server.faults(operations=["fhir.search"], latency_ms=300)
    try:
        out = all_at_once(lambda: matches(d), 10)
    finally:
        site.server.faults()
    assert out == [sorted("wt-%02d.json" % i for i in range(N_WT))] * 10, out[:2]
    assert fhir_calls(site.server) == {"fhir.search": 1}
