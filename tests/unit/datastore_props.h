/* One ACTIVE data store as the control plane describes it, for the unit
 * tests that script its answers (test_healthlake.c, seam.h). Header-only. */
#ifndef HL_DATASTORE_PROPS_H
#define HL_DATASTORE_PROPS_H

#define DS_ID "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"
#define ARN "arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/" DS_ID
#define PROPS                                                                                     \
	"{\"DatastoreId\":\"" DS_ID "\",\"DatastoreArn\":\"" ARN "\","                            \
	"\"DatastoreName\":\"clinic\",\"DatastoreStatus\":\"ACTIVE\",\"CreatedAt\":1705322096.5," \
	"\"DatastoreTypeVersion\":\"R4\",\"DatastoreEndpoint\":\"https://x/datastore/" DS_ID      \
	"/r4/\"}"

#endif
