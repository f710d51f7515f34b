"""Data-plane rows of scripts/bench (issue 17, "Benchmarks"): rows D1-D7.

D6 reads job output (S3 objects under `<store>/exports/<job-id>.files/`); D1-D5
and D7 read and write FHIR resources under `<store>/fhir/`. Each figure sits next
to a baseline measured in the same run: the AWS CLI, curl --aws-sigv4, and
tests/bench_helpers/fhir_client.py (botocore's SigV4Auth, what a user's script
does). Imported by bench/bench.py, which adds the sections "jobout" and "fhir".
"""
import concurrent.futures
import datetime
import http.client
import json
import math
import os
import shlex
import statistics
import subprocess
import sys
import time
import urllib.request

import bench as core
from bench import ACCESS_KEY, AWS_CLI, PYTHON, REGION, SECRET_KEY, fmt_ratio, log, mib, ms

sys.path.insert(0, os.path.join(core.REPO, "scripts"))
from hllocal import s3store  # noqa: E402  (the bucket layout the server serves from)

HELPER = os.path.join(core.REPO, "tests", "bench_helpers", "fhir_client.py")
ROLE_ARN = "arn:aws:iam::123456789012:role/HealthLakeImportRole"
KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
EXPORT_BUCKET = "hl-export"
MiB = 1048576
# curl 7.88 signs for S3 without the payload hash header S3 requires: give it.
CURL_S3 = (f"curl -sSf --aws-sigv4 aws:amz:{REGION}:s3 --user {ACCESS_KEY}:{SECRET_KEY} "
           "-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD'")
WINDOW = 4 * MiB  # fs/s3read.c's read-ahead window: GETs per sequential read = size / WINDOW


def api(server, op, req):
    """One signed HealthLake JSON call (the bench's own signer, checked at start)."""
    host = server.url.split("://", 1)[1]
    body = json.dumps(req).encode()
    h = core.sigv4_headers(host, "HealthLake." + op, body,
                           datetime.datetime.now(datetime.timezone.utc))
    c = http.client.HTTPConnection(host, timeout=60)
    try:
        c.request("POST", "/", body=body, headers=h)
        r = c.getresponse()
        data = r.read()
    finally:
        c.close()
    if r.status != 200:
        raise RuntimeError(f"{op}: {r.status} {data[:300]!r}")
    return json.loads(data)


def export_job(server, sid):
    """A COMPLETED export job; returns (job id, its output folder's key prefix)."""
    jid = api(server, "StartFHIRExportJob", {
        "DatastoreId": sid, "DataAccessRoleArn": ROLE_ARN,
        "OutputDataConfig": {"S3Configuration": {"S3Uri": f"s3://{EXPORT_BUCKET}/out/",
                                                 "KmsKeyId": KMS_KEY}}})["JobId"]

    def done():
        p = api(server, "DescribeFHIRExportJob", {"DatastoreId": sid, "JobId": jid})
        st = p["ExportJobProperties"]["JobStatus"]
        if st in ("FAILED", "CANCEL_COMPLETED"):
            raise RuntimeError(f"export job {st}")
        return st == "COMPLETED"
    core.wait_for(done, 60, "export job", interval=0.1)
    return jid, f"out/{sid}-FHIR_EXPORT-{jid}/"


def write_ndjson_object(server, key, size):
    """An NDJSON object of `size` bytes written straight into the server's bucket
    directory (objects are files there, s3store.py), as tests/e2e does: through
    the S3 API a 2 GiB upload would cost more than the measurement. Returns lines."""
    root = s3store.bucket_dir(server.state, EXPORT_BUCKET)
    os.makedirs(root, exist_ok=True)
    lines = []
    n = 0
    while sum(map(len, lines)) < 4 * MiB:
        lines.append((json.dumps({"resourceType": "Observation", "id": f"o{n:07d}",
                                  "status": "final", "code": {"coding": [
                                      {"system": "http://loinc.org", "code": "8302-2",
                                       "display": "Body height"}]},
                                  "subject": {"reference": f"Patient/p{n % 9973:05d}"},
                                  "valueQuantity": {"value": 170 + n % 30, "unit": "cm"}},
                                 separators=(",", ":")) + "\n").encode())
        n += 1
    block = b"".join(lines)
    tmp = s3store.start_write(root, key)
    left = size
    nl = 0
    with open(tmp, "wb") as f:
        while left > 0:
            part = block[:left]
            f.write(part)
            nl += part.count(b"\n")
            left -= len(part)
    s3store.commit(root, key, tmp)
    return nl


def s3_calls(server):
    return {k: v for k, v in server.calls().items() if k.startswith("s3.")}


def evict(path):
    """Drops the kernel's page cache of one file (the mount opens job output with
    keep_cache, so a second read would otherwise never reach the daemon)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def timed(cmd, env=None, before=None, timeout=900):
    """Wall time of one shell command whose stdout must be empty or one number."""
    if before:
        before()
    t0 = time.perf_counter()
    p = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, env=env, timeout=timeout)
    dt = time.perf_counter() - t0
    if p.returncode:
        raise RuntimeError(f"`{cmd[:120]}` exited {p.returncode}: {p.stderr[-300:]}")
    return dt, p.stdout.strip()


def rate(size, secs):
    return f"{size / secs / MiB:,.0f} MiB/s"


def section_jobout(b):
    log("D6. job output: sequential reads and listings of an export's objects")
    size = b.q(2048 * MiB, 64 * MiB)
    nobj = b.q(5000, 1000)
    rounds = b.q(3, 1)
    s = b.server("jobout")
    sid = s.seed(datastores=[{"name": "out"}])[0]["id"]
    jid, folder = export_job(s, sid)
    jid2, folder2 = export_job(s, sid)
    t0 = time.perf_counter()
    nlines = write_ndjson_object(s, folder + "big.ndjson", size)
    s.admin("s3/objects", {"bucket": EXPORT_BUCKET, "prefix": folder2 + "part-", "count": nobj,
                           "width": 5, "content": '{"resourceType":"Patient","id":"x"}\n'})
    log(f"  wrote a {mib(size)} object ({nlines:,} lines) and {nobj:,} small ones "
        f"in {time.perf_counter() - t0:.1f} s")
    env = s.env()
    cache_mb = core.DEFAULT_CACHE_MB
    m = core.hlfs_mount(b, s, "jobout", f"s3_endpoint={s.url}")
    big = m.p(sid, "exports", jid + ".files", "big.ndjson")
    uri = f"s3://{EXPORT_BUCKET}/{folder}big.ndjson"
    url = f"{s.url}/{EXPORT_BUCKET}/{folder}big.ndjson"
    if not os.path.exists(big):
        raise RuntimeError(f"{big} is missing: .files/ lists {os.listdir(os.path.dirname(big))}")
    if os.stat(big).st_size != size:
        raise RuntimeError(f"mount says {os.stat(big).st_size} bytes, the object has {size}")
    idle = m.proc_status("VmRSS")
    q = shlex.quote
    aws = f"{AWS_CLI} s3 cp --endpoint-url {s.url} --only-show-errors {q(uri)} -"
    curl = f"{CURL_S3} {q(url)}"
    drop = lambda: evict(big)  # noqa: E731
    # Two consumers (discard, count lines), each fed by the mount and by the two clients.
    cmds = {("cat", "mount"): (f"cat {q(big)} > /dev/null", drop),
            ("cat", "aws"): (f"{aws} > /dev/null", None),
            ("cat", "curl"): (f"{curl} -o /dev/null", None),
            ("wc", "mount"): (f"wc -l < {q(big)}", drop),
            ("wc", "aws"): (f"{aws} | wc -l", None),
            ("wc", "curl"): (f"{curl} | wc -l", None)}
    # Each client must really get the object, whole (a benchmark of an error is worthless).
    for who, c in (("aws s3 cp", aws), ("curl", curl)):
        out = timed(f"{c} | wc -c", env)[1]
        if int(out) != size:
            raise RuntimeError(f"{who} gave {out} bytes of {size}")
    times = {k: [] for k in cmds}
    gets = []
    for r in range(rounds):
        for k, (cmd, before) in cmds.items():
            s.reset()
            dt, out = timed(cmd, env, before)
            if k[0] == "wc" and int(out) != nlines:
                raise RuntimeError(f"`{cmd}`: {out} lines, the object has {nlines}")
            if k[1] == "mount":
                gets.append(s3_calls(s).get("s3.GetObject", 0))
            times[k].append(dt)
            log(f"  round {r + 1} {k[0]} {k[1]}: {ms(dt)} ({rate(size, dt)})")
    hwm = m.proc_status("VmHWM")
    # The window protocol's own bound: the same 4 MiB ranged GETs, one after another on
    # one keep-alive connection, by curl (a config file with one section per range).
    cfg = os.path.join(b.work, "ranges.curl")
    with open(cfg, "w") as f:
        for off in range(0, size, WINDOW):
            f.write(f'url = "{url}"\nrange = "{off}-{min(size, off + WINDOW) - 1}"\n'
                    f'aws-sigv4 = "aws:amz:{REGION}:s3"\nuser = "{ACCESS_KEY}:{SECRET_KEY}"\n'
                    'header = "x-amz-content-sha256: UNSIGNED-PAYLOAD"\noutput = "/dev/null"\n'
                    "silent\nshow-error\nfail\n" + ("next\n" if off + WINDOW < size else ""))
    ranges = []
    for _ in range(rounds):
        s.reset()
        ranges.append(timed(f"curl -K {q(cfg)}", env)[0])
    rconns = s.connections()
    rgets = s3_calls(s).get("s3.GetObject", 0)
    ranges = statistics.median(ranges)
    med = {k: statistics.median(v) for k, v in times.items()}
    names = {"aws": f"aws s3 cp (AWS CLI {core.cli_version()})", "curl": "curl --aws-sigv4"}
    spread = lambda k: ", ".join(rate(size, t) for t in times[k])  # noqa: E731
    for num, op, what in (("D6.a", "cat", "`cat big.ndjson > /dev/null`"),
                          ("D6.b", "wc", "`wc -l < big.ndjson`")):
        best = min(("aws", "curl"), key=lambda c: med[(op, c)])  # noqa: B023
        other = "curl" if best == "aws" else "aws"
        ratio = med[(op, best)] / med[(op, "mount")]  # throughput: mount / best baseline
        feed = "" if op == "cat" else r" \| wc -l"  # escaped: the row is a markdown table cell
        b.row(num, f"job output: {what}, {mib(size)} object, page cache dropped before each read, "
              f"throughput vs the best of `aws s3 cp … -{feed}` and `curl{feed}` (median of {rounds})",
              rate(size, med[(op, "mount")]), f"{rate(size, med[(op, best)])} {names[best]}",
              fmt_ratio(ratio), "≥ 0.8x", ratio >= 0.8,
              f"mount runs {spread((op, 'mount'))}; {names[best]} {spread((op, best))}; "
              f"{names[other]} {spread((op, other))}; S3 GETs per read {sorted(set(gets))} "
              f"(minimum {math.ceil(size / WINDOW)} with a {WINDOW // MiB} MiB window)")
    b.row("D6.c", f"diagnosis: the mount's `cat` vs curl making the same {WINDOW // MiB} MiB ranged "
          f"GETs one after another on one connection (median of {rounds})",
          rate(size, med[("cat", "mount")]), f"{rate(size, ranges)} curl, ranged GETs",
          fmt_ratio(ranges / med[("cat", "mount")]),
          note=f"4 MiB GETs, one at a time, from a client with no pacing: {rgets} GETs "
          f"on {rconns} connection(s) in the last run")
    bound = cache_mb * MiB + 8 * MiB
    b.row("D6.d", f"peak RSS (VmHWM) of the daemon over all {rounds * 2} reads above "
          f"(default cache_mb={cache_mb})", mib(hwm), f"{mib(bound)} = cache_mb + 8 MiB",
          fmt_ratio(hwm / bound), "≤ cache_mb + 8 MiB", hwm <= bound,
          f"idle RSS after mount {mib(idle)}")
    b.raw["D6"] = {"times": {"/".join(k): v for k, v in times.items()}, "gets": gets, "hwm": hwm,
                   "idle": idle, "size": size, "ranges_seconds": ranges}

    # ls -l of a .files/ with nobj objects: a fresh mount each time (a terminal job's
    # listing is cached for the life of the mount), against `aws s3 ls` of the folder.
    files = os.path.join(sid, "exports", jid2 + ".files")
    lsr = {"ls": [], "aws": [], "warm": []}
    lcalls = []
    for r in range(b.q(5, 1)):
        mm = core.hlfs_mount(b, s, f"jobls{r}", f"s3_endpoint={s.url}")
        os.listdir(mm.p(sid, "exports"))  # the job itself is known: only the objects count
        s.reset()
        dt, _ = timed(f"ls -l {q(mm.p(files))} | wc -l", env)
        lcalls.append(s3_calls(s))
        lsr["ls"].append(dt)
        lsr["warm"].append(timed(f"ls -l {q(mm.p(files))} | wc -l", env)[0])
        mm.unmount()
        b.mounts.remove(mm)
        dt, out = timed(f"{AWS_CLI} s3 ls --endpoint-url {s.url} "
                        f"s3://{EXPORT_BUCKET}/{folder2} | wc -l", env)
        lsr["aws"].append(dt)
        if int(out) < nobj:
            raise RuntimeError(f"aws s3 ls listed {out} objects, expected {nobj}+")
    n_ls = len(os.listdir(m.p(files)))
    m.unmount()
    s.stop()
    med = {k: statistics.median(v) for k, v in lsr.items()}
    pages = math.ceil(n_ls / 1000)
    calls = sum(lcalls[-1].values())
    b.row("D6.e", f"`ls -l` of a `.files/` with {n_ls:,} objects, first on a fresh mount, "
          f"vs `aws s3 ls` of the folder (new process; median of {len(lsr['ls'])})",
          ms(med["ls"]), f"{ms(med['aws'])} aws s3 ls", fmt_ratio(med["ls"] / med["aws"]),
          f"S3 calls = {pages} (ListObjectsV2 pages of 1,000)", calls <= pages,
          f"S3 calls per `ls -l`: {lcalls[-1]}; runs {', '.join(ms(t) for t in lsr['ls'])}")
    b.row("D6.f", "same `ls -l`, listing cached (second on the same mount)", ms(med["warm"]),
          f"{ms(med['aws'])} aws s3 ls", fmt_ratio(med["warm"] / med["aws"]))


SECTIONS = {"jobout": section_jobout}


# --------------------------------------------------------------------------- FHIR store

FAMILIES = ("Smith", "Garcia", "Nguyen", "Okafor", "Larsen", "Kowalski", "Haddad", "Tanaka",
            "Silva", "Murphy")


def patient(i):
    return {"resourceType": "Patient", "id": f"p{i:06d}",
            "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"]},
            "identifier": [{"system": "urn:oid:2.16.840.1.113883.4.3.25", "value": f"MRN-{i:08d}"}],
            "name": [{"use": "official", "family": FAMILIES[i % len(FAMILIES)],
                      "given": [f"Given{i}", "Q"]}],
            "gender": "female" if i % 2 else "male",
            "birthDate": f"{1940 + i % 70}-{1 + i % 12:02d}-{1 + i % 28:02d}",
            "address": [{"line": [f"{i} Main St"], "city": "Springfield", "state": "MA",
                         "postalCode": f"{1000 + i % 9000:05d}"}]}


def observation(i, npat):
    return {"resourceType": "Observation", "id": f"o{i:07d}", "status": "final",
            "category": [{"coding": [{"system":
                                      "http://terminology.hl7.org/CodeSystem/observation-category",
                                      "code": "vital-signs"}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": "8302-2",
                                 "display": "Body height"}]},
            "subject": {"reference": f"Patient/p{i % npat:06d}"},
            "effectiveDateTime": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00Z",
            "valueQuantity": {"value": 150 + (i % 500) / 10, "unit": "cm",
                              "system": "http://unitsofmeasure.org", "code": "cm"}}


def load_fhir(server, sid, npat, nobs):
    """npat Patients and nobs Observations through POST /__admin/fhir/load."""
    def batches():
        batch = []
        for i in range(npat):
            batch.append(json.dumps(patient(i)).encode())
        for i in range(nobs):
            batch.append(json.dumps(observation(i, npat)).encode())
        for k in range(0, len(batch), 10000):
            yield batch[k:k + 10000]
    t0 = time.perf_counter()
    n = 0
    for lines in batches():
        req = urllib.request.Request(f"{server.url}/__admin/fhir/load?store={sid}",
                                     data=b"\n".join(lines), method="POST")
        with urllib.request.urlopen(req, timeout=600) as r:
            out = json.loads(r.read())
        if out["failed"]:
            raise RuntimeError(f"admin load failed: {out['errors'][:3]}")
        n += out["loaded"]
    log(f"  loaded {n:,} resources ({npat:,} Patients, {nobs:,} Observations) "
        f"in {time.perf_counter() - t0:.1f} s")
    return n


def helper(env, *args, stdout=subprocess.DEVNULL, timeout=900):
    """Runs tests/bench_helpers/fhir_client.py; returns (wall seconds, its summary dict)."""
    t0 = time.perf_counter()
    p = subprocess.run([PYTHON, HELPER, *args], stdout=stdout, stderr=subprocess.PIPE, text=True,
                       env=env, timeout=timeout)
    dt = time.perf_counter() - t0
    if p.returncode:
        raise RuntimeError(f"fhir_client.py {args[0]}: {p.stderr[-300:]}")
    return dt, dict(line.split(None, 1) for line in p.stderr.splitlines() if " " in line)


def read_many(paths, threads):
    """Reads every file (whole) with `threads` threads; returns seconds."""
    def one(p):
        with open(p, "rb") as f:
            while f.read(65536):
                pass
    t0 = time.perf_counter()
    if threads == 1:
        for p in paths:
            one(p)
    else:
        with concurrent.futures.ThreadPoolExecutor(threads) as ex:
            list(ex.map(one, paths))
    return time.perf_counter() - t0


class Fhir:
    """The FHIR scenario: one server, one store, its resources and where they are."""

    def __init__(self, b):
        self.b = b
        self.npat, self.nobs = b.q((10000, 100000), (1000, 4000))
        self.ncp = b.q(1000, 100)
        self.s = b.server("fhir")
        self.sid = self.s.seed(datastores=[{"name": "fhirbench"}])[0]["id"]
        load_fhir(self.s, self.sid, self.npat, self.nobs)
        self.ep = f"{self.s.url}/datastore/{self.sid}/r4/"
        self.env = self.s.env()
        self.reason = None
        # Resources to copy in (D1.h, D5): new Patients, one file each, for cp and the script.
        self.src = {}
        for who in ("cp", "cq", "script"):
            d = os.path.join(b.work, f"new-{who}")
            os.makedirs(d, exist_ok=True)
            for i in range(self.ncp):
                r = patient(500000 + i)
                r["id"] = f"{who[0]}{i:06d}"
                with open(os.path.join(d, r["id"] + ".json"), "w") as f:
                    json.dump(r, f, indent=2)
            self.src[who] = d

    def rel(self, *parts):
        """A path relative to the mount's root (the store by id: always unique)."""
        return os.path.join(self.sid, "fhir", *parts)

    def mount(self, name, opts=""):
        return core.hlfs_mount(self.b, self.s, name, opts)

    def unmount(self, m):
        m.unmount()
        if m in self.b.mounts:
            self.b.mounts.remove(m)

    def probe(self):
        """None when this build has the fhir/ tree, else why not."""
        m = self.mount("fhir-probe")
        try:
            if not os.path.isdir(m.p(self.sid)):
                return "the store's directory is missing on the mount"
            if not os.path.isdir(m.p(self.rel("Patient"))):
                return ("this build has no `<store>/fhir/` tree (DESIGN.md \"FHIR data as files\" "
                        f"not on main at {core.machine().rsplit('commit ', 1)[-1]})")
            return None
        finally:
            self.unmount(m)


def not_measured(b, num, what, reason, baseline="—"):
    b.row(num, what, f"not measured: {reason}", baseline, "—", note="")


def fhir_calls(b, f, num, what, cmd, minimum, prime=None, opts="attr_ttl=3600,list_ttl=3600",
               lines=None, timeout=None):
    """Fresh mount, priming, counters reset, one command; its FHIR and S3 calls counted."""
    m = f.mount(num, opts)
    try:
        run = lambda c: core.run_shell(c, m.path, timeout or f.b.q(300, 60))  # noqa: E731
        run(f"ls {shlex.quote(f.rel())} > /dev/null" + (f" && {prime}" if prime else ""))
        f.s.reset()
        dt, rc, nlines = run(cmd)
        calls = f.s.calls()
        total = sum(calls.values())
        detail = ", ".join(f"{k} {v}" for k, v in sorted(calls.items())) or "no calls"
        note = f"{detail}; {ms(dt)}" if rc is not None else f"TIMED OUT; {detail}"
        ok = rc == 0 and total <= minimum
        if rc:
            note += f"; exit {rc}"
        if lines is not None and rc is not None and nlines != lines:
            ok = False
            note += f"; WRONG OUTPUT: {nlines} lines, expected {lines}"
        b.row(num, what, f"{total:,} calls", f"{minimum:,} (minimum)",
              fmt_ratio(total / minimum) if minimum else ("—" if total == 0 else f"+{total}"),
              "= minimum", ok, note)
        b.raw[num] = {"calls": calls, "seconds": dt, "rc": rc, "minimum": minimum}
        return dt
    finally:
        f.unmount(m)


def section_fhir(b):
    log("D1-D5, D7. FHIR resources as files")
    f = Fhir(b)
    base = fhir_baselines(b, f)
    f.reason = f.probe()
    if f.reason:
        log("  mount side not measured: " + f.reason)
    for fn in (fhir_d1, fhir_d2, fhir_d3, fhir_d4, fhir_d5, fhir_d7):  # D5 writes: after the reads
        try:
            fn(b, f, base)
        except Exception as e:  # noqa: BLE001 - a failed row is reported, the run goes on
            b.failed(fn.__name__.replace("fhir_d", "D"), fn.__name__, e)
        finally:
            f.b.cleanup_mounts()
    f.s.stop()


def fhir_baselines(b, f):
    """What the baselines share: the ids D4 reads, and a check that the script reads them
    (each row measures its own baseline next to the mount's runs)."""
    base = {}
    # D4: 500 distinct resources by 32 threads, in-process time (after the imports).
    nres = b.q(500, 50)
    ids = os.path.join(b.work, "ids.txt")
    with open(ids, "w") as fh:
        fh.write("".join(f"Observation/o{i:07d}\n" for i in range(nres)))
    _, out = helper(f.env, "parallel", f.ep, ids, "32")
    if int(out["reads"]) != nres:
        raise RuntimeError(f"parallel script read {out['reads']} of {nres}")
    base["ids"] = ids
    base["nres"] = nres
    return base


def fhir_d1(b, f, base):
    what = {
        "D1.a": f"`ls fhir/Patient`, {f.npat:,} Patients (pages of 100)",
        "D1.b": "`cat` of every Patient file after `ls -l fhir/Patient` (calls of the cat)",
        "D1.c": "`grep -l Smith fhir/Patient/*.json` after `ls` (calls of the grep)",
        "D1.d": r"`ls -f fhir/Patient \| head -3` (minimum from issue 17: 1 page)",
        "D1.d'": "diagnosis: a reader that stops after its first getdents(2) of fhir/Patient "
                 "(Python `next(os.scandir(…))`)",
        "D1.e": "`ls 'Patient?gender=female'` then `cat` of its `all.ndjson`",
        "D1.f": "`head -1 'Observation?code=…8302-2/all.ndjson'`",
        "D1.g": "`sed -i` of one Patient (1 read + 1 PUT)",
    }
    if f.reason:
        for num, w in what.items():
            not_measured(b, num, w, f.reason)
        return
    q = shlex.quote
    pat = q(f.rel("Patient"))
    fem = f.rel("Patient?gender=female")
    nfem = f.npat // 2
    obs = f.rel("Observation?code=http:%2F%2Floinc.org|8302-2")
    fhir_calls(b, f, "D1.a", what["D1.a"], f"ls {pat}", math.ceil(f.npat / 100), lines=f.npat)
    fhir_calls(b, f, "D1.b", what["D1.b"], f"cat {pat}/*.json | grep -c '\"resourceType\"'", 0,
               prime=f"ls -l {pat} > /dev/null", lines=1)
    fhir_calls(b, f, "D1.c", what["D1.c"], f"grep -l Smith {pat}/*.json", 0,
               prime=f"ls {pat} > /dev/null", lines=math.ceil(f.npat / len(FAMILIES)))
    fhir_calls(b, f, "D1.d", what["D1.d"], f"ls -f {pat} | head -3", 1, lines=3)
    # GNU ls -f writes its names in 4 KiB blocks and stops at the write after head has
    # gone (about 630 names in): a reader that stops after its first getdents(2) shows
    # what the mount itself fetches for it.
    fhir_calls(b, f, "D1.d'", what["D1.d'"], f"{PYTHON} -c 'import os, sys; "
               f"print(next(os.scandir(sys.argv[1])).name)' {pat}", 1, lines=1)
    fhir_calls(b, f, "D1.e", what["D1.e"], f"ls {q(fem)} > /dev/null && cat {q(fem + '/all.ndjson')}",
               math.ceil(nfem / 100), lines=nfem)
    fhir_calls(b, f, "D1.f", what["D1.f"], f"head -1 {q(obs + '/all.ndjson')}", 1, lines=1)
    fhir_calls(b, f, "D1.g", what["D1.g"], f"sed -i s/Springfield/Shelbyville/ {pat}/p000007.json", 2,
               opts="")
    # D1.h, the cp, runs with D5: the new Patients would push the type past fhir_list_max.


def spread(xs):
    xs = list(xs)
    sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
    return f"{ms(statistics.median(xs))} (mean {ms(statistics.mean(xs))} ± {ms(sd)})"


def fhir_d2(b, f, base):
    """Cold reads on a default mount: every run reads a resource the mount has never
    seen (one GET by the contract), and curl and the script GET the same one, each a
    new process started the same way (fork+exec from here, no shell), in turns."""
    nums = {0: ("D2.a", "D2.b"), 20: ("D2.c", "D2.d")}
    runs = b.q(40, 8)
    every = 4  # the script costs ~0.2 s a run: one run of it per 4 of the others
    m = None if f.reason else f.mount("fhir-cold")
    if m:
        os.listdir(m.p(f.rel()))  # the CapabilityStatement: once per mount, not per read
    res = {}
    k = 100  # Patient ids used here: p000100 on, none read before on this mount
    for lat in (0, 20):
        f.s.faults(latency_ms=lat) if lat else f.s.faults()
        t = {"cat": [], "curl": [], "script": []}
        calls = {}
        for i in range(runs):
            ref = f"Patient/p{k:06d}"
            k += 1
            argv = {"curl": ["curl", "-sf", "--aws-sigv4", f"aws:amz:{REGION}:healthlake",
                             "--user", f"{ACCESS_KEY}:{SECRET_KEY}", f.ep + ref]}
            if i % every == 0:
                argv["script"] = [PYTHON, HELPER, "read", f.ep, ref]
            if m:
                argv["cat"] = ["cat", m.p(f.rel(ref + ".json"))]
            for who, a in argv.items():
                time.sleep(0.02)  # untimed: keeps the cats under the mount's fhir_tps
                if who == "cat":
                    f.s.reset()
                t0 = time.perf_counter()
                p = subprocess.run(a, capture_output=True, env=f.env, timeout=60)
                dt = time.perf_counter() - t0
                if p.returncode or f'"p{k - 1:06d}"'.encode() not in p.stdout:
                    raise RuntimeError(f"{who} did not read {ref}: {p.stdout[:200]!r} {p.stderr[-200:]!r}")
                if who == "cat":
                    for op, n in f.s.calls().items():
                        calls[op] = calls.get(op, 0) + n
                t[who].append(dt)
        res[lat] = (t, calls)
    f.s.faults()
    if m:
        f.unmount(m)
    for lat, (n1, n2) in nums.items():
        t, calls = res[lat]
        curl, script = statistics.median(t["curl"]), statistics.median(t["script"])
        what = (f"cold `cat fhir/Patient/<id>.json` (default options, a resource the mount never "
                f"read), server latency {lat} ms, vs the same signed GET by curl --aws-sigv4 "
                f"(new process, new connection): median of {runs}")
        if f.reason:
            not_measured(b, n1, what, f.reason, spread(t["curl"]))
            not_measured(b, n2, "same, vs fhir_client.py read (botocore SigV4Auth, new process)",
                         f.reason, spread(t["script"]))
            continue
        cat = statistics.median(t["cat"])
        note = (f"{sum(calls.values()) / runs:.2f} calls per cat "
                f"({', '.join(f'{k} {v}' for k, v in sorted(calls.items()))} in {runs} runs)")
        ratio = cat / curl
        b.row(n1, what, spread(t["cat"]), spread(t["curl"]), fmt_ratio(ratio), "≤ 1.3x",
              round(ratio, 2) <= 1.3, note)
        b.row(n2, f"same, vs fhir_client.py read (botocore SigV4Auth, new process; {len(t['script'])} "
              "runs)", ms(cat), spread(t["script"]), fmt_ratio(script / cat) + " faster")
    b.raw["D2"] = {str(lat): r[0] for lat, r in res.items()}


def fhir_d3(b, f, base):
    q = shlex.quote
    pat = f.rel("Patient")
    fem = f.rel("Patient?gender=female", "all.ndjson")
    variants = [("D3.a", "", f"ls {q(pat)} > /dev/null && cat {q(pat)}/*.json > /dev/null", "all",
                 f"all {f.npat:,} Patients: `ls` then `cat fhir/Patient/*.json > /dev/null`, fresh "
                 "mount, default options, vs fhir_client.py paging `Patient?` (_count=100, keep-alive, "
                 "new process)"),
                ("D3.b", "", f"jq -c . {q(fem)} > /dev/null", "female",
                 f"`jq -c . 'Patient?gender=female/all.ndjson'` ({f.npat // 2:,} matches), fresh mount, "
                 "vs fhir_client.py paging the same search piped to the same `jq -c .`")]
    if not b.quick:
        variants.insert(1, ("D3.a'", "fhir_tps=100000", variants[0][2], "all",
                            "same as D3.a with fhir_tps lifted (fhir_tps=100000)"))
        # Diagnosis: what the cat costs when the listing's copies do not expire under it
        # (at the default attr_ttl=2 s, files read later than 2 s after their page are read again).
        variants.insert(2, ("D3.a''", "fhir_tps=100000,attr_ttl=3600", variants[0][2], "all",
                            "diagnosis: same as D3.a' with attr_ttl=3600"))
    scripts = {"all": ("Patient?", "> /dev/null"),
               "female": ("Patient?gender=female", "| jq -c . > /dev/null")}
    for num, opts, cmd, key, what in variants:
        # The script pages the same search in a new process (what a user runs), in turns
        # with the mount's runs, so that both see the same minutes of a shared machine.
        query, consumer = scripts[key]
        walls, swalls, reads = [], [], []
        calls = None
        for i in range(b.q(3, 1)):
            swalls.append(timed(f"{PYTHON} {HELPER} search {f.ep} {q(query)} {consumer}", f.env)[0])
            if f.reason:
                continue
            m = f.mount(f"{num}-{i}", opts)
            os.listdir(m.p(f.rel()))
            f.s.reset()
            walls.append(timed(cmd.replace(q(pat), q(m.p(pat))).replace(q(fem), q(m.p(fem))), f.env)[0])
            calls = f.s.calls()
            reads.append(calls.get("fhir.read", 0))
            f.unmount(m)
        script = statistics.median(swalls)
        if f.reason:
            not_measured(b, num, what, f.reason, ms(script))
            continue
        wall = statistics.median(walls)
        ratio = wall / script
        b.row(num, what + f" (median of {len(walls)}, in turns)", ms(wall), f"{ms(script)} script",
              fmt_ratio(ratio), "≤ 1.0x", ratio <= 1.0,
              f"calls of the last run {', '.join(f'{k} {v}' for k, v in sorted(calls.items()))}; "
              f"runs {', '.join(ms(w) for w in walls)} with {', '.join(map(str, reads))} "
              f"resources read again (fhir.read); script {', '.join(ms(w) for w in swalls)}")


def fhir_d4(b, f, base):
    """500 distinct cold resources by 32 threads, at 0 and 20 ms of server latency
    (with none, healthlake-local itself is the bound, whoever calls)."""
    nres = base["nres"]
    paths = [f.rel("Observation", f"o{i:07d}.json") for i in range(nres)]
    variants = [("seq", "", 1), ("par", "", 32), ("par10", "max_threads=10", 32),
                ("par64", "max_threads=64", 32)]
    lats = b.q((0, 20), (20,))
    if b.quick:
        variants = variants[:2]
    for lat in lats:
        f.s.faults(latency_ms=lat) if lat else f.s.faults()
        _, out = helper(f.env, "parallel", f.ep, base["ids"], "32")
        script = float(out["seconds"])
        f.s.faults()
        sub = "abcd" if lat == 0 else "efgh"
        what = (f"{nres} distinct cold Observations read by 32 threads through the mount "
                f"(fhir_tps=100000), server latency {lat} ms, vs fhir_client.py with 32 threads")
        if f.reason:
            not_measured(b, f"D4.{sub[0]}", what, f.reason, f"{nres / script:,.0f}/s script")
            continue
        res = {}
        for label, extra, threads in variants:
            m = f.mount(f"fhir-par-{label}-{lat}", "fhir_tps=100000" + ("," + extra if extra else ""))
            os.listdir(m.p(f.rel()))
            f.s.faults(latency_ms=lat) if lat else f.s.faults()
            f.s.reset()
            dt = read_many([m.p(p) for p in paths], threads)
            c = f.s.counters()
            f.s.faults()
            res[label] = (dt, sum(sum(v.values()) for v in c["calls"].values()), c.get("peak_concurrent"),
                          c["connections"] - f.s.admin_conn)
            f.unmount(m)
        par, seq = res["par"], res["seq"]
        b.row(f"D4.{sub[0]}", what, f"{nres / par[0]:,.0f}/s", f"{nres / script:,.0f}/s script",
              fmt_ratio(script / par[0]), "≥ 1.0x the script's rate", par[0] <= script,
              f"{par[1]} calls; server peak concurrency {par[2]}, {par[3]} new connections "
              "(the mount's default of 32 workers)")
        b.row(f"D4.{sub[1]}", "same 32-thread read through the mount vs the same reads one after "
              "another", f"{nres / par[0]:,.0f}/s", f"{nres / seq[0]:,.0f}/s sequential",
              fmt_ratio(seq[0] / par[0]) + " faster", note=f"{seq[1]} calls sequential")
        for num, label, n in ((f"D4.{sub[2]}", "par10", 10), (f"D4.{sub[3]}", "par64", 64)):
            if label in res:
                r = res[label]
                b.row(num, f"same 32-thread read with `-o max_threads={n}`", f"{nres / r[0]:,.0f}/s",
                      f"{nres / par[0]:,.0f}/s default threads", fmt_ratio(par[0] / r[0]) + " faster",
                      note=f"server peak concurrency {r[2]}; {r[1]} calls, {r[3]} new connections")
        b.raw[f"D4@{lat}"] = {k: list(v) for k, v in res.items()} | {"script": script}


def fhir_d5(b, f, base):
    q = shlex.quote
    what = (f"`cp` of {f.ncp:,} new Patient files into fhir/Patient/ (fhir_tps=100000), vs "
            f"fhir_client.py making the {f.ncp:,} PUTs on one connection")
    # The script's PUTs on one connection (in-process time): here, not with the other
    # baselines, because the new Patients would change what rows D1-D3 list.
    _, out = helper(f.env, "put", f.ep, f.src["script"])
    base["put"] = float(out["seconds"])
    if f.reason:
        not_measured(b, "D1.h", f"`cp` of {f.ncp:,} new Patient files into fhir/Patient/", f.reason)
        not_measured(b, "D5.a", what, f.reason, ms(base["put"]))
        return
    pat = q(f.rel("Patient"))
    # At default options: the calls (row D1.h) and the time under the default pacing.
    dflt = fhir_calls(b, f, "D1.h", f"`cp` of {f.ncp:,} new Patient files into fhir/Patient/",
                      f"cp {q(f.src['cp'])}/*.json {pat}/", f.ncp, opts="")
    m = f.mount("fhir-cp", "fhir_tps=100000")
    os.listdir(m.p(f.rel()))
    f.s.reset()
    dt = timed(f"cp {q(f.src['cq'])}/*.json {q(m.p(f.rel('Patient')))}/", f.env)[0]
    calls = f.s.calls()
    f.unmount(m)
    ratio = dt / base["put"]
    b.row("D5.a", what, ms(dt), f"{ms(base['put'])} script", fmt_ratio(ratio), "≤ 1.5x", ratio <= 1.5,
          f"calls {', '.join(f'{k} {v}' for k, v in sorted(calls.items()))}; at the default "
          f"fhir_tps=100 the same cp took {ms(dflt)} (row D1.h)")


def fhir_d7(b, f, base):
    what = (f"peak RSS (VmHWM) while `find fhir/ -type f` walks the {f.npat + f.nobs:,}+ resources "
            f"(default cache_mb={core.DEFAULT_CACHE_MB}, fhir_list_max=200000, fhir_tps=100000)")
    if f.reason:
        not_measured(b, "D7.a", what, f.reason)
        return
    m = f.mount("fhir-find", "fhir_list_max=200000,fhir_tps=100000")
    os.listdir(m.p(f.sid))
    idle = m.proc_status("VmRSS")
    f.s.reset()
    dt, out = timed(f"find {shlex.quote(m.p(f.rel()))} -type f | wc -l", f.env, timeout=f.b.q(900, 120))
    hwm = m.proc_status("VmHWM")
    calls = f.s.calls()
    f.unmount(m)
    nfiles = int(out)
    bound = core.DEFAULT_CACHE_MB * MiB + idle
    ok = hwm <= bound + 8 * MiB and nfiles >= f.npat + f.nobs
    b.row("D7.a", what, mib(hwm), f"{mib(bound)} = cache_mb + idle RSS {mib(idle)}",
          fmt_ratio(hwm / bound), "≤ bound + 8 MiB", ok,
          f"{nfiles:,} files, {sum(calls.values()):,} calls, {dt:.1f} s")


SECTIONS["fhir"] = section_fhir
