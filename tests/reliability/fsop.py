"""Runs filesystem operations in a child process and reports errno and time.

Tests drive the mount through this script rather than in-process so that a
hung FUSE request can never hang pytest itself: the parent kills the child
after a deadline and reports the operation that was in flight.

Input (stdin): a JSON list of operations, each a list [op, *args].
Output (stdout): one JSON line per operation, flushed as soon as it ends:
  {"i": n, "op": ..., "errno": 0|E, "name": "ETIMEDOUT"|"", "stage": ..., "ms": t, "out": ...}
Paths are strings; a path given as {"b64": "..."} is raw bytes (invalid UTF-8).
"""
import base64
import errno
import json
import os
import sys
import time


def _path(p):
    if isinstance(p, dict):
        return base64.b64decode(p["b64"])
    return p


def _data(d):
    if isinstance(d, dict):
        if "b64" in d:
            return base64.b64decode(d["b64"])
        if "repeat" in d:
            return d["repeat"].encode() * d["n"]
    return d.encode()


def do_write(path, chunks, flags="w", keep=None):
    """open + one write(2) per chunk + close; reports the first failing stage."""
    fl = {"w": os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
          "a": os.O_WRONLY | os.O_APPEND,
          "wo": os.O_WRONLY,
          "rw": os.O_RDWR,
          "excl": os.O_WRONLY | os.O_CREAT | os.O_EXCL}[flags]
    stage = "open"
    fd = os.open(_path(path), fl, 0o600)
    written = []
    try:
        for c in chunks:
            stage = "write"
            b = _data(c)
            n = os.write(fd, b)
            written.append(n)
    except OSError as e:
        e.stage = stage
        e.written = written
        try:
            os.close(fd)
        except OSError:
            pass
        raise
    stage = "close"
    try:
        os.close(fd)
    except OSError as e:
        e.stage = stage
        raise
    return written


def run(op, args):
    """Returns (out, stage) or raises OSError (with .stage when known)."""
    if op == "stat":
        st = os.stat(_path(args[0]))
        return {"mode": st.st_mode, "size": st.st_size}, "stat"
    if op == "lstat":
        st = os.lstat(_path(args[0]))
        return {"mode": st.st_mode, "size": st.st_size}, "lstat"
    if op == "listdir":
        names = os.listdir(_path(args[0]))
        if isinstance(names and names[0], bytes):
            names = [base64.b64encode(n).decode() for n in names]
        return sorted(names), "listdir"
    if op == "listdir_b":
        return [base64.b64encode(n).decode() for n in os.listdir(os.fsencode(_path(args[0])))], "listdir"
    if op == "read":
        with open(_path(args[0]), "rb") as f:
            data = f.read(args[1] if len(args) > 1 else -1)
        return data.decode("utf-8", "replace"), "read"
    if op == "readlink":
        return os.readlink(_path(args[0])), "readlink"
    if op == "write":
        return do_write(args[0], args[1], *(args[2:])), "close"
    if op == "open":
        fl = {"r": os.O_RDONLY, "w": os.O_WRONLY, "rw": os.O_RDWR, "a": os.O_WRONLY | os.O_APPEND,
              "creat": os.O_WRONLY | os.O_CREAT, "trunc": os.O_WRONLY | os.O_TRUNC}[args[1]]
        fd = os.open(_path(args[0]), fl, 0o600)
        os.close(fd)
        return None, "open"
    if op == "mkdir":
        os.mkdir(_path(args[0]), 0o700)
        return None, "mkdir"
    if op == "rmdir":
        os.rmdir(_path(args[0]))
        return None, "rmdir"
    if op == "unlink":
        os.unlink(_path(args[0]))
        return None, "unlink"
    if op == "rename":
        os.rename(_path(args[0]), _path(args[1]))
        return None, "rename"
    if op == "link":
        os.link(_path(args[0]), _path(args[1]))
        return None, "link"
    if op == "symlink":
        os.symlink(args[0], _path(args[1]))
        return None, "symlink"
    if op == "chmod":
        os.chmod(_path(args[0]), args[1], follow_symlinks=False if len(args) > 2 else True)
        return None, "chmod"
    if op == "chown":
        os.chown(_path(args[0]), args[1], args[2])
        return None, "chown"
    if op == "mknod":
        import stat as st
        kind = {"fifo": st.S_IFIFO, "reg": st.S_IFREG, "sock": st.S_IFSOCK}[args[1]]
        os.mknod(_path(args[0]), 0o600 | kind)
        return None, "mknod"
    if op == "setxattr":
        os.setxattr(_path(args[0]), args[1], args[2].encode())
        return None, "setxattr"
    if op == "truncate":
        os.truncate(_path(args[0]), args[1])
        return None, "truncate"
    if op == "utime":
        os.utime(_path(args[0]), (1, 1))
        return None, "utime"
    if op == "sleep":
        time.sleep(args[0])
        return None, "sleep"
    raise ValueError("unknown op " + op)


def main():
    ops = json.load(sys.stdin)
    mark = os.environ.get("FSOP_MARK") == "1"
    for i, spec in enumerate(ops):
        op, args = spec[0], spec[1:]
        if mark:
            # A cheap syscall the tracer sees, so the parent can tell which
            # syscalls belong to which operation.
            try:
                os.stat(f"/__fsop_marker_{i}")
            except OSError:
                pass
        t0 = time.monotonic()
        res = {"i": i, "op": op, "errno": 0, "name": "", "stage": "", "out": None,
               "t0": time.time()}
        try:
            res["out"], res["stage"] = run(op, args)
        except OSError as e:
            res["errno"] = e.errno or -1
            res["name"] = errno.errorcode.get(e.errno, str(e.errno))
            res["stage"] = getattr(e, "stage", op)
            res["out"] = getattr(e, "written", None)
        res["ms"] = round((time.monotonic() - t0) * 1000.0, 1)
        res["t1"] = time.time()
        sys.stdout.write(json.dumps(res) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
