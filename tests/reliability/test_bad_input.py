"""Bad input: every refused operation returns the errno of DESIGN.md's errors
table and makes no mutating call (the server's counters prove it).

One mount serves the whole table (module scope); each row checks the
mutating-call counters before and after itself."""
import errno
import os

import pytest

from relutil import JOB_OPTS, Rig, b64, run_op, run_ops

E = errno
RO = {E.EACCES, E.EPERM}          # writing a read-only file (0400); as root the fs decides
NOPE = {E.EPERM}                   # operation the tree does not offer
XATTR = {E.EPERM, E.ENOTSUP}       # no xattrs: EPERM by the table, ENOTSUP is FUSE's own answer
INVAL = {E.EINVAL}

S = "clinic"                       # the seeded store
URI = "s3://rel-bucket/in/ok/"

# (row id, op, expected errnos, expected stage or None, extra checks)
ROWS = []


def row(rid, op, expect, stage=None, no_call=()):
    """no_call: operations the row must not call at all (beyond the mutating
    ones no row may call). Lookups of the parent may still list stores."""
    ROWS.append(pytest.param(op, expect, stage, no_call, id=rid))


# ---- store names (mkdir in /) ----
row("mkdir-empty", ["mkdir", ""], {E.ENOENT})
row("mkdir-root", ["mkdir", "."], {E.EEXIST})
row("mkdir-dot", ["mkdir", "./."], {E.EEXIST})
row("mkdir-dotdot", ["mkdir", "./.."], {E.EEXIST})
row("mkdir-256", ["mkdir", "a" * 256], {E.ENAMETOOLONG})
row("mkdir-257", ["mkdir", "a" * 257], {E.ENAMETOOLONG})
for i, bad in enumerate(["bad!name", "bad#name", "bad$name", "semi;colon", 'quo"te', "star*",
                         "tab\tname", "nl\nname", "back\\slash", "pipe|x", "q?x", "lt<gt>"]):
    row(f"mkdir-char{i}", ["mkdir", bad], INVAL)
row("mkdir-bad-utf8", ["mkdir", b64(b"bad\xff\xfename")], INVAL)
row("mkdir-overlong-utf8", ["mkdir", b64(b"x\xc0\xafy")], INVAL)
row("mkdir-lone-surrogate", ["mkdir", b64(b"x\xed\xa0\x80y")], INVAL)
row("mkdir-.stats", ["mkdir", ".stats"], {E.EEXIST})
row("mkdir-.error", ["mkdir", ".error"], {E.EEXIST})
row("mkdir-taken", ["mkdir", S], {E.EEXIST})
row("mkdir-id-of-store", ["mkdir", "{ID}"], {E.EEXIST})
row("mkdir-in-store", ["mkdir", f"{S}/sub"], NOPE)
row("mkdir-in-imports", ["mkdir", f"{S}/imports/sub"], NOPE)
row("mkdir-in-tags", ["mkdir", f"{S}/tags/sub"], NOPE)

# ---- control files: imports/new and exports/new ----
for kind in ("imports", "exports"):
    new = f"{S}/{kind}/new"
    for i, text in enumerate(["http://rel-bucket/in/\n", "s3://UPPER-Bucket/in/\n", "s3://\n",
                              "not a uri\n", "\n", "s3://x/in/\n", "{bad json}\n", "[1, 2]\n",
                              '"s3://rel-bucket/in/"\n', "null\n"]):
        row(f"{kind}-bad-line{i}", ["write", new, [text]], INVAL, stage="write")
    row(f"{kind}-unknown-member",
        ["write", new, ['{"InputDataConfig": {"S3Uri": "s3://rel-bucket/in/"}, "Bogus": 1}']
         if kind == "imports" else
         ['{"OutputDataConfig": {"S3Configuration": {"S3Uri": "s3://rel-bucket/out/"}}, "Bogus": 1}']],
        INVAL, stage="write")
    row(f"{kind}-wrong-type",
        ["write", new, ['{"InputDataConfig": "s3://rel-bucket/in/"}' if kind == "imports"
                        else '{"OutputDataConfig": ["s3://rel-bucket/out/"]}']],
        INVAL, stage="write")
    row(f"{kind}-bad-role",
        ["write", new, ['{"DataAccessRoleArn": "not-an-arn"}']], INVAL, stage="write")
    row(f"{kind}-two-lines", ["write", new, [URI + "\n" + URI + "\n"]], INVAL, stage="write")
    row(f"{kind}-bad-utf8", ["write", new, [b64(b"s3://rel-bucket/\xff\xfe/\n")]], INVAL,
        stage="write")
    row(f"{kind}-over-64k", ["write", new, ["s3://rel-bucket/" + "a" * 70000 + "\n"]], INVAL,
        stage="write")
    row(f"{kind}-over-1MiB", ["write", new, [{"repeat": "a", "n": (1 << 20) + 1}]], INVAL,
        stage="write")
    row(f"{kind}-1MiB-in-chunks", ["write", new, [{"repeat": "b", "n": 65536}] * 17], INVAL,
        stage="write")
    # Partial input: incomplete at close, acted on (refused) by close(2).
    row(f"{kind}-partial-json", ["write", new, ['{"InputDataConfig": ', '{"S3Uri": ']], INVAL,
        stage="close")
    row(f"{kind}-partial-bad-uri", ["write", new, ["s3://rel", "-BUCKET/in/"]], INVAL,
        stage="close")
    row(f"{kind}-partial-unknown-member",
        ["write", new, ['{"Nope": ', 'true}']], INVAL, stage="write")
    row(f"{kind}-new-rw", ["open", new, "rw"], RO | {E.EINVAL})

# ---- tags ----
row("tag-bad-value", ["write", f"{S}/tags/team", ["bad!value\n"]], INVAL, stage="write")
row("tag-long-value", ["write", f"{S}/tags/team", ["v" * 257 + "\n"]], INVAL, stage="write")
row("tag-two-lines", ["write", f"{S}/tags/team", ["a\nb\n"]], INVAL, stage="write")
row("tag-bad-utf8", ["write", f"{S}/tags/team", [b64(b"\xff\xfe\n")]], INVAL, stage="write")
row("tag-bad-key", ["write", f"{S}/tags/bad!key", ["v\n"]], INVAL)
row("tag-long-key", ["write", f"{S}/tags/" + "k" * 129, ["v\n"]], INVAL)

# ---- read-only files: write, append, read-write open, truncate ----
READ_ONLY = [f"{S}/status", f"{S}/datastore.json", f"{S}/id", f"{S}/arn", f"{S}/endpoint",
             f"{S}/name", f"{S}/type_version", f"{S}/created_at", f"{S}/imports/{{JOB}}",
             f"{S}/exports/{{EJOB}}", f"{S}/imports/latest", ".stats", ".error", f"{S}/.error",
             f"{S}/imports/.error", f"{S}/tags/.error"]
for p in READ_ONLY:
    n = p.replace("/", "_").replace("{", "").replace("}", "")
    # Root may open a 0400 file for writing (as on any filesystem); the
    # refusal may come at open(2) or at write(2), but it must come.
    row(f"write-{n}", ["write", p, ["x\n"]], RO)
    row(f"append-{n}", ["write", p, ["x\n"], "a"], RO)
    row(f"truncate-{n}", ["truncate", p, 0], RO)
row("open-rw-status", ["open", f"{S}/status", "rw"], RO)
row("write-dir", ["open", S, "w"], {E.EISDIR})
row("truncate-dir", ["truncate", S, 0], {E.EISDIR})

# ---- operations the tree does not offer, on every kind of node ----
NODES = {"root": ".", "store": S, "store-by-id": "{ID}", "imports": f"{S}/imports",
         "tags": f"{S}/tags", "status": f"{S}/status", "json": f"{S}/datastore.json",
         "tag": f"{S}/tags/team", "new": f"{S}/imports/new", "exnew": f"{S}/exports/new",
         "job": f"{S}/imports/{{JOB}}", "latest": f"{S}/imports/latest", "stats": ".stats",
         "error": f"{S}/.error"}
for k, p in NODES.items():
    if k != "root":
        row(f"rename-{k}", ["rename", p, f"{os.path.dirname(p) or '.'}/renamed"], NOPE)
    row(f"chmod-{k}", ["chmod", p, 0o777], NOPE)
    row(f"chown-{k}", ["chown", p, 4321, 4321], NOPE)
    row(f"setxattr-{k}", ["setxattr", p, "user.rel", "1"], XATTR)
    if k not in ("root", "store", "store-by-id", "imports", "tags"):
        row(f"link-{k}", ["link", p, f"{os.path.dirname(p) or '.'}/hardlink"], NOPE)
for k, d in {"root": ".", "store": S, "imports": f"{S}/imports", "exports": f"{S}/exports",
             "tags": f"{S}/tags"}.items():
    row(f"symlink-in-{k}", ["symlink", "status", f"{d}/sym"], NOPE)
    row(f"mknod-fifo-in-{k}", ["mknod", f"{d}/fifo", "fifo"], NOPE)
    if k != "tags":
        row(f"create-in-{k}", ["open", f"{d}/newfile", "creat"], NOPE)
row("rename-onto-existing", ["rename", f"{S}/id", f"{S}/status"], NOPE)
row("rename-tag-across", ["rename", f"{S}/tags/team", f"{S}/tags/team2"], NOPE)
row("rename-job-into-exports", ["rename", f"{S}/imports/{{JOB}}", f"{S}/exports/x"], NOPE)

# ---- deletes without allow_delete ----
row("rmdir-store", ["rmdir", S], NOPE)
row("rmdir-store-by-id", ["rmdir", "{ID}"], NOPE)
row("rmdir-imports", ["rmdir", f"{S}/imports"], NOPE)
row("rmdir-tags", ["rmdir", f"{S}/tags"], NOPE)
row("rmdir-missing", ["rmdir", "no-such-store"], {E.ENOENT})
row("unlink-tag", ["unlink", f"{S}/tags/team"], NOPE)
row("unlink-status", ["unlink", f"{S}/status"], NOPE)
row("unlink-job", ["unlink", f"{S}/imports/{{JOB}}"], NOPE)
row("unlink-new", ["unlink", f"{S}/imports/new"], NOPE)
row("unlink-latest", ["unlink", f"{S}/imports/latest"], NOPE)
row("unlink-stats", ["unlink", ".stats"], NOPE)

# ---- job ids that cannot be job ids: ENOENT without a call ----
IMPORT_READS = ("DescribeFHIRImportJob", "ListFHIRImportJobs")
row("job-id-33", ["stat", f"{S}/imports/" + "a" * 33], {E.ENOENT}, no_call=IMPORT_READS)
row("job-id-bad-char", ["stat", f"{S}/imports/bad!id"], {E.ENOENT}, no_call=IMPORT_READS)
row("export-id-33", ["stat", f"{S}/exports/" + "b" * 33], {E.ENOENT},
    no_call=("DescribeFHIRExportJob", "ListFHIRExportJobs"))


MUTATING = ("CreateFHIRDatastore", "DeleteFHIRDatastore", "StartFHIRImportJob",
            "StartFHIRExportJob", "TagResource", "UntagResource")


def fill(x, subst):
    if isinstance(x, str):
        for k, v in subst.items():
            x = x.replace(k, v)
        return x
    if isinstance(x, list):
        return [fill(y, subst) for y in x]
    return x


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    rig = Rig(tmp_path_factory.mktemp("badinput"))
    s = rig.server()
    st = s.seed(datastores=[{"name": S, "status": "ACTIVE", "tags": {"team": "a"}}],
                import_jobs=1, export_jobs=1)
    sid = st["datastores"][0]["id"]
    m = rig.mount(s, JOB_OPTS)
    imports = run_op(["listdir", f"{S}/imports"], cwd=m.path)["out"]
    exports = run_op(["listdir", f"{S}/exports"], cwd=m.path)["out"]
    job = [n for n in imports if n not in ("new", "latest", ".error")]
    ejob = [n for n in exports if n not in ("new", "latest", ".error")]
    assert len(job) == 1 and len(ejob) == 1, (imports, exports)
    subst = {"{ID}": sid, "{JOB}": job[0], "{EJOB}": ejob[0]}
    yield rig, s, m, subst
    rig.close()


@pytest.fixture(scope="module")
def table(env):
    """Runs every row in one child, in order (fast), and reads the server's
    call log; each row's calls are those logged while it ran."""
    rig, s, m, subst = env
    ops = [fill(p.values[0], subst) for p in ROWS]
    s.admin("reset", {})
    res = run_ops(ops, timeout=600, cwd=m.path)
    log = s.admin("log")["log"]
    return {p.id: (op, r) for p, op, r in zip(ROWS, ops, res)}, log


@pytest.mark.parametrize("op,expect,stage,no_call", ROWS)
def test_refused(env, table, request, op, expect, stage, no_call):
    rig, s, m, subst = env
    results, log = table
    op, r = results[request.node.callspec.id]
    names = sorted(errno.errorcode[e] for e in expect)
    assert r["errno"] in expect, f"{op[:3]!r}: expected {names}, got {r['name'] or 'success'}"
    if stage:
        assert r["stage"] == stage, f"error at {r['stage']}, expected at {stage}: {r}"
    # Calls the server logged while this row ran (with a little slack for clocks).
    mine = [e for e in log if r["t0"] - 0.01 <= e["t"] <= r["t1"] + 0.01]
    made = [e["op"] for e in mine if e["op"] in MUTATING]
    called = [e["op"] for e in mine if e["op"] in no_call]
    if made or called:
        # Attribution by time can blame a row for a neighbour's call: run the
        # row again on its own and judge by the counters around it.
        before = s.calls()
        again = run_op(op, timeout=60, cwd=m.path)
        after = s.calls()
        diff = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
        made = [k for k in diff if k in MUTATING]
        called = [k for k in diff if k in no_call]
        assert again["errno"] in expect, again
    assert not made, f"refused operation made mutating calls: {made}"
    assert not called, f"a name that cannot be a job id still made calls: {called}"
    assert m.proc.poll() is None


def test_table_made_no_mutating_call_at_all(env, table):
    results, log = table
    made = [e for e in log if e["op"] in MUTATING]
    assert not made, f"{len(made)} mutating calls during the table: {made[:5]}"


def test_error_file_names_the_unknown_member(env):
    rig, s, m, subst = env
    r = run_op(["write", f"{S}/imports/new",
                ['{"InputDataConfig": {"S3Uri": "s3://rel-bucket/in/"}, "BogusMember": 1}']],
               cwd=m.path)
    assert r["errno"] == errno.EINVAL, r
    e = run_op(["read", f"{S}/imports/.error"], cwd=m.path)
    assert e["errno"] == 0 and "BogusMember" in e["out"], e
    assert e["out"].endswith("\n") and e["out"].count("\n") == 1, e


def test_error_file_after_refused_mkdir(env):
    rig, s, m, subst = env
    r = run_op(["mkdir", "bad!name"], cwd=m.path)
    assert r["errno"] == errno.EINVAL, r
    e = run_op(["read", ".error"], cwd=m.path)
    assert e["errno"] == 0 and e["out"].strip(), e


def test_state_unchanged_after_table(env):
    """After every row ran, the server holds exactly what was seeded."""
    rig, s, m, subst = env
    hl = s.boto3()
    stores = hl.list_fhir_datastores()["DatastorePropertiesList"]
    assert [d.get("DatastoreName") for d in stores] == [S], stores
    arn = stores[0]["DatastoreArn"]
    tags = {t["Key"]: t["Value"] for t in hl.list_tags_for_resource(ResourceARN=arn)["Tags"]}
    assert tags == {"team": "a"}, tags
    sid = stores[0]["DatastoreId"]
    assert len(hl.list_fhir_import_jobs(DatastoreId=sid)["ImportJobPropertiesList"]) == 1
    assert len(hl.list_fhir_export_jobs(DatastoreId=sid)["ExportJobPropertiesList"]) == 1


RO_ROWS = [
    ("mkdir", ["mkdir", "ro-new"]),
    ("import", ["write", f"{S}/imports/new", [URI + "\n"]]),
    ("export", ["write", f"{S}/exports/new", ["s3://rel-bucket/out/\n"]]),
    ("tag", ["write", f"{S}/tags/team", ["b\n"]]),
    ("new-tag", ["write", f"{S}/tags/other", ["b\n"]]),
    ("rmdir", ["rmdir", S]),
    ("unlink-tag", ["unlink", f"{S}/tags/team"]),
    ("chmod", ["chmod", f"{S}/status", 0o600]),
    ("rename", ["rename", f"{S}/status", f"{S}/st"]),
]


def test_ro_mount_refuses_every_mutation_with_erofs(env):
    rig, s, m, subst = env
    ro = rig.mount(s, "ro,allow_delete," + JOB_OPTS)
    before = s.mutating_calls()
    res = run_ops([op for _, op in RO_ROWS], timeout=120, cwd=ro.path)
    bad = [f"{rid}: {r['name'] or 'success'}" for (rid, _), r in zip(RO_ROWS, res)
           if r["errno"] != errno.EROFS]
    assert not bad, "expected EROFS: " + ", ".join(bad)
    assert s.mutating_calls() == before
    ro.unmount()
