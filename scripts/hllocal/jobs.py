"""Import/export job work and the SYNTHEA-like preload, against S3 kept as files.

s3://bucket/key is DIR/s3/bucket/key, through s3store's key mapping (shared
with the S3 API, so what a job writes is what ListObjectsV2 lists).  A data store's FHIR resources live in
DIR/resources/<store-id>.ndjson (append-only; the last version of a
resourceType/id wins).  Job messages only use characters the model's Message
pattern allows (letters, spaces, digits and _.:/=+-%@).
"""
import json
import os
import random
import time
import unicodedata
import uuid

from . import s3store

_MSG_EXTRA = frozenset("_.:/=+-%@")


def clean_message(text):
    """Fits a job Message to the model's pattern ([\\p{L}\\p{Z}\\p{N}_.:/=+\\-%@]*, 1..2048)."""
    out = "".join(c if c in _MSG_EXTRA or unicodedata.category(c)[0] in "LZN" else "_" for c in text)
    return out[:2048] or "Error"


def s3_path(directory, uri):
    """Maps s3://bucket/key to (bucket dir, key, local path); None when it escapes."""
    rest = uri[len("s3://"):]
    bucket, _, key = rest.partition("/")
    root = os.path.join(directory, "s3", bucket)
    local = os.path.normpath(os.path.join(root, key)) if key else root
    if not (local == root or local.startswith(root + os.sep)) or bucket in ("", ".", ".."):
        return None
    return root, key, local


def list_objects(root, prefix):
    """Keys under bucket dir `root` starting with `prefix` (S3 prefix semantics), sorted."""
    return [k for k, _ in s3store.list_keys(root, prefix)]


def resources_path(directory, store_id):
    return os.path.join(directory, "resources", store_id + ".ndjson")


def _append_durable(path, data):
    with open(path, "ab") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _write_file(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = s3store.tmp_name(path)  # never listed, so a reader does not see a half-written object
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def run_import(directory, job):
    """Returns (status, JobProgressReport, message)."""
    t0 = time.monotonic()
    uri = job["input"]["S3Uri"]
    mapped = s3_path(directory, uri)
    if mapped is None:
        return "FAILED", None, "Input S3 location %s is not accessible" % uri
    root, prefix, _ = mapped
    if not os.path.isdir(root):
        return "FAILED", None, "Input S3 bucket of %s does not exist" % uri
    keys = [k for k in list_objects(root, prefix) if k.endswith(".ndjson")]
    if not keys:
        return "FAILED", None, "No NDJSON objects found under input S3 location %s" % uri
    out_uri = job["output"]["S3Configuration"]["S3Uri"]
    out_mapped = s3_path(directory, out_uri)
    if out_mapped is None:
        return "FAILED", None, "Output S3 location %s is not accessible" % out_uri
    report_dir = os.path.join(out_mapped[2], "%s-FHIR_IMPORT-%s" % (job["store"], job["id"]))
    scanned = imported = bad = files_bad = files_ok = 0
    size = 0
    good_lines = []
    success, failure = [], []
    for key in keys:
        path = s3store.key_path(root, key)
        with open(path, "rb") as f:
            data = f.read()
        size += len(data)
        file_bad = file_good = 0
        for lineno, raw in enumerate(data.split(b"\n"), 1):
            if not raw.strip():
                continue
            scanned += 1
            err = None
            try:
                obj = json.loads(raw)
                if not isinstance(obj, dict):
                    err = "line is not a JSON object"
                elif not isinstance(obj.get("resourceType"), str) or not obj["resourceType"]:
                    err = "missing resourceType"
                elif not isinstance(obj.get("id"), str) or not obj["id"]:
                    err = "missing id"
            except ValueError as e:
                err = "invalid JSON: %s" % e
            if err:
                bad += 1
                file_bad += 1
                failure.append({"file": "s3://%s/%s" % (os.path.basename(root), key),
                                "line": lineno, "error": err})
            else:
                imported += 1
                file_good += 1
                good_lines.append(json.dumps(obj, separators=(",", ":")))
                success.append({"file": "s3://%s/%s" % (os.path.basename(root), key),
                                "line": lineno, "resourceType": obj["resourceType"], "id": obj["id"]})
        if file_bad:
            files_bad += 1
        if file_good:
            files_ok += 1
    if good_lines:
        _append_durable(resources_path(directory, job["store"]),
                        ("\n".join(good_lines) + "\n").encode())
    _write_file(os.path.join(report_dir, "SUCCESS", "SUCCESS.ndjson"),
                "".join(json.dumps(r) + "\n" for r in success).encode())
    _write_file(os.path.join(report_dir, "FAILURE", "FAILURE.ndjson"),
                "".join(json.dumps(r) + "\n" for r in failure).encode())
    report_uri = "%s/%s-FHIR_IMPORT-%s/" % (out_uri.rstrip("/"), job["store"], job["id"])
    manifest = {
        "inputDataConfig": {"s3Uri": uri},
        "outputDataConfig": {"s3Uri": report_uri,
                             "encryptionKeyID": job["output"]["S3Configuration"]["KmsKeyId"]},
        "successOutput": {"successOutputS3Uri": report_uri + "SUCCESS/"},
        "failureOutput": {"failureOutputS3Uri": report_uri + "FAILURE/"},
        "numberOfScannedFiles": len(keys),
        "numberOfFilesImported": files_ok,
        "sizeOfScannedFilesInMB": round(size / 1048576.0, 6),
        "sizeOfDataImportedSuccessfullyInMB": round(sum(len(l) + 1 for l in good_lines) / 1048576.0, 6),
        "numberOfResourcesScanned": scanned,
        "numberOfResourcesImportedSuccessfully": imported,
        "numberOfResourcesWithCustomerError": bad,
        "numberOfResourcesWithServerError": 0,
    }
    _write_file(os.path.join(report_dir, "manifest.json"), json.dumps(manifest, indent=2).encode())
    elapsed = max(time.monotonic() - t0, 0.001)
    progress = {
        "TotalNumberOfScannedFiles": len(keys),
        "TotalSizeOfScannedFilesInMB": round(size / 1048576.0, 6),
        "TotalNumberOfImportedFiles": files_ok,
        "TotalNumberOfResourcesScanned": scanned,
        "TotalNumberOfResourcesImported": imported,
        "TotalNumberOfResourcesWithCustomerError": bad,
        "TotalNumberOfFilesReadWithCustomerError": files_bad,
        "Throughput": round(scanned / elapsed, 3),
    }
    if bad:
        return ("COMPLETED_WITH_ERRORS", progress,
                "%d of %d resources failed validation. See the failure report in %s" % (
                    bad, scanned, out_uri))
    return "COMPLETED", progress, None


def store_resources(directory, store_id):
    """The store's current resources: {(type, id): json text}, last version wins, in first-seen order."""
    res = {}
    path = resources_path(directory, store_id)
    if not os.path.exists(path):
        return res
    with open(path, "rb") as f:
        for raw in f:
            raw = raw.strip()
            if not raw:
                continue
            try:
                obj = json.loads(raw)
            except ValueError:
                continue  # a torn tail after a crash
            res[(obj["resourceType"], obj["id"])] = raw.decode()
    return res


def run_export(directory, job):
    uri = job["output"]["S3Configuration"]["S3Uri"]
    mapped = s3_path(directory, uri)
    if mapped is None:
        return "FAILED", None, "Output S3 location %s is not accessible" % uri
    out_dir = os.path.join(mapped[2], "%s-FHIR_EXPORT-%s" % (job["store"], job["id"]))
    by_type = {}
    for (rtype, _), text in store_resources(directory, job["store"]).items():
        by_type.setdefault(rtype, []).append(text)
    os.makedirs(out_dir, exist_ok=True)
    for rtype, lines in sorted(by_type.items()):
        _write_file(os.path.join(out_dir, rtype + ".ndjson"), ("\n".join(lines) + "\n").encode())
    return "COMPLETED", None, None


_GIVEN = ["Ana", "Ben", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas",
          "Kemi", "Luca", "Mara", "Nils", "Olga", "Pavel", "Quinn", "Rosa", "Sami", "Tove"]
_FAMILY = ["Okafor", "Schmidt", "Tanaka", "Garcia", "Nowak", "Silva", "Haddad", "Larsen",
           "Moreau", "Kowalski", "Rossi", "Novak", "Jensen", "Costa", "Ibrahim"]
_CONDITIONS = [("44054006", "Diabetes mellitus type 2"), ("38341003", "Hypertensive disorder"),
               ("195662009", "Acute viral pharyngitis"), ("10509002", "Acute bronchitis"),
               ("40055000", "Chronic sinusitis"), ("162864005", "Body mass index 30+ - obesity")]
_OBS = [("8302-2", "Body Height", "cm", 150.0, 195.0), ("29463-7", "Body Weight", "kg", 45.0, 110.0),
        ("8867-4", "Heart rate", "/min", 55.0, 100.0), ("8310-5", "Body temperature", "Cel", 36.1, 38.2)]


def synthea_resources(n_patients, seed):
    """A deterministic Synthea-like cohort: FHIR R4 Patients with Encounters,
    Conditions and Observations (dicts)."""
    out = []
    for i in range(n_patients):
        rng = random.Random("%s-%d" % (seed, i))

        def uid():
            return str(uuid.UUID(int=rng.getrandbits(128), version=4))
        pid = uid()
        gender = rng.choice(["male", "female"])
        birth = "%04d-%02d-%02d" % (rng.randint(1940, 2015), rng.randint(1, 12), rng.randint(1, 28))
        out.append({
            "resourceType": "Patient", "id": pid,
            "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"]},
            "identifier": [{"system": "https://github.com/synthetichealth/synthea", "value": pid}],
            "name": [{"use": "official", "family": rng.choice(_FAMILY), "given": [rng.choice(_GIVEN)]}],
            "gender": gender, "birthDate": birth,
            "address": [{"city": rng.choice(["Springfield", "Riverton", "Lakeside", "Hillview"]),
                         "state": "MA", "country": "US"}],
        })
        for e in range(rng.randint(1, 3)):
            eid = uid()
            y, m, d = rng.randint(2016, 2025), rng.randint(1, 12), rng.randint(1, 28)
            start = "%04d-%02d-%02dT%02d:00:00Z" % (y, m, d, rng.randint(8, 16))
            end = start[:11] + "%02d:30:00Z" % (int(start[11:13]) + 1)
            out.append({
                "resourceType": "Encounter", "id": eid, "status": "finished",
                "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                "type": [{"coding": [{"system": "http://snomed.info/sct", "code": "185349003",
                                      "display": "Encounter for check up"}]}],
                "subject": {"reference": "Patient/" + pid},
                "period": {"start": start, "end": end},
            })
            code, display = rng.choice(_CONDITIONS)
            out.append({
                "resourceType": "Condition", "id": uid(),
                "clinicalStatus": {"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active"}]},
                "verificationStatus": {"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    "code": "confirmed"}]},
                "code": {"coding": [{"system": "http://snomed.info/sct", "code": code,
                                     "display": display}], "text": display},
                "subject": {"reference": "Patient/" + pid},
                "encounter": {"reference": "Encounter/" + eid},
                "onsetDateTime": start,
            })
            for loinc, name, unit, lo, hi in _OBS:
                out.append({
                    "resourceType": "Observation", "id": uid(), "status": "final",
                    "category": [{"coding": [{
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "vital-signs", "display": "vital-signs"}]}],
                    "code": {"coding": [{"system": "http://loinc.org", "code": loinc, "display": name}],
                             "text": name},
                    "subject": {"reference": "Patient/" + pid},
                    "encounter": {"reference": "Encounter/" + eid},
                    "effectiveDateTime": start,
                    "valueQuantity": {"value": round(rng.uniform(lo, hi), 1), "unit": unit,
                                      "system": "http://unitsofmeasure.org", "code": unit},
                })
    return out


def write_synthea(directory, store_id, n_patients, seed):
    res = synthea_resources(n_patients, seed)
    if res:
        _append_durable(resources_path(directory, store_id),
                        "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in res).encode())
