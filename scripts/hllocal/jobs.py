"""Import/export job work and the SYNTHEA-like preload, against S3 kept as files.

s3://bucket/key is DIR/s3/bucket/key, through s3store's key mapping (shared
with the S3 API, so what a job writes is what ListObjectsV2 lists).  A data
store's FHIR resources live in its fhirstore.Store (DIR/resources/<store-id>.fhir):
imports add versions to it, exports write its current resources.  Job messages only use characters the model's Message
pattern allows (letters, spaces, digits and _.:/=+-%@).
"""
import json
import os
import random
import re
import time
import unicodedata
import uuid

from . import fhirstore, s3store


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


def _write_file(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = s3store.tmp_name(path)  # never listed, so a reader does not see a half-written object
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def run_import(directory, job, registry):
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
    store = registry.get(job["store"])
    scanned = imported = bad = files_bad = files_ok = imported_bytes = 0
    size = 0
    success, failure = [], []
    for key in keys:
        path = s3store.key_path(root, key)
        with open(path, "rb") as f:
            data = f.read()
        size += len(data)
        file_bad = file_good = 0
        batch = []
        for lineno, raw in enumerate(data.split(b"\n"), 1):
            if not raw.strip():
                continue
            scanned += 1
            err = None
            try:
                _, _, obj = fhirstore.parse_resource(raw)
                if not isinstance(obj.get("id"), str) or not obj["id"]:
                    err = "missing id"
                elif not fhirstore.ID_RE.match(obj["id"]):
                    err = "invalid id"
            except fhirstore.FhirError as e:
                err = e.diagnostics
            if err:
                bad += 1
                file_bad += 1
                failure.append({"file": "s3://%s/%s" % (os.path.basename(root), key),
                                "line": lineno, "error": err})
            else:
                imported += 1
                file_good += 1
                batch.append(raw)
                success.append({"file": "s3://%s/%s" % (os.path.basename(root), key),
                                "line": lineno, "resourceType": obj["resourceType"], "id": obj["id"]})
        if batch:
            store.load(batch)  # each line stored as sent, a new version when it exists
            imported_bytes += sum(len(l) + 1 for l in batch)
        if file_bad:
            files_bad += 1
        if file_good:
            files_ok += 1
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
        "sizeOfDataImportedSuccessfullyInMB": round(imported_bytes / 1048576.0, 6),
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


def run_export(directory, job, registry, max_lines=100000):
    """Writes the store's current resources, one <Type>.ndjson per type; a type
    with more than max_lines resources is split into <Type>.ndjson,
    <Type>-2.ndjson, ... of at most max_lines lines each."""
    uri = job["output"]["S3Configuration"]["S3Uri"]
    mapped = s3_path(directory, uri)
    if mapped is None:
        return "FAILED", None, "Output S3 location %s is not accessible" % uri
    out_dir = os.path.join(mapped[2], "%s-FHIR_EXPORT-%s" % (job["store"], job["id"]))
    os.makedirs(out_dir, exist_ok=True)
    for rtype, bodies in registry.get(job["store"]).export().items():
        for part, start in enumerate(range(0, len(bodies), max_lines), 1):
            name = rtype + (".ndjson" if part == 1 else "-%d.ndjson" % part)
            _write_file(os.path.join(out_dir, name), b"\n".join(bodies[start:start + max_lines]) + b"\n")
    return "COMPLETED", None, None


SYNTHEA_TS = 1704067200.0  # 2024-01-01T00:00:00Z
_DEC = "\x00DEC"  # marks a number that json.dumps would write as a string
_DEC_RE = re.compile(r'"\\u0000DEC([0-9.]+)"')

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
                    "valueQuantity": {"value": _DEC + "%.2f" % round(rng.uniform(lo, hi), 1), "unit": unit,
                                      "system": "http://unitsofmeasure.org", "code": unit},
                })
    return out


def synthea_lines(n_patients, seed):
    """The cohort as NDJSON lines (bytes), decimals with their two places."""
    return [_DEC_RE.sub(r"\1", json.dumps(r, separators=(",", ":"))).encode()
            for r in synthea_resources(n_patients, seed)]


def write_synthea(registry, store_id, n_patients, seed):
    """Loads the cohort into the store. Decimals are written with two places
    (172.30), as FHIR data keeps them, and every resource gets the same
    lastUpdated so that two preloads are alike byte for byte."""
    lines = synthea_lines(n_patients, seed)
    if lines:
        registry.get(store_id).load(lines, fixed_ts=SYNTHEA_TS)
