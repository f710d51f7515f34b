"""FHIR data as files, writes (DESIGN.md "FHIR data as files", issue #15): cp, sed -i, vim/ex,
jq + mv, bodies refused before any call, If-Match conflicts (ESTALE), lexemes kept through a
write, fhir_max_bytes, scratch files, rm with and without allow_delete, ro, and no PHI in the
daemon's log or /.stats. Request counts from healthlake-local's counters."""
import errno
import json
import os
import re
import shutil
import stat
import subprocess

import pytest

from .conftest import DEFAULT_ARGS
from .hlutil import (FhirSite, assert_errno, check_pretty_format, error_file, fhir_calls,
                     json_numbers, listing, read, write_once)

CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
PHI_NAME = "Zanzibarova"
PHI_ID = "phi-3k9x"
PHI_MISSING = "phi-gone-77"


def patient(pid, family="Smith", gender="female", **kw):
    d = {"resourceType": "Patient", "id": pid, "gender": gender,
         "name": [{"family": family, "given": ["Ana"]}]}
    d.update(kw)
    return d


# A Patient whose extension holds a decimal with a trailing zero.
def patient_text(pid, family="Smith"):
    return ('{"resourceType":"Patient","id":"%s","gender":"female","name":[{"family":"%s",'
            '"given":["Ana"]}],"extension":[{"url":"http://example.org/weight",'
            '"valueDecimal":70.50}]}' % (pid, family))


def _resources():
    res = [patient_text(p) for p in ("sed-1", "vim-1", "vim-2", "ex-1", "conf-1", "fsync-1",
                                     "noop-1", "mv-1", "chmod-1")]
    res += [patient(p) for p in ("jq-1", "rm-1", "rm-2", "rm-3", "ro-1", "conf-2", "cpv-1")]
    res.append(patient(PHI_ID, family=PHI_NAME))
    return res


@pytest.fixture(scope="module")
def site(_server_pool, tmp_path_factory):
    srv = _server_pool.get(DEFAULT_ARGS)
    s = FhirSite(srv, str(tmp_path_factory.mktemp("fhirwrites")))
    s.load(_resources())
    s.default = s.mount()
    yield s
    s.close()
    srv.stop()


def warm(site, m, *rel):
    """Looks up the path (the type directory, or a resource), then zeroes the counters."""
    os.stat(site.fhir(m, *rel))
    site.server.reset_counters()


def service(site, path):
    """(status, text) of the service's copy."""
    st, body = site.get_raw(path)
    return st, body.decode()


def service_json(site, path):
    st, text = service(site, path)
    assert st == 200, (path, st, text[:300])
    return json.loads(text), text


# ------------------------------------------------------------------ cp

def test_cp_one_file_one_put_and_read_back(site, tmp_path):
    src = tmp_path / "cp-1.json"
    body = ('{\n  "resourceType": "Patient",\n  "id": "cp-1",\n  "gender": "other",\n'
            '  "extension": [{"url": "http://example.org/w", "valueDecimal": 81.250}]\n}\n')
    src.write_text(body)
    m = site.mount("attr_ttl=60,list_ttl=60")
    before = listing(site.fhir(m, "Patient"))
    assert "cp-1.json" not in before
    site.server.reset_counters()
    r = m.sh("cp %s clinic-a/fhir/Patient/" % src)
    assert r.returncode == 0, r.stderr
    calls = fhir_calls(site.server)
    assert calls.get("fhir.update") == 1, calls
    # At most the lookup's GET besides (it tells a new id from an existing one).
    assert set(calls) <= {"fhir.update", "fhir.read"} and calls.get("fhir.read", 0) <= 1, calls
    # The service's answer replaced the cached copy: reading back costs nothing.
    site.server.reset_counters()
    text = read(site.fhir(m, "Patient", "cp-1.json"))
    assert fhir_calls(site.server) == {}
    check_pretty_format(text)
    got = json.loads(text)
    assert got["gender"] == "other" and got["id"] == "cp-1" and got["meta"]["versionId"] == "1"
    assert "81.250" in json_numbers(text)
    assert os.stat(site.fhir(m, "Patient", "cp-1.json")).st_size == len(text.encode())
    svc, raw = service_json(site, "Patient/cp-1")
    assert svc["gender"] == "other" and "81.250" in json_numbers(raw)
    # The write dropped the type's cached listing.
    assert "cp-1.json" in listing(site.fhir(m, "Patient"))


def test_cp_without_id_gets_the_file_name(site, tmp_path):
    src = tmp_path / "anything.json"
    src.write_text('{"resourceType": "Patient", "gender": "unknown"}\n')
    m = site.default
    r = m.sh("cp %s clinic-a/fhir/Patient/cp-noid.json" % src)
    assert r.returncode == 0, r.stderr
    svc, _ = service_json(site, "Patient/cp-noid")
    assert svc["id"] == "cp-noid" and svc["gender"] == "unknown"


def test_cp_several_files(site, tmp_path):
    d = tmp_path / "fixtures"
    d.mkdir()
    ids = ["many-%d" % i for i in range(4)]
    for pid in ids:
        (d / (pid + ".json")).write_text(json.dumps(patient(pid, family="Many")) + "\n")
    m = site.mount()
    warm(site, m, "Patient")
    r = m.sh("cp %s/*.json clinic-a/fhir/Patient/" % d)
    assert r.returncode == 0, r.stderr
    calls = fhir_calls(site.server)
    assert calls.get("fhir.update") == len(ids) and calls.get("fhir.read", 0) <= len(ids), calls
    for pid in ids:
        svc, _ = service_json(site, "Patient/" + pid)
        assert svc["name"][0]["family"] == "Many"
        assert json.loads(read(site.fhir(m, "Patient", pid + ".json")))["id"] == pid


@pytest.mark.parametrize("body", [
    '{"resourceType": "Observation", "status": "final"}',
    '{"resourceType": "Patient", "id": "another-id"}',
    '{"gender": "male"}',
    'not json at all',
    '[{"resourceType": "Patient"}]',
    '{"resourceType": "Patient"} {"resourceType": "Patient"}',
])
def test_bad_body_einval_without_put(site, body):
    m = site.default
    warm(site, m, "Patient")
    path = site.fhir(m, "Patient", "badbody-1.json")
    werr, cerr = write_once(path, body, CREATE)
    assert errno.EINVAL in (werr, cerr), (werr, cerr)
    assert "fhir.update" not in fhir_calls(site.server)
    assert set(fhir_calls(site.server)) <= {"fhir.read"}
    assert service(site, "Patient/badbody-1")[0] == 404
    reason = error_file(site.fhir(m, "Patient"))
    assert reason.endswith("\n") and reason.count("\n") == 1


def test_wrong_type_over_existing_resource_from_bash(site):
    m = site.default
    before = service(site, "Patient/rm-3")[1]
    warm(site, m, "Patient", "rm-3.json")
    # An external printf: coreutils checks close(2), which returns the flush's errno (bash's
    # builtin and its redirections ignore it).
    r = m.sh("""/usr/bin/printf '{"resourceType":"Observation","id":"rm-3"}' > clinic-a/fhir/Patient/rm-3.json""")
    assert r.returncode != 0
    assert "Invalid argument" in r.stderr, r.stderr
    assert fhir_calls(site.server) == {}
    assert service(site, "Patient/rm-3")[1] == before
    assert json.loads(read(site.fhir(m, "Patient", "rm-3.json")))["resourceType"] == "Patient"


def test_fhir_max_bytes_efbig(site):
    m = site.mount("fhir_max_bytes=4096")
    warm(site, m, "Patient")
    body = json.dumps(patient("big-1", text={"status": "generated", "div": "x" * 5000}))
    werr, cerr = write_once(site.fhir(m, "Patient", "big-1.json"), body, CREATE)
    assert errno.EFBIG in (werr, cerr), (werr, cerr)
    assert "fhir.update" not in fhir_calls(site.server)
    assert service(site, "Patient/big-1")[0] == 404


def test_large_body_in_many_writes_is_one_put(site):
    m = site.mount()
    warm(site, m, "Patient")
    body = json.dumps(patient("large-1", text={"status": "generated", "div": "y" * 300000})).encode()
    fd = os.open(site.fhir(m, "Patient", "large-1.json"), CREATE, 0o600)
    try:
        for off in range(0, len(body), 10000):
            assert os.write(fd, body[off:off + 10000]) == len(body[off:off + 10000])
    finally:
        os.close(fd)
    assert fhir_calls(site.server).get("fhir.update") == 1
    svc, _ = service_json(site, "Patient/large-1")
    assert svc["text"]["div"] == "y" * 300000


def test_open_file_keeps_its_snapshot_across_a_write(site):
    m = site.mount()
    path = site.fhir(m, "Patient", "snap-1.json")
    assert write_once(path, json.dumps(patient("snap-1", family="Before")), CREATE) == (0, 0)
    with open(path, "rb") as f:
        head = f.read(20)
        size = os.fstat(f.fileno()).st_size
        assert write_once(path, json.dumps(patient("snap-1", family="After" * 50))) == (0, 0)
        whole = head + f.read()
        assert os.fstat(f.fileno()).st_size == size == len(whole)
    assert json.loads(whole)["name"][0]["family"] == "Before"
    assert json.loads(read(path))["name"][0]["family"] == "After" * 50


def test_service_answer_413_is_efbig(site):
    m = site.default   # fhir_max_bytes is 8 MiB; healthlake-local refuses bodies over 5 MiB
    warm(site, m, "Patient")
    body = json.dumps(patient("big-2", text={"status": "generated", "div": "x" * (6 << 20)}))
    werr, cerr = write_once(site.fhir(m, "Patient", "big-2.json"), body, CREATE)
    assert errno.EFBIG in (werr, cerr), (werr, cerr)
    assert fhir_calls(site.server).get("fhir.update") == 1
    assert service(site, "Patient/big-2")[0] == 404


def test_bytes_sent_are_the_users(site):
    m = site.default
    body = ('{"resourceType":"Patient","zeta":"caf\\u00e9 \\/ x","alpha":2.50,'
            '"name":[{"family":"Order","given":["B","A"]}]}')
    assert write_once(site.fhir(m, "Patient", "bytes-1.json"), body, CREATE) == (0, 0)
    _, raw = service(site, "Patient/bytes-1")
    # Never re-serialised: the escapes, the lexeme and the member order are as written.
    assert '"zeta":"caf\\u00e9 \\/ x","alpha":2.50,"name":[{"family":"Order","given":["B","A"]}]' in raw, raw


def test_write_then_read_keeps_decimals(site):
    m = site.mount()
    body = ('{"resourceType":"Observation","id":"dec-w","status":"final","code":{"coding":[{'
            '"system":"http://loinc.org","code":"8480-6"}]},"valueQuantity":{"value":120.50,'
            '"unit":"mm[Hg]"},"component":[{"valueQuantity":{"value":1.000e2}},'
            '{"valueQuantity":{"value":0.10}},{"valueQuantity":{"value":-0.0}}]}')
    assert write_once(site.fhir(m, "Observation", "dec-w.json"), body, CREATE) == (0, 0)
    want = json_numbers(body)
    _, raw = service_json(site, "Observation/dec-w")
    assert json_numbers(raw) == want
    text = read(site.fhir(m, "Observation", "dec-w.json"))
    assert json_numbers(text) == want
    assert '"value": 120.50' in text
    m2 = site.mount()
    assert json_numbers(read(site.fhir(m2, "Observation", "dec-w.json"))) == want


def test_fsync_sends_and_close_sends_nothing_more(site):
    m = site.default
    path = site.fhir(m, "Patient", "fsync-1.json")
    text = read(path)
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, text.replace('"Smith"', '"Fsynced"').encode())
        os.fsync(fd)
        svc, _ = service_json(site, "Patient/fsync-1")
        assert svc["name"][0]["family"] == "Fsynced"
    finally:
        os.close(fd)
    svc, _ = service_json(site, "Patient/fsync-1")
    assert svc["meta"]["versionId"] == "2"


def test_descriptor_that_wrote_nothing_sends_nothing(site):
    m = site.default
    warm(site, m, "Patient", "noop-1.json")
    os.close(os.open(site.fhir(m, "Patient", "noop-1.json"), os.O_WRONLY))
    assert "fhir.update" not in fhir_calls(site.server)
    svc, _ = service_json(site, "Patient/noop-1")
    assert svc["meta"]["versionId"] == "1"


# ------------------------------------------------------------------ editing in place

def test_sed_i_one_read_one_put(site):
    m = site.mount()
    warm(site, m, "Patient")
    r = m.sh("""sed -i 's/"Smith"/"Smyth"/' clinic-a/fhir/Patient/sed-1.json""")
    assert r.returncode == 0, r.stderr
    calls = fhir_calls(site.server)
    assert (calls.get("fhir.read", 0), calls.get("fhir.update", 0)) == (1, 1), calls
    svc, raw = service_json(site, "Patient/sed-1")
    assert svc["name"][0]["family"] == "Smyth" and svc["meta"]["versionId"] == "2"
    assert "70.50" in json_numbers(raw)
    text = read(site.fhir(m, "Patient", "sed-1.json"))
    assert '"family": "Smyth"' in text and "70.50" in json_numbers(text)
    # sed's temporary file (sedXXXXXX) is gone.
    assert not [n for n in os.listdir(site.fhir(m, "Patient")) if re.match(r"sed[A-Za-z0-9]{6}$", n)]


def _editor(name):
    exe = shutil.which(name)
    if exe is None:
        pytest.fail("%s is not installed (scripts/setup installs vim-tiny, which provides vi and ex)" % name)
    return exe


@pytest.mark.parametrize("editor,pid", [("vi", "vim-1"), ("vim.tiny", "vim-2"), ("ex", "ex-1")])
def test_vim_es_edits_in_place(site, editor, pid):
    exe = _editor(editor)
    m = site.mount()
    path = site.fhir(m, "Patient", pid + ".json")
    flag = "-s" if editor == "ex" else "-es"
    r = subprocess.run([exe, flag, "-u", "NONE", "-i", "NONE", "-c", "%s/Smith/Smyth/", "-c", "wq", path],
                       cwd=m.path, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    assert r.returncode == 0, (r.stdout, r.stderr)
    svc, raw = service_json(site, "Patient/" + pid)
    assert svc["name"][0]["family"] == "Smyth"
    assert svc["meta"]["versionId"] == "2"   # one PUT
    assert "70.50" in json_numbers(raw)
    # No editor file is left behind, and the resource is still a resource.
    for scratch in ("." + pid + ".json.swp", pid + ".json~", "4913"):
        assert_errno(errno.ENOENT, os.stat, site.fhir(m, "Patient", scratch))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert json.loads(read(path))["name"][0]["family"] == "Smyth"


def test_jq_to_tmp_then_mv(site):
    m = site.mount()
    warm(site, m, "Patient")
    r = m.sh("cd clinic-a/fhir/Patient && jq '.gender = \"other\"' jq-1.json > jq-1.json.tmp "
             "&& mv jq-1.json.tmp jq-1.json")
    assert r.returncode == 0, r.stderr
    assert fhir_calls(site.server).get("fhir.update") == 1
    svc, _ = service_json(site, "Patient/jq-1")
    assert svc["gender"] == "other" and svc["meta"]["versionId"] == "2"
    assert_errno(errno.ENOENT, os.stat, site.fhir(m, "Patient", "jq-1.json.tmp"))
    assert json.loads(read(site.fhir(m, "Patient", "jq-1.json")))["gender"] == "other"


def test_conflicting_edit_estale_service_unchanged(site):
    m = site.mount()
    path = site.fhir(m, "Patient", "conf-1.json")
    mine = read(path)
    assert json.loads(mine)["meta"]["versionId"] == "1"
    # Someone else changes the resource behind the mount's back.
    api = site.api()
    st, _, body = api.request("PUT", "Patient/conf-1", patient("conf-1", family="Other"))
    api.close()
    assert st == 200, body
    _, current = service(site, "Patient/conf-1")
    site.server.reset_counters()
    werr, cerr = write_once(path, mine.replace('"Smith"', '"Mine"'))
    assert errno.ESTALE in (werr, cerr), (werr, cerr)
    assert fhir_calls(site.server).get("fhir.update") == 1    # the refused If-Match PUT
    reason = error_file(site.fhir(m, "Patient"))
    assert reason.endswith("\n") and reason.count("\n") == 1
    assert re.search(r"\b2\b", reason), reason               # the current version
    assert service(site, "Patient/conf-1")[1] == current      # nothing overwritten
    assert '"Mine"' not in read(path)                          # nor shown as if it were


def test_conflicting_cp_of_a_saved_copy_fails_in_bash(site, tmp_path):
    m = site.mount()
    saved = tmp_path / "conf-2.json"
    r = m.sh("cp clinic-a/fhir/Patient/conf-2.json %s" % saved)
    assert r.returncode == 0, r.stderr
    api = site.api()
    st, _, body = api.request("PUT", "Patient/conf-2", patient("conf-2", family="Other"))
    api.close()
    assert st == 200, body
    _, current = service(site, "Patient/conf-2")
    # The saved copy carries meta.versionId 1: copying it back is refused at close(2).
    r = m.sh("cp %s clinic-a/fhir/Patient/conf-2.json" % saved)
    assert r.returncode != 0
    assert "Stale file handle" in r.stderr, r.stderr
    assert service(site, "Patient/conf-2")[1] == current


# ------------------------------------------------------------------ scratch files, renames, modes

def test_scratch_files_stay_in_memory(site):
    m = site.mount()
    warm(site, m, "Patient")
    d = site.fhir(m, "Patient")
    p = os.path.join(d, "notes.tmp")
    with open(p, "w") as f:
        f.write("hello\n")
    assert read(p) == "hello\n"
    st = os.stat(p)
    assert st.st_size == 6 and stat.S_IMODE(st.st_mode) == 0o600
    os.rename(p, os.path.join(d, "notes2.tmp"))
    assert read(os.path.join(d, "notes2.tmp")) == "hello\n"
    assert_errno(errno.ENOENT, os.stat, p)
    os.unlink(os.path.join(d, "notes2.tmp"))   # no allow_delete needed
    assert_errno(errno.ENOENT, os.stat, os.path.join(d, "notes2.tmp"))
    assert fhir_calls(site.server) == {}


def test_scratch_files_not_listed(site):
    m = site.mount()
    d = site.fhir(m, "Patient")
    with open(os.path.join(d, "keep.tmp"), "w") as f:
        f.write("x")
    try:
        assert "keep.tmp" not in os.listdir(d)
        assert os.stat(os.path.join(d, "keep.tmp")).st_size == 1
    finally:
        os.unlink(os.path.join(d, "keep.tmp"))


def test_rename_between_resources_eperm(site):
    m = site.default
    warm(site, m, "Patient", "mv-1.json")
    assert_errno(errno.EPERM, os.rename, site.fhir(m, "Patient", "mv-1.json"),
                 site.fhir(m, "Patient", "mv-2.json"))
    assert "fhir.update" not in fhir_calls(site.server) and "fhir.delete" not in fhir_calls(site.server)
    assert service(site, "Patient/mv-1")[0] == 200


def test_chmod_chown_utime_that_keep_succeed_others_eperm(site):
    m = site.default
    p = site.fhir(m, "Patient", "chmod-1.json")
    st = os.stat(p)
    site.server.reset_counters()
    os.chmod(p, 0o600)
    os.chown(p, st.st_uid, st.st_gid)
    os.utime(p)
    assert_errno(errno.EPERM, os.chmod, p, 0o644)
    assert_errno(errno.EPERM, os.chown, p, st.st_uid + 1, st.st_gid)
    assert_errno(errno.EPERM, os.link, p, site.fhir(m, "Patient", "chmod-2.json"))
    assert_errno(errno.EPERM, os.symlink, "chmod-1.json", site.fhir(m, "Patient", "chmod-3.json"))
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o600
    assert "fhir.update" not in fhir_calls(site.server)
    assert service_json(site, "Patient/chmod-1")[0]["meta"]["versionId"] == "1"


def test_rename_resource_to_scratch_copies_and_keeps_it(site):
    m = site.mount()
    d = site.fhir(m, "Patient")
    text = read(os.path.join(d, "mv-1.json"))
    site.server.reset_counters()
    os.rename(os.path.join(d, "mv-1.json"), os.path.join(d, "mv-1.json~"))
    assert read(os.path.join(d, "mv-1.json~")) == text
    assert read(os.path.join(d, "mv-1.json")) == text
    assert not set(fhir_calls(site.server)) & {"fhir.update", "fhir.delete"}
    os.unlink(os.path.join(d, "mv-1.json~"))
    assert service(site, "Patient/mv-1")[0] == 200


def test_cp_without_version_replaces_a_changed_resource(site, tmp_path):
    m = site.mount()
    read(site.fhir(m, "Patient", "cpv-1.json"))
    api = site.api()
    st, _, body = api.request("PUT", "Patient/cpv-1", patient("cpv-1", family="Changed"))
    api.close()
    assert st == 200, body
    src = tmp_path / "cpv-1.json"
    src.write_text(json.dumps(patient("cpv-1", family="Replaced")))   # no meta.versionId
    r = m.sh("cp %s clinic-a/fhir/Patient/cpv-1.json" % src)
    assert r.returncode == 0, r.stderr
    svc, _ = service_json(site, "Patient/cpv-1")
    assert svc["name"][0]["family"] == "Replaced" and svc["meta"]["versionId"] == "3"


# ------------------------------------------------------------------ rm, allow_delete, ro

def test_rm_without_allow_delete_eperm_no_call(site):
    m = site.default
    warm(site, m, "Patient", "rm-1.json")
    assert_errno(errno.EPERM, os.unlink, site.fhir(m, "Patient", "rm-1.json"))
    r = m.sh("rm clinic-a/fhir/Patient/rm-1.json")
    assert r.returncode != 0 and "Operation not permitted" in r.stderr, r.stderr
    assert fhir_calls(site.server) == {}
    assert service(site, "Patient/rm-1")[0] == 200


def test_rm_with_allow_delete(site):
    m = site.mount("allow_delete")
    warm(site, m, "Patient", "rm-2.json")
    os.unlink(site.fhir(m, "Patient", "rm-2.json"))
    assert fhir_calls(site.server) == {"fhir.delete": 1}
    assert_errno(errno.ENOENT, os.stat, site.fhir(m, "Patient", "rm-2.json"))
    assert "rm-2.json" not in os.listdir(site.fhir(m, "Patient"))
    assert service(site, "Patient/rm-2")[0] in (404, 410)
    # The history keeps the versions; the deletion itself (410) is no file.
    h = site.fhir(m, "Patient", "rm-2.history")
    assert json.loads(read(os.path.join(h, "1.json")))["id"] == "rm-2"
    assert_errno(errno.ENOENT, os.stat, os.path.join(h, "2.json"))


def test_ro_mount_erofs_no_call(site, tmp_path):
    m = site.mount("ro")
    p = site.fhir(m, "Patient", "ro-1.json")
    warm(site, m, "Patient", "ro-1.json")
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o400
    assert_errno(errno.EROFS, os.open, p, os.O_WRONLY)
    assert_errno(errno.EROFS, os.open, p, os.O_WRONLY | os.O_TRUNC)
    assert_errno(errno.EROFS, os.unlink, p)
    assert fhir_calls(site.server) == {}
    assert_errno(errno.EROFS, os.open, site.fhir(m, "Patient", "ro-new.json"), CREATE, 0o600)
    assert_errno(errno.EROFS, os.open, site.fhir(m, "Patient", "ro.tmp"), CREATE, 0o600)
    src = tmp_path / "ro-cp.json"
    src.write_text(json.dumps(patient("ro-cp")))
    r = m.sh("cp %s clinic-a/fhir/Patient/" % src)
    assert r.returncode != 0 and "Read-only file system" in r.stderr, r.stderr
    calls = fhir_calls(site.server)
    assert not set(calls) & {"fhir.update", "fhir.delete", "fhir.create"}, calls
    assert service(site, "Patient/ro-cp")[0] == 404


# ------------------------------------------------------------------ PHI and /.stats

def test_no_phi_in_log_or_stats(site):
    m = site.mount()
    base = "clinic-a/fhir/Patient"
    script = f"""
        cat {base}/{PHI_ID}.json > /dev/null
        ls '{base}?family={PHI_NAME}' > /dev/null
        ls 'clinic-a/fhir/Patient?family={PHI_NAME}&gender=female' > /dev/null
        sed -i 's/{PHI_NAME}/{PHI_NAME}x/' {base}/{PHI_ID}.json
        cat {base}/{PHI_MISSING}.json 2> /dev/null
        ls 'clinic-a/fhir/Patient?family:bogus={PHI_NAME}' 2> /dev/null
        printf '{{"resourceType":"Observation","id":"{PHI_ID}"}}' > {base}/{PHI_ID}.json 2> /dev/null
        true
    """
    r = m.sh(script)
    assert r.returncode == 0, r.stderr
    svc, _ = service_json(site, "Patient/" + PHI_ID)
    assert svc["name"][0]["family"] == PHI_NAME + "x"
    # A conflict too (its reason names a version; the log must not name the resource).
    path = site.fhir(m, "Patient", PHI_ID + ".json")
    mine = read(path)
    api = site.api()
    api.request("PUT", "Patient/" + PHI_ID, patient(PHI_ID, family=PHI_NAME + "y"))
    api.close()
    assert errno.ESTALE in write_once(path, mine)
    planted = [PHI_NAME, PHI_ID, PHI_MISSING, "family=", "family%3D", "family:bogus"]
    log = m.stderr()
    stats_text = read(m.p(".stats"))
    for s in planted:
        assert s not in log, (s, log[-3000:])
        assert s not in stats_text, (s, stats_text)
    for k in ("calls.fhir.read", "calls.fhir.search", "calls.fhir.update"):
        assert re.search(r"^%s [1-9]\d*$" % re.escape(k), stats_text, re.M), (k, stats_text)
    assert re.search(r"^errors\.fhir\.412 [1-9]", stats_text, re.M), stats_text
    assert re.search(r"^errors\.fhir\.404 [1-9]", stats_text, re.M), stats_text


def test_stats_update_and_delete_keys(site, tmp_path):
    m = site.mount("allow_delete")
    p = site.fhir(m, "Patient", "st-1.json")
    assert write_once(p, json.dumps(patient("st-1")), CREATE) == (0, 0)
    os.unlink(p)
    stats_text = read(m.p(".stats"))
    assert re.search(r"^calls\.fhir\.update 1$", stats_text, re.M), stats_text
    assert re.search(r"^calls\.fhir\.delete 1$", stats_text, re.M), stats_text
