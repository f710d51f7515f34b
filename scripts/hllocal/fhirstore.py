"""FHIR resources of the data stores: an append-only log per store with every
version, in-memory indexes, and the textual splice that sets id and meta.

DIR/resources/<store-id>.fhir holds records `<header JSON>\\n<resource>\\n`; the
header carries the type, id, version, times, sequence number, body length and
the values the search parameters index, so a restart rebuilds the indexes
without parsing a resource.  Resources are kept as their bytes: only the
top-level `id` and `meta` members are replaced; every other lexeme (a decimal
`172.30`, a string escape) is kept exactly as sent.
"""
import json
import os
import re
import threading
import time
import uuid
from json.decoder import scanstring

from . import fhirsearch

ID_RE = re.compile(r"[A-Za-z0-9\-.]{1,64}\Z")
_WS = re.compile(r"[ \t\n\r]*")
_COMPACT = re.compile(r'("(?:[^"\\]|\\.)*")|[ \t\n\r]+', re.S)
_DEC = json.JSONDecoder()
_SCAN = _DEC.scan_once  # the C scanner: (value, end) of the JSON value at an index


class FhirError(Exception):
    """An error answered as an OperationOutcome with this HTTP status."""

    def __init__(self, status, diagnostics, code="processing"):
        super().__init__(diagnostics)
        self.status = status
        self.diagnostics = diagnostics
        self.code = code


def iso_ms(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + ".%03dZ" % (int(round(ts * 1000)) % 1000)


def members(text):
    """Top-level members of a JSON object text: [(key, value, start, end, vstart)]
    with the spans of `"key": value` and of the value in text. ValueError when
    not one JSON object."""
    i = _WS.match(text, 0).end()
    if i >= len(text) or text[i] != "{":
        raise ValueError("not a JSON object")
    i = _WS.match(text, i + 1).end()
    out = []
    if i < len(text) and text[i] == "}":
        end = i + 1
    else:
        n = len(text)
        ws = _WS.match
        while True:
            if i >= n or text[i] != '"':
                raise ValueError("expected a member name at character %d" % i)
            key, j = scanstring(text, i + 1)
            if j < n and text[j] != ":":
                j = ws(text, j).end()
            if j >= n or text[j] != ":":
                raise ValueError("expected ':' at character %d" % j)
            j += 1
            if j < n and text[j] in " \t\n\r":
                j = ws(text, j).end()
            try:
                val, k = _SCAN(text, j)
            except StopIteration:
                raise ValueError("expected a value at character %d" % j)
            out.append((key, val, i, k, j))
            if k < n and text[k] in " \t\n\r":
                k = ws(text, k).end()
            if k < n and text[k] == ",":
                i = k + 1
                if i < n and text[i] != '"':
                    i = ws(text, i).end()
                continue
            if k < n and text[k] == "}":
                end = k + 1
                break
            raise ValueError("expected ',' or '}' at character %d" % k)
    if _WS.match(text, end).end() != len(text):
        raise ValueError("extra data after the JSON object")
    return out


def elements(text, i):
    """Spans [(start, end)] of the elements of the JSON array starting at text[i]."""
    if text[i] != "[":
        raise ValueError("not an array")
    i = _WS.match(text, i + 1).end()
    out = []
    if text[i] == "]":
        return out
    while True:
        _, k = _DEC.raw_decode(text, i)
        out.append((i, k))
        k = _WS.match(text, k).end()
        if text[k] == ",":
            i = _WS.match(text, k + 1).end()
            continue
        if text[k] == "]":
            return out
        raise ValueError("expected ',' or ']' at character %d" % k)


def parse_resource(data):
    """Bytes -> (text, members, dict of top-level values); FhirError 400 when invalid."""
    try:
        text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
        mem = members(text)
    except (UnicodeDecodeError, ValueError) as e:
        raise FhirError(400, "Invalid JSON resource: %s" % e, "structure")
    top = {}
    for key, val, _, _, _ in mem:
        if key in top:
            raise FhirError(400, "Duplicate member %s in resource" % key, "structure")
        top[key] = val
    rt = top.get("resourceType")
    if not isinstance(rt, str) or rt not in fhirsearch.RESOURCE_TYPES:
        raise FhirError(400, "Resource has no valid resourceType", "invalid")
    return text, mem, top


def splice(text, mem, top, rid, vid, lu):
    """The resource text with id and meta (versionId, lastUpdated) set; every
    other member kept byte for byte (insignificant whitespace dropped)."""
    meta = top.get("meta")
    new_meta = {"versionId": str(vid), "lastUpdated": lu}
    if isinstance(meta, dict):
        for k, v in meta.items():
            if k not in new_meta:
                new_meta[k] = v
    head = [text[s:e] for k, _, s, e, _ in mem if k == "resourceType"]
    head.append('"id":' + json.dumps(rid))
    head.append('"meta":' + json.dumps(new_meta, separators=(",", ":"), ensure_ascii=False))
    rest = []
    for k, _, s, e, _ in mem:
        if k in ("resourceType", "id", "meta"):
            continue
        part = text[s:e]
        if "\n" in part or "\r" in part or "\t" in part:
            part = _COMPACT.sub(lambda m: m.group(1) or "", part)
        rest.append(part)
    return "{" + ",".join(head + rest) + "}"


class Version:
    __slots__ = ("key", "vid", "ts", "lu", "seq", "off", "n", "deleted", "vals")

    def __init__(self, key, vid, ts, lu, seq, off, n, deleted, vals):
        self.key, self.vid, self.ts, self.lu, self.seq = key, vid, ts, lu, seq
        self.off, self.n, self.deleted, self.vals = off, n, deleted, vals


class Store:
    """One data store's resources. Every method takes the store lock."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.RLock()
        self.cur = {}        # (type, id) -> latest Version (maybe a deletion)
        self.hist = {}       # (type, id) -> [Version], oldest first
        # Orders below are write order, which is also lastUpdated order (lastUpdated
        # increases with every write; only a preload, into an empty store, shares one).
        self.seqof = {}      # (type, id) -> seq of its current version, live resources only
        self.by_type = {}    # type -> {key: None} of live resources, in write order
        self.idx = {}        # (type, param) -> {value: {key: None}} token/reference, write order
        self.sidx = {}       # (type, param) -> {key: ("\0low\0...", "\0raw\0...\0")} strings
        self.changes = []    # seq of every write, ascending, with its key (snapshot reads)
        self.change_keys = []
        self.idem = {}       # idempotency key -> (type, id)
        self.seq = 0
        self.last_ts = 0.0
        self._load()
        self.fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)

    # ----- persistence -----

    def _load(self):
        if not os.path.exists(self.path):
            return
        with open(self.path, "rb") as f:
            data = f.read()
        pos = good = 0
        while pos < len(data):
            nl = data.find(b"\n", pos)
            if nl < 0:
                break
            try:
                h = json.loads(data[pos:nl])
                n = h["n"]
            except (ValueError, KeyError, TypeError):
                break
            off = nl + 1
            if off + n + 1 > len(data) or data[off + n:off + n + 1] != b"\n":
                break
            self._apply(h, off)
            pos = good = off + n + 1
        if good < len(data):  # a torn tail after a crash: cut it off
            with open(self.path, "r+b") as f:
                f.truncate(good)

    def _apply(self, h, off):
        key = (h["t"], h["i"])
        v = Version(key, h["v"], h["s"], h["u"], h["q"], off, h["n"], bool(h.get("d")), h.get("x") or {})
        old = self.cur.get(key)
        if old is not None and not old.deleted:
            self._unindex(old)
        self.cur[key] = v
        self.hist.setdefault(key, []).append(v)
        bt = self.by_type.setdefault(key[0], {})
        bt.pop(key, None)
        if not v.deleted:
            bt[key] = None
            self.seqof[key] = v.seq
            self._index(v)
        else:
            self.seqof.pop(key, None)
        self.seq = max(self.seq, v.seq)
        self.last_ts = max(self.last_ts, v.ts)
        self.changes.append(v.seq)
        self.change_keys.append(key)
        if h.get("k"):
            self.idem[h["k"]] = key

    def _index(self, v):
        t = v.key[0]
        for p, vals in v.vals.items():
            kind = fhirsearch.kind_of(t, p)
            if kind in ("token", "reference"):
                d = self.idx.setdefault((t, p), {})
                for iv in fhirsearch.index_values(t, p, vals):
                    d.setdefault(iv, {})[v.key] = None
            elif kind == "string":
                self.sidx.setdefault((t, p), {})[v.key] = (
                    "\0" + "\0".join(vals).lower(), "\0" + "\0".join(vals) + "\0")

    def _unindex(self, v):
        t = v.key[0]
        for p, vals in v.vals.items():
            kind = fhirsearch.kind_of(t, p)
            if kind in ("token", "reference"):
                d = self.idx.get((t, p), {})
                for iv in fhirsearch.index_values(t, p, vals):
                    s = d.get(iv)
                    if s is not None:
                        s.pop(v.key, None)
                        if not s:
                            del d[iv]
            elif kind == "string":
                self.sidx.get((t, p), {}).pop(v.key, None)

    def _now(self):
        # Strictly increasing lastUpdated per store: versions sort by time.
        ts = round(time.time(), 3)
        if ts <= self.last_ts:
            ts = round(self.last_ts + 0.001, 3)
        return ts

    def _write(self, items):
        """items: [(header dict, body bytes)] appended in one write, then applied."""
        chunks = []
        pos = os.lseek(self.fd, 0, os.SEEK_END)
        offs = []
        for h, body in items:
            h["n"] = len(body)
            hb = json.dumps(h, separators=(",", ":")).encode() + b"\n"
            offs.append(pos + len(hb))
            chunks.append(hb)
            chunks.append(body)
            chunks.append(b"\n")
            pos += len(hb) + len(body) + 1
        data = b"".join(chunks)
        view = memoryview(data)
        while view:
            w = os.write(self.fd, view)
            view = view[w:]
        for (h, _), off in zip(items, offs):
            self._apply(h, off)

    def close(self):
        with self.lock:
            if self.fd is not None:
                os.close(self.fd)
                self.fd = None

    # ----- reads -----

    def body(self, v):
        return os.pread(self.fd, v.n, v.off)

    def current(self, rtype, rid):
        with self.lock:
            return self.cur.get((rtype, rid))

    def version(self, rtype, rid, vid):
        with self.lock:
            for v in self.hist.get((rtype, rid), ()):
                if str(v.vid) == vid:
                    return v
            return None

    def at(self, key, seq):
        """The version of key current at sequence number seq (None if none)."""
        h = self.hist.get(key)
        if not h:
            return None
        if h[-1].seq <= seq:
            return h[-1]
        for v in reversed(h):
            if v.seq <= seq:
                return v
        return None

    def changed_since(self, seq):
        """Keys written after seq (for searches that read a snapshot)."""
        import bisect
        i = bisect.bisect_right(self.changes, seq)
        return set(self.change_keys[i:])

    # ----- writes -----

    def _prepare(self, rtype, rid, data, vid, ts, replace_id):
        text, mem, top = parse_resource(data)
        if top["resourceType"] != rtype:
            raise FhirError(400, "Resource type %s does not match the request's type %s"
                            % (top["resourceType"], rtype), "invalid")
        if "id" in top and top["id"] != rid and not replace_id:
            raise FhirError(400, "Resource id in the body does not match the URL", "invalid")
        lu = iso_ms(ts)
        out = splice(text, mem, top, rid, vid, lu).encode("utf-8")
        vals = fhirsearch.extract(rtype, top)
        return out, vals, lu

    def put(self, rtype, rid, data, if_match=None, idem=None, replace_id=False):
        """Create or update; returns (Version, created). An id in the body must be
        rid unless replace_id (a create: the server's id wins)."""
        if not ID_RE.match(rid):
            raise FhirError(400, "Invalid resource id", "value")
        with self.lock:
            old = self.cur.get((rtype, rid))
            live = old is not None and not old.deleted
            if if_match is not None:
                if not live or "W/\"%s\"" % old.vid != if_match and str(old.vid) != if_match.strip('"'):
                    raise FhirError(412, "Version %s does not match the current version %s"
                                    % (if_match, old.vid if live else "(none)"), "conflict")
            vid = (old.vid + 1) if old is not None else 1
            ts = self._now()
            body, vals, lu = self._prepare(rtype, rid, data, vid, ts, replace_id)
            h = {"t": rtype, "i": rid, "v": vid, "u": lu, "s": ts, "q": self.seq + 1, "x": vals}
            if idem:
                h["k"] = idem
            self._write([(h, body)])
            return self.cur[(rtype, rid)], not live

    def create(self, rtype, data, idem=None):
        with self.lock:
            if idem and idem in self.idem:
                key = self.idem[idem]
                return self.cur[key], False
            return self.put(rtype, str(uuid.uuid4()), data, idem=idem, replace_id=True)[0], True

    def delete(self, rtype, rid, if_match=None):
        with self.lock:
            old = self.cur.get((rtype, rid))
            if old is None:
                raise FhirError(404, "Resource %s/%s is not known" % (rtype, rid), "not-found")
            if if_match is not None and ("W/\"%s\"" % old.vid != if_match or old.deleted):
                raise FhirError(412, "Version %s does not match the current version" % if_match,
                                "conflict")
            if old.deleted:
                return old
            ts = self._now()
            h = {"t": rtype, "i": rid, "v": old.vid + 1, "u": iso_ms(ts), "s": ts,
                 "q": self.seq + 1, "d": 1}
            self._write([(h, b"")])
            return self.cur[(rtype, rid)]

    def load(self, lines, fixed_ts=None):
        """Bulk load (admin, imports, preload): each item bytes of one resource with
        its id. Returns (loaded, [(index, error)])."""
        errors = []
        items = []
        lines = list(lines)
        with self.lock:
            seq = self.seq
            pending = {}
            # One lastUpdated for the whole load (ties keep the write order).
            ts = fixed_ts if fixed_ts is not None else self._now()
            lu = iso_ms(ts)
            for n, raw in enumerate(lines):
                try:
                    text, mem, top = parse_resource(raw)
                    rid = top.get("id")
                    if not isinstance(rid, str) or not ID_RE.match(rid):
                        raise FhirError(400, "missing or invalid id", "required")
                    rtype = top["resourceType"]
                    key = (rtype, rid)
                    if key in pending:
                        vid = pending[key] + 1
                    else:
                        c = self.cur.get(key)
                        vid = c.vid + 1 if c is not None else 1
                    body = splice(text, mem, top, rid, vid, lu).encode("utf-8")
                    vals = fhirsearch.extract(rtype, top)
                except FhirError as e:
                    errors.append((n, e.diagnostics))
                    continue
                seq += 1
                pending[key] = vid
                items.append(({"t": rtype, "i": rid, "v": vid, "u": lu, "s": ts, "q": seq, "x": vals},
                              body))
                if len(items) >= 5000:
                    self._write(items)
                    items = []
            if items:
                self._write(items)
            return len(lines) - len(errors), errors

    def export(self):
        """{type: [body bytes]} of the live resources, in write order."""
        with self.lock:
            out = {}
            for t in sorted(self.by_type):
                keys = list(self.by_type[t])
                if keys:
                    out[t] = [self.body(self.cur[k]) for k in keys]
            return out

    def count(self):
        with self.lock:
            return sum(len(d) for d in self.by_type.values())


class Registry:
    """The stores' FHIR data, opened on first use."""

    def __init__(self, directory):
        self.dir = os.path.join(directory, "resources")
        os.makedirs(self.dir, exist_ok=True)
        self.lock = threading.Lock()
        self.stores = {}

    def get(self, sid):
        with self.lock:
            s = self.stores.get(sid)
            if s is None:
                path = os.path.join(self.dir, sid + ".fhir")
                legacy = os.path.join(self.dir, sid + ".ndjson")
                s = Store(path)
                if os.path.exists(legacy) and not s.cur:
                    # A store written before the FHIR plane existed: take its resources over.
                    with open(legacy, "rb") as f:
                        s.load([l for l in f.read().split(b"\n") if l.strip()])
                    os.replace(legacy, legacy + ".migrated")
                self.stores[sid] = s
            return s

    def close(self):
        with self.lock:
            for s in self.stores.values():
                s.close()
            self.stores = {}
