#include <errno.h>

#include "errmap.h"
#include "tap.h"

int main(void)
{
	static const struct {
		enum hl_err code;
		int want;
	} cases[] = {
	    {HL_ERR_OK, 0},
	    {HL_ERR_NOMEM, ENOMEM},
	    {HL_ERR_INVALID, EINVAL},
	    {HL_ERR_VALIDATION, EINVAL},
	    {HL_ERR_NOT_FOUND, ENOENT},
	    {HL_ERR_ACCESS_DENIED, EACCES},
	    {HL_ERR_AUTH, EACCES},
	    {HL_ERR_CREDENTIALS, EACCES},
	    {HL_ERR_NO_CREDENTIALS, EACCES},
	    {HL_ERR_CONFLICT, EBUSY},
	    {HL_ERR_PRECONDITION, ESTALE},
	    {HL_ERR_RANGE, EINVAL},
	    {HL_ERR_UNSUPPORTED, EOPNOTSUPP},
	    {HL_ERR_REQUEST_TOO_LARGE, EFBIG},
	    {HL_ERR_THROTTLED, EAGAIN},
	    {HL_ERR_TIMEOUT, ETIMEDOUT},
	    {HL_ERR_RESOLVE, EIO},
	    {HL_ERR_NETWORK, EIO},
	    {HL_ERR_TLS, EIO},
	    {HL_ERR_SERVER, EIO},
	    {HL_ERR_PROTOCOL, EIO},
	    {HL_ERR_TOO_LARGE, EIO},
	    {HL_ERR_SERVICE, EIO},
	    {HL_ERR_CONFIG, EIO},
	    {(enum hl_err)999, EIO},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(hlfs_errno(cases[i].code), cases[i].want, "%s -> errno %d",
		       hl_err_name(cases[i].code), cases[i].want);
	is_str(hl_err_name(HL_ERR_THROTTLED), "THROTTLED", "code names come from api/err.h");
	return done_testing();
}
