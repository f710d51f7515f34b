#include "err.h"
#include "tap.h"

int main(void)
{
	is_str(hl_err_name(HL_ERR_NOT_FOUND), "NOT_FOUND", "name from the X-macro list");
	is_str(hl_strerror(HL_ERR_THROTTLED), "request throttled", "text from the X-macro list");
	is_str(hl_err_name((enum hl_err)999), "UNKNOWN", "out-of-range code has a name");
	struct hl_error e;
	hl_error_clear(&e);
	is_int(hl_error_set(&e, HL_ERR_INVALID, "bad %s", "name"), HL_ERR_INVALID, "set returns code");
	is_str(e.message, "bad name", "message formatted");
	is_int(hl_error_set(NULL, HL_ERR_NOMEM, "x"), HL_ERR_NOMEM, "NULL error is allowed");
	return done_testing();
}
