/* The process environment for unit tests whose client reads the real
 * environment: static example keys and region, no shared files, no IMDS,
 * no profile, endpoint or token from the caller's shell. Header-only; for
 * tests/unit/. */
#ifndef HL_AWS_ENV_H
#define HL_AWS_ENV_H

#include <stdlib.h>

static __attribute__((unused)) void aws_test_env(void)
{
	setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", 1);
	setenv("AWS_REGION", "us-east-1", 1);
	setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	static const char *const unset[] = {"AWS_PROFILE",	 "AWS_DEFAULT_PROFILE",
					    "AWS_MAX_ATTEMPTS",	 "AWS_SESSION_TOKEN",
					    "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
					    "AWS_ENDPOINT_URL_HEALTHLAKE"};
	for (size_t i = 0; i < sizeof(unset) / sizeof(unset[0]); i++)
		unsetenv(unset[i]);
}

#endif
