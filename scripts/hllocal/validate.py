"""Generic validation of JSON values against the HealthLake API model.

The rules (required members, types, enums, lengths, patterns, list bounds,
unions) are read from model.json, a verbatim copy of the service model, so the
server validates exactly what the model says and nothing it does not.
Patterns are Smithy/Java regexes; they are translated to Python `re`, with the
Unicode property classes (\\p{L}, \\p{Z}, \\p{N}, \\p{M}, \\P{M}, \\p{ASCII})
expanded from unicodedata.  Smithy patterns are not implicitly anchored, so
they are applied with search(), and `$` means end of input (ECMA 262).
"""
import json
import os
import re
import threading
import unicodedata

MODEL_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "model.json")

_PROPS = ("L", "Z", "N", "M")
_ranges_lock = threading.Lock()
_ranges = None


def _category_ranges():
    """Code point ranges of each major Unicode category we need (computed once, ~0.1 s)."""
    global _ranges
    with _ranges_lock:
        if _ranges is None:
            out = {p: [] for p in _PROPS}
            cat = unicodedata.category
            cur, start = None, 0
            for i in range(0x110000):
                c = cat(chr(i))[0]
                if c != cur:
                    if cur in out:
                        out[cur].append((start, i - 1))
                    cur, start = c, i
            if cur in out:
                out[cur].append((start, 0x10FFFF))
            _ranges = out
        return _ranges


def _esc(cp):
    return "\\U%08x" % cp


def _class_body(prop, negate, ascii_only):
    """The inside of a character class for \\p{prop} (or \\P{prop} when negate)."""
    if prop == "ASCII":
        if negate:
            return "" if ascii_only else "\\x80-\\U0010ffff"
        return "\\x00-\\x7f"
    if ascii_only:
        ascii_sets = {"L": "A-Za-z", "Z": " ", "N": "0-9", "M": ""}
        if not negate:
            return ascii_sets[prop]
        # Complement within ASCII.
        return "".join("\\x%02x" % i for i in range(128)
                       if unicodedata.category(chr(i))[0] != prop)
    ranges = _category_ranges()[prop]
    if negate:
        comp, nxt = [], 0
        for lo, hi in ranges:
            if lo > nxt:
                comp.append((nxt, lo - 1))
            nxt = hi + 1
        if nxt <= 0x10FFFF:
            comp.append((nxt, 0x10FFFF))
        ranges = comp
    return "".join(_esc(lo) if lo == hi else _esc(lo) + "-" + _esc(hi) for lo, hi in ranges)


_PROP_RE = re.compile(r"\\([pP])\{(\w+)\}")


def translate(pattern, ascii_only=False):
    """Java/Smithy regex -> Python regex source."""
    out = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            m = _PROP_RE.match(pattern, i)
            if m:
                prop = m.group(2)
                if prop not in _PROPS and prop != "ASCII":
                    raise ValueError("unsupported property class " + m.group(0))
                body = _class_body(prop, m.group(1) == "P", ascii_only)
                if in_class:
                    out.append(body)
                else:
                    out.append("[" + body + "]" if body else "(?!)")
                i = m.end()
                continue
            if pattern[i + 1] == "d":
                out.append("0-9" if in_class else "[0-9]")
                i += 2
                continue
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
            out.append(c)
        elif c == "[":
            in_class = True
            out.append(c)
            if i + 1 < n and pattern[i + 1] == "^":
                out.append("^")
                i += 1
        elif c == "$":
            out.append(r"\Z")
        else:
            out.append(c)
        i += 1
    return "".join(out)


class Pattern:
    """A model pattern: an ASCII-only regex for the common case, the full
    Unicode one built lazily the first time a non-ASCII value is checked."""

    def __init__(self, src):
        self.src = src
        self._ascii = re.compile(translate(src, ascii_only=True), re.ASCII | re.DOTALL)
        self._full = None

    def search(self, s):
        if s.isascii():
            return self._ascii.search(s) is not None
        if self._full is None:
            self._full = re.compile(translate(self.src), re.DOTALL)
        return self._full.search(s) is not None


def _show(v):
    s = v if isinstance(v, str) else json.dumps(v)
    if len(s) > 100:
        s = s[:100] + "..."
    return s


class Model:
    def __init__(self, path=MODEL_PATH):
        with open(path, encoding="utf-8") as f:
            self.raw = json.load(f)
        self.shapes = self.raw["shapes"]
        self.operations = self.raw["operations"]
        self.patterns = {}
        for name, shape in self.shapes.items():
            if "pattern" in shape:
                self.patterns[name] = Pattern(shape["pattern"])

    def input_shape(self, op):
        return self.operations[op]["input"]["shape"]

    def output_shape(self, op):
        return self.operations[op]["output"]["shape"]

    def errors(self, op):
        return [e["shape"] for e in self.operations[op].get("errors", [])]

    def validate(self, shape_name, value, output=False):
        """Returns a list of violation strings (empty when valid)."""
        errs = []
        self._check(shape_name, value, "", errs, output)
        return errs

    def message(self, errs):
        n = len(errs)
        return "%d validation error%s detected: %s" % (n, "" if n == 1 else "s", "; ".join(errs))

    def _check(self, sname, v, path, errs, output):
        shape = self.shapes[sname]
        t = shape["type"]
        where = path or sname
        if t == "structure":
            if not isinstance(v, dict):
                errs.append("Value '%s' at '%s' failed to satisfy constraint: Member must be an object"
                            % (_show(v), where))
                return
            members = shape.get("members", {})
            for k in v:
                if k not in members:
                    errs.append("'%s' at '%s' is not a member of %s"
                                % (k, path + "." + k if path else k, sname))
            for k in shape.get("required", []):
                if v.get(k) is None:
                    errs.append("Value null at '%s' failed to satisfy constraint: Member must not be null"
                                % (path + "." + k if path else k))
            set_members = [k for k in v if k in members and v[k] is not None]
            if shape.get("union") and len(set_members) != 1:
                errs.append("Value at '%s' failed to satisfy constraint: Member must have exactly one "
                            "member set (union), got %d" % (where, len(set_members)))
            for k in set_members:
                self._check(members[k]["shape"], v[k], path + "." + k if path else k, errs, output)
        elif t == "list":
            if not isinstance(v, list):
                errs.append("Value '%s' at '%s' failed to satisfy constraint: Member must be a list"
                            % (_show(v), where))
                return
            if "min" in shape and len(v) < shape["min"]:
                errs.append("Value '%s' at '%s' failed to satisfy constraint: Member must have length "
                            "greater than or equal to %d" % (_show(v), where, shape["min"]))
            if "max" in shape and len(v) > shape["max"]:
                errs.append("Value '%s' at '%s' failed to satisfy constraint: Member must have length "
                            "less than or equal to %d" % (_show(v), where, shape["max"]))
            mshape = shape["member"]["shape"]
            for i, item in enumerate(v):
                if item is None:
                    errs.append("Value null at '%s.%d' failed to satisfy constraint: Member must not be null"
                                % (where, i + 1))
                    continue
                self._check(mshape, item, "%s.%d" % (where, i + 1), errs, output)
        elif t == "string":
            if not isinstance(v, str):
                errs.append("Value '%s' at '%s' failed to satisfy constraint: Member must be a string"
                            % (_show(v), where))
                return
            if "enum" in shape and v not in shape["enum"]:
                errs.append("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum "
                            "value set: [%s]" % (_show(v), where, ", ".join(shape["enum"])))
            if "min" in shape and len(v) < shape["min"]:
                errs.append("Value '%s' at '%s' failed to satisfy constraint: Member must have length "
                            "greater than or equal to %d" % (_show(v), where, shape["min"]))
            if "max" in shape and len(v) > shape["max"]:
                errs.append("Value '%s' at '%s' failed to satisfy constraint: Member must have length "
                            "less than or equal to %d" % (_show(v), where, shape["max"]))
            p = self.patterns.get(sname)
            if p is not None and not p.search(v):
                errs.append("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy "
                            "regular expression pattern: %s" % (_show(v), where, p.src))
        elif t in ("integer", "long"):
            if isinstance(v, bool) or not isinstance(v, int):
                errs.append("Value '%s' at '%s' failed to satisfy constraint: Member must be an integer"
                            % (_show(v), where))
                return
            if "min" in shape and v < shape["min"]:
                errs.append("Value '%s' at '%s' failed to satisfy constraint: Member must have value "
                            "greater than or equal to %d" % (v, where, shape["min"]))
            if "max" in shape and v > shape["max"]:
                errs.append("Value '%s' at '%s' failed to satisfy constraint: Member must have value "
                            "less than or equal to %d" % (v, where, shape["max"]))
        elif t in ("double", "float"):
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                errs.append("Value '%s' at '%s' failed to satisfy constraint: Member must be a number"
                            % (_show(v), where))
        elif t == "boolean":
            if not isinstance(v, bool):
                errs.append("Value '%s' at '%s' failed to satisfy constraint: Member must be a boolean"
                            % (_show(v), where))
        elif t == "timestamp":
            # JSON 1.0 carries timestamps as epoch seconds (JSON numbers).
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                errs.append("Value '%s' at '%s' failed to satisfy constraint: Member must be a timestamp "
                            "in epoch seconds" % (_show(v), where))
        else:
            errs.append("shape %s of unsupported type %s at '%s'" % (sname, t, where))
