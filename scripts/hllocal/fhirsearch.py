"""FHIR R4 search: the supported parameters, the values a resource gives them,
parsing of a search request and matching.

Values are extracted when a version is written and kept with it, so a search
over an earlier snapshot (paging) matches the version current then.
Token values are [system, code]; references "Type/id"; strings as written;
dates [low, high) epoch seconds covering the value's precision.
"""
import calendar
import re

RESOURCE_TYPES = frozenset("""
Account ActivityDefinition AdverseEvent AllergyIntolerance Appointment AppointmentResponse
AuditEvent Basic Binary BiologicallyDerivedProduct BodyStructure Bundle CapabilityStatement
CarePlan CareTeam CatalogEntry ChargeItem ChargeItemDefinition Claim ClaimResponse
ClinicalImpression CodeSystem Communication CommunicationRequest CompartmentDefinition
Composition ConceptMap Condition Consent Contract Coverage CoverageEligibilityRequest
CoverageEligibilityResponse DetectedIssue Device DeviceDefinition DeviceMetric DeviceRequest
DeviceUseStatement DiagnosticReport DocumentManifest DocumentReference EffectEvidenceSynthesis
Encounter Endpoint EnrollmentRequest EnrollmentResponse EpisodeOfCare EventDefinition Evidence
EvidenceVariable ExampleScenario ExplanationOfBenefit FamilyMemberHistory Flag Goal
GraphDefinition Group GuidanceResponse HealthcareService ImagingStudy Immunization
ImmunizationEvaluation ImmunizationRecommendation ImplementationGuide InsurancePlan Invoice
Library Linkage List Location Measure MeasureReport Media Medication MedicationAdministration
MedicationDispense MedicationKnowledge MedicationRequest MedicationStatement MedicinalProduct
MedicinalProductAuthorization MedicinalProductContraindication MedicinalProductIndication
MedicinalProductIngredient MedicinalProductInteraction MedicinalProductManufactured
MedicinalProductPackaged MedicinalProductPharmaceutical MedicinalProductUndesirableEffect
MessageDefinition MessageHeader MolecularSequence NamingSystem NutritionOrder Observation
ObservationDefinition OperationDefinition OperationOutcome Organization OrganizationAffiliation
Parameters Patient PaymentNotice PaymentReconciliation Person PlanDefinition Practitioner
PractitionerRole Procedure Provenance Questionnaire QuestionnaireResponse RelatedPerson
RequestGroup ResearchDefinition ResearchElementDefinition ResearchStudy ResearchSubject
RiskAssessment RiskEvidenceSynthesis Schedule SearchParameter ServiceRequest Slot Specimen
SpecimenDefinition StructureDefinition StructureMap Subscription Substance
SubstanceNucleicAcid SubstancePolymer SubstanceProtein SubstanceReferenceInformation
SubstanceSourceMaterial SubstanceSpecification SupplyDelivery SupplyRequest Task
TerminologyCapabilities TestReport TestScript ValueSet VerificationResult VisionPrescription
""".split())

MAX_COUNT = 100
DEFAULT_COUNT = 100
# Parameters that shape the answer rather than select resources.
CONTROL = frozenset(("_count", "_sort", "_include", "_revinclude", "page", "_total", "_format",
                     "_elements", "_summary"))


# ----- extraction -----

def _list(v):
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def _codings(cc):
    out = []
    for c in _list(cc):
        if isinstance(c, dict):
            for cd in _list(c.get("coding")):
                if isinstance(cd, dict) and isinstance(cd.get("code"), str):
                    out.append([cd.get("system") if isinstance(cd.get("system"), str) else None,
                                cd["code"]])
    return out


def _code(v):
    return [[None, v]] if isinstance(v, str) else []


def _ref(v):
    out = []
    for r in _list(v):
        if isinstance(r, dict) and isinstance(r.get("reference"), str):
            ref = r["reference"]
            parts = ref.rstrip("/").split("/")
            if len(parts) >= 2 and parts[-2] in RESOURCE_TYPES:
                out.append(parts[-2] + "/" + parts[-1])
            elif len(parts) >= 4 and parts[-2] == "_history" and parts[-4] in RESOURCE_TYPES:
                out.append(parts[-4] + "/" + parts[-3])
    return out


def _patient_ref(v):
    return [r for r in _ref(v) if r.startswith("Patient/")]


_DATE_RE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?"
                      r"(Z|[+-]\d{2}:\d{2})?)?)?)?\Z")


def date_range(s):
    """A FHIR date/dateTime/instant -> [low, high) epoch seconds, or None."""
    if not isinstance(s, str):
        return None
    m = _DATE_RE.match(s)
    if not m:
        return None
    y, mo, d, hh, mi, ss, frac, tz = m.groups()
    y = int(y)
    try:
        if mo is None:
            return [calendar.timegm((y, 1, 1, 0, 0, 0)), calendar.timegm((y + 1, 1, 1, 0, 0, 0))]
        mo = int(mo)
        if d is None:
            ny, nm = (y + 1, 1) if mo == 12 else (y, mo + 1)
            return [calendar.timegm((y, mo, 1, 0, 0, 0)), calendar.timegm((ny, nm, 1, 0, 0, 0))]
        lo = calendar.timegm((y, mo, int(d), 0, 0, 0))
        if hh is None:
            return [lo, lo + 86400]
        off = 0
        if tz and tz != "Z":
            off = (int(tz[1:3]) * 3600 + int(tz[4:6]) * 60) * (1 if tz[0] == "+" else -1)
        lo += int(hh) * 3600 + int(mi) * 60 - off
        if ss is None:
            return [lo, lo + 60]
        lo += int(ss)
        if frac:
            f = float(frac)
            return [lo + f, lo + f + 10 ** -(len(frac) - 1)]
        return [lo, lo + 1]
    except (ValueError, OverflowError):
        return None


def _dates(*vals):
    out = []
    for v in vals:
        if isinstance(v, dict):  # a Period
            a, b = date_range(v.get("start")), date_range(v.get("end"))
            if a or b:
                out.append([(a or b)[0], (b or a)[1] if b else float("inf")])
        else:
            r = date_range(v)
            if r:
                out.append(r)
    return out


def _names(top):
    out = []
    for n in _list(top.get("name")):
        if isinstance(n, dict):
            for k in ("text", "family"):
                if isinstance(n.get(k), str):
                    out.append(n[k])
            for k in ("given", "prefix", "suffix"):
                out.extend(x for x in _list(n.get(k)) if isinstance(x, str))
    return out


def _part(top, field):
    out = []
    for n in _list(top.get("name")):
        if isinstance(n, dict):
            out.extend(x for x in _list(n.get(field)) if isinstance(x, str))
    return out


def _identifiers(top):
    return [[i.get("system") if isinstance(i.get("system"), str) else None, i["value"]]
            for i in _list(top.get("identifier")) if isinstance(i, dict) and isinstance(i.get("value"), str)]


_SUBJECT = {
    "subject": ("reference", lambda t: _ref(t.get("subject"))),
    "patient": ("reference", lambda t: _patient_ref(t.get("subject"))),
    "identifier": ("token", _identifiers),
}
_CLINICAL = dict(_SUBJECT, **{
    "encounter": ("reference", lambda t: _ref(t.get("encounter"))),
    "code": ("token", lambda t: _codings(t.get("code"))),
    "category": ("token", lambda t: _codings(t.get("category"))),
})
# type -> {param: (kind, extractor(top) -> list of values)}
PARAMS = {
    "Patient": {
        "name": ("string", _names),
        "family": ("string", lambda t: _part(t, "family")),
        "given": ("string", lambda t: _part(t, "given")),
        "birthdate": ("date", lambda t: _dates(t.get("birthDate"))),
        "gender": ("token", lambda t: _code(t.get("gender"))),
        "identifier": ("token", _identifiers),
    },
    "Observation": dict(_CLINICAL, **{
        "date": ("date", lambda t: _dates(t.get("effectiveDateTime"), t.get("effectivePeriod"),
                                          t.get("effectiveInstant"))),
        "status": ("token", lambda t: _code(t.get("status"))),
    }),
    "Condition": dict(_CLINICAL, **{
        "onset-date": ("date", lambda t: _dates(t.get("onsetDateTime"), t.get("onsetPeriod"))),
        "recorded-date": ("date", lambda t: _dates(t.get("recordedDate"))),
        "clinical-status": ("token", lambda t: _codings(t.get("clinicalStatus"))),
        "verification-status": ("token", lambda t: _codings(t.get("verificationStatus"))),
    }),
    "Encounter": dict(_SUBJECT, **{
        "date": ("date", lambda t: _dates(t.get("period"))),
        "status": ("token", lambda t: _code(t.get("status"))),
        "class": ("token", lambda t: [[c.get("system"), c["code"]] for c in _list(t.get("class"))
                                      if isinstance(c, dict) and isinstance(c.get("code"), str)]),
        "type": ("token", lambda t: _codings(t.get("type"))),
    }),
}
COMMON = {"_id": "token", "_lastUpdated": "date"}


def params_of(rtype):
    return PARAMS.get(rtype, {})


def kind_of(rtype, name):
    if name in COMMON:
        return COMMON[name]
    p = PARAMS.get(rtype, {}).get(name)
    return p[0] if p else None


def extract(rtype, top):
    out = {}
    for name, (_, fn) in PARAMS.get(rtype, {}).items():
        v = fn(top)
        if v:
            out[name] = v
    return out


def index_values(rtype, name, vals):
    """Index keys of a token or reference parameter's values."""
    if kind_of(rtype, name) == "reference":
        out = set(vals)
        out.update(v.split("/", 1)[1] for v in vals)
        return out
    out = set()
    for sys_, code in vals:
        out.add(code)
        out.add("%s|%s" % (sys_ or "", code))
    return out


# ----- requests -----

class Criterion:
    __slots__ = ("name", "modifier", "kind", "values")

    def __init__(self, name, modifier, kind, values):
        self.name, self.modifier, self.kind, self.values = name, modifier, kind, values


_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le")


class BadQuery(Exception):
    pass


def _split_values(v):
    # A comma is OR; "\," is a literal comma.
    parts, cur, i = [], [], 0
    while i < len(v):
        c = v[i]
        if c == "\\" and i + 1 < len(v):
            cur.append(v[i + 1])
            i += 2
            continue
        if c == ",":
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur))
    return parts


def parse(rtype, pairs):
    """pairs [(name, value)] -> (criteria, controls dict, unknown names)."""
    crit, ctl, unknown = [], {"_include": [], "_revinclude": []}, []
    for name, value in pairs:
        if name in CONTROL:
            if name in ("_include", "_revinclude"):
                ctl[name].append(value)
            else:
                ctl[name] = value
            continue
        base, _, mod = name.partition(":")
        kind = kind_of(rtype, base)
        if kind is None:
            unknown.append(name)
            continue
        if mod and mod not in ("exact", "contains", "missing"):
            raise BadQuery("Unsupported modifier :%s on %s" % (mod, base))
        if mod in ("exact", "contains") and kind != "string":
            raise BadQuery("Modifier :%s applies only to string parameters" % mod)
        if mod == "missing":
            if value not in ("true", "false"):
                raise BadQuery(":missing takes true or false")
            crit.append(Criterion(base, mod, kind, [value == "true"]))
            continue
        vals = []
        for v in _split_values(value):
            if kind == "date":
                pre = v[:2] if v[:2] in _PREFIXES else "eq"
                r = date_range(v[2:] if v[:2] in _PREFIXES else v)
                if r is None:
                    raise BadQuery("Invalid date value for %s" % base)
                vals.append((pre, r))
            elif kind == "token" and base != "_id":
                if "|" in v:
                    s, _, c = v.partition("|")
                    vals.append((s, c))
                else:
                    vals.append((None, v))
            elif kind == "reference":
                parts = v.rstrip("/").split("/")
                vals.append(parts[-2] + "/" + parts[-1] if len(parts) >= 2 else v)
            else:
                vals.append(v)
        crit.append(Criterion(base, mod, kind, vals))
    if "_count" in ctl:
        try:
            n = int(ctl["_count"])
        except ValueError:
            raise BadQuery("_count must be an integer")
        if n < 0:
            raise BadQuery("_count must not be negative")
        ctl["_count"] = min(n, MAX_COUNT)
    else:
        ctl["_count"] = DEFAULT_COUNT
    s = ctl.get("_sort")
    if s is not None and s.lstrip("-") not in ("_id", "_lastUpdated"):
        raise BadQuery("_sort supports _id and _lastUpdated")
    for inc in ctl["_include"] + ctl["_revinclude"]:
        t, _, p = inc.partition(":")
        p = p.split(":")[0]
        if t not in PARAMS or kind_of(t, p) != "reference":
            raise BadQuery("Unsupported include %s" % inc)
    return crit, ctl, unknown


def _date_match(pre, s, t):
    eq = s[0] <= t[0] and t[1] <= s[1]
    if pre == "eq":
        return eq
    if pre == "ne":
        return not eq
    if pre == "gt":
        return t[1] > s[1]
    if pre == "lt":
        return t[0] < s[0]
    if pre == "ge":
        return t[1] > s[1] or eq
    return t[0] < s[0] or eq  # le


def matches(c, v):
    """Does Version v satisfy Criterion c?"""
    if c.name == "_id":
        got = [v.key[1]]
    elif c.name == "_lastUpdated":
        got = [[v.ts, v.ts + 0.001]]
    else:
        got = v.vals.get(c.name, [])
    if c.modifier == "missing":
        return (not got) == c.values[0]
    if not got:
        return False
    k = c.kind
    for want in c.values:
        if c.name == "_id":
            if want in got:
                return True
        elif k == "string":
            w = want if c.modifier == "exact" else want.lower()
            for g in got:
                if c.modifier == "exact":
                    if g == w:
                        return True
                elif c.modifier == "contains":
                    if w in g.lower():
                        return True
                elif g.lower().startswith(w):
                    return True
        elif k == "token":
            sys_, code = want
            for gs, gc in got:
                if gc == code and (sys_ is None or (gs or "") == sys_):
                    return True
                if sys_ is not None and code == "" and (gs or "") == sys_:
                    return True
        elif k == "reference":
            for g in got:
                if g == want or ("/" not in want and g.split("/", 1)[1] == want):
                    return True
        elif k == "date":
            pre, r = want
            for g in got:
                if _date_match(pre, r, g):
                    return True
    return False


def candidates(store, rtype, crit):
    """The live keys matching crit's indexed criteria (a superset of the matches)
    and the criteria the indexes did not answer. Keys are in write order when
    one indexed value (or none) decides them."""
    sets, rest = [], []
    for c in crit:
        if c.modifier == "missing":
            rest.append(c)
        elif c.name == "_id":
            bt = store.by_type.get(rtype, {})
            sets.append({(rtype, i): None for i in c.values if (rtype, i) in bt})
        elif c.kind in ("token", "reference"):
            d = store.idx.get((rtype, c.name), {})
            got = []
            for want in c.values:
                if c.kind == "reference":
                    k = want
                else:
                    sys_, code = want
                    k = code if sys_ is None else "%s|%s" % (sys_, code)
                if k in d:
                    got.append(d[k])
            if len(got) == 1:
                sets.append(got[0])
            else:
                u = {}
                for g in got:
                    u.update(g)
                sets.append(u)
        elif c.kind == "string":
            sets.append(_string_filter(store, rtype, c))
        else:
            rest.append(c)
    if not sets:
        return list(store.by_type.get(rtype, {})), rest, True
    sets.sort(key=len)
    if len(sets) == 1:
        return list(sets[0]), rest, len(crit) == 0 or _ordered(crit)
    first = sets[0]
    others = sets[1:]
    return [k for k in first if all(k in o for o in others)], rest, False


def _ordered(crit):
    # One indexed value comes straight from a write-ordered dict.
    c = [x for x in crit if x.modifier != "missing" and x.kind != "date"]
    return len(c) == 1 and len(c[0].values) == 1


def _string_filter(store, rtype, c):
    d = store.sidx.get((rtype, c.name), {})
    out = {}
    for want in c.values:
        if c.modifier == "exact":
            w, pos = "\0" + want + "\0", 1
        elif c.modifier == "contains":
            w, pos = want.lower(), 0
        else:
            w, pos = "\0" + want.lower(), 0
        for k, pair in d.items():
            if w in pair[pos]:
                out[k] = None
    return out


def capability_params():
    """{type: [(name, kind)]} for the CapabilityStatement and the docs."""
    out = {}
    for t in sorted(RESOURCE_TYPES):
        ps = [("_id", "token"), ("_lastUpdated", "date")]
        ps += [(n, k) for n, (k, _) in PARAMS.get(t, {}).items()]
        out[t] = ps
    return out
