"""Helpers for the data-plane (FHIR) reliability tests: a store with loaded
resources, a direct signed client to check what the service holds, and
resource history. Imported by module name (pytest puts this directory on
sys.path; tests/ is there too, for fhir_client)."""
import json
import urllib.parse

from fhir_client import Fhir, load

STORE = "rel-fhir"


def patient(pid, family, given="Ana", **kw):
    d = {"resourceType": "Patient", "id": pid, "gender": "female", "birthDate": "1980-04-02",
         "name": [{"family": family, "given": [given]}]}
    d.update(kw)
    return d


def fhir_store(server, resources, name=STORE):
    """Seeds an ACTIVE store called name, bulk-loads resources (dicts) and
    returns (store id, a direct Fhir client on its endpoint)."""
    sid = server.seed(datastores=[{"name": name, "status": "ACTIVE"}])["datastores"][0]["id"]
    if resources:
        r = load(server, sid, resources)
        assert r["failed"] == 0 and r["loaded"] == len(resources), r
    return sid, direct(server, sid)


def direct(server, sid):
    return Fhir(server, server.url.rstrip("/") + f"/datastore/{sid}/r4/")


def history(fx, rtype, rid):
    """Every version of rtype/rid the service keeps, oldest first: [(vid, resource or None)]
    (None: a deletion). Follows next links."""
    out = []
    path = f"{rtype}/{urllib.parse.quote(rid)}/_history?_count=100"
    while path:
        st, _, raw = fx.request("GET", path)
        if st in (404, 410):
            break
        assert st == 200, (path, st, raw[:300])
        b = json.loads(raw)
        for e in b.get("entry", []):
            res = e.get("resource")
            vid = (res or {}).get("meta", {}).get("versionId")
            if vid is None:
                # A deletion entry carries its version in the response etag.
                etag = e.get("response", {}).get("etag", "")
                vid = etag.strip('W/"') or None
            out.append((vid, res))
        nxt = [l["url"] for l in b.get("link", []) if l.get("relation") == "next"]
        path = nxt[0] if nxt else None
    out.sort(key=lambda x: int(x[0]) if x[0] and x[0].isdigit() else 0)
    return out


def values(res):
    """A resource's values without what the service sets (meta, id)."""
    if res is None:
        return None
    return {k: v for k, v in res.items() if k not in ("meta", "id")}
