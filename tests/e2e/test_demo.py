"""scripts/demo: runs end to end, twice (idempotent), and --stop cleans up."""
import json
import os
import re
import subprocess

from .hlutil import REPO


def run_demo(tmp_path, *args):
    env = dict(os.environ, HLFS_DEMO_DIR=str(tmp_path / "demo-state"))
    return subprocess.run([os.path.join(REPO, "scripts", "demo"), *args], env=env,
                          capture_output=True, text=True, timeout=180)


def test_demo_runs_twice_and_stops(tmp_path):
    mnt = str(tmp_path / "demo-mnt")
    try:
        first = run_demo(tmp_path, mnt)
        assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
        assert os.path.ismount(mnt)
        assert "demo-clinic" in os.listdir(mnt)
        assert "cache.hits" in first.stdout
        # The export's output, listed and read through <job-id>.files/.
        assert "Patient.ndjson" in first.stdout and ".files/Patient.ndjson" in first.stdout
        jobs = [j for j in os.listdir(os.path.join(mnt, "demo-clinic", "imports"))
                if j not in ("new", "latest", ".error")]
        assert len(jobs) == 1
        # The imported FHIR data: a Patient, a search, $everything and an edit.
        out = first.stdout
        assert '"resourceType": "Patient"' in out and '"id": "demo-p1"' in out
        assert "demo-o1.json" in out and "demo-o2.json" in out  # demo-p1's
        assert "demo-o3.json" not in out  # demo-p2's
        assert re.search(r"^ *2 Observation$", out, re.M), out[-3000:]
        assert re.search(r"^ *1 Patient$", out, re.M), out[-3000:]
        assert '"city":"Shelbyville"' in out
        p1 = os.path.join(mnt, "demo-clinic", "fhir", "Patient", "demo-p1.json")
        with open(p1) as f:
            assert json.load(f)["address"][0]["city"] == "Shelbyville"
        # The edit is the resource's second version; the first is unchanged.
        history = os.path.join(mnt, "demo-clinic", "fhir", "Patient", "demo-p1.history")
        assert sorted(os.listdir(history)) == ["1.json", "2.json"]
        with open(os.path.join(history, "1.json")) as f:
            assert json.load(f)["address"][0]["city"] == "Springfield"
        second = run_demo(tmp_path, mnt)
        assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
        assert os.path.ismount(mnt)
        assert os.listdir(mnt).count("demo-clinic") == 1
    finally:
        stop = run_demo(tmp_path, "--stop")
    assert stop.returncode == 0, stop.stderr
    assert not os.path.ismount(mnt)
    assert not os.path.exists(tmp_path / "demo-state" / "server.pid")
