#include "errmap.h"

#include <errno.h>

int hlfs_errno(enum hl_err code)
{
	switch (code) {
	case HL_ERR_OK:
		return 0;
	case HL_ERR_NOMEM:
		return ENOMEM;
	case HL_ERR_INVALID:
	case HL_ERR_VALIDATION:
		return EINVAL;
	case HL_ERR_NOT_FOUND:
		return ENOENT;
	case HL_ERR_CONFLICT:
		return EBUSY;
	case HL_ERR_PRECONDITION: /* 412: If-Match on a version or ETag failed */
		return ESTALE;
	case HL_ERR_RANGE: /* 416: a read the object cannot satisfy */
		return EINVAL;
	case HL_ERR_UNSUPPORTED: /* 405, 501 */
		return EOPNOTSUPP;
	case HL_ERR_REQUEST_TOO_LARGE: /* 413 */
		return EFBIG;
	case HL_ERR_ACCESS_DENIED:
	case HL_ERR_AUTH:
	case HL_ERR_CREDENTIALS:
	case HL_ERR_NO_CREDENTIALS:
		return EACCES;
	case HL_ERR_THROTTLED:
		return EAGAIN;
	case HL_ERR_TIMEOUT:
		return ETIMEDOUT;
	case HL_ERR_CONFIG:
	case HL_ERR_NO_REGION:
	case HL_ERR_RESOLVE:
	case HL_ERR_NETWORK:
	case HL_ERR_TLS:
	case HL_ERR_SERVER:
	case HL_ERR_PROTOCOL:
	case HL_ERR_TOO_LARGE:
	case HL_ERR_SERVICE:
	case HL_ERR__COUNT:
		break;
	}
	/* Anything else the service or the transport did is an I/O error. */
	return EIO;
}
