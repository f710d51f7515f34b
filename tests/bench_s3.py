#!/usr/bin/python3
"""Costs of healthlake-local's S3 API, measured with boto3 against a server of
its own: paging through a large folder (twice: first with ETags to compute,
then cached), a small ranged GET deep in a 2 GiB sparse object, and a full
streamed GET of it with the server's peak memory.

    tests/bench_s3.py [--objects 40000]

Prints one `name value` line per measure.
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import conftest  # noqa: E402
from test_server_s3 import s3client  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--objects", type=int, default=40000)
    a = ap.parse_args()
    d = tempfile.mkdtemp(prefix="bench-s3-")
    s = conftest.start_server(d, "--quiet")
    try:
        left = a.objects
        while left > 0:  # batches: each admin call answers within the harness's timeout
            n = min(left, 10000)
            s.admin("s3/objects", {"bucket": "bench", "prefix": "flat/o%07d-" % left, "count": n,
                                   "content": "x" * 100})
            left -= n
        time.sleep(1.1)  # directories older than a second: listings may be cached
        c = s3client(s)
        for rnd in ("first", "second"):
            s.reset_counters()
            t0 = time.perf_counter()
            pages = keys = 0
            for p in c.get_paginator("list_objects_v2").paginate(Bucket="bench", Prefix="flat/"):
                pages += 1
                keys += p["KeyCount"]
            el = time.perf_counter() - t0
            assert keys == a.objects
            ms = sorted(e["ms"] for e in s.admin("log")["log"] if e["op"] == "s3.ListObjectsV2")
            print("list_%s_pass_client_ms_per_page %.1f" % (rnd, el / pages * 1000))
            print("list_%s_pass_server_median_ms %.1f" % (rnd, ms[len(ms) // 2]))
        s.admin("s3/sparse", {"bucket": "bench", "key": "big", "size": 2 << 30, "at": 1 << 30, "data": "M"})
        lat = []
        for _ in range(50):
            t0 = time.perf_counter()
            r = c.get_object(Bucket="bench", Key="big", Range="bytes=%d-%d" % (1 << 30, (1 << 30) + 65535))
            assert len(r["Body"].read()) == 65536
            lat.append(time.perf_counter() - t0)
        lat.sort()
        print("ranged_get_64k_median_ms %.1f" % (lat[len(lat) // 2] * 1000))
        t0 = time.perf_counter()
        n = sum(len(ch) for ch in c.get_object(Bucket="bench", Key="big")["Body"].iter_chunks(1 << 20))
        el = time.perf_counter() - t0
        print("full_get_2gib_mib_per_s %.0f" % (n / el / 1048576))
        with open("/proc/%d/status" % s.proc.pid) as f:
            print("server_peak_rss_kb %s" % [l.split()[1] for l in f if l.startswith("VmHWM")][0])
    finally:
        s.stop()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
