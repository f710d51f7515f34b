"""JSON Patch (RFC 6902) on a stored resource without a float round trip:
numbers are parsed as their lexemes and written back unchanged."""
import json

from .fhirstore import FhirError


class Num(str):
    """A JSON number kept as the text it was written as."""


def _load(text):
    return json.loads(text, parse_float=Num, parse_int=Num)


def dump(v):
    if isinstance(v, Num):
        return str(v)
    if isinstance(v, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + dump(x) for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ",".join(dump(x) for x in v) + "]"
    return json.dumps(v, ensure_ascii=False)


def _tokens(ptr):
    if ptr == "":
        return []
    if not ptr.startswith("/"):
        raise FhirError(400, "Invalid JSON pointer %s" % ptr, "invalid")
    return [t.replace("~1", "/").replace("~0", "~") for t in ptr[1:].split("/")]


def _parent(doc, ptr):
    toks = _tokens(ptr)
    if not toks:
        raise FhirError(400, "A patch cannot replace the whole resource", "invalid")
    cur = doc
    for t in toks[:-1]:
        cur = _child(cur, t)
    return cur, toks[-1]


def _child(cur, t):
    try:
        if isinstance(cur, list):
            return cur[int(t)]
        return cur[t]
    except (KeyError, IndexError, ValueError, TypeError):
        raise FhirError(400, "Patch path does not exist", "invalid")


def _get(doc, ptr):
    cur = doc
    for t in _tokens(ptr):
        cur = _child(cur, t)
    return cur


def _remove(doc, ptr):
    par, last = _parent(doc, ptr)
    v = _child(par, last)
    if isinstance(par, list):
        del par[int(last)]
    else:
        del par[last]
    return v


def _add(doc, ptr, val):
    par, last = _parent(doc, ptr)
    if isinstance(par, list):
        if last == "-":
            par.append(val)
        else:
            try:
                i = int(last)
            except ValueError:
                raise FhirError(400, "Invalid array index in patch path", "invalid")
            if not 0 <= i <= len(par):
                raise FhirError(400, "Array index out of range in patch path", "invalid")
            par.insert(i, val)
    elif isinstance(par, dict):
        par[last] = val
    else:
        raise FhirError(400, "Patch path does not exist", "invalid")


def apply(resource, patch):
    """Stored resource bytes + JSON Patch bytes -> new resource text."""
    try:
        doc = _load(resource.decode("utf-8"))
        ops = _load(patch.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise FhirError(400, "Invalid JSON Patch: %s" % e, "structure")
    if not isinstance(ops, list):
        raise FhirError(400, "A JSON Patch is an array of operations", "structure")
    for op in ops:
        if not isinstance(op, dict) or not isinstance(op.get("path"), str):
            raise FhirError(400, "Each patch operation needs op and path", "structure")
        kind, path = op.get("op"), op["path"]
        if kind in ("add", "replace", "test") and "value" not in op:
            raise FhirError(400, "Patch operation %s needs a value" % kind, "structure")
        if kind == "add":
            _add(doc, path, op["value"])
        elif kind == "remove":
            _remove(doc, path)
        elif kind == "replace":
            _remove(doc, path)
            _add(doc, path, op["value"])
        elif kind in ("move", "copy"):
            if not isinstance(op.get("from"), str):
                raise FhirError(400, "Patch operation %s needs from" % kind, "structure")
            v = _remove(doc, op["from"]) if kind == "move" else json.loads(dump(_get(doc, op["from"])),
                                                                           parse_float=Num, parse_int=Num)
            _add(doc, path, v)
        elif kind == "test":
            if dump(_get(doc, path)) != dump(op["value"]):
                raise FhirError(422, "Patch test failed at %s" % path, "processing")
        else:
            raise FhirError(400, "Unknown patch operation %s" % kind, "structure")
    if path_changes_type(doc):
        raise FhirError(400, "A patch cannot change resourceType or id", "invalid")
    return dump(doc)


def path_changes_type(doc):
    return not isinstance(doc, dict) or not isinstance(doc.get("resourceType"), str)
