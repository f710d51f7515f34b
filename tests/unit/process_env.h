/* The process's environment set the way the SDKs read credentials and
 * settings, with no files and no IMDS, for tests whose client reads the real
 * environment. Header-only; for tests/unit/. */
#ifndef HL_PROCESS_ENV_H
#define HL_PROCESS_ENV_H

#include <stdlib.h>

static __attribute__((unused)) void process_env_for_tests(void)
{
	setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", 1);
	setenv("AWS_REGION", "us-east-1", 1);
	setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_DEFAULT_PROFILE");
	unsetenv("AWS_MAX_ATTEMPTS");
}

#endif
