"""Fault storm: several concurrent bash shells run >= 500 shell commands against
one mount while healthlake-local throttles 30% of requests, fails 10% with 5xx,
drops 5% of answers after committing, adds jittered latency and enforces its
quota. Every filesystem operation (FUSE request, timed in the daemon) ends
within timeout= + 1 s; every failure carries a clear errno; the server ends up holding exactly what the successful writes asked for
(no duplicates; a failed write may have created at most one); the daemon lives.
"""
import errno
import os
import random
import subprocess
import time

import pytest

from relutil import (JOB_OPTS, DaemonTrace, boto_state, daemon_alive, report,  # noqa: F401
                     rig, slowest, vm_hwm_kb)

T = 3                       # timeout= (seconds)
BOUND_MS = (T + 1) * 1000
SHELLS = 4
STORES = ["storm0000", "storm0001", "storm0002"]
FAULTS = dict(throttle=0.3, error5xx=0.1, drop_after_commit=0.05, latency_ms=5, jitter_ms=15,
              quota=True, seed=20261129)
# What a failure may say under these faults (coreutils print strerror).
FAULT_ERRNOS = {errno.ETIMEDOUT, errno.EIO, errno.EAGAIN, errno.EBUSY}
ERRTEXT = {os.strerror(e): e for e in (errno.ETIMEDOUT, errno.EIO, errno.EAGAIN, errno.EBUSY,
                                       errno.EEXIST, errno.ENOENT, errno.EACCES, errno.EINVAL,
                                       errno.EPERM, errno.ENOTCONN)}

# Per shell: (kind, count). 130 commands a shell, 520 in all.
MIX = [("status", 20), ("json", 10), ("ls-imports", 10), ("ls-root", 10), ("find", 8),
       ("latest", 8), ("ls-tags", 6), ("stats", 6), ("stat-id", 6), ("import", 10),
       ("export", 4), ("tag", 12), ("mkdir", 3), ("mkdir-taken", 1), ("misc", 16)]

PRELUDE = r'''
set +e
ERR=$(mktemp)
run() {
	local i=$1; shift
	local t0=$EPOCHREALTIME
	"$@" >/dev/null 2>"$ERR"
	local rc=$?
	local t1=$EPOCHREALTIME
	local msg=""
	IFS= read -r -n 300 msg <"$ERR"
	printf '%s\t%s\t%s\t%s\n' "$i" "$rc" "$(( ${t1/./} - ${t0/./} ))" "$msg" >>"$OUT"
}
w() { printf '%s\n' "$2" >"$1"; }
'''


def q(s):
    return "'" + s.replace("'", "'\\''") + "'"


# A shorter, write-heavy storm with the quota off, so that many creates and
# starts succeed (or lose their answers) under throttling, 5xx and drops.
WRITE_MIX = [("status", 4), ("ls-imports", 3), ("ls-root", 2), ("latest", 2), ("import", 6),
             ("export", 3), ("tag", 5), ("mkdir", 3), ("misc", 2)]


def workload(shell, rnd, mix=MIX):
    """[(kind, argv-as-shell-text, meta)] for one shell, shuffled."""
    cmds = []
    n = {}
    for kind, count in mix:
        for k in range(count):
            st = STORES[(k + shell) % len(STORES)]
            n[kind] = n.get(kind, 0) + 1
            if kind == "status":
                cmds.append((kind, f"cat {st}/status", {}))
            elif kind == "json":
                cmds.append((kind, f"cat {st}/datastore.json", {}))
            elif kind == "ls-imports":
                cmds.append((kind, f"ls -l {st}/imports", {}))
            elif kind == "ls-root":
                cmds.append((kind, "ls -a .", {}))
            elif kind == "find":
                cmds.append((kind, f"find {st} -maxdepth 2", {}))
            elif kind == "latest":
                cmds.append((kind, f"jq -r .JobStatus {st}/imports/latest", {}))
            elif kind == "ls-tags":
                cmds.append((kind, f"ls -l {st}/tags", {}))
            elif kind == "stats":
                cmds.append((kind, "cat .stats", {}))
            elif kind == "stat-id":
                cmds.append((kind, f"stat {st}/id", {}))
            elif kind == "import":
                uri = f"s3://rel-bucket/in/sh{shell}-{k}/"
                cmds.append((kind, f"w {st}/imports/new {q(uri)}", {"store": st, "uri": uri}))
            elif kind == "export":
                uri = f"s3://rel-bucket/out/sh{shell}-{k}/"
                cmds.append((kind, f"w {st}/exports/new {q(uri)}", {"store": st, "uri": uri}))
            elif kind == "tag":
                key, val = f"sh{shell}k{k}", f"v{k}"
                cmds.append((kind, f"w {st}/tags/{key} {val}", {"store": st, "key": key, "val": val}))
            elif kind == "mkdir":
                name = f"storm-new-sh{shell}-{k}"
                cmds.append((kind, f"mkdir {name}", {"name": name}))
            elif kind == "mkdir-taken":
                cmds.append((kind, f"mkdir {st}", {}))
            elif kind == "misc":
                cmds.append((kind, ["cat {s}/name", "cat {s}/arn", "ls {s}/exports",
                                    "cat {s}/endpoint"][k % 4].format(s=st), {}))
    rnd.shuffle(cmds)
    return cmds


def errno_of(msg):
    for text, e in ERRTEXT.items():
        if text in msg:
            return e
    return None


@pytest.mark.parametrize("quota", [True, False], ids=["quota", "write-heavy-no-quota"])
def test_fault_storm(rig, tmp_path, quota):
    mix = MIX if quota else WRITE_MIX
    faults = dict(FAULTS, quota=quota)
    s = rig.server()
    s.seed(count=len(STORES), name_prefix="storm", import_jobs=2, export_jobs=1)
    m = rig.mount(s, f"timeout={T},attr_ttl=0.5,list_ttl=1,max_tps=10,{JOB_OPTS}")
    assert sorted(n for n in os.listdir(m.path) if not n.startswith(".")) == STORES
    seeded = boto_state(s)
    s.reset_counters()
    dtrace = DaemonTrace(m.proc.pid, str(tmp_path / "daemon.trace"))
    s.faults(**faults)

    rnd = random.Random(1129)
    plans, procs = [], []
    t_start = time.monotonic()
    for sh in range(SHELLS):
        cmds = workload(sh, rnd, mix)
        plans.append(cmds)
        script = PRELUDE + "".join(f"run {i} {c}\n" for i, (_, c, _) in enumerate(cmds))
        path = tmp_path / f"shell{sh}.sh"
        path.write_text(script)
        env = dict(os.environ, OUT=str(tmp_path / f"shell{sh}.out"))
        procs.append(subprocess.Popen(["bash", str(path)], cwd=m.path, env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    for p in procs:
        try:
            p.wait(timeout=400)
        except subprocess.TimeoutExpired:
            for q_ in procs:
                q_.kill()
            pytest.fail("a shell was still running after 400 s")
    wall = time.monotonic() - t_start
    alive = daemon_alive(m)
    hwm = vm_hwm_kb(m.proc.pid) if alive else 0
    fuse_ops = dtrace.stop()
    s.faults()  # off, so the final state can be read reliably
    counters = s.counters()

    results = []  # (shell, kind, cmd, meta, rc, ms, msg)
    problems = []
    for sh, cmds in enumerate(plans):
        lines = (tmp_path / f"shell{sh}.out").read_text().splitlines()
        got = {}
        for line in lines:
            i, rc, us, msg = (line.split("\t", 3) + [""])[:4]
            got[int(i)] = (int(rc), int(us) / 1000.0, msg)
        for i, (kind, cmd, meta) in enumerate(cmds):
            if i not in got:
                problems.append(f"shell {sh} command {i} ({cmd}) never finished")
                continue
            rc, ms, msg = got[i]
            results.append((sh, kind, cmd, meta, rc, ms, msg))

    ok = [r for r in results if r[4] == 0]
    failed = [r for r in results if r[4] != 0]
    by_errno = {}
    for r in failed:
        e = errno_of(r[6])
        allowed = FAULT_ERRNOS | ({errno.EEXIST} if r[1] == "mkdir-taken" else set())
        by_errno[errno.errorcode.get(e, "unclear")] = by_errno.get(errno.errorcode.get(e, "unclear"), 0) + 1
        if e not in allowed:
            problems.append(f"{r[2]}: rc={r[4]} without a clear allowed errno: {r[6]!r}")
    for op, ms, start in fuse_ops:
        if ms > BOUND_MS:
            problems.append(f"FUSE {op} took {ms:.0f} ms > {BOUND_MS} ms (timeout={T})")
    for r in results:
        if r[1] == "mkdir-taken" and r[4] == 0:
            problems.append(f"{r[2]} succeeded on an existing store")

    # ---- the server's final state against what the writes asked for ----
    state = boto_state(s)
    by_name = {}
    for sid, st in state.items():
        by_name.setdefault(st["props"].get("DatastoreName"), []).append(sid)
    store_id = {n: by_name[n][0] for n in STORES}

    def jobs(kind, store):
        return state[store_id[store]][kind]

    def uri_of(kind, j):
        if kind == "imports":
            return j["InputDataConfig"]["S3Uri"].rstrip("/")
        return j["OutputDataConfig"]["S3Configuration"]["S3Uri"].rstrip("/")

    writes = {"import": [0, 0], "export": [0, 0], "tag": [0, 0], "mkdir": [0, 0]}
    created_by_failed = 0
    asked = set()
    for r in results:
        kind, meta, rc = r[1], r[3], r[4]
        if kind not in writes:
            continue
        writes[kind][0 if rc == 0 else 1] += 1
        if kind in ("import", "export"):
            k = kind + "s"
            asked.add((k, meta["store"], meta["uri"].rstrip("/")))
            n = sum(1 for j in jobs(k, meta["store"]) if uri_of(k, j) == meta["uri"].rstrip("/"))
            if rc == 0 and n != 1:
                problems.append(f"{r[2]} succeeded but the server holds {n} such jobs")
            if rc != 0 and n > 1:
                problems.append(f"{r[2]} failed and the server holds {n} (duplicates)")
            created_by_failed += (rc != 0 and n == 1)
        elif kind == "tag":
            tags = state[store_id[meta["store"]]]["tags"]
            if rc == 0 and tags.get(meta["key"]) != meta["val"]:
                problems.append(f"{r[2]} succeeded but the tag is {tags.get(meta['key'])!r}")
            if rc != 0 and meta["key"] in tags and tags[meta["key"]] != meta["val"]:
                problems.append(f"{r[2]} failed and left a wrong value {tags[meta['key']]!r}")
        elif kind == "mkdir":
            n = len(by_name.get(meta["name"], []))
            if rc == 0 and n != 1:
                problems.append(f"{r[2]} succeeded but the server holds {n} such stores")
            if rc != 0 and n > 1:
                problems.append(f"{r[2]} failed and the server holds {n} (duplicates)")
            created_by_failed += (rc != 0 and n == 1)
    # Nothing the workload did not ask for: the seeded jobs plus asked ones only.
    for sid, st in state.items():
        name = st["props"].get("DatastoreName")
        if name in STORES:
            for k in ("imports", "exports"):
                unknown = [j for j in st[k]
                           if j["JobId"] not in {x["JobId"] for x in seeded[sid][k]}
                           and (k, name, uri_of(k, j)) not in asked]
                if unknown:
                    problems.append(f"{name}/{k}: jobs nobody asked for: {unknown[:2]}")
        elif not (name or "").startswith("storm-new-"):
            problems.append(f"a store nobody asked for: {st['props']}")

    statuses = {}
    for op, per in counters["calls"].items():
        for code, n in per.items():
            statuses[code] = statuses.get(code, 0) + n
    mss = sorted(r[5] for r in results)
    report(f"fault storm ({'quota on' if quota else 'quota off, write-heavy'})", [
        f"shells={SHELLS} commands={len(results)} ok={len(ok)} failed={len(failed)} "
        f"wall={wall:.1f}s timeout={T}s",
        f"failures by errno: {dict(sorted(by_errno.items()))}",
        "writes ok/failed: " + ", ".join(f"{k}={v[0]}/{v[1]}" for k, v in writes.items()),
        f"objects created by failed writes (allowed, at most one each): {created_by_failed}",
        f"command ms: p50={mss[len(mss) // 2]:.0f} p99={mss[int(len(mss) * 0.99)]:.0f} "
        f"max={mss[-1]:.0f} (a command is many filesystem operations)",
        f"FUSE requests timed: {len(fuse_ops)}; slowest: "
        + ", ".join(f"{o} {ms:.0f} ms" for o, ms, _ in slowest(fuse_ops, 4)),
        f"server: requests={counters.get('requests')} statuses={dict(sorted(statuses.items()))} "
        f"peak_concurrent={counters.get('peak_concurrent')}",
        f"daemon alive: {alive}; peak RSS (VmHWM) {hwm // 1024} MiB",
    ])

    assert alive, "healthlakefs died during the storm:\n" + m.stderr()[-3000:]
    assert len(results) == SHELLS * sum(c for _, c in mix)
    assert len(results) >= (500 if quota else 120)
    assert len(fuse_ops) >= len(results), f"only {len(fuse_ops)} FUSE requests traced"
    if not quota:
        # Without the quota most creates and starts must get through.
        assert writes["import"][0] + writes["export"][0] >= 10, writes
        assert writes["mkdir"][0] >= 4, writes
    # The storm must really have stormed: throttles and 5xx were answered.
    assert any(c.startswith("5") for c in statuses), statuses
    assert sum(n for c, n in statuses.items() if c in ("400", "429")) > 0, statuses
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:40])


# ---- the storm's guarantees one at a time, deterministically ----

def one_store(rig, opts):
    s = rig.server()
    s.seed(datastores=[{"name": "drop", "status": "ACTIVE"}])
    m = rig.mount(s, f"timeout={T},attr_ttl=0,list_ttl=0,{JOB_OPTS}" + opts)
    assert "drop" in os.listdir(m.path)
    return s, m


def uris(s, kind="imports"):
    st = next(v for v in boto_state(s).values() if v["props"].get("DatastoreName") == "drop")
    if kind == "imports":
        return [j["InputDataConfig"]["S3Uri"] for j in st[kind]]
    return [j["OutputDataConfig"]["S3Configuration"]["S3Uri"] for j in st[kind]]


@pytest.mark.parametrize("kind,op", [("imports", "StartFHIRImportJob"),
                                     ("exports", "StartFHIRExportJob")])
def test_answer_lost_once_write_succeeds_one_job(rig, kind, op):
    s, m = one_store(rig, "")
    s.faults(drop_after_commit=1.0, first_n=1, operations=[op])
    uri = f"s3://rel-bucket/once/{kind}/"
    r = subprocess.run(["bash", "-c", f"echo {uri} > drop/{kind}/new"], cwd=m.path,
                       capture_output=True, text=True, timeout=T + 10)
    s.faults()
    assert r.returncode == 0, r.stderr
    assert s.calls(op) >= 2, "the lost answer was not retried"
    assert uris(s, kind).count(uri) == 1, uris(s, kind)
    # As soon as write(2) returned, the job is listed and latest points at it.
    jobs = [n for n in os.listdir(m.p("drop", kind)) if n not in ("new", "latest", ".error")]
    assert len(jobs) == 1 and os.readlink(m.p("drop", kind, "latest")) == jobs[0]


def test_answer_always_lost_write_fails_at_most_one_job(rig):
    s, m = one_store(rig, ",max_attempts=3")
    s.faults(drop_after_commit=1.0, operations=["StartFHIRImportJob"])
    uri = "s3://rel-bucket/lost/"
    t0 = time.monotonic()
    r = subprocess.run(["bash", "-c", f"echo {uri} > drop/imports/new"], cwd=m.path,
                       capture_output=True, text=True, timeout=T + 10)
    took = time.monotonic() - t0
    s.faults()
    assert r.returncode != 0
    assert errno_of(r.stderr) in (errno.EIO, errno.ETIMEDOUT), r.stderr
    assert took <= T + 1, took
    assert s.calls("StartFHIRImportJob") >= 2
    # The server committed the first attempt; retries carried its ClientToken.
    assert uris(s).count(uri) == 1, uris(s)
    jobs = [n for n in os.listdir(m.p("drop", "imports")) if n not in ("new", "latest", ".error")]
    assert len(jobs) == 1, "the job the failed write started is not listed"


def test_create_answer_lost_once_mkdir_succeeds_one_store(rig):
    s, m = one_store(rig, "")
    s.faults(drop_after_commit=1.0, first_n=1, operations=["CreateFHIRDatastore"])
    r = subprocess.run(["mkdir", m.p("dropped-once")], capture_output=True, text=True,
                       timeout=T + 10)
    s.faults()
    assert r.returncode == 0, r.stderr
    names = [v["props"].get("DatastoreName") for v in boto_state(s).values()]
    assert names.count("dropped-once") == 1, names
    assert os.path.isdir(m.p("dropped-once"))
