"""healthlake-local serves at least 1,500 signed DescribeFHIRDatastore calls/s
over one keep-alive connection (each request freshly signed and fully verified)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_server import bench  # noqa: E402


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_describe_rate_over_one_connection(server_factory):
    srv = server_factory("--create-delay", "0")  # request logging on, as in every test
    sid = srv.seed(count=1)["datastores"][0]["id"]
    best_wall, best_cpu = 0.0, 0.0
    for _ in range(3):  # best of three short runs: the machine is shared
        before = srv.counters()["requests"]
        cpu0 = cpu_seconds(srv.proc.pid)
        wall = bench(srv.url, srv.access_key, srv.secret_key, srv.region, sid, seconds=1.0)
        n = srv.counters()["requests"] - before
        cpu = cpu_seconds(srv.proc.pid) - cpu0
        best_wall = max(best_wall, wall)
        best_cpu = max(best_cpu, n / max(cpu, 0.01))
    print("describe_per_second %.0f (server CPU bound %.0f/s)" % (best_wall, best_cpu))
    # The server's own cost per call must allow 1,500/s on one core, always; the wall-clock
    # rate is asserted too unless other jobs hold the machine's cores (CI runs in parallel).
    assert best_cpu >= 1500, best_cpu
    if os.getloadavg()[0] < os.cpu_count():
        assert best_wall >= 1500, best_wall
    c = srv.counters()
    assert c["connections"] == 3 and c["calls"]["DescribeFHIRDatastore"] == {"200": c["requests"]}
