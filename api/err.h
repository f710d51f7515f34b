/* Error model of libhealthlake: one enum generated from one X-macro list. */
#ifndef HL_ERR_H
#define HL_ERR_H

#include <stddef.h>

/* X(NAME, "description"). Order is ABI only inside one build. */
#define HL_ERR_MAP(X)                                                         \
	X(OK, "success")                                                      \
	X(NOMEM, "out of memory")                                             \
	X(INVALID, "invalid input")                                           \
	X(CONFIG, "configuration error")                                      \
	X(NO_REGION, "no region configured")                                  \
	X(NO_CREDENTIALS, "no credentials found")                             \
	X(CREDENTIALS, "credential provider failed")                          \
	X(VALIDATION, "request rejected by the service as invalid")           \
	X(NOT_FOUND, "resource not found")                                    \
	X(CONFLICT, "resource is not in a state that allows this")            \
	X(PRECONDITION, "precondition failed: the resource changed")          \
	X(RANGE, "requested range not satisfiable")                           \
	X(UNSUPPORTED, "operation not supported by the service")              \
	X(REQUEST_TOO_LARGE, "request body too large for the service")        \
	X(ACCESS_DENIED, "access denied")                                     \
	X(AUTH, "credentials rejected by the service")                        \
	X(THROTTLED, "request throttled")                                     \
	X(TIMEOUT, "deadline reached")                                        \
	X(RESOLVE, "could not resolve host")                                  \
	X(NETWORK, "network error")                                           \
	X(TLS, "TLS error")                                                   \
	X(SERVER, "service error")                                            \
	X(PROTOCOL, "malformed response")                                     \
	X(TOO_LARGE, "response too large")                                    \
	X(SERVICE, "service returned an error")

enum hl_err {
#define HL_ERR_ENUM(name, text) HL_ERR_##name,
	HL_ERR_MAP(HL_ERR_ENUM)
#undef HL_ERR_ENUM
	HL_ERR__COUNT
};

/* Details of a failure. Every field is a NUL-terminated string, possibly
 * empty. Never holds a secret. */
struct hl_error {
	enum hl_err code;
	long http_status;      /* 0 when no HTTP answer was received */
	char aws_code[64];     /* sanitised service error code, e.g. "ThrottlingException" */
	char message[512];     /* human-readable reason */
	char request_id[64];   /* x-amzn-RequestId when the service sent one */
};

/* "NOT_FOUND" etc. Static string, never NULL. */
const char *hl_err_name(enum hl_err code);
/* "resource not found" etc. Static string, never NULL. */
const char *hl_strerror(enum hl_err code);

/* Clears *err (may be NULL) to HL_ERR_OK with empty strings. */
void hl_error_clear(struct hl_error *err);
/* Sets err->code and a printf-style message; returns code. err may be NULL. */
enum hl_err hl_error_set(struct hl_error *err, enum hl_err code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
