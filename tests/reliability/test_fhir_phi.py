"""PHI: a session at the default log level over FHIR reads, a type listing,
searches, all.ndjson, history, edits, a conflict, refused writes, 404s,
throttled and failing calls leaves no planted value (a family name, a given
name, an id, a search query, a version's content) in the daemon's log
(stderr of `healthlakefs -f`) or in /.stats."""
import errno
import json

from fhirutil import STORE, fhir_store, patient
from relutil import rig, run_op, run_ops  # noqa: F401

FAMILY = "Qzvandermeulen"
GIVEN = "Xylophonia"
PID = "phi7c41d9"
MISSING = "phimiss5k2"
NEWID = "phinew8q3"
QUERY_VALUE = "Qzvandermeu"
EDITED = "Qzedited77"
PLANTED = [FAMILY, GIVEN, PID, MISSING, NEWID, QUERY_VALUE, EDITED, "1957-03-14"]
P = f"{STORE}/fhir/Patient"


def test_no_phi_in_log_or_stats(rig):
    s = rig.server()
    sid, fx = fhir_store(s, [patient(PID, FAMILY, given=GIVEN, birthDate="1957-03-14"),
                             patient("other1", FAMILY)])
    m = rig.mount(s, "timeout=3,attr_ttl=1,list_ttl=0,max_attempts=2")
    search = f"{STORE}/fhir/Patient?family={QUERY_VALUE}"
    ops = [["listdir", P], ["read", f"{P}/{PID}.json"], ["read", f"{P}/{MISSING}.json"],
           ["listdir", search], ["read", search + "/all.ndjson"], ["read", search + f"/{PID}.json"],
           ["listdir", f"{P}/{PID}.history"], ["read", f"{P}/{PID}.history/1.json"],
           ["listdir", f"{STORE}/fhir/Patient?name={GIVEN}&birthdate=1957-03-14"],
           ["listdir", f"{STORE}/fhir/Patient?name=%zz{GIVEN}"]]
    res = run_ops(ops, 120, cwd=m.path)
    assert [r["errno"] for r in res] == [0, 0, errno.ENOENT, 0, 0, 0, 0, 0, 0, errno.EINVAL], \
        [(o, r["name"]) for o, r in zip(ops, res)]
    assert FAMILY in res[1]["out"] and FAMILY in res[4]["out"]

    doc = json.loads(res[1]["out"])
    doc["name"][0]["family"] = EDITED
    stale = dict(doc, meta={"versionId": "0"})
    bad = dict(doc, id=NEWID)
    new = {"resourceType": "Patient", "name": [{"family": FAMILY, "given": [GIVEN]}]}
    edits = [["write", f"{P}/{PID}.json", [json.dumps(doc)]],             # ok
             ["write", f"{P}/{PID}.json", [json.dumps(stale)]],           # ESTALE
             ["write", f"{P}/{PID}.json", [json.dumps(bad)]],             # EINVAL, no call
             ["write", f"{P}/{NEWID}.json", [json.dumps(new)], "w"],      # created
             ["unlink", f"{P}/{NEWID}.json"],                             # EPERM
             ["write", f"{P}/{PID}.json.tmp", [json.dumps(doc)], "w"],
             ["rename", f"{P}/{PID}.json.tmp", f"{P}/{PID}.json"]]        # ESTALE (old version)
    res = run_ops(edits, 120, cwd=m.path)
    assert [r["errno"] for r in res] == [0, errno.ESTALE, errno.EINVAL, 0, errno.EPERM, 0,
                                         errno.ESTALE], [(o[0], r["name"]) for o, r in zip(edits, res)]

    # Failures from the service: throttled to the last retry, 5xx, dropped answers.
    for kw in (dict(throttle=1.0), dict(error5xx=1.0), dict(drop_after_commit=1.0)):
        s.faults(operations=["fhir.*"], **kw)
        try:
            r = run_ops([["listdir", search], ["read", f"{P}/{PID}.json"],
                         ["write", f"{P}/{NEWID}.json", [json.dumps(new)], "w"]], 120, cwd=m.path)
        finally:
            s.faults()
        assert r[0]["errno"] in (errno.EAGAIN, errno.EIO, errno.ETIMEDOUT), (kw, r[0])

    stats = run_op(["read", ".stats"], cwd=m.path)
    assert stats["errno"] == 0
    log = m.stderr()
    assert "fhir" in stats["out"] and len(log) > 0
    found = [(v, where) for v in PLANTED for where, text in (("log", log), (".stats", stats["out"]))
             if v in text]
    assert not found, f"planted values found: {found}\n--- log:\n{log[-3000:]}"
