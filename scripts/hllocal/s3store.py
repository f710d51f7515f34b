"""S3 objects kept as files: DIR/s3/<bucket>/<key>, the one mapping that the S3
API, imports and exports share.

A key is split on "/" and each segment becomes one path component.  Segments
that cannot be file names as they are (empty, ".", "..", or starting with "%",
the marker character) are stored as "%e" + their percent-encoding, so no key
ever leaves its bucket directory and every key lists back exactly.  Two more
names are reserved:
- "%self": the object whose key is the path of a directory (S3 has both "a"
  and "a/b"; the second makes "a" a directory, so "a"'s bytes move there);
- "%tmp*": files being written (PutObject, jobs); never listed.
Ordinary keys ("out/123-FHIR_EXPORT-456/Patient.ndjson") map to the same path
as before this module existed.
"""
import bisect
import calendar
import collections
import hashlib
import heapq
import os
import time
import threading
import urllib.parse
import uuid

SELF = "%self"
TMP = "%tmp"
ESC = "%e"
MAX_KEY = 1024       # bytes, as S3
MAX_NAME = 255       # bytes of one path component (Linux)
MD5_LIMIT = 64 * 1024 * 1024  # larger objects get a stable non-MD5 ETag
_CHUNK = 1024 * 1024


class KeyError_(ValueError):
    """A key this store cannot hold (S3 code in .code)."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def encode_segment(seg):
    if seg in ("", ".", "..") or seg.startswith("%") or "\x00" in seg:
        name = ESC + urllib.parse.quote(seg, safe="").replace(".", "%2E")
    else:
        name = seg
    if len(name.encode("utf-8", "surrogateescape")) > MAX_NAME:
        raise KeyError_("KeyTooLongError",
                        "healthlake-local stores each '/'-separated part of a key as a file name, "
                        "at most %d bytes once escaped" % MAX_NAME)
    return name


def decode_segment(name):
    """The key segment of a directory entry; None for internal files."""
    if name.startswith(ESC):
        return urllib.parse.unquote(name[len(ESC):])
    if name.startswith("%"):
        return None
    return name


def check_key(key):
    if not key:
        raise KeyError_("InvalidArgument", "An object key must not be empty")
    if len(key.encode("utf-8", "surrogateescape")) > MAX_KEY:
        raise KeyError_("KeyTooLongError", "Your key is too long")


def bucket_dir(directory, bucket):
    return os.path.join(directory, "s3", bucket)


def valid_bucket_name(bucket):
    if not 3 <= len(bucket) <= 63 or bucket.startswith((".", "-")) or ".." in bucket:
        return False
    return all(c.islower() or c.isdigit() or c in ".-" for c in bucket) and bucket.isascii()


def key_path(root, key):
    """Local file of `key` under bucket directory `root` (existing or to be written).
    A key whose path is a directory lives in that directory's %self file."""
    check_key(key)
    segs = [encode_segment(s) for s in key.split("/")]
    path = os.path.join(root, *segs)
    if os.path.isdir(path):
        return os.path.join(path, SELF)
    return path


def _dir_for_prefix(root, prefix):
    """The deepest directory all keys starting with `prefix` are under."""
    segs = prefix.split("/")[:-1]
    try:
        return os.path.join(root, *[encode_segment(s) for s in segs]), "/".join(segs) + ("/" if segs else "")
    except KeyError_:
        return None, None


def _scan(d, record):
    """os.scandir(d) as a list, noting d's identity and mtime (taken before the
    read, so a later change always shows) in `record` when given."""
    if record is not None:
        st = os.stat(d)
        record.append((d, st.st_ino, st.st_mtime_ns))
    with os.scandir(d) as it:
        return list(it)


def _has_object(d, record):
    try:
        entries = _scan(d, record)
    except OSError:  # removed meanwhile
        return False
    for e in entries:
        if e.is_dir(follow_symlinks=False):
            if decode_segment(e.name) is not None and _has_object(e.path, record):
                return True
        elif e.name == SELF or decode_segment(e.name) is not None:
            return True
    return False


def _walk(root, prefix, sa, collapse, record):
    top, top_key = _dir_for_prefix(root, prefix)
    out = []
    if top is None or not os.path.isdir(top):
        return out
    stack = [(top, top_key)]
    while stack:
        d, kp = stack.pop()
        try:
            entries = _scan(d, record)
        except OSError:
            continue
        for e in entries:
            name = e.name
            if name[0] == "%":
                if name == SELF:
                    k = kp[:-1]
                    if kp and k.startswith(prefix) and (sa is None or k > sa):
                        out.append((k, e.path))
                    continue
                seg = decode_segment(name)
                if seg is None:
                    continue
                k = kp + seg
            else:
                k = kp + name
            if e.is_dir(follow_symlinks=False):
                kd = k + "/"
                if sa is not None and kd < sa and not sa.startswith(kd):
                    # Every key in there sorts before start_after; only its %self may not.
                    if k.startswith(prefix) and k > sa and os.path.isfile(os.path.join(e.path, SELF)):
                        out.append((k, os.path.join(e.path, SELF)))
                    continue
                if collapse and kd.startswith(prefix):
                    if os.path.isfile(os.path.join(e.path, SELF)) and (sa is None or k > sa):
                        out.append((k, os.path.join(e.path, SELF)))
                    if (sa is None or kd > sa) and _has_object(e.path, record):
                        out.append((kd, None))
                elif kd.startswith(prefix) or prefix.startswith(kd):
                    stack.append((e.path, kd))
            elif (sa is None or k > sa) and k.startswith(prefix):
                out.append((k, e.path))
    return out


class ListCache:
    """Whole sorted listings, reused by the next pages while no directory the
    listing read has changed (one stat per directory instead of a walk).  A
    listing is kept only when every such directory's mtime was over a second old
    when read: a change in the same timestamp tick could not be told apart."""

    STABLE = 1.0

    def __init__(self, size=8):
        self.lock = threading.Lock()
        self.entries = collections.OrderedDict()
        self.size = size

    def get(self, key):
        with self.lock:
            hit = self.entries.get(key)
            if hit is not None:
                self.entries.move_to_end(key)
        if hit is None:
            return None
        dirs, listing = hit
        for d, ino, mtime in dirs:
            try:
                st = os.stat(d)
            except OSError:
                return None
            if st.st_ino != ino or st.st_mtime_ns != mtime:
                with self.lock:
                    self.entries.pop(key, None)
                return None
        return listing

    def put(self, key, dirs, listing):
        newest = max((m for _, _, m in dirs), default=0)
        if newest / 1e9 > time.time() - self.STABLE:
            return
        with self.lock:
            self.entries[key] = (dirs, listing)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)


def list_keys(root, prefix="", start_after=None, collapse=False, limit=None, cache=None):
    """Sorted keys under bucket dir `root` that start with `prefix` and sort after
    `start_after`: [(key, local path)], the first `limit` of them.  With collapse
    (a "/" delimiter), a directory below the prefix is one entry ("<key>/", None)
    when it holds any object, and is not walked.  With a ListCache, later pages
    of the same listing cost a lookup.

    S3 orders keys by their UTF-8 bytes; for str of Unicode scalar values code
    point order is the same, so keys compare as str (no encoding per key)."""
    sa = start_after or None
    if cache is None:
        out = _walk(root, prefix, sa, collapse, None)
        if limit is not None and limit < len(out):
            return heapq.nsmallest(limit, out)
        out.sort()
        return out
    ckey = (root, prefix, collapse)
    listing = cache.get(ckey)
    if listing is None:
        dirs = []
        pairs = sorted(_walk(root, prefix, None, collapse, dirs))
        listing = ([k for k, _ in pairs], pairs)
        cache.put(ckey, dirs, listing)
    keys, pairs = listing
    i = bisect.bisect_right(keys, sa) if sa is not None else 0
    return pairs[i:i + limit] if limit is not None else pairs[i:]


def tmp_name(path):
    """A temp file next to `path`, hidden from listings."""
    return os.path.join(os.path.dirname(path), "%s.%s" % (TMP, uuid.uuid4().hex))


def _make_parents(root, key):
    """Creates the directories of `key`'s path; a file in the way (an object whose
    key is a prefix of this one) moves into the new directory as %self."""
    segs = [encode_segment(s) for s in key.split("/")]
    d = root
    for s in segs[:-1]:
        d = os.path.join(d, s)
        if os.path.isfile(d):
            t = tmp_name(d)
            os.rename(d, t)
            os.mkdir(d)
            os.rename(t, os.path.join(d, SELF))
        else:
            os.makedirs(d, exist_ok=True)
    path = os.path.join(d, segs[-1])
    return os.path.join(path, SELF) if os.path.isdir(path) else path


_write_lock = threading.Lock()  # parent directory moves are not atomic; serialise them


def commit(root, key, tmp):
    """Moves a finished temp file into place as `key`; returns the final path."""
    with _write_lock:
        path = _make_parents(root, key)
        os.replace(tmp, path)
    return path


def start_write(root, key):
    """A temp file path in `root` for a new object (moved by commit)."""
    check_key(key)
    [encode_segment(s) for s in key.split("/")]  # reject bad keys before reading a body
    os.makedirs(root, exist_ok=True)
    return os.path.join(root, "%s.%s" % (TMP, uuid.uuid4().hex))


def delete(root, key):
    """Removes `key`; False when it did not exist.  Empty directories go too."""
    with _write_lock:
        try:
            path = key_path(root, key)
        except KeyError_:
            return False
        if not os.path.isfile(path):
            return False
        os.unlink(path)
        d = os.path.dirname(path)
        while d != root and d.startswith(root + os.sep):
            try:
                os.rmdir(d)
            except OSError:
                break
            d = os.path.dirname(d)
    return True


class Etags:
    """ETags: the quoted hex MD5 of the content for objects up to MD5_LIMIT,
    computed once per (inode, size, mtime) and cached; larger objects get
    "<md5 of inode:size:mtime_ns>-1", stable while the file does not change
    (the "-" tells clients it is not a content MD5, as for multipart objects)."""

    def __init__(self, limit=100000):
        self.lock = threading.Lock()
        self.cache = {}
        self.limit = limit

    def of_fd(self, fd, st):
        sig = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        if st.st_size > MD5_LIMIT:
            return '"%s-1"' % hashlib.md5(("%d:%d:%d:%d" % sig).encode()).hexdigest()
        with self.lock:
            tag = self.cache.get(sig)
        if tag is None:
            h = hashlib.md5()
            off = 0
            while off < st.st_size:
                b = os.pread(fd, _CHUNK, off)
                if not b:
                    break
                h.update(b)
                off += len(b)
            tag = '"%s"' % h.hexdigest()
            self.remember(st, tag)
        return tag

    def remember(self, st, tag):
        sig = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        if st.st_size > MD5_LIMIT:
            return
        with self.lock:
            if len(self.cache) >= self.limit:
                self.cache.clear()
            self.cache[sig] = tag

    def of_path(self, path):
        fd = os.open(path, os.O_RDONLY)
        try:
            return self.of_fd(fd, os.fstat(fd))
        finally:
            os.close(fd)


def iso_time(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % int((t % 1) * 1000)


def http_time(t):
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(t))


def parse_http_time(v):
    try:
        return calendar.timegm(time.strptime(v.strip(), "%a, %d %b %Y %H:%M:%S GMT"))
    except ValueError:
        return None
