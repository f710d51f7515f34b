#!/usr/bin/python3
"""Throughput of a job output object read through the mount (`cat > /dev/null`)
against `curl` of the same object from the same healthlake-local, in one run:
the figures of BENCHMARKS.md "Job output reads".

    tests/bench_s3read.py [--size-mib 256] [--rounds 3] [--latency-ms 20] LABEL=HEALTHLAKEFS ...

Each LABEL=path is a healthlakefs binary (e.g. builds with different
-DHLFS_S3_WINDOW / -DHLFS_S3_SLOTS); every round mounts each in turn, reads
the object once from a fresh mount (nothing in the page cache), and runs
curl once. Prints per read: seconds, MiB/s, GETs, the daemon's peak RSS
growth; then the median MiB/s of each and its ratio to curl's.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import conftest  # noqa: E402
from e2e.hlutil import IMPORT_OUTPUT, KMS_KEY, ROLE_ARN, TERMINAL, seed_store  # noqa: E402


def status_kib(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def make_object(server, size):
    """A terminal import job whose output folder holds big.bin of random bytes."""
    sid = seed_store(server, "clinic-a")["id"]
    bucket, _, prefix = IMPORT_OUTPUT[len("s3://"):].partition("/")
    os.makedirs(os.path.join(server.state, "s3", "hl-input", "in"), exist_ok=True)
    with open(os.path.join(server.state, "s3", "hl-input", "in", "p.ndjson"), "w") as f:
        f.write('{"resourceType": "Patient", "id": "p1"}\n')
    c = server.boto3()
    jid = c.start_fhir_import_job(
        InputDataConfig={"S3Uri": "s3://hl-input/in/"}, DatastoreId=sid,
        DataAccessRoleArn=ROLE_ARN,
        JobOutputDataConfig={"S3Configuration": {"S3Uri": IMPORT_OUTPUT, "KmsKeyId": KMS_KEY}})["JobId"]
    conftest.wait_for(lambda: c.describe_fhir_import_job(DatastoreId=sid, JobId=jid)
                      ["ImportJobProperties"]["JobStatus"] in TERMINAL, timeout=20, what="job")
    key = "%s/%s-FHIR_IMPORT-%s/big.bin" % (prefix.rstrip("/"), sid, jid)
    path = os.path.join(server.state, "s3", bucket, key)
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 16 << 20)
            f.write(os.urandom(n))
            left -= n
    return bucket, key, os.path.join("clinic-a", "imports", jid + ".files", "big.bin")


def read_mounted(server, binary, mnt, rel, size):
    os.makedirs(mnt, exist_ok=True)
    o = "endpoint=%s,region=%s" % (server.url, server.region)
    proc = subprocess.Popen([binary, "-f", "-o", o, mnt], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=server.env())
    try:
        conftest.wait_for(lambda: os.path.ismount(mnt), timeout=20, what="mount")
        path = os.path.join(mnt, rel)
        assert os.stat(path).st_size == size
        before = status_kib(proc.pid, "VmRSS")
        server.reset_counters()
        t0 = time.monotonic()
        subprocess.run("cat '%s' > /dev/null" % path, shell=True, check=True, timeout=600)
        secs = time.monotonic() - t0
        gets = sum(server.counters()["calls"].get("s3.GetObject", {}).values())
        grew = status_kib(proc.pid, "VmHWM") - before
        return secs, gets, grew
    finally:
        subprocess.run(["fusermount3", "-u", "-z", mnt], capture_output=True)
        proc.wait(20)


def read_curl(server, bucket, key):
    url = "%s/%s/%s" % (server.url.rstrip("/"), bucket, key)
    t0 = time.monotonic()
    subprocess.run(["curl", "-sSf", "-o", "/dev/null", "--aws-sigv4",
                    "aws:amz:%s:s3" % server.region, "-u",
                    "%s:%s" % (server.access_key, server.secret_key),
                    "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", url],
                   check=True, timeout=600)
    return time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--latency-ms", type=int, default=0,
                    help="healthlake-local's added latency per request (S3's first byte)")
    ap.add_argument("binaries", nargs="+", metavar="LABEL=HEALTHLAKEFS")
    a = ap.parse_args()
    bins = [b.split("=", 1) for b in a.binaries]
    size = a.size_mib << 20
    d = tempfile.mkdtemp(prefix="bench-s3read-")
    server = conftest.start_server(d, "--quiet", "--job-delay", "0", "--create-delay", "0",
                                   "--latency-ms", str(a.latency_ms), "--fault-ops", "s3.GetObject")
    mib = {label: [] for label, _ in bins}
    mib["curl"] = []
    try:
        bucket, key, rel = make_object(server, size)
        for rnd in range(a.rounds):
            secs = read_curl(server, bucket, key)
            mib["curl"].append(a.size_mib / secs)
            print("round %d curl: %.2f s, %.0f MiB/s" % (rnd, secs, a.size_mib / secs), flush=True)
            for label, binary in bins:
                secs, gets, grew = read_mounted(server, binary, os.path.join(d, "mnt"), rel, size)
                mib[label].append(a.size_mib / secs)
                print("round %d %s: %.2f s, %.0f MiB/s, %d GETs, peak RSS +%d KiB"
                      % (rnd, label, secs, a.size_mib / secs, gets, grew), flush=True)
        base = statistics.median(mib["curl"])
        for label in ["curl"] + [b[0] for b in bins]:
            m = statistics.median(mib[label])
            print("median %s: %.0f MiB/s, %.2f of curl" % (label, m, m / base))
    finally:
        server.stop()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
