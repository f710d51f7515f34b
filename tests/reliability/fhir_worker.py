"""One worker of the FHIR fault storm (test_fhir_storm.py), run as a child
process so that a hung FUSE request can never hang pytest: the parent kills it
and names the operation in flight.

Input (stdin, JSON): {"dir": type directory, "worker": n, "seconds": s,
"seed": n, "edit_ids": [...], "delete_ids": [...], "search": search dir name}.
Output (stdout): before each operation a line {"begin": k, "op": ...}; after it
one JSON line with its outcome: op, id, value (the unique value written, if
any), errno (0: success), stage (the syscall that failed), ms (the slowest
syscall of the operation) and syscall (its name). Flushed line by line."""
import errno
import json
import os
import random
import sys
import time


class Op:
    """Times each syscall of one operation; remembers the slowest."""

    def __init__(self):
        self.max_ms = 0.0
        self.slowest = ""
        self.stage = ""

    def call(self, name, fn, *args):
        self.stage = name
        t0 = time.monotonic()
        try:
            return fn(*args)
        finally:
            ms = (time.monotonic() - t0) * 1000.0
            if ms > self.max_ms:
                self.max_ms, self.slowest = ms, name


def read_file(op, path):
    fd = op.call("open", os.open, path, os.O_RDONLY)
    try:
        chunks = []
        while True:
            b = op.call("read", os.read, fd, 1 << 20)
            if not b:
                break
            chunks.append(b)
    finally:
        op.call("close", os.close, fd)
    return b"".join(chunks)


def quietly(fn, *args):
    """Cleanup after a failure, whose own error would hide the first."""
    try:
        fn(*args)
    except OSError:
        pass


def write_file(op, path, data, create=False):
    """open + write + close; close(2) is where the PUT's outcome arrives."""
    fl = os.O_WRONLY | os.O_TRUNC | (os.O_CREAT if create else 0)
    fd = op.call("open", os.open, path, fl, 0o600)
    try:
        op.call("write", os.write, fd, data)
    except OSError:
        quietly(os.close, fd)
        raise
    op.call("close", os.close, fd)


def main():
    cfg = json.load(sys.stdin)
    d, w = cfg["dir"], cfg["worker"]
    rnd = random.Random(cfg["seed"])
    deletes = list(cfg["delete_ids"])
    rnd.shuffle(deletes)
    end = time.monotonic() + cfg["seconds"]
    k = 0
    while time.monotonic() < end:
        k += 1
        r = rnd.random()
        kind = ("edit" if r < 0.40 else "mvedit" if r < 0.50 else "copy" if r < 0.65
                else "delete" if r < 0.72 and deletes else "read")
        out = {"k": k, "op": kind, "id": None, "value": None, "errno": 0, "stage": "",
               "w": w, "start": time.monotonic()}
        value = f"Storm-w{w}-n{k}"
        if kind in ("edit", "mvedit"):
            out["id"] = rnd.choice(cfg["edit_ids"])
        elif kind == "copy":
            out["id"] = f"cp-w{w}-n{k}"
        elif kind == "delete":
            out["id"] = deletes.pop()
        else:
            out["op"] = kind = rnd.choice(["cat", "ls", "search", "stat"])
            out["id"] = rnd.choice(cfg["edit_ids"])
        sys.stdout.write(json.dumps({"begin": k, "op": kind, "id": out["id"]}) + "\n")
        sys.stdout.flush()
        op = Op()
        path = os.path.join(d, f"{out['id']}.json")
        try:
            if kind in ("edit", "mvedit"):
                out["stage0"] = "read"
                raw = read_file(op, path)
                if not raw:
                    # Another worker's open(O_TRUNC) of this file is in progress.
                    raise EOFError
                doc = json.loads(raw)
                out["read_vid"] = doc.get("meta", {}).get("versionId")
                doc["name"][0]["family"] = value
                body = (json.dumps(doc, indent=2) + "\n").encode()
                out["value"], out["doc"], out["stage0"] = value, doc, "write"
                if kind == "edit":
                    write_file(op, path, body)
                else:
                    # jq . f.json > f.json.tmp && mv f.json.tmp f.json
                    tmp = path + f".w{w}.tmp"
                    write_file(op, tmp, body, create=True)
                    out["stage0"] = "rename"
                    try:
                        op.call("rename", os.rename, tmp, path)
                    except OSError:
                        quietly(os.unlink, tmp)
                        raise
            elif kind == "copy":
                doc = {"resourceType": "Patient", "gender": "male",
                       "name": [{"family": value, "given": ["Copy"]}]}
                out["value"], out["doc"], out["stage0"] = value, doc, "write"
                write_file(op, path, (json.dumps(doc) + "\n").encode(), create=True)
            elif kind == "delete":
                op.call("unlink", os.unlink, path)
            elif kind == "cat":
                raw = read_file(op, path)
                if not raw:
                    raise EOFError
                json.loads(raw)
            elif kind == "ls":
                op.call("listdir", os.listdir, d)
            elif kind == "search":
                sd = os.path.join(d, "..", cfg["search"])
                read_file(op, os.path.join(sd, "all.ndjson"))
            elif kind == "stat":
                op.call("stat", os.stat, path)
        except OSError as e:
            out["errno"] = e.errno or -1
            out["name"] = errno.errorcode.get(e.errno, str(e.errno))
            out["stage"] = op.stage
        except EOFError:
            out["errno"] = -3
            out["name"] = "EMPTY"
            out["stage"] = op.stage
        except ValueError as e:
            # A read that returned bytes that are not the resource: a finding.
            out["errno"] = -2
            out["name"] = "BADDATA"
            out["stage"] = f"{op.stage}: {e}"[:200]
        out["end"] = time.monotonic()  # CLOCK_MONOTONIC: comparable across the workers
        out["ms"] = round(op.max_ms, 1)
        out["syscall"] = op.slowest
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()
        if out["errno"] == errno.ENOTCONN:
            break  # the daemon is gone: the parent reports it


if __name__ == "__main__":
    main()
