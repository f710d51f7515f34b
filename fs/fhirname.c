#include "fhirname.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "fhirquery.h"

/* FHIR R4 (4.0.1) resource types, abstract Resource and DomainResource
 * excluded, in byte order for bsearch. */
static const char *const r4_types[] = {
    "Account",
    "ActivityDefinition",
    "AdverseEvent",
    "AllergyIntolerance",
    "Appointment",
    "AppointmentResponse",
    "AuditEvent",
    "Basic",
    "Binary",
    "BiologicallyDerivedProduct",
    "BodyStructure",
    "Bundle",
    "CapabilityStatement",
    "CarePlan",
    "CareTeam",
    "CatalogEntry",
    "ChargeItem",
    "ChargeItemDefinition",
    "Claim",
    "ClaimResponse",
    "ClinicalImpression",
    "CodeSystem",
    "Communication",
    "CommunicationRequest",
    "CompartmentDefinition",
    "Composition",
    "ConceptMap",
    "Condition",
    "Consent",
    "Contract",
    "Coverage",
    "CoverageEligibilityRequest",
    "CoverageEligibilityResponse",
    "DetectedIssue",
    "Device",
    "DeviceDefinition",
    "DeviceMetric",
    "DeviceRequest",
    "DeviceUseStatement",
    "DiagnosticReport",
    "DocumentManifest",
    "DocumentReference",
    "EffectEvidenceSynthesis",
    "Encounter",
    "Endpoint",
    "EnrollmentRequest",
    "EnrollmentResponse",
    "EpisodeOfCare",
    "EventDefinition",
    "Evidence",
    "EvidenceVariable",
    "ExampleScenario",
    "ExplanationOfBenefit",
    "FamilyMemberHistory",
    "Flag",
    "Goal",
    "GraphDefinition",
    "Group",
    "GuidanceResponse",
    "HealthcareService",
    "ImagingStudy",
    "Immunization",
    "ImmunizationEvaluation",
    "ImmunizationRecommendation",
    "ImplementationGuide",
    "InsurancePlan",
    "Invoice",
    "Library",
    "Linkage",
    "List",
    "Location",
    "Measure",
    "MeasureReport",
    "Media",
    "Medication",
    "MedicationAdministration",
    "MedicationDispense",
    "MedicationKnowledge",
    "MedicationRequest",
    "MedicationStatement",
    "MedicinalProduct",
    "MedicinalProductAuthorization",
    "MedicinalProductContraindication",
    "MedicinalProductIndication",
    "MedicinalProductIngredient",
    "MedicinalProductInteraction",
    "MedicinalProductManufactured",
    "MedicinalProductPackaged",
    "MedicinalProductPharmaceutical",
    "MedicinalProductUndesirableEffect",
    "MessageDefinition",
    "MessageHeader",
    "MolecularSequence",
    "NamingSystem",
    "NutritionOrder",
    "Observation",
    "ObservationDefinition",
    "OperationDefinition",
    "OperationOutcome",
    "Organization",
    "OrganizationAffiliation",
    "Parameters",
    "Patient",
    "PaymentNotice",
    "PaymentReconciliation",
    "Person",
    "PlanDefinition",
    "Practitioner",
    "PractitionerRole",
    "Procedure",
    "Provenance",
    "Questionnaire",
    "QuestionnaireResponse",
    "RelatedPerson",
    "RequestGroup",
    "ResearchDefinition",
    "ResearchElementDefinition",
    "ResearchStudy",
    "ResearchSubject",
    "RiskAssessment",
    "RiskEvidenceSynthesis",
    "Schedule",
    "SearchParameter",
    "ServiceRequest",
    "Slot",
    "Specimen",
    "SpecimenDefinition",
    "StructureDefinition",
    "StructureMap",
    "Subscription",
    "Substance",
    "SubstanceNucleicAcid",
    "SubstancePolymer",
    "SubstanceProtein",
    "SubstanceReferenceInformation",
    "SubstanceSourceMaterial",
    "SubstanceSpecification",
    "SupplyDelivery",
    "SupplyRequest",
    "Task",
    "TerminologyCapabilities",
    "TestReport",
    "TestScript",
    "ValueSet",
    "VerificationResult",
    "VisionPrescription",
};

#define N_R4 (sizeof(r4_types) / sizeof(r4_types[0]))

const char *const *hlfs_fhir_types_r4(size_t *ret_n)
{
	*ret_n = N_R4;
	return r4_types;
}

bool hlfs_fhir_type_syntax_ok(const char *s, size_t n)
{
	if (n == 0 || n > HLFS_FHIR_TYPE_MAX || s[0] < 'A' || s[0] > 'Z')
		return false;
	for (size_t i = 1; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')))
			return false;
	return true;
}

bool hlfs_fhir_type_r4(const char *s, size_t n)
{
	if (!hlfs_fhir_type_syntax_ok(s, n))
		return false;
	size_t lo = 0, hi = N_R4;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *t = r4_types[mid];
		size_t tn = strlen(t);
		int c = memcmp(t, s, tn < n ? tn : n);
		if (!c)
			c = tn < n ? -1 : tn > n;
		if (!c)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

bool hlfs_fhir_id_ok(const char *s, size_t n)
{
	if (n == 0 || n > HLFS_FHIR_ID_MAX)
		return false;
	if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-'))
			return false;
	}
	return true;
}

bool hlfs_fhir_listed(enum hlfs_fhir_kind kind)
{
	switch (kind) {
	case HLFS_FK_SEARCH:
	case HLFS_FK_HISTORY:
	case HLFS_FK_EVERYTHING:
		return false;
	case HLFS_FK_FHIR:
	case HLFS_FK_METADATA:
	case HLFS_FK_ERROR:
	case HLFS_FK_TYPE:
	case HLFS_FK_RESOURCE:
	case HLFS_FK_VERSION:
	case HLFS_FK_ALL:
	case HLFS_FK_SCRATCH:
		break;
	}
	return true;
}

mode_t hlfs_fhir_mode(enum hlfs_fhir_kind kind, bool ro)
{
	switch (kind) {
	case HLFS_FK_FHIR:
	case HLFS_FK_TYPE:
	case HLFS_FK_SEARCH:
	case HLFS_FK_HISTORY:
		return S_IFDIR | 0700;
	case HLFS_FK_RESOURCE:
		return S_IFREG | (ro ? 0400 : 0600);
	case HLFS_FK_SCRATCH:
		return S_IFREG | 0600;
	case HLFS_FK_METADATA:
	case HLFS_FK_ERROR:
	case HLFS_FK_VERSION:
	case HLFS_FK_EVERYTHING:
	case HLFS_FK_ALL:
		break;
	}
	return S_IFREG | 0400;
}

/* True when name[0..n) ends in suffix; *stem_n is then the length before it. */
static bool ends_with(const char *name, size_t n, const char *suffix, size_t *stem_n)
{
	size_t sn = strlen(suffix);
	if (n < sn || memcmp(name + n - sn, suffix, sn))
		return false;
	*stem_n = n - sn;
	return true;
}

static void copy(char *dst, const char *src, size_t n)
{
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static const char bad_id[] = "not a FHIR id (1-64 characters of A-Z a-z 0-9 . -, not . or ..)";

/* A name in a type directory. */
static int in_type(const char *type, const char *name, size_t n, bool create,
		   struct hlfs_fhirname *r, const char **reason)
{
	size_t stem;
	enum hlfs_fhir_kind kind;

	if (!strcmp(name, ".error")) {
		r->kind = HLFS_FK_ERROR;
		return 0;
	}
	if (ends_with(name, n, ".everything.ndjson", &stem))
		kind = HLFS_FK_EVERYTHING;
	else if (ends_with(name, n, ".json", &stem))
		kind = HLFS_FK_RESOURCE;
	else if (ends_with(name, n, ".history", &stem))
		kind = HLFS_FK_HISTORY;
	else
		kind = HLFS_FK_SCRATCH;

	if (kind == HLFS_FK_SCRATCH) {
		if (!strcmp(name, ".") || !strcmp(name, "..")) {
			*reason = "no such entry";
			return -ENOENT;
		}
		r->kind = kind;
		return 0;
	}
	/* A resource-shaped name with a bad id is never a scratch file: `cp
	 * a_b.json Patient/` must fail, not vanish into memory. */
	if (kind == HLFS_FK_EVERYTHING && strcmp(type, "Patient") != 0) {
		*reason = "$everything is offered for Patient only";
		return create ? -EINVAL : -ENOENT;
	}
	if (!hlfs_fhir_id_ok(name, stem)) {
		*reason = bad_id;
		return create ? -EINVAL : -ENOENT;
	}
	r->kind = kind;
	copy(r->id, name, stem);
	return 0;
}

static int in_fhir(const char *name, size_t n, struct hlfs_fhirname *r, const char **reason)
{
	if (!strcmp(name, "metadata.json")) {
		r->kind = HLFS_FK_METADATA;
		return 0;
	}
	if (!strcmp(name, ".error")) {
		r->kind = HLFS_FK_ERROR;
		return 0;
	}
	const char *qm = memchr(name, '?', n);
	size_t tn = qm ? (size_t)(qm - name) : n;
	if (!hlfs_fhir_type_r4(name, tn)) {
		*reason = "not a FHIR R4 resource type";
		return -ENOENT;
	}
	copy(r->type, name, tn);
	if (!qm) {
		r->kind = HLFS_FK_TYPE;
		return 0;
	}
	r->query = qm + 1;
	r->query_len = n - tn - 1;
	int rc = hlfs_fhirquery_check(r->query, r->query_len, HLFS_FQ_USER, reason);
	if (rc < 0)
		return rc;
	r->kind = HLFS_FK_SEARCH;
	return 0;
}

int hlfs_fhirname_parse(enum hlfs_fhir_parent parent, const char *parent_type, const char *name,
			bool create, struct hlfs_fhirname *ret, const char **reason)
{
	struct hlfs_fhirname r;
	size_t n = strnlen(name, HLFS_FHIR_NAME_MAX + 1), stem;
	int rc = 0;

	memset(&r, 0, sizeof(r));
	if (n > HLFS_FHIR_NAME_MAX) {
		*reason = "name longer than 255 bytes";
		return -ENAMETOOLONG;
	}
	if (n == 0 || memchr(name, '/', n)) {
		*reason = "no such entry";
		return -ENOENT;
	}
	if (parent != HLFS_FP_FHIR &&
	    (!parent_type || !hlfs_fhir_type_r4(parent_type, strlen(parent_type)))) {
		*reason = "not a FHIR R4 resource type";
		return -ENOENT;
	}
	switch (parent) {
	case HLFS_FP_FHIR:
		rc = in_fhir(name, n, &r, reason);
		break;
	case HLFS_FP_TYPE:
		rc = in_type(parent_type, name, n, create, &r, reason);
		break;
	case HLFS_FP_SEARCH:
		if (!strcmp(name, "all.ndjson")) {
			r.kind = HLFS_FK_ALL;
		} else if (ends_with(name, n, ".json", &stem) && hlfs_fhir_id_ok(name, stem)) {
			r.kind = HLFS_FK_RESOURCE;
			copy(r.id, name, stem);
		} else {
			*reason = "a search directory holds <id>.json files and all.ndjson only";
			rc = -ENOENT;
		}
		break;
	case HLFS_FP_HISTORY:
		if (ends_with(name, n, ".json", &stem) && hlfs_fhir_id_ok(name, stem)) {
			r.kind = HLFS_FK_VERSION;
			copy(r.id, name, stem);
		} else {
			*reason = "a history directory holds <versionId>.json files only";
			rc = -ENOENT;
		}
		break;
	default:
		*reason = "no such entry";
		rc = -ENOENT;
	}
	if (rc < 0)
		return rc;
	*ret = r;
	return 0;
}

int hlfs_fhirpath_parse(const char *path, bool create, struct hlfs_fhirpath *ret,
			const char **reason)
{
	struct hlfs_fhirpath r;
	enum hlfs_fhir_parent parent = HLFS_FP_FHIR;
	char comp[HLFS_FHIR_NAME_MAX + 1];
	const char *p = path;

	memset(&r, 0, sizeof(r));
	r.leaf.kind = HLFS_FK_FHIR;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		bool last = !slash || !slash[1];
		struct hlfs_fhirname nm;
		int rc;

		if (len > HLFS_FHIR_NAME_MAX) {
			*reason = "name longer than 255 bytes";
			return -ENAMETOOLONG;
		}
		/* Only directories have children. */
		if (r.leaf.kind != HLFS_FK_FHIR && r.leaf.kind != HLFS_FK_TYPE &&
		    r.leaf.kind != HLFS_FK_SEARCH && r.leaf.kind != HLFS_FK_HISTORY) {
			*reason = "not a directory";
			return -ENOTDIR;
		}
		copy(comp, p, len);
		rc = hlfs_fhirname_parse(parent, r.type[0] ? r.type : NULL, comp, create && last,
					 &nm, reason);
		if (rc < 0)
			return rc;
		r.parent = parent;
		switch (nm.kind) {
		case HLFS_FK_TYPE:
			memcpy(r.type, nm.type, sizeof(r.type));
			parent = HLFS_FP_TYPE;
			break;
		case HLFS_FK_SEARCH:
			memcpy(r.type, nm.type, sizeof(r.type));
			/* The query points into the caller's path, not into comp. */
			r.query = p + (nm.query - comp);
			r.query_len = nm.query_len;
			nm.query = r.query;
			parent = HLFS_FP_SEARCH;
			break;
		case HLFS_FK_HISTORY:
			memcpy(r.owner_id, nm.id, sizeof(r.owner_id));
			parent = HLFS_FP_HISTORY;
			break;
		default:
			break;
		}
		r.leaf = nm;
		p += len;
		while (*p == '/')
			p++;
	}
	if (r.leaf.kind != HLFS_FK_VERSION && r.leaf.kind != HLFS_FK_HISTORY)
		r.owner_id[0] = '\0';
	*ret = r;
	return 0;
}

/* Writes stem + suffix into out after checking the id. */
static int with_suffix(const char *id, const char *suffix, char *out, size_t n)
{
	size_t il = strnlen(id, HLFS_FHIR_ID_MAX + 1), sl = strlen(suffix);
	if (!hlfs_fhir_id_ok(id, il))
		return -EINVAL;
	if (il + sl > HLFS_FHIR_NAME_MAX || il + sl + 1 > n)
		return -ENAMETOOLONG;
	memcpy(out, id, il);
	memcpy(out + il, suffix, sl + 1);
	return 0;
}

int hlfs_fhirname_resource(const char *id, char *out, size_t n)
{
	return with_suffix(id, ".json", out, n);
}

int hlfs_fhirname_history(const char *id, char *out, size_t n)
{
	return with_suffix(id, ".history", out, n);
}

int hlfs_fhirname_everything(const char *id, char *out, size_t n)
{
	return with_suffix(id, ".everything.ndjson", out, n);
}

int hlfs_fhirname_search(const char *type, const char *query, char *out, size_t n)
{
	size_t tl = strnlen(type, HLFS_FHIR_TYPE_MAX + 1);
	size_t ql = strnlen(query, HLFS_FHIR_NAME_MAX + 1);
	if (!hlfs_fhir_type_r4(type, tl) || memchr(query, '/', ql))
		return -EINVAL;
	if (tl + 1 + ql > HLFS_FHIR_NAME_MAX || tl + 1 + ql + 1 > n)
		return -ENAMETOOLONG;
	memcpy(out, type, tl);
	out[tl] = '?';
	memcpy(out + tl + 1, query, ql);
	out[tl + 1 + ql] = '\0';
	return 0;
}
