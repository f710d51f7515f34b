"""The FHIR R4 REST data plane: routes under /datastore/<id>/r4/, Bundles,
OperationOutcomes, search paging with snapshot tokens.

Responses embed stored resource bytes as they are (never re-encoded), so a
decimal keeps its lexeme from write to read, search and export.
"""
import base64
import collections
import json
import operator
import threading
import time
import urllib.parse
import uuid

from . import fhirsearch
from .fhirstore import FhirError, ID_RE, elements, iso_ms, members, parse_resource

CONTENT_TYPE = "application/fhir+json; charset=utf-8"
MAX_RESOURCE = 5 * 1024 * 1024   # a larger request body -> 413
MAX_BUNDLE = 160                 # entries per batch/transaction (service limit)
INTERACTIONS = ("read", "vread", "update", "patch", "delete", "history-instance", "create",
                "search-type")


def outcome(diagnostics, code="processing", severity="error"):
    return json.dumps({"resourceType": "OperationOutcome", "issue": [
        {"severity": severity, "code": code, "diagnostics": diagnostics}]}).encode()


def _http_date(ts):
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(ts))


def _enc_token(d):
    return base64.urlsafe_b64encode(json.dumps(d, separators=(",", ":")).encode()).decode().rstrip("=")


def _dec_token(tok):
    try:
        d = json.loads(base64.urlsafe_b64decode(tok + "=" * (-len(tok) % 4)))
        if not isinstance(d, dict):
            raise ValueError
        return d
    except (ValueError, TypeError):
        raise FhirError(400, "Invalid page token", "invalid")


def _pairs(query):
    out = []
    for part in query.split("&"):
        if not part:
            continue
        k, _, v = part.partition("=")
        out.append((urllib.parse.unquote_plus(k), urllib.parse.unquote_plus(v)))
    return out


def route(method, rest):
    """(interaction, type, id, vid) from the path after /r4/; interaction None = 404/405."""
    segs = [urllib.parse.unquote(s) for s in rest.split("/") if s != ""]
    n = len(segs)
    if n == 0:
        return ("bundle" if method == "POST" else None), None, None, None
    if n == 1 and segs[0] == "metadata":
        return ("capabilities" if method == "GET" else None), None, None, None
    t = segs[0]
    if t not in fhirsearch.RESOURCE_TYPES:
        return "unknown-type", t, None, None
    if n == 1:
        return {"GET": "search", "POST": "create"}.get(method), t, None, None
    if n == 2 and segs[1] == "_search":
        return ("search" if method == "POST" else None), t, None, None
    if n == 2:
        return {"GET": "read", "PUT": "update", "DELETE": "delete", "PATCH": "patch"}.get(method), \
            t, segs[1], None
    if n == 3 and segs[2] == "$everything" and t == "Patient":
        return ("everything" if method == "GET" else None), t, segs[1], None
    if n == 3 and segs[2] == "_history":
        return ("history" if method == "GET" else None), t, segs[1], None
    if n == 4 and segs[2] == "_history":
        return ("vread" if method == "GET" else None), t, segs[1], segs[3]
    return "no-route", t, None, None


def bundle_kind(body):
    """batch or transaction (the counter name of a POST to the base); bundle if unclear."""
    try:
        t = json.loads(body).get("type")
    except (ValueError, AttributeError, UnicodeDecodeError):
        return "bundle"
    return t if t in ("batch", "transaction") else "bundle"


class Response:
    __slots__ = ("status", "headers", "body")

    def __init__(self, status, body=b"", headers=None):
        self.status, self.body, self.headers = status, body, headers or []


class Fhir:
    def __init__(self, state):
        self.state = state
        self.registry = state.fhir
        self.cache = collections.OrderedDict()   # search id -> keys at the snapshot
        self.cache_lock = threading.Lock()

    # ----- helpers -----

    def _resp(self, status, v, body, base, with_body=True):
        h = [("Content-Type", CONTENT_TYPE), ("ETag", 'W/"%d"' % v.vid),
             ("Last-Modified", _http_date(v.ts))]
        if status == 201 or status == 200 and with_body:
            h.append(("Location", "%s%s/%s/_history/%d" % (base, v.key[0], v.key[1], v.vid)))
        return Response(status, body if with_body else b"", h)

    @staticmethod
    def _bundle(btype, entries, total=None, links=()):
        """A Bundle. An entry is bytes (see _hit) or (prefix dict, resource bytes
        or None, suffix dict)."""
        head = {"resourceType": "Bundle", "id": str(uuid.uuid4()),
                "meta": {"lastUpdated": iso_ms(time.time())}, "type": btype}
        if total is not None:
            head["total"] = total
        if links:
            head["link"] = [{"relation": r, "url": u} for r, u in links]
        parts = []
        for e in entries:
            if isinstance(e, bytes):
                parts.append(e)
                continue
            pre, body, post = e
            items = [(json.dumps(k) + ":" + json.dumps(v, separators=(",", ":"))).encode()
                     for k, v in pre.items()]
            if body is not None:
                items.append(b'"resource":' + body)
            items += [(json.dumps(k) + ":" + json.dumps(v, separators=(",", ":"))).encode()
                      for k, v in post.items()]
            parts.append(b"{" + b",".join(items) + b"}")
        return json.dumps(head, separators=(",", ":")).encode()[:-1] + b',"entry":[' + b",".join(parts) + b"]}"

    @staticmethod
    def _hit(url, body, mode=b"match"):
        """A searchset entry (urls hold only id characters: no JSON escaping needed)."""
        return b'{"fullUrl":"' + url.encode() + b'","resource":' + body + b',"search":{"mode":"' + mode + b'"}}'

    # ----- dispatch -----

    def handle(self, op, sid, rtype, rid, vid, method, raw_query, hmap, body):
        st = self.state
        with st.lock:
            s = st.stores.get(sid)
            active = s is not None and st.store_status(s) == "ACTIVE"
        if not active:
            raise FhirError(404, "Datastore %s is not found or not ACTIVE" % sid, "not-found")
        base = st.endpoint(sid)
        if op == "capabilities":
            return Response(200, self.capability(base), [("Content-Type", CONTENT_TYPE)])
        if op == "unknown-type":
            raise FhirError(404, "Resource type %s is not supported" % rtype, "not-supported")
        if op == "no-route":
            raise FhirError(404, "No such FHIR interaction", "not-supported")
        if len(body) > MAX_RESOURCE:
            raise FhirError(413, "Request body larger than %d bytes" % MAX_RESOURCE, "too-costly")
        store = self.registry.get(sid)
        strict = "handling=strict" in hmap.get("prefer", "").replace(" ", "")
        if op == "read":
            v = store.current(rtype, rid)
            if v is None or v.deleted:
                raise FhirError(404, "Resource %s/%s is not known" % (rtype, rid), "not-found")
            return self._resp(200, v, store.body(v), base)
        if op == "vread":
            v = store.version(rtype, rid, vid)
            if v is None:
                raise FhirError(404, "Version %s of %s/%s is not known" % (vid, rtype, rid), "not-found")
            if v.deleted:
                raise FhirError(410, "Version %s of %s/%s is a deletion" % (vid, rtype, rid), "deleted")
            return self._resp(200, v, store.body(v), base)
        if op == "update":
            v, created = store.put(rtype, rid, body, if_match=hmap.get("if-match"))
            return self._resp(201 if created else 200, v, store.body(v), base)
        if op == "create":
            v, created = store.create(rtype, body, idem=hmap.get("x-amz-fhir-idempotency-key"))
            return self._resp(201, v, store.body(v), base)
        if op == "delete":
            v = store.delete(rtype, rid, if_match=hmap.get("if-match"))
            return Response(204, b"", [("ETag", 'W/"%d"' % v.vid)])
        if op == "patch":
            return self.patch(store, base, rtype, rid, hmap, body)
        if op == "history":
            return self.history(store, base, rtype, rid, raw_query)
        if op == "search":
            if method == "POST":
                ctype = hmap.get("content-type", "")
                if body and raw_query:
                    raise FhirError(400, "Search parameters go either in the URL or in the body", "invalid")
                if body and "x-www-form-urlencoded" not in ctype:
                    raise FhirError(400, "POST _search takes a form body", "invalid")
                pairs = _pairs(body.decode("utf-8", "replace")) if body else _pairs(raw_query)
            else:
                pairs = _pairs(raw_query)
            return self.search(store, base, rtype, pairs, strict)
        if op == "everything":
            return self.everything(store, base, rid)
        if op in ("bundle", "batch", "transaction"):
            return self.bundle(store, base, body)
        raise FhirError(405, "Method not allowed here", "not-supported")

    # ----- capabilities -----

    def capability(self, base):
        res = []
        for t, ps in fhirsearch.capability_params().items():
            res.append({"type": t, "interaction": [{"code": i} for i in INTERACTIONS],
                        "versioning": "versioned", "readHistory": True, "updateCreate": True,
                        "conditionalCreate": False, "conditionalUpdate": False,
                        "conditionalDelete": "not-supported",
                        "searchInclude": ["%s:%s" % (t, n) for n, k in ps if k == "reference"],
                        "searchParam": [{"name": n, "type": k} for n, k in ps],
                        **({"operation": [{"name": "everything",
                                           "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything"}]}
                           if t == "Patient" else {})})
        doc = {"resourceType": "CapabilityStatement", "status": "active", "date": "2026-01-01",
               "kind": "instance", "fhirVersion": "4.0.1", "format": ["json"],
               "software": {"name": "healthlake-local"},
               "implementation": {"description": "healthlake-local FHIR R4", "url": base},
               "rest": [{"mode": "server", "resource": res,
                         "interaction": [{"code": "batch"}, {"code": "transaction"}],
                         "searchParam": [{"name": "_count", "type": "number"},
                                         {"name": "_sort", "type": "string"},
                                         {"name": "_include", "type": "string"},
                                         {"name": "_revinclude", "type": "string"}]}]}
        return json.dumps(doc, separators=(",", ":")).encode()

    # ----- search -----

    def _run(self, store, rtype, crit, ctl, snap):
        """Sorted keys matching crit at snapshot snap. Caller holds the store lock.
        Default order and _lastUpdated: write order (lastUpdated, ties as written)."""
        srt = ctl.get("_sort") or ""
        desc, field = srt.startswith("-"), srt.lstrip("-")
        if snap >= store.seq:
            # Current versions: the indexes are exact; check only what they did not answer.
            keys, verify, ordered = fhirsearch.candidates(store, rtype, crit)
            if verify:
                cur = store.cur
                keys = [k for k in keys if all(fhirsearch.matches(c, cur[k]) for c in verify)]
            if field == "_id":
                keys.sort(key=operator.itemgetter(1), reverse=desc)
            else:
                if not ordered:
                    keys.sort(key=store.seqof.__getitem__)
                if desc:
                    keys.reverse()
            return keys
        # An earlier snapshot (a later page whose cached result is gone): the versions
        # current then, including keys written since (the indexes no longer show them).
        cand = set(fhirsearch.candidates(store, rtype, crit)[0])
        cand |= {k for k in store.changed_since(snap) if k[0] == rtype}
        out = []
        for k in cand:
            v = store.at(k, snap)
            if v is not None and not v.deleted and all(fhirsearch.matches(c, v) for c in crit):
                out.append((k, v))
        if field == "_id":
            out.sort(key=lambda kv: kv[0][1], reverse=desc)
        else:
            out.sort(key=lambda kv: kv[1].seq, reverse=desc)
        return [k for k, _ in out]

    def search(self, store, base, rtype, pairs, strict):
        tok = dict(pairs).get("page")
        if tok:
            d = _dec_token(tok)
            if d.get("t") != rtype or not isinstance(d.get("p"), list):
                raise FhirError(400, "Page token does not belong to this search", "invalid")
            pairs = [tuple(p) for p in d["p"]]
            snap, offset, sid = int(d["s"]), int(d["o"]), d["i"]
        else:
            snap, offset, sid = None, 0, uuid.uuid4().hex[:16]
        try:
            crit, ctl, unknown = fhirsearch.parse(rtype, pairs)
        except fhirsearch.BadQuery as e:
            raise FhirError(400, str(e), "invalid")
        if unknown and strict:
            raise FhirError(400, "Unknown search parameter(s): %s" % ", ".join(unknown), "not-supported")
        count = ctl["_count"]
        with store.lock:
            if snap is None:
                snap = store.seq
            with self.cache_lock:
                keys = self.cache.get(sid)
                if keys is not None:
                    self.cache.move_to_end(sid)
            if keys is None:
                keys = self._run(store, rtype, crit, ctl, snap)
                with self.cache_lock:
                    self.cache[sid] = keys
                    while len(self.cache) > 64:
                        self.cache.popitem(last=False)
            page = keys[offset:offset + count]
            now = snap >= store.seq
            vs = [store.cur[k] if now else store.at(k, snap) for k in page]
            hit = self._hit
            entries = [hit(base + "%s/%s" % k, store.body(v)) for k, v in zip(page, vs)]
            seen = set(page)
            entries += self._includes(store, base, page, vs, ctl, seen)
        kept = [p for p in pairs if p[0] != "page" and p[0] not in unknown]
        links = [("self", base + rtype + ("?" + urllib.parse.urlencode(kept) if kept else ""))]
        if offset + count < len(keys) and count > 0:
            nxt = _enc_token({"i": sid, "t": rtype, "p": kept, "s": snap, "o": offset + count})
            links.append(("next", base + rtype + "?page=" + nxt))
        return Response(200, self._bundle("searchset", entries, len(keys), links),
                        [("Content-Type", CONTENT_TYPE)])

    def _includes(self, store, base, page, vs, ctl, seen):
        out = []
        for inc in ctl["_include"]:
            t, _, p = inc.partition(":")
            p = p.split(":")[0]
            for k, v in zip(page, vs):
                if k[0] != t:
                    continue
                for ref in v.vals.get(p, []):
                    rk = tuple(ref.split("/", 1))
                    if rk in seen:
                        continue
                    rv = store.cur.get(rk)
                    if rv is not None and not rv.deleted:
                        seen.add(rk)
                        out.append(self._hit(base + ref, store.body(rv), b"include"))
        for inc in ctl["_revinclude"]:
            t, _, p = inc.partition(":")
            p = p.split(":")[0]
            d = store.idx.get((t, p), {})
            for k in page:
                for rk in d.get("%s/%s" % k, ()):
                    if rk in seen:
                        continue
                    seen.add(rk)
                    out.append(self._hit(base + "%s/%s" % rk, store.body(store.cur[rk]), b"include"))
        return out

    def everything(self, store, base, pid):
        with store.lock:
            v = store.cur.get(("Patient", pid))
            if v is None or v.deleted:
                raise FhirError(404, "Resource Patient/%s is not known" % pid, "not-found")
            entries = [self._hit(base + "Patient/" + pid, store.body(v))]
            keys = {}
            for (t, p), d in store.idx.items():
                if p in ("patient", "subject"):
                    keys.update(d.get("Patient/" + pid, {}))
            for k in sorted(keys, key=store.seqof.__getitem__):
                entries.append(self._hit(base + "%s/%s" % k, store.body(store.cur[k])))
        return Response(200, self._bundle("searchset", entries, len(entries)),
                        [("Content-Type", CONTENT_TYPE)])

    # ----- history -----

    def history(self, store, base, rtype, rid, raw_query):
        q = dict(_pairs(raw_query))
        try:
            count = min(int(q.get("_count", fhirsearch.DEFAULT_COUNT)), fhirsearch.MAX_COUNT)
        except ValueError:
            raise FhirError(400, "_count must be an integer", "invalid")
        since = None
        if q.get("_since"):
            r = fhirsearch.date_range(q["_since"])
            if r is None:
                raise FhirError(400, "Invalid _since", "invalid")
            since = r[0]
        top, offset = None, 0
        if q.get("page"):
            d = _dec_token(q["page"])
            top, offset = int(d["m"]), int(d["o"])
        with store.lock:
            hist = store.hist.get((rtype, rid))
            if not hist:
                raise FhirError(404, "Resource %s/%s is not known" % (rtype, rid), "not-found")
            if top is None:
                top = hist[-1].vid
            vs = [v for v in reversed(hist) if v.vid <= top and (since is None or v.ts >= since)]
            page = vs[offset:offset + count]
            entries = []
            for v in page:
                url = "%s/%s/_history/%d" % (rtype, rid, v.vid)
                method = "DELETE" if v.deleted else ("POST" if v.vid == 1 else "PUT")
                status = "204" if v.deleted else ("201" if v.vid == 1 else "200")
                entries.append(({"fullUrl": base + "%s/%s" % (rtype, rid)},
                                None if v.deleted else store.body(v),
                                {"request": {"method": method, "url": "%s/%s" % (rtype, rid)},
                                 "response": {"status": status, "etag": 'W/"%d"' % v.vid,
                                              "lastModified": v.lu, "location": url}}))
        links = [("self", base + "%s/%s/_history" % (rtype, rid))]
        if offset + count < len(vs) and count > 0:
            tok = _enc_token({"m": top, "o": offset + count})
            extra = {"_count": count, "page": tok}
            if q.get("_since"):
                extra["_since"] = q["_since"]
            links.append(("next", base + "%s/%s/_history?" % (rtype, rid) + urllib.parse.urlencode(extra)))
        return Response(200, self._bundle("history", entries, len(vs), links), [("Content-Type", CONTENT_TYPE)])

    # ----- patch -----

    def patch(self, store, base, rtype, rid, hmap, body):
        from . import fhirpatch
        if "json-patch+json" not in hmap.get("content-type", ""):
            raise FhirError(415, "PATCH takes application/json-patch+json", "not-supported")
        with store.lock:
            v = store.current(rtype, rid)
            if v is None or v.deleted:
                raise FhirError(404, "Resource %s/%s is not known" % (rtype, rid), "not-found")
            new = fhirpatch.apply(store.body(v), body)
            nv, _ = store.put(rtype, rid, new, if_match=hmap.get("if-match"))
            return self._resp(200, nv, store.body(nv), base)

    # ----- batch / transaction -----

    def bundle(self, store, base, body):
        try:
            text = body.decode("utf-8")
            mem = members(text)
        except (UnicodeDecodeError, ValueError) as e:
            raise FhirError(400, "Invalid Bundle: %s" % e, "structure")
        top = {k: v for k, v, _, _, _ in mem}
        if top.get("resourceType") != "Bundle" or top.get("type") not in ("batch", "transaction"):
            raise FhirError(400, "POST to the base takes a batch or transaction Bundle", "invalid")
        kind = top["type"]
        raw_entries = []
        for k, val, _, _, vs in mem:
            if k == "entry":
                if not isinstance(val, list):
                    raise FhirError(400, "Bundle.entry must be a list", "structure")
                for es, ee in elements(text, vs):
                    em = members(text[es:ee])
                    ed = {kk: vv for kk, vv, _, _, _ in em}
                    res = None
                    for kk, _, _, me, mvs in em:
                        if kk == "resource":
                            res = text[es:ee][mvs:me]
                    raw_entries.append((ed, res))
        if len(raw_entries) > MAX_BUNDLE:
            raise FhirError(400, "A Bundle holds at most %d entries" % MAX_BUNDLE, "too-costly")
        plan = []
        refs = {}
        for ed, res in raw_entries:
            req = ed.get("request") if isinstance(ed.get("request"), dict) else {}
            method = req.get("method")
            url = (req.get("url") or "").split("?")[0].strip("/")
            segs = url.split("/") if url else []
            if method not in ("GET", "POST", "PUT", "DELETE") or not segs or \
                    segs[0] not in fhirsearch.RESOURCE_TYPES:
                plan.append(("bad", None, None, None, "Entry has no valid request method and url", ed))
                continue
            rtype = segs[0]
            rid = segs[1] if len(segs) > 1 else None
            if method == "POST":
                rid = str(uuid.uuid4())
                if isinstance(ed.get("fullUrl"), str) and ed["fullUrl"].startswith("urn:uuid:"):
                    refs[ed["fullUrl"]] = "%s/%s" % (rtype, rid)
            elif rid is None or not ID_RE.match(rid):
                plan.append(("bad", None, None, None, "Entry url needs a resource id", ed))
                continue
            plan.append((method, rtype, rid, res, req.get("ifMatch"), ed))
        if kind == "transaction":
            bad = [p for p in plan if p[0] == "bad"]
            if bad:
                raise FhirError(400, bad[0][4], "invalid")
        out = []
        with store.lock:
            if kind == "transaction":
                # All or nothing: check every entry before the first write.
                for method, rtype, rid, res, im, ed in plan:
                    if method in ("POST", "PUT"):
                        if res is None:
                            raise FhirError(400, "Entry for %s has no resource" % rtype, "required")
                        _, _, rtop = parse_resource(self._resolve(res, refs))
                        if rtop["resourceType"] != rtype or (
                                method == "PUT" and "id" in rtop and rtop["id"] != rid):
                            raise FhirError(400, "Entry resource does not match its url %s" % rtype, "invalid")
                    cur = store.cur.get((rtype, rid)) if rid else None
                    if im is not None and (cur is None or cur.deleted or 'W/"%d"' % cur.vid != im):
                        raise FhirError(412, "ifMatch %s does not match %s/%s" % (im, rtype, rid), "conflict")
                    if method == "GET" and (cur is None or cur.deleted):
                        raise FhirError(404, "Resource %s/%s is not known" % (rtype, rid), "not-found")
            for method, rtype, rid, res, im, ed in plan:
                try:
                    if method == "bad":
                        raise FhirError(400, res_or(im), "invalid")
                    if method == "GET":
                        v = store.cur.get((rtype, rid))
                        if v is None or v.deleted:
                            raise FhirError(404, "Resource %s/%s is not known" % (rtype, rid), "not-found")
                        out.append(({}, store.body(v), {"response": {"status": "200 OK", "etag": 'W/"%d"' % v.vid}}))
                        continue
                    if method == "DELETE":
                        v = store.delete(rtype, rid, if_match=im)
                        out.append(({}, None, {"response": {"status": "204 No Content"}}))
                        continue
                    if res is None:
                        raise FhirError(400, "Entry for %s has no resource" % rtype, "required")
                    data = self._resolve(res, refs)
                    v, created = store.put(rtype, rid, data, if_match=im, replace_id=method == "POST")
                    status = "201 Created" if created else "200 OK"
                    out.append(({"fullUrl": base + "%s/%s" % (rtype, rid)}, store.body(v), {"response": {
                        "status": status, "location": "%s/%s/_history/%d" % (rtype, rid, v.vid),
                        "etag": 'W/"%d"' % v.vid, "lastModified": v.lu}}))
                except FhirError as e:
                    out.append(({}, None, {"response": {"status": str(e.status),
                                                        "outcome": json.loads(outcome(e.diagnostics, e.code))}}))
        return Response(200, self._bundle(kind + "-response", out), [("Content-Type", CONTENT_TYPE)])

    @staticmethod
    def _resolve(res, refs):
        for k, v in refs.items():
            res = res.replace(json.dumps(k), json.dumps(v))
        return res


def res_or(msg):
    return msg if isinstance(msg, str) else "Invalid entry"
