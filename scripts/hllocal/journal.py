"""Durable state storage: a snapshot (state.json) plus an append-only journal.

Every acknowledged mutation is appended to state.journal and fsync'ed before
the answer is sent, so the cost of a write is the size of the records it
changes, not the size of the whole state.  Records are whole entities
(a store, a job, an idempotency token) and replay is an upsert, so replaying
a record twice is harmless.  When the journal grows past twice the live
state, it is folded into a new snapshot written atomically (temp file, fsync,
rename, fsync of the directory) and truncated; the same happens at shutdown.
A torn last line (a crash in the middle of an append) is ignored on load.
"""
import json
import os
import threading


class Journal:
    def __init__(self, directory):
        self.dir = directory
        self.snapshot_path = os.path.join(directory, "state.json")
        self.journal_path = os.path.join(directory, "state.journal")
        self.lock = threading.Lock()
        self.records_in_journal = 0
        self._f = None

    def load(self):
        """Returns the list of records: snapshot first, then the journal in order."""
        records = []
        if os.path.exists(self.snapshot_path):
            with open(self.snapshot_path, encoding="utf-8") as f:
                snap = json.load(f)
            records.extend(snap.get("records", []))
        n = 0
        if os.path.exists(self.journal_path):
            with open(self.journal_path, "rb") as f:
                data = f.read()
            body = data.strip()
            if body:
                try:
                    # Fast path: one decode for the whole journal (no torn tail).
                    recs = json.loads(b"[" + body.replace(b"\n", b",") + b"]")
                    records.extend(recs)
                    self.records_in_journal = len(recs)
                    return records
                except ValueError:
                    pass
            good = 0
            for line in data.split(b"\n"):
                if not line.strip():
                    good += len(line) + 1
                    continue
                try:
                    rec = json.loads(line)
                except ValueError:
                    break  # torn tail: everything after it was never acknowledged
                records.append(rec)
                n += 1
                good += len(line) + 1
            if good < len(data):
                # Drop the torn tail so later appends start on a clean line.
                with open(self.journal_path, "r+b") as f:
                    f.truncate(min(good, len(data)))
                    f.flush()
                    os.fsync(f.fileno())
        self.records_in_journal = n
        return records

    def _open(self):
        if self._f is None:
            self._f = open(self.journal_path, "ab")
        return self._f

    def append(self, records):
        """Appends records durably (one write, one fsync)."""
        if not records:
            return
        data = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records).encode()
        with self.lock:
            f = self._open()
            f.write(data)
            f.flush()
            os.fdatasync(f.fileno())
            self.records_in_journal += len(records)

    def snapshot(self, records):
        """Writes all live records as the new snapshot and empties the journal."""
        tmp = self.snapshot_path + ".tmp"
        with self.lock:
            with open(tmp, "w", encoding="utf-8") as f:
                f.write('{"version": 1, "records": [\n')
                first = True
                for r in records:
                    if not first:
                        f.write(",\n")
                    f.write(json.dumps(r, separators=(",", ":")))
                    first = False
                f.write("\n]}\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.snapshot_path)
            dfd = os.open(self.dir, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
            if self.records_in_journal or (self._f is None and os.path.exists(self.journal_path)
                                           and os.path.getsize(self.journal_path)):
                if self._f is not None:
                    self._f.close()
                    self._f = None
                with open(self.journal_path, "wb") as f:
                    f.flush()
                    os.fsync(f.fileno())
            self.records_in_journal = 0

    def close(self):
        with self.lock:
            if self._f is not None:
                self._f.close()
                self._f = None
