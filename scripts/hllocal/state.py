"""Data stores, jobs, tags and idempotency tokens, with the service's semantics.

Statuses that change with time (CREATING -> ACTIVE, DELETING -> DELETED,
SUBMITTED -> IN_PROGRESS) are derived from stored timestamps when read, so a
restarted server resumes them without timers.  Job completion does real work
(reading or writing NDJSON), done by a worker thread (see jobs.py) at the
job's due time; a restart re-queues every job that was not finished.
"""
import base64
import bisect
import hashlib
import heapq
import json
import os
import threading
import time
import uuid

from . import fhirstore, jobs
from .journal import Journal

TERMINAL = ("COMPLETED", "COMPLETED_WITH_ERRORS", "FAILED", "CANCEL_COMPLETED", "CANCEL_FAILED")
DEFAULT_MAX_RESULTS = 100
# Up to this many live records every mutation rewrites state.json atomically;
# beyond it mutations are appended to state.journal (O(change), not O(state)).
SMALL_STATE = 2000
MAX_TAGS = 50  # the AWS per-resource tag limit


class ApiError(Exception):
    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def now_ms():
    return round(time.time(), 3)


def new_id():
    return uuid.uuid4().hex


def _encode_token(d):
    raw = json.dumps(d, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(tok):
    try:
        pad = "=" * (-len(tok) % 4)
        d = json.loads(base64.urlsafe_b64decode(tok + pad))
        if not isinstance(d, dict):
            raise ValueError
        return d
    except (ValueError, TypeError):
        raise ApiError("ValidationException", "Invalid pagination token.")


def _filter_hash(obj):
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


class State:
    def __init__(self, directory, region, account, create_delay=2.0, delete_delay=2.0,
                 job_delay=2.0, synthea_patients=10, seed=0, export_max_lines=100000):
        self.dir = directory
        self.export_max_lines = export_max_lines
        # The server's own URL once it listens: stores' FHIR endpoints live under it.
        self.base_url = None
        self.region = region
        self.account = account
        self.create_delay = create_delay
        self.delete_delay = delete_delay
        self.job_delay = job_delay
        self.synthea_patients = synthea_patients
        self.synthea_seed = seed
        self.lock = threading.RLock()
        self.stores = {}          # id -> store record
        self.order = []           # sorted [(created, id)] for listing
        self.arns = {}            # arn -> id
        self.jobs = {}            # job id -> job record
        self.store_jobs = {}      # store id -> {"import": [job ids], "export": [job ids]}
        self.tokens = {}          # "Op|token" -> token record
        self.journal = Journal(directory)
        self._heap = []
        self._cv = threading.Condition(self.lock)
        self._stopping = False
        os.makedirs(os.path.join(directory, "s3"), exist_ok=True)
        self.fhir = fhirstore.Registry(directory)
        self._load()
        self._worker = threading.Thread(target=self._run_worker, name="jobs", daemon=True)
        self._worker.start()

    # ---------- persistence ----------

    def _apply(self, rec):
        t = rec.get("t")
        if t == "s":
            sid = rec["id"]
            if sid not in self.stores:
                bisect.insort(self.order, (rec["created"], sid))
                self.store_jobs[sid] = {"import": [], "export": []}
            self.stores[sid] = rec
            self.arns[self.arn(sid)] = sid
        elif t == "j":
            jid = rec["id"]
            if jid not in self.jobs:
                self.store_jobs.setdefault(rec["store"], {"import": [], "export": []})[rec["kind"]].append(jid)
            self.jobs[jid] = rec
        elif t == "k":
            self.tokens[rec["key"]] = rec

    def _load(self):
        for rec in self.journal.load():
            self._apply(rec)
        for sj in self.store_jobs.values():
            for k in ("import", "export"):
                sj[k].sort(key=lambda j: (self.jobs[j]["submit"], j))
        promoted = []
        for sid in self.stores:
            nxt = self._promote(sid, now_ms())
            if nxt:
                promoted.append(nxt)
        if promoted:  # a crash between a job's end and its successor's start
            self._commit(promoted)
        for job in self.jobs.values():
            if job["status"] not in TERMINAL and job["status"] != "QUEUED" and not job.get("fixed"):
                heapq.heappush(self._heap, (job["due"], job["id"]))

    def _commit(self, records):
        """Applies records in memory and makes them durable. Caller holds the lock."""
        for r in records:
            self._apply(r)
        live = len(self.stores) + len(self.jobs) + len(self.tokens)
        if live <= SMALL_STATE:
            # Small state: rewrite state.json itself (cheap, and easy to inspect).
            self.journal.snapshot(self.all_records())
            return
        self.journal.append(records)
        if self.journal.records_in_journal > 2 * live + 1000:
            self.compact()

    def all_records(self):
        return list(self.stores.values()) + list(self.jobs.values()) + list(self.tokens.values())

    def compact(self):
        with self.lock:
            self.journal.snapshot(self.all_records())

    def close(self):
        with self.lock:
            self._stopping = True
            self._cv.notify_all()
            live = len(self.stores) + len(self.jobs) + len(self.tokens)
            if self.journal.records_in_journal and live <= 20000:
                self.compact()  # bounded cost at shutdown; bigger states replay the journal
            self.journal.close()
        self.fhir.close()

    # ---------- derived views ----------

    def arn(self, sid):
        return "arn:aws:healthlake:%s:%s:datastore/fhir/%s" % (self.region, self.account, sid)

    def endpoint(self, sid):
        if self.base_url:
            return "%s/datastore/%s/r4/" % (self.base_url, sid)
        return "https://healthlake.%s.amazonaws.com/datastore/%s/r4/" % (self.region, sid)

    def store_status(self, s, now=None):
        now = time.time() if now is None else now
        if s.get("deleted_at") is not None:
            return "DELETED" if now >= s["gone_at"] else "DELETING"
        if s.get("fixed"):
            return s["fixed"]
        return "ACTIVE" if now >= s["ready_at"] else "CREATING"

    def store_props(self, s, now=None):
        p = {"DatastoreId": s["id"], "DatastoreArn": self.arn(s["id"])}
        if s.get("name") is not None:
            p["DatastoreName"] = s["name"]
        st = self.store_status(s, now)
        p["DatastoreStatus"] = st
        p["CreatedAt"] = s["created"]
        p["DatastoreTypeVersion"] = s.get("type", "R4")
        p["DatastoreEndpoint"] = self.endpoint(s["id"])
        p["SseConfiguration"] = s.get("sse") or {"KmsEncryptionConfig": {"CmkType": "AWS_OWNED_KMS_KEY"}}
        if s.get("preload"):
            p["PreloadDataConfig"] = s["preload"]
        p["IdentityProviderConfiguration"] = s.get("idp") or {
            "AuthorizationStrategy": "AWS_AUTH", "FineGrainedAuthorizationEnabled": False}
        if st == "CREATE_FAILED":
            p["ErrorCause"] = {"ErrorMessage": s.get("error") or "Data store creation failed",
                               "ErrorCategory": "NON_RETRYABLE_ERROR"}
        return p

    def job_status(self, j, now=None):
        st = j["status"]
        if st in TERMINAL or st == "QUEUED" or j.get("fixed"):
            return st
        now = time.time() if now is None else now
        start = j.get("start", j["submit"])
        if now >= start + 0.25 * (j["due"] - start):
            return "IN_PROGRESS"
        return "SUBMITTED"

    def job_props(self, j, now=None):
        p = {"JobId": j["id"]}
        if j.get("name") is not None:
            p["JobName"] = j["name"]
        p["JobStatus"] = self.job_status(j, now)
        p["SubmitTime"] = j["submit"]
        if j.get("end") is not None:
            p["EndTime"] = j["end"]
        p["DatastoreId"] = j["store"]
        if j["kind"] == "import":
            p["InputDataConfig"] = j["input"]
            if j.get("output"):
                p["JobOutputDataConfig"] = j["output"]
            if j.get("progress"):
                p["JobProgressReport"] = j["progress"]
        else:
            p["OutputDataConfig"] = j["output"]
        if j.get("role"):
            p["DataAccessRoleArn"] = j["role"]
        if j.get("message"):
            p["Message"] = j["message"]
        if j["kind"] == "import" and j.get("level"):
            p["ValidationLevel"] = j["level"]
        return p

    def _store(self, sid):
        s = self.stores.get(sid)
        if s is None:
            raise ApiError("ResourceNotFoundException", "Datastore with id %s does not exist" % sid)
        return s

    def pending_jobs(self, sid):
        """The store's unfinished jobs of both kinds (seeded fixed ones aside), oldest first."""
        sj = self.store_jobs.get(sid, {})
        out = [self.jobs[x] for k in ("import", "export") for x in sj.get(k, [])]
        out = [j for j in out if j["status"] not in TERMINAL and not j.get("fixed")]
        out.sort(key=lambda j: (j["submit"], j["id"]))
        return out

    def _promote(self, sid, now):
        """Starts the oldest QUEUED job of a store when none runs. Returns its record or None.
        (The service runs one import or export job at a time per data store, FIFO.)"""
        pend = self.pending_jobs(sid)
        if not pend or any(j["status"] != "QUEUED" for j in pend):
            return None
        j = pend[0]
        return dict(j, status="SUBMITTED", start=now, due=now + self.job_delay)

    # ---------- idempotency ----------

    def _token(self, op, req):
        tok = req.get("ClientToken")
        if tok is None:
            return None, None
        key = op + "|" + tok
        return key, self.tokens.get(key)

    # ---------- operations ----------

    def create_datastore(self, req):
        with self.lock:
            key, prev = self._token("CreateFHIRDatastore", req)
            if prev is not None:
                return prev["resp"]
            tags = req.get("Tags") or []
            self._check_tag_keys(t["Key"] for t in tags)
            if len({t["Key"] for t in tags}) > MAX_TAGS:
                raise ApiError("ValidationException", "A resource can have at most %d tags" % MAX_TAGS)
            sid = new_id()
            now = now_ms()
            rec = {"t": "s", "id": sid, "created": now, "ready_at": now + self.create_delay,
                   "type": req["DatastoreTypeVersion"], "deleted_at": None, "gone_at": None,
                   "tags": {t["Key"]: t["Value"] for t in req.get("Tags") or []}}
            if req.get("DatastoreName") is not None:
                rec["name"] = req["DatastoreName"]
            for src, dst in (("SseConfiguration", "sse"), ("PreloadDataConfig", "preload"),
                             ("IdentityProviderConfiguration", "idp")):
                if req.get(src) is not None:
                    rec[dst] = req[src]
            resp = {"DatastoreId": sid, "DatastoreArn": self.arn(sid), "DatastoreStatus": "CREATING",
                    "DatastoreEndpoint": self.endpoint(sid)}
            if rec.get("preload"):
                jobs.write_synthea(self.fhir, sid, self.synthea_patients, self.synthea_seed)
            recs = [rec]
            if key:
                recs.append({"t": "k", "key": key, "resp": resp})
            self._commit(recs)
            return resp

    def delete_datastore(self, req):
        with self.lock:
            s = self._store(req["DatastoreId"])
            st = self.store_status(s)
            if st != "ACTIVE":
                raise ApiError("ConflictException",
                               "Datastore %s is in %s state and cannot be deleted" % (s["id"], st))
            now = now_ms()
            rec = dict(s, deleted_at=now, gone_at=now + self.delete_delay)
            self._commit([rec])
            return {"DatastoreId": s["id"], "DatastoreArn": self.arn(s["id"]),
                    "DatastoreStatus": "DELETING", "DatastoreEndpoint": self.endpoint(s["id"])}

    def describe_datastore(self, req):
        with self.lock:
            return {"DatastoreProperties": self.store_props(self._store(req["DatastoreId"]))}

    def list_datastores(self, req):
        flt = req.get("Filter") or {}
        maxr = req.get("MaxResults") or DEFAULT_MAX_RESULTS
        fh = _filter_hash(flt)
        with self.lock:
            start = 0
            if req.get("NextToken"):
                d = _decode_token(req["NextToken"])
                if d.get("f") != fh or not isinstance(d.get("k"), list) or len(d["k"]) != 2:
                    raise ApiError("ValidationException", "Invalid pagination token.")
                start = bisect.bisect_right(self.order, (d["k"][0], d["k"][1]))
            now = time.time()
            out, last, more = [], None, False
            name = flt.get("DatastoreName")
            status = flt.get("DatastoreStatus")
            before = flt.get("CreatedBefore")
            after = flt.get("CreatedAfter")
            for i in range(start, len(self.order)):
                created, sid = self.order[i]
                s = self.stores[sid]
                if name is not None and s.get("name") != name:
                    continue
                if before is not None and not created < before:
                    continue
                if after is not None and not created > after:
                    continue
                if status is not None and self.store_status(s, now) != status:
                    continue
                if len(out) == maxr:
                    more = True
                    break
                out.append(self.store_props(s, now))
                last = (created, sid)
            resp = {"DatastorePropertiesList": out}
            if more:
                resp["NextToken"] = _encode_token({"k": list(last), "f": fh})
            return resp

    def _start_job(self, op, kind, req):
        with self.lock:
            key, prev = self._token(op, req)
            if prev is not None:
                return prev["resp"]
            s = self._store(req["DatastoreId"])
            st = self.store_status(s)
            if st != "ACTIVE":
                raise ApiError("ValidationException",
                               "Datastore %s is not in ACTIVE state: %s" % (s["id"], st))
            jid = new_id()
            now = now_ms()
            queued = bool(self.pending_jobs(s["id"]))
            rec = {"t": "j", "kind": kind, "store": s["id"], "id": jid, "submit": now,
                   "start": None if queued else now, "due": None if queued else now + self.job_delay,
                   "status": "QUEUED" if queued else "SUBMITTED", "end": None,
                   "role": req["DataAccessRoleArn"]}
            if req.get("JobName") is not None:
                rec["name"] = req["JobName"]
            if kind == "import":
                rec["input"] = req["InputDataConfig"]
                rec["output"] = req["JobOutputDataConfig"]
                if req.get("ValidationLevel"):
                    rec["level"] = req["ValidationLevel"]
            else:
                rec["output"] = req["OutputDataConfig"]
            resp = {"JobId": jid, "JobStatus": "SUBMITTED", "DatastoreId": s["id"]}
            recs = [rec]
            if key:
                recs.append({"t": "k", "key": key, "resp": resp})
            self._commit(recs)
            if queued:
                pass  # started when the jobs before it are done
            elif self.job_delay <= 0:
                # No delay: do the work before answering so the next Describe sees the result.
                self._finish_job(jid)
            else:
                heapq.heappush(self._heap, (rec["due"], jid))
                self._cv.notify_all()
            return resp

    def start_import(self, req):
        return self._start_job("StartFHIRImportJob", "import", req)

    def start_export(self, req):
        return self._start_job("StartFHIRExportJob", "export", req)

    def _describe_job(self, kind, req):
        with self.lock:
            self._store(req["DatastoreId"])
            j = self.jobs.get(req["JobId"])
            if j is None or j["store"] != req["DatastoreId"] or j["kind"] != kind:
                raise ApiError("ResourceNotFoundException",
                               "%s job %s does not exist in data store %s"
                               % (kind.capitalize(), req["JobId"], req["DatastoreId"]))
            return self.job_props(j)

    def describe_import(self, req):
        return {"ImportJobProperties": self._describe_job("import", req)}

    def describe_export(self, req):
        return {"ExportJobProperties": self._describe_job("export", req)}

    def _list_jobs(self, kind, req):
        maxr = req.get("MaxResults") or DEFAULT_MAX_RESULTS
        flt = {k: req.get(k) for k in ("DatastoreId", "JobName", "JobStatus", "SubmittedBefore",
                                       "SubmittedAfter")}
        fh = _filter_hash(flt)
        with self.lock:
            self._store(req["DatastoreId"])
            ids = self.store_jobs.get(req["DatastoreId"], {}).get(kind, [])
            keys = [(self.jobs[j]["submit"], j) for j in ids]
            end = len(keys)  # newest first: walk backwards from end
            if req.get("NextToken"):
                d = _decode_token(req["NextToken"])
                if d.get("f") != fh or not isinstance(d.get("k"), list) or len(d["k"]) != 2:
                    raise ApiError("ValidationException", "Invalid pagination token.")
                end = bisect.bisect_left(keys, (d["k"][0], d["k"][1]))
            now = time.time()
            out, last, more = [], None, False
            for i in range(end - 1, -1, -1):
                j = self.jobs[keys[i][1]]
                if flt["JobName"] is not None and j.get("name") != flt["JobName"]:
                    continue
                if flt["SubmittedBefore"] is not None and not j["submit"] < flt["SubmittedBefore"]:
                    continue
                if flt["SubmittedAfter"] is not None and not j["submit"] > flt["SubmittedAfter"]:
                    continue
                if flt["JobStatus"] is not None and self.job_status(j, now) != flt["JobStatus"]:
                    continue
                if len(out) == maxr:
                    more = True
                    break
                out.append(self.job_props(j, now))
                last = keys[i]
            resp = {("ImportJobPropertiesList" if kind == "import" else "ExportJobPropertiesList"): out}
            if more:
                resp["NextToken"] = _encode_token({"k": list(last), "f": fh})
            return resp

    def first_page_token(self, op, req):
        """A valid NextToken that leads back to the first page (hostile next_token_loop)."""
        if op == "ListFHIRDatastores":
            return _encode_token({"k": [-1, ""], "f": _filter_hash(req.get("Filter") or {})})
        flt = {k: req.get(k) for k in ("DatastoreId", "JobName", "JobStatus", "SubmittedBefore",
                                       "SubmittedAfter")}
        return _encode_token({"k": [1e18, ""], "f": _filter_hash(flt)})

    def list_imports(self, req):
        return self._list_jobs("import", req)

    def list_exports(self, req):
        return self._list_jobs("export", req)

    def _by_arn(self, arn):
        sid = self.arns.get(arn)
        if sid is None:
            raise ApiError("ResourceNotFoundException", "Resource %s does not exist" % arn)
        return self.stores[sid]

    @staticmethod
    def _check_tag_keys(keys):
        for k in keys:
            if k.lower().startswith("aws:"):
                raise ApiError("ValidationException",
                               "Tag keys starting with 'aws:' are reserved for AWS use: %s" % k)

    def tag(self, req):
        with self.lock:
            s = self._by_arn(req["ResourceARN"])
            self._check_tag_keys(t["Key"] for t in req["Tags"])
            tags = dict(s.get("tags") or {})
            for t in req["Tags"]:
                tags[t["Key"]] = t["Value"]
            if len(tags) > MAX_TAGS:
                raise ApiError("ValidationException",
                               "A resource can have at most %d tags; this request would give it %d"
                               % (MAX_TAGS, len(tags)))
            self._commit([dict(s, tags=tags)])
            return {}

    def untag(self, req):
        with self.lock:
            s = self._by_arn(req["ResourceARN"])
            tags = dict(s.get("tags") or {})
            for k in req["TagKeys"]:
                tags.pop(k, None)
            self._commit([dict(s, tags=tags)])
            return {}

    def list_tags(self, req):
        with self.lock:
            s = self._by_arn(req["ResourceARN"])
            return {"Tags": [{"Key": k, "Value": v} for k, v in (s.get("tags") or {}).items()]}

    # ---------- job worker ----------

    def _finish_job(self, jid):
        """Runs a job's work and records its terminal state."""
        with self.lock:
            j = dict(self.jobs[jid])
        if j["kind"] == "import":
            status, progress, message = jobs.run_import(self.dir, j, self.fhir)
        else:
            status, progress, message = jobs.run_export(self.dir, j, self.fhir, self.export_max_lines)
        with self.lock:
            now = now_ms()
            rec = dict(self.jobs[jid], status=status, end=max(now, j["submit"]))
            if progress is not None:
                rec["progress"] = progress
            if message:
                rec["message"] = jobs.clean_message(message)
            self._apply(rec)
            nxt = self._promote(j["store"], now)
            self._commit([rec] + ([nxt] if nxt else []))
            if nxt:
                heapq.heappush(self._heap, (nxt["due"], nxt["id"]))
                self._cv.notify_all()

    def _run_worker(self):
        while True:
            with self.lock:
                while not self._stopping and (not self._heap or self._heap[0][0] > time.time()):
                    timeout = None if not self._heap else max(0.0, self._heap[0][0] - time.time())
                    self._cv.wait(timeout)
                if self._stopping:
                    return
                _, jid = heapq.heappop(self._heap)
                j = self.jobs.get(jid)
                if j is None or j["status"] in TERMINAL:
                    continue
            try:
                self._finish_job(jid)
            except Exception as e:  # a job must never kill the worker
                with self.lock:
                    now = now_ms()
                    rec = dict(self.jobs[jid], status="FAILED", end=now,
                               message=jobs.clean_message("Internal error " + type(e).__name__))
                    self._apply(rec)
                    nxt = self._promote(rec["store"], now)
                    self._commit([rec] + ([nxt] if nxt else []))
                    if nxt:
                        heapq.heappush(self._heap, (nxt["due"], nxt["id"]))

    # ---------- admin ----------

    def seed(self, body):
        """Bulk creation without validation or delays (admin API)."""
        out, recs = [], []
        n_imp = int(body.get("import_jobs") or 0)
        n_exp = int(body.get("export_jobs") or 0)
        job_status = body.get("job_status") or "COMPLETED"
        specs = list(body.get("datastores") or [])
        count = int(body.get("count") or 0)
        prefix = body.get("name_prefix", "s")
        width = max(4, len(str(count - 1))) if count else 4
        for i in range(count):
            specs.append({"name": "%s%0*d" % (prefix, width, i)})
        now = now_ms()
        base = now - 0.001 * (len(specs) * (1 + n_imp + n_exp) + 1)
        tick = 0
        with self.lock:
            for spec in specs:
                sid = spec.get("id") or new_id()
                tick += 1
                created = round(base + 0.001 * tick, 3)
                status = spec.get("status", "ACTIVE")
                rec = {"t": "s", "id": sid, "created": created, "ready_at": created,
                       "type": "R4", "deleted_at": None, "gone_at": None,
                       "tags": dict(spec.get("tags") or {}), "fixed": None}
                if status in ("DELETING", "DELETED"):
                    rec["deleted_at"] = created
                    rec["gone_at"] = created if status == "DELETED" else float("1e12")
                elif status != "ACTIVE":
                    rec["fixed"] = status
                if spec.get("name") is not None:
                    rec["name"] = spec["name"]
                recs.append(rec)
                out.append({"id": sid, "name": spec.get("name"), "arn": self.arn(sid)})
                for kind, n in (("import", n_imp), ("export", n_exp)):
                    for k in range(n):
                        tick += 1
                        sub = round(base + 0.001 * tick, 3)
                        jrec = {"t": "j", "kind": kind, "store": sid, "id": new_id(),
                                "name": "%s-%d" % (kind, k),
                                "submit": sub, "due": sub, "status": job_status,
                                "end": sub if job_status in TERMINAL else None,
                                "role": "arn:aws:iam::%s:role/HealthLakeSeed" % self.account,
                                "output": {"S3Configuration": {"S3Uri": "s3://seed-bucket/out/",
                                                               "KmsKeyId": "alias/aws/s3"}},
                                "fixed": job_status not in TERMINAL}
                        if kind == "import":
                            jrec["input"] = {"S3Uri": "s3://seed-bucket/in/"}
                        recs.append(jrec)
            self._commit(recs)
        return {"datastores": out}

    def dump(self):
        with self.lock:
            now = time.time()
            out = []
            for _, sid in self.order:
                s = self.stores[sid]
                d = self.store_props(s, now)
                d["Tags"] = dict(s.get("tags") or {})
                sj = self.store_jobs.get(sid, {})
                d["ImportJobs"] = [self.job_props(self.jobs[j], now) for j in sj.get("import", [])]
                d["ExportJobs"] = [self.job_props(self.jobs[j], now) for j in sj.get("export", [])]
                out.append(d)
            return {"datastores": out}
