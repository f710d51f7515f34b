/* The default credential chain in botocore's order, restricted to the
 * providers that need no other AWS API: environment, shared credentials file,
 * credential_process, config file, container, EC2 IMDS. Providers that need
 * STS/SSO fail with a pointer to credential_process. */
#include "creds.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "creds_i.h"
#include "ini.h"

extern char **environ;

#define HTTP_BODY_MAX (64 * 1024)
#define PROCESS_OUT_MAX (64 * 1024)
#define PROCESS_ERR_MAX (2 * 1024)
#define TOKEN_FILE_MAX (16 * 1024)

enum source {
	SRC_NONE,
	SRC_ENV,
	SRC_SHARED_FILE,
	SRC_PROCESS,
	SRC_CONFIG_FILE,
	SRC_CONTAINER,
	SRC_IMDS,
};

static const char *const source_names[] = {
    [SRC_NONE] = "none",
    [SRC_ENV] = "environment",
    [SRC_SHARED_FILE] = "shared-credentials-file",
    [SRC_PROCESS] = "credential_process",
    [SRC_CONFIG_FILE] = "config-file",
    [SRC_CONTAINER] = "container",
    [SRC_IMDS] = "imds",
};

struct hl_creds_provider {
	const struct hl_config *cfg;
	struct hl_creds_tuning tune;
	pthread_mutex_t refresh_lock; /* held while a provider fetches */
	pthread_mutex_t lock;	      /* guards the fields below; never held while fetching */
	struct hl_credentials cached; /* protected by lock */
	bool have;		      /* protected by lock */
	enum source kind;	      /* protected by lock: who produced cached */
	unsigned long generation;     /* protected by lock: bumped by invalidate */
};

/* ---- credentials values ---- */

static void wipe_free(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

void hl_credentials_clear(struct hl_credentials *c)
{
	if (!c)
		return;
	wipe_free(c->access_key_id);
	wipe_free(c->secret_access_key);
	wipe_free(c->session_token);
	memset(c, 0, sizeof(*c));
}

enum hl_err hl_credentials_copy(struct hl_credentials *dst, const struct hl_credentials *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->expiration = src->expiration;
	dst->source = src->source;
	if (src->access_key_id && !(dst->access_key_id = strdup(src->access_key_id)))
		goto nomem;
	if (src->secret_access_key && !(dst->secret_access_key = strdup(src->secret_access_key)))
		goto nomem;
	if (src->session_token && !(dst->session_token = strdup(src->session_token)))
		goto nomem;
	return HL_ERR_OK;
nomem:
	hl_credentials_clear(dst);
	return HL_ERR_NOMEM;
}

/* Fills c from borrowed strings; an empty token means none. */
static enum hl_err creds_set(struct hl_credentials *c, enum source src, const char *akid,
			     const char *secret, const char *token, time_t expiration)
{
	struct hl_credentials tmp = {
	    .access_key_id = (char *)akid,
	    .secret_access_key = (char *)secret,
	    .session_token = token && *token ? (char *)token : NULL,
	    .expiration = expiration,
	    .source = source_names[src],
	};
	return hl_credentials_copy(c, &tmp);
}

/* ---- pure helpers ---- */

enum hl_refresh hl_creds_refresh_need(time_t expiration, time_t now)
{
	if (expiration == 0)
		return HL_REFRESH_NONE;
	time_t left = expiration - now;
	if (left < HL_CREDS_MANDATORY_SECS)
		return HL_REFRESH_MANDATORY;
	if (left < HL_CREDS_ADVISORY_SECS)
		return HL_REFRESH_ADVISORY;
	return HL_REFRESH_NONE;
}

time_t hl_creds_imds_stable_expiry(time_t expiration, time_t now, unsigned jitter_secs)
{
	time_t window = HL_CREDS_ADVISORY_SECS + (time_t)jitter_secs;
	if (now >= expiration - window)
		return now + window;
	return expiration;
}

static bool digits(const char *s, int n, int *ret)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return true;
}

enum hl_err hl_creds_parse_time(const char *s, time_t *ret)
{
	int y, mo, d, h, mi, sec;
	if (!s || strlen(s) < 19 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s + 11, 2, &h) ||
	    s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
		return HL_ERR_INVALID;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return HL_ERR_INVALID;
	const char *p = s + 19;
	if (*p == '.' || *p == ',') {
		p++;
		if (*p < '0' || *p > '9')
			return HL_ERR_INVALID;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	long off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;
		int sign = *p == '-' ? -1 : 1;
		p++;
		if (!digits(p, 2, &oh))
			return HL_ERR_INVALID;
		p += 2;
		if (*p == ':')
			p++;
		if (!digits(p, 2, &om))
			return HL_ERR_INVALID;
		p += 2;
		if (oh > 23 || om > 59)
			return HL_ERR_INVALID;
		off = sign * (oh * 3600L + om * 60L);
	}
	if (*p)
		return HL_ERR_INVALID;
	struct tm tm = {.tm_year = y - 1900,
			.tm_mon = mo - 1,
			.tm_mday = d,
			.tm_hour = h,
			.tm_min = mi,
			.tm_sec = sec};
	time_t t = timegm(&tm);
	if (t == (time_t)-1 || tm.tm_mday != d)
		return HL_ERR_INVALID;
	*ret = t - off;
	return HL_ERR_OK;
}

/* ---- provider plumbing ---- */

/* One chain run: the profile as the files say now, and notes on what was tried. */
struct run {
	struct hl_creds_provider *p;
	const struct hl_config *cfg;
	struct hl_profile *prof;
	time_t now;
	struct hl_buf tried;
};

static const char *env(const struct run *r, const char *name)
{
	const char *v = hl_config_getenv(r->cfg, name);
	return v && *v ? v : NULL;
}

/* env first, then the profile key, as every SDK setting does */
static const char *setting(const struct run *r, const char *envname, const char *key)
{
	const char *v = env(r, envname);
	if (v)
		return v;
	v = hl_profile_get(r->prof, HL_PROFILE_MERGED, key);
	return v && *v ? v : NULL;
}

static void tried(struct run *r, const char *fmt, const char *a)
{
	if (r->tried.len)
		hl_buf_appends(&r->tried, "; ");
	hl_buf_appendf(&r->tried, fmt, a);
}

/* Keeps untrusted text (a process's stderr) printable and short in messages. */
static void sanitize(char *dst, size_t dstsz, const char *src, size_t n)
{
	size_t j = 0;
	bool space = false;
	for (size_t i = 0; i < n && j + 1 < dstsz; i++) {
		unsigned char c = (unsigned char)src[i];
		if (c < 0x20 || c == 0x7f) {
			space = j > 0;
			continue;
		}
		if (space && j + 2 < dstsz)
			dst[j++] = ' ';
		space = false;
		dst[j++] = (char)c;
	}
	dst[j] = '\0';
}

static const char *json_str(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	return cJSON_IsString(v) && v->valuestring ? v->valuestring : NULL;
}

/* ---- 1. environment ---- */

static enum hl_err fetch_env(struct run *r, bool refreshing, struct hl_credentials *out,
			     bool *found, struct hl_error *err)
{
	const char *akid = env(r, "AWS_ACCESS_KEY_ID");
	if (!akid) {
		if (refreshing)
			return hl_error_set(err, HL_ERR_CREDENTIALS,
					    "environment credentials: AWS_ACCESS_KEY_ID is no "
					    "longer set at refresh");
		tried(r, "environment (%s not set)", "AWS_ACCESS_KEY_ID");
		return HL_ERR_OK;
	}
	const char *secret = env(r, "AWS_SECRET_ACCESS_KEY");
	if (!secret)
		return hl_error_set(err, HL_ERR_CREDENTIALS,
				    "partial credentials in the environment: AWS_ACCESS_KEY_ID is "
				    "set but AWS_SECRET_ACCESS_KEY is not");
	const char *token = env(r, "AWS_SECURITY_TOKEN");
	if (!token)
		token = env(r, "AWS_SESSION_TOKEN");
	const char *exp_s = env(r, "AWS_CREDENTIAL_EXPIRATION");
	time_t exp = 0;
	if (refreshing && !exp_s)
		return hl_error_set(err, HL_ERR_CREDENTIALS,
				    "environment credentials: AWS_CREDENTIAL_EXPIRATION is no "
				    "longer set at refresh");
	if (exp_s && hl_creds_parse_time(exp_s, &exp))
		return hl_error_set(err, HL_ERR_CREDENTIALS,
				    "AWS_CREDENTIAL_EXPIRATION '%.64s' is not an ISO 8601 time",
				    exp_s);
	if (creds_set(out, SRC_ENV, akid, secret, token, exp))
		return hl_error_set(err, HL_ERR_NOMEM, "out of memory");
	*found = true;
	return HL_ERR_OK;
}

/* ---- 2-4, 6: profiles that need other AWS APIs ---- */

static enum hl_err unsupported(const struct run *r, const char *what, struct hl_error *err)
{
	const char *name = r->cfg->profile;
	return hl_error_set(err, HL_ERR_CONFIG,
			    "profile '%s' uses %s, which needs another AWS API and is not "
			    "supported; put `credential_process = aws configure "
			    "export-credentials --profile %s --format process` (AWS CLI v2) in a "
			    "separate profile and use that one",
			    name, what, name);
}

static enum hl_err check_sts_profiles(struct run *r, struct hl_error *err)
{
	const struct hl_profile *pf = r->prof;
	bool web_id_key = hl_profile_get(pf, HL_PROFILE_MERGED, "web_identity_token_file") != NULL;
	if (hl_profile_get(pf, HL_PROFILE_MERGED, "role_arn") && !web_id_key)
		return unsupported(r, "role_arn (assume role via STS)", err);
	if (env(r, "AWS_WEB_IDENTITY_TOKEN_FILE"))
		return hl_error_set(
		    err, HL_ERR_CONFIG,
		    "AWS_WEB_IDENTITY_TOKEN_FILE is set: web identity credentials "
		    "need AWS STS and are not supported; use credential_process = "
		    "aws configure export-credentials --profile X --format process");
	if (web_id_key)
		return unsupported(r, "web_identity_token_file (STS web identity)", err);
	if (hl_profile_get(pf, HL_PROFILE_MERGED, "sso_role_name") ||
	    hl_profile_get(pf, HL_PROFILE_MERGED, "sso_account_id"))
		return unsupported(r, "AWS IAM Identity Center (sso_*)", err);
	return HL_ERR_OK;
}

/* ---- 5 and 8: static keys in a shared file ---- */

static enum hl_err fetch_file_keys(struct run *r, enum hl_profile_file which,
				   struct hl_credentials *out, bool *found, struct hl_error *err)
{
	bool creds_file = which == HL_PROFILE_CREDENTIALS;
	const char *path = creds_file ? r->cfg->credentials_file : r->cfg->config_file;
	enum source src = creds_file ? SRC_SHARED_FILE : SRC_CONFIG_FILE;
	const char *akid = hl_profile_get(r->prof, which, "aws_access_key_id");
	if (!akid) {
		tried(r,
		      creds_file ? "shared credentials file %s (no keys for the profile)"
				 : "config file %s (no keys for the profile)",
		      path);
		return HL_ERR_OK;
	}
	const char *secret = hl_profile_get(r->prof, which, "aws_secret_access_key");
	if (!*akid || !secret || !*secret)
		return hl_error_set(err, HL_ERR_CREDENTIALS,
				    "partial credentials in %s, profile '%s': aws_access_key_id "
				    "needs a non-empty aws_secret_access_key",
				    path, r->cfg->profile);
	const char *token = hl_profile_get(r->prof, which, "aws_security_token");
	if (!token)
		token = hl_profile_get(r->prof, which, "aws_session_token");
	if (creds_set(out, src, akid, secret, token, 0))
		return hl_error_set(err, HL_ERR_NOMEM, "out of memory");
	*found = true;
	return HL_ERR_OK;
}

/* ---- 7: credential_process ---- */

static long ms_left(const struct timespec *deadline)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/* Appends what fits; the rest is read and dropped so the child never blocks. */
static bool drain(int fd, struct hl_buf *b, size_t max)
{
	char chunk[4096];
	ssize_t n = read(fd, chunk, sizeof(chunk));
	if (n < 0)
		return errno == EINTR || errno == EAGAIN;
	if (n == 0)
		return false;
	size_t room = b->len < max ? max - b->len : 0;
	hl_buf_append(b, chunk, (size_t)n < room ? (size_t)n : room);
	explicit_bzero(chunk, sizeof(chunk));
	return true;
}

/* Runs argv without a shell; collects stdout and stderr until both close and
 * the child exits, or until timeout_ms passes (then it is killed). */
static enum hl_err spawn_capture(char **argv, long timeout_ms, struct hl_buf *out,
				 struct hl_buf *errout, int *ret_status, struct hl_error *err)
{
	int op[2] = {-1, -1}, ep[2] = {-1, -1};
	pid_t pid = -1;
	enum hl_err rc;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	bool fa_init = false, attr_init = false;

	if (pipe2(op, O_CLOEXEC) || pipe2(ep, O_CLOEXEC)) {
		rc = hl_error_set(err, HL_ERR_CREDENTIALS, "credential_process: pipe: %s",
				  strerror(errno));
		goto out;
	}
	if (posix_spawn_file_actions_init(&fa) || posix_spawnattr_init(&attr)) {
		rc = hl_error_set(err, HL_ERR_NOMEM, "out of memory");
		goto out;
	}
	fa_init = attr_init = true;
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	/* the child gets default signal handling and no descriptors but 0-2 */
	if (posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) ||
	    posix_spawn_file_actions_adddup2(&fa, op[1], 1) ||
	    posix_spawn_file_actions_adddup2(&fa, ep[1], 2) ||
	    posix_spawn_file_actions_addclosefrom_np(&fa, 3) ||
	    posix_spawnattr_setsigmask(&attr, &none) ||
	    posix_spawnattr_setsigdefault(&attr, &all) ||
	    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)) {
		rc = hl_error_set(err, HL_ERR_NOMEM, "out of memory");
		goto out;
	}
	int e = posix_spawnp(&pid, argv[0], &fa, &attr, argv, environ);
	if (e) {
		pid = -1;
		rc = hl_error_set(err, HL_ERR_CREDENTIALS,
				  "credential_process: cannot run '%.200s': %s", argv[0],
				  strerror(e));
		goto out;
	}
	close(op[1]);
	close(ep[1]);
	op[1] = ep[1] = -1;

	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (timeout_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	bool timed_out = false;
	while (op[0] >= 0 || ep[0] >= 0) {
		long left = ms_left(&deadline);
		if (left <= 0) {
			timed_out = true;
			break;
		}
		struct pollfd pfd[2] = {{.fd = op[0], .events = POLLIN},
					{.fd = ep[0], .events = POLLIN}};
		int n = poll(pfd, 2, left > 1000 ? 1000 : (int)left);
		if (n < 0 && errno != EINTR) {
			rc = hl_error_set(err, HL_ERR_CREDENTIALS, "credential_process: poll: %s",
					  strerror(errno));
			goto out;
		}
		if (n <= 0)
			continue;
		if (pfd[0].revents && !drain(op[0], out, PROCESS_OUT_MAX)) {
			close(op[0]);
			op[0] = -1;
		}
		if (pfd[1].revents && !drain(ep[0], errout, PROCESS_ERR_MAX)) {
			close(ep[0]);
			ep[0] = -1;
		}
	}
	int status = 0;
	while (!timed_out) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			rc = hl_error_set(err, HL_ERR_CREDENTIALS,
					  "credential_process: waitpid: %s", strerror(errno));
			pid = -1;
			goto out;
		}
		if (ms_left(&deadline) <= 0)
			timed_out = true;
		else
			usleep(5000);
	}
	if (timed_out) {
		rc =
		    hl_error_set(err, HL_ERR_CREDENTIALS,
				 "credential_process '%.200s' did not finish within %ld ms; killed",
				 argv[0], timeout_ms);
		goto out;
	}
	pid = -1;
	*ret_status = status;
	rc = HL_ERR_OK;
out:
	if (pid > 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	for (int i = 0; i < 2; i++) {
		if (op[i] >= 0)
			close(op[i]);
		if (ep[i] >= 0)
			close(ep[i]);
	}
	if (fa_init)
		posix_spawn_file_actions_destroy(&fa);
	if (attr_init)
		posix_spawnattr_destroy(&attr);
	return rc;
}

static enum hl_err parse_process_output(const char *data, size_t len, struct hl_credentials *out,
					struct hl_error *err)
{
	enum hl_err rc;
	const char *end = NULL;
	cJSON *j = cJSON_ParseWithLengthOpts(data, len, &end, false);
	if (!cJSON_IsObject(j)) {
		rc = hl_error_set(err, HL_ERR_CREDENTIALS,
				  "credential_process output is not a JSON object");
		goto out;
	}
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(j, "Version");
	if (!cJSON_IsNumber(ver) || ver->valuedouble != 1.0) {
		rc = hl_error_set(err, HL_ERR_CREDENTIALS,
				  "credential_process output: Version must be the number 1");
		goto out;
	}
	const char *akid = json_str(j, "AccessKeyId");
	const char *secret = json_str(j, "SecretAccessKey");
	if (!akid || !*akid || !secret || !*secret) {
		rc = hl_error_set(err, HL_ERR_CREDENTIALS, "credential_process output lacks %s",
				  !akid || !*akid ? "AccessKeyId" : "SecretAccessKey");
		goto out;
	}
	const char *exp_s = json_str(j, "Expiration");
	time_t exp = 0;
	if (exp_s && hl_creds_parse_time(exp_s, &exp)) {
		rc = hl_error_set(err, HL_ERR_CREDENTIALS,
				  "credential_process output: Expiration '%.64s' is not ISO 8601",
				  exp_s);
		goto out;
	}
	if (creds_set(out, SRC_PROCESS, akid, secret, json_str(j, "SessionToken"), exp)) {
		rc = hl_error_set(err, HL_ERR_NOMEM, "out of memory");
		goto out;
	}
	rc = HL_ERR_OK;
out:
	if (j) {
		/* wipe the secrets cJSON copied before freeing them */
		for (cJSON *it = j->child; cJSON_IsObject(j) && it; it = it->next)
			if (cJSON_IsString(it) && it->valuestring)
				explicit_bzero(it->valuestring, strlen(it->valuestring));
		cJSON_Delete(j);
	}
	return rc;
}

static enum hl_err fetch_process(struct run *r, struct hl_credentials *out, bool *found,
				 struct hl_error *err)
{
	const char *cmd = hl_profile_get(r->prof, HL_PROFILE_MERGED, "credential_process");
	if (!cmd || !*cmd) {
		tried(r, "credential_process (%s)", "not set");
		return HL_ERR_OK;
	}
	char **argv = NULL;
	size_t argc = 0;
	struct hl_buf sout, serr;
	hl_buf_init(&sout, PROCESS_OUT_MAX + 1);
	hl_buf_init(&serr, PROCESS_ERR_MAX + 1);
	enum hl_err rc;
	struct hl_error serr_detail;
	hl_error_clear(&serr_detail);
	if (hl_shell_split(cmd, &argv, &argc, &serr_detail) || argc == 0) {
		rc = hl_error_set(
		    err, HL_ERR_CONFIG, "credential_process of profile '%s': %s", r->cfg->profile,
		    argc == 0 && !serr_detail.message[0] ? "empty command" : serr_detail.message);
		goto out;
	}
	int status = 0;
	rc = spawn_capture(argv, r->p->tune.process_timeout_ms, &sout, &serr, &status, err);
	if (rc)
		goto out;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char msg[320];
		sanitize(msg, sizeof(msg), serr.data ? serr.data : "", serr.len);
		if (WIFSIGNALED(status))
			rc = hl_error_set(err, HL_ERR_CREDENTIALS,
					  "credential_process '%.100s' killed by signal %d: %s",
					  argv[0], WTERMSIG(status), msg);
		else
			rc = hl_error_set(err, HL_ERR_CREDENTIALS,
					  "credential_process '%.100s' exited with status %d: %s",
					  argv[0], WEXITSTATUS(status), msg);
		goto out;
	}
	if (sout.len > PROCESS_OUT_MAX) {
		rc =
		    hl_error_set(err, HL_ERR_CREDENTIALS,
				 "credential_process output larger than %d bytes", PROCESS_OUT_MAX);
		goto out;
	}
	rc = parse_process_output(sout.data ? sout.data : "", sout.len, out, err);
	if (!rc)
		*found = true;
out:
	hl_shell_split_free(argv);
	hl_buf_free_secure(&sout);
	hl_buf_free_secure(&serr);
	return rc;
}

/* ---- HTTP for the container and IMDS providers ---- */

struct http_resp {
	long status;
	struct hl_buf body;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct hl_buf *b = ud;
	size_t n = size * nmemb;
	if (hl_buf_append(b, ptr, n))
		return 0; /* over the cap: fail the transfer */
	return n;
}

/* One request with its own easy handle. Returns HL_ERR_OK when an HTTP
 * answer arrived (any status); otherwise a transport error with curl's text. */
static enum hl_err http_do(const char *method, const char *url, struct curl_slist *hdrs,
			   long timeout_ms, const char *ca_bundle, struct http_resp *resp,
			   char *errbuf)
{
	hl_buf_reset(&resp->body);
	resp->status = 0;
	CURL *h = curl_easy_init();
	if (!h)
		return HL_ERR_NOMEM;
	errbuf[0] = '\0';
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*"); /* metadata endpoints are local */
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp->body);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	if (ca_bundle)
		curl_easy_setopt(h, CURLOPT_CAINFO, ca_bundle);
	if (strcmp(method, "PUT") == 0) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
	}
	CURLcode cc = curl_easy_perform(h);
	enum hl_err rc = HL_ERR_OK;
	if (cc != CURLE_OK) {
		if (!errbuf[0])
			snprintf(errbuf, CURL_ERROR_SIZE, "%s", curl_easy_strerror(cc));
		rc = cc == CURLE_OPERATION_TIMEDOUT ? HL_ERR_TIMEOUT : HL_ERR_NETWORK;
	} else {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	}
	curl_easy_cleanup(h);
	return rc;
}

/* Header lists may carry a token: wipe curl's copies before freeing them. */
static void slist_free_secure(struct curl_slist *l)
{
	for (struct curl_slist *it = l; it; it = it->next)
		if (it->data)
			explicit_bzero(it->data, strlen(it->data));
	curl_slist_free_all(l);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- 10: container credentials ---- */

static bool container_host_allowed(const char *host)
{
	static const char *const allowed[] = {"169.254.170.2", "169.254.170.23", "fd00:ec2::23",
					      "localhost"};
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (strcmp(host, allowed[i]) == 0)
			return true;
	return hl_host_is_loopback(host);
}

enum hl_err hl_creds_container_url(const struct hl_config *cfg, const char *relative_host,
				   char **ret_url, struct hl_error *err)
{
	const char *rel = hl_config_getenv(cfg, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = hl_config_getenv(cfg, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
	struct hl_buf b;
	hl_buf_init(&b, 8192);
	*ret_url = NULL;
	if (rel && *rel) {
		if (hl_buf_appendf(&b, "http://%s%s%s",
				   relative_host ? relative_host : "169.254.170.2",
				   rel[0] == '/' ? "" : "/", rel)) {
			hl_buf_free(&b);
			return hl_error_set(err, HL_ERR_CONFIG,
					    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is too long");
		}
		*ret_url = hl_buf_steal(&b);
		return *ret_url ? HL_ERR_OK : hl_error_set(err, HL_ERR_NOMEM, "out of memory");
	}
	if (!full || !*full)
		return HL_ERR_OK;
	char scheme[16], host[256];
	if (hl_url_host(full, scheme, sizeof(scheme), host, sizeof(host)) ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
		return hl_error_set(
		    err, HL_ERR_CONFIG,
		    "AWS_CONTAINER_CREDENTIALS_FULL_URI '%.200s' is not an http(s) URL", full);
	if (strcmp(scheme, "http") == 0 && !container_host_allowed(host))
		return hl_error_set(
		    err, HL_ERR_CONFIG,
		    "AWS_CONTAINER_CREDENTIALS_FULL_URI '%.200s': plain http is allowed "
		    "only to a loopback address, 169.254.170.2, 169.254.170.23, "
		    "fd00:ec2::23 or localhost",
		    full);
	*ret_url = strdup(full);
	return *ret_url ? HL_ERR_OK : hl_error_set(err, HL_ERR_NOMEM, "out of memory");
}

/* The Authorization value: the token file, read again on every fetch, else the variable. */
static enum hl_err container_auth(const struct run *r, struct hl_buf *tok, bool *have,
				  struct hl_error *err)
{
	*have = false;
	const char *file = env(r, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	if (file) {
		int fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return hl_error_set(err, HL_ERR_CREDENTIALS,
					    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %.200s: %s",
					    file, strerror(errno));
		for (;;) {
			char chunk[1024];
			ssize_t n = read(fd, chunk, sizeof(chunk));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0 || hl_buf_append(tok, chunk, (size_t)n)) {
				explicit_bzero(chunk, sizeof(chunk));
				close(fd);
				if (n < 0)
					return hl_error_set(err, HL_ERR_CREDENTIALS,
							    "reading %.200s: %s", file,
							    strerror(errno));
				if (n > 0)
					return hl_error_set(err, HL_ERR_CREDENTIALS,
							    "%.200s: token larger than %d bytes",
							    file, TOKEN_FILE_MAX);
				break;
			}
			explicit_bzero(chunk, sizeof(chunk));
		}
		*have = true;
	} else {
		/* present but empty still counts, as in botocore */
		const char *t = hl_config_getenv(r->cfg, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
		if (!t)
			return HL_ERR_OK;
		if (hl_buf_appends(tok, t))
			return hl_error_set(err, HL_ERR_CREDENTIALS,
					    "AWS_CONTAINER_AUTHORIZATION_TOKEN is too long");
		*have = true;
	}
	if (tok->len && (memchr(tok->data, '\r', tok->len) || memchr(tok->data, '\n', tok->len) ||
			 memchr(tok->data, '\0', tok->len)))
		return hl_error_set(err, HL_ERR_CREDENTIALS,
				    "container authorization token contains CR, LF or NUL, which "
				    "is not a legal header value");
	return HL_ERR_OK;
}

static enum hl_err parse_metadata_creds(const struct http_resp *resp, enum source src,
					struct hl_credentials *out, const char **missing)
{
	*missing = NULL;
	const char *end = NULL;
	cJSON *j = cJSON_ParseWithLengthOpts(resp->body.data ? resp->body.data : "", resp->body.len,
					     &end, false);
	enum hl_err rc = HL_ERR_PROTOCOL;
	if (!cJSON_IsObject(j)) {
		*missing = "a JSON object";
		goto out;
	}
	static const char *const need[] = {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"};
	for (size_t i = 0; i < 4; i++) {
		if (!json_str(j, need[i])) {
			*missing = need[i];
			goto out;
		}
	}
	time_t exp;
	if (hl_creds_parse_time(json_str(j, "Expiration"), &exp)) {
		*missing = "a valid Expiration";
		goto out;
	}
	rc = creds_set(out, src, json_str(j, "AccessKeyId"), json_str(j, "SecretAccessKey"),
		       json_str(j, "Token"), exp);
out:
	if (j) {
		for (cJSON *it = j->child; cJSON_IsObject(j) && it; it = it->next)
			if (cJSON_IsString(it) && it->valuestring)
				explicit_bzero(it->valuestring, strlen(it->valuestring));
		cJSON_Delete(j);
	}
	return rc;
}

static enum hl_err fetch_container(struct run *r, struct hl_credentials *out, bool *found,
				   struct hl_error *err)
{
	const struct hl_creds_tuning *t = &r->p->tune;
	char *url = NULL;
	struct hl_buf tok, hdr;
	hl_buf_init(&tok, TOKEN_FILE_MAX);
	hl_buf_init(&hdr, TOKEN_FILE_MAX + 64);
	struct http_resp resp = {0};
	hl_buf_init(&resp.body, HTTP_BODY_MAX);
	struct curl_slist *hdrs = NULL;
	char errbuf[CURL_ERROR_SIZE];
	enum hl_err rc = hl_creds_container_url(r->cfg, t->container_host, &url, err);
	if (rc)
		goto out;
	if (!url) {
		tried(r, "container (%s not set)",
		      "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/FULL_URI");
		goto out;
	}
	char last[300] = "";
	for (int attempt = 1; attempt <= t->container_attempts; attempt++) {
		if (attempt > 1)
			sleep_ms(t->container_retry_sleep_ms);
		bool have_tok = false;
		hl_buf_reset(&tok);
		rc = container_auth(r, &tok, &have_tok, err);
		if (rc)
			goto out;
		slist_free_secure(hdrs);
		hdrs = NULL;
		hl_buf_reset(&hdr);
		struct curl_slist *h2 = curl_slist_append(NULL, "Accept: application/json");
		hdrs = h2;
		if (h2 && have_tok) {
			if (hl_buf_appendf(&hdr, "Authorization: %s", tok.data ? tok.data : "") ||
			    !(h2 = curl_slist_append(hdrs, hdr.data)))
				h2 = NULL;
			else
				hdrs = h2;
			explicit_bzero(hdr.data, hdr.len);
		}
		if (!h2) {
			rc = hl_error_set(err, HL_ERR_NOMEM, "out of memory");
			goto out;
		}
		enum hl_err he = http_do("GET", url, hdrs, t->container_timeout_ms,
					 r->cfg->ca_bundle, &resp, errbuf);
		if (he == HL_ERR_NOMEM) {
			rc = hl_error_set(err, HL_ERR_NOMEM, "out of memory");
			goto out;
		}
		if (he) {
			snprintf(last, sizeof(last), "%.250s", errbuf);
			continue;
		}
		if (resp.status != 200) {
			snprintf(last, sizeof(last), "HTTP status %ld", resp.status);
			continue;
		}
		const char *missing;
		enum hl_err pe = parse_metadata_creds(&resp, SRC_CONTAINER, out, &missing);
		if (pe == HL_ERR_NOMEM) {
			rc = hl_error_set(err, HL_ERR_NOMEM, "out of memory");
			goto out;
		}
		if (pe && strcmp(missing, "a JSON object") == 0) {
			snprintf(last, sizeof(last), "response is not a JSON object");
			continue;
		}
		if (pe) {
			/* botocore retries transport and JSON errors, not a missing field */
			rc = hl_error_set(err, HL_ERR_CREDENTIALS,
					  "container credentials from %.200s: response lacks %s",
					  url, missing);
			goto out;
		}
		*found = true;
		rc = HL_ERR_OK;
		goto out;
	}
	rc = hl_error_set(err, HL_ERR_CREDENTIALS,
			  "container credentials from %.200s failed after %d attempts: %s", url,
			  t->container_attempts, last);
out:
	/* the URL may carry nothing secret, but the token and bodies might */
	free(url);
	slist_free_secure(hdrs);
	hl_buf_free_secure(&tok);
	hl_buf_free_secure(&hdr);
	hl_buf_free_secure(&resp.body);
	return rc;
}

/* ---- 11: EC2 instance metadata (IMDSv2, v1 fallback) ---- */

struct imds {
	char base[512];
	long timeout_ms;
	int attempts;
	bool v1_disabled;
};

static enum hl_err imds_settings(const struct run *r, struct imds *m, struct hl_error *err)
{
	const char *ep =
	    setting(r, "AWS_EC2_METADATA_SERVICE_ENDPOINT", "ec2_metadata_service_endpoint");
	const char *mode = setting(r, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
				   "ec2_metadata_service_endpoint_mode");
	bool ipv6 = false;
	if (mode) {
		if (strcasecmp(mode, "ipv6") == 0)
			ipv6 = true;
		else if (strcasecmp(mode, "ipv4") != 0)
			return hl_error_set(
			    err, HL_ERR_CONFIG,
			    "EC2 metadata endpoint mode '%.32s': expected ipv4 or ipv6", mode);
	} else {
		ipv6 = hl_config_true(setting(r, "AWS_IMDS_USE_IPV6", "imds_use_ipv6"));
	}
	if (ep) {
		char scheme[16], host[256];
		if (hl_url_host(ep, scheme, sizeof(scheme), host, sizeof(host)) ||
		    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
			return hl_error_set(err, HL_ERR_CONFIG,
					    "EC2 metadata endpoint '%.200s' is not an http(s) URL",
					    ep);
		size_t n = strlen(ep);
		if (n + 2 > sizeof(m->base))
			return hl_error_set(err, HL_ERR_CONFIG, "EC2 metadata endpoint too long");
		snprintf(m->base, sizeof(m->base), "%s%s", ep, ep[n - 1] == '/' ? "" : "/");
	} else {
		snprintf(m->base, sizeof(m->base), "%s",
			 ipv6 ? "http://[fd00:ec2::254]/" : "http://169.254.169.254/");
	}
	const char *to = setting(r, "AWS_METADATA_SERVICE_TIMEOUT", "metadata_service_timeout");
	m->timeout_ms = 1000;
	if (to) {
		char *end;
		errno = 0;
		double v = strtod(to, &end);
		if (errno || end == to || *end || !(v > 0) || v > 3600)
			return hl_error_set(
			    err, HL_ERR_CONFIG,
			    "metadata service timeout '%.32s': expected seconds > 0", to);
		m->timeout_ms = (long)(v * 1000);
		if (m->timeout_ms < 1)
			m->timeout_ms = 1;
	}
	const char *na =
	    setting(r, "AWS_METADATA_SERVICE_NUM_ATTEMPTS", "metadata_service_num_attempts");
	m->attempts = 1;
	if (na) {
		char *end;
		errno = 0;
		long v = strtol(na, &end, 10);
		if (errno || end == na || *end || v < 1 || v > 20)
			return hl_error_set(err, HL_ERR_CONFIG,
					    "metadata service attempts '%.32s': expected 1..20",
					    na);
		m->attempts = (int)v;
	}
	m->v1_disabled =
	    hl_config_true(setting(r, "AWS_EC2_METADATA_V1_DISABLED", "ec2_metadata_v1_disabled"));
	return HL_ERR_OK;
}

static enum hl_err imds_token(const struct imds *m, struct hl_buf *token, struct http_resp *resp,
			      bool *give_up)
{
	char url[600], errbuf[CURL_ERROR_SIZE];
	snprintf(url, sizeof(url), "%slatest/api/token", m->base);
	struct curl_slist *h =
	    curl_slist_append(NULL, "x-aws-ec2-metadata-token-ttl-seconds: 21600");
	struct curl_slist *h2 = h ? curl_slist_append(h, "Content-Type:") : NULL;
	if (!h2) {
		curl_slist_free_all(h);
		return HL_ERR_NOMEM;
	}
	enum hl_err rc = HL_ERR_OK;
	for (int i = 0; i < m->attempts; i++) {
		enum hl_err he = http_do("PUT", url, h2, m->timeout_ms, NULL, resp, errbuf);
		if (he == HL_ERR_NOMEM) {
			rc = he;
			break;
		}
		if (he == HL_ERR_TIMEOUT)
			break; /* a read timeout means "no IMDSv2 here": fall back */
		if (he)
			continue;
		if (resp->status == 200) {
			size_t n = resp->body.len;
			while (n &&
			       (resp->body.data[n - 1] == '\n' || resp->body.data[n - 1] == '\r'))
				n--;
			if (n && !memchr(resp->body.data, '\n', n) &&
			    !memchr(resp->body.data, '\r', n))
				rc = hl_buf_append(token, resp->body.data, n);
			break;
		}
		if (resp->status == 403 || resp->status == 404 || resp->status == 405)
			break;
		if (resp->status == 400) {
			*give_up = true;
			break;
		}
	}
	curl_slist_free_all(h2);
	return rc;
}

/* GET path with the token (if any), retrying on failure, non-200 or an
 * empty body (and bad JSON when want_json). false: retries exhausted. */
static bool imds_get(const struct imds *m, const char *path, const struct hl_buf *token,
		     bool want_json, struct http_resp *resp, char *why, size_t whysz)
{
	char url[1200], errbuf[CURL_ERROR_SIZE];
	snprintf(url, sizeof(url), "%s%s", m->base, path);
	struct hl_buf th;
	hl_buf_init(&th, 8192);
	struct curl_slist *h = NULL;
	if (token->len) {
		if (hl_buf_appendf(&th, "x-aws-ec2-metadata-token: %s", token->data) ||
		    !(h = curl_slist_append(NULL, th.data))) {
			hl_buf_free_secure(&th);
			snprintf(why, whysz, "out of memory");
			return false;
		}
	}
	bool ok = false;
	for (int i = 0; i < m->attempts && !ok; i++) {
		enum hl_err he = http_do("GET", url, h, m->timeout_ms, NULL, resp, errbuf);
		if (he) {
			snprintf(why, whysz, "%.200s", errbuf);
			continue;
		}
		if (resp->status != 200 || resp->body.len == 0) {
			snprintf(why, whysz, "HTTP status %ld%s", resp->status,
				 resp->body.len ? "" : " with an empty body");
			continue;
		}
		if (want_json) {
			const char *end;
			cJSON *j =
			    cJSON_ParseWithLengthOpts(resp->body.data, resp->body.len, &end, false);
			bool valid = j != NULL;
			if (j) {
				for (cJSON *it = j->child; cJSON_IsObject(j) && it; it = it->next)
					if (cJSON_IsString(it) && it->valuestring)
						explicit_bzero(it->valuestring,
							       strlen(it->valuestring));
				cJSON_Delete(j);
			}
			if (!valid) {
				snprintf(why, whysz, "credentials are not JSON");
				continue;
			}
		}
		ok = true;
	}
	slist_free_secure(h);
	hl_buf_free_secure(&th);
	return ok;
}

static unsigned random_jitter(void)
{
	unsigned v = 0;
	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v))
		v = (unsigned)time(NULL) ^ (unsigned)getpid();
	return 120 + v % 481; /* 2 to 10 minutes */
}

static enum hl_err fetch_imds(struct run *r, struct hl_credentials *out, bool *found,
			      struct hl_error *err)
{
	if (hl_config_true(env(r, "AWS_EC2_METADATA_DISABLED"))) {
		tried(r, "EC2 IMDS (disabled by %s)", "AWS_EC2_METADATA_DISABLED");
		return HL_ERR_OK;
	}
	struct imds m;
	enum hl_err rc = imds_settings(r, &m, err);
	if (rc)
		return rc;
	struct hl_buf token, path;
	hl_buf_init(&token, 4096);
	hl_buf_init(&path, 1024);
	struct http_resp resp = {0};
	hl_buf_init(&resp.body, HTTP_BODY_MAX);
	char why[256] = "";
	bool give_up = false;
	rc = imds_token(&m, &token, &resp, &give_up);
	if (rc) {
		rc = hl_error_set(err, HL_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (give_up) {
		snprintf(why, sizeof(why), "token request rejected with HTTP 400");
		goto none;
	}
	if (!token.len && m.v1_disabled) {
		rc = hl_error_set(err, HL_ERR_CREDENTIALS,
				  "EC2 IMDS at %s: no IMDSv2 token and IMDSv1 is disabled "
				  "(ec2_metadata_v1_disabled)",
				  m.base);
		goto out;
	}
	static const char role_path[] = "latest/meta-data/iam/security-credentials/";
	if (!imds_get(&m, role_path, &token, false, &resp, why, sizeof(why)))
		goto none;
	size_t n = resp.body.len;
	while (n && (resp.body.data[n - 1] == '\n' || resp.body.data[n - 1] == '\r' ||
		     resp.body.data[n - 1] == ' '))
		n--;
	if (hl_buf_appends(&path, role_path) ||
	    hl_buf_append_uri(&path, resp.body.data, n, false)) {
		snprintf(why, sizeof(why), "role name too long");
		goto none;
	}
	if (!imds_get(&m, path.data, &token, true, &resp, why, sizeof(why)))
		goto none;
	const char *missing;
	enum hl_err pe = parse_metadata_creds(&resp, SRC_IMDS, out, &missing);
	if (pe == HL_ERR_NOMEM) {
		rc = hl_error_set(err, HL_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (pe) {
		snprintf(why, sizeof(why), "credentials response lacks %s", missing);
		goto none;
	}
	out->expiration = hl_creds_imds_stable_expiry(out->expiration, r->now, random_jitter());
	*found = true;
	rc = HL_ERR_OK;
	goto out;
none : {
	char note[400];
	snprintf(note, sizeof(note), "EC2 IMDS at %.150s (%.200s)", m.base, why);
	tried(r, "%s", note);
}
	rc = HL_ERR_OK;
out:
	hl_buf_free_secure(&token);
	hl_buf_free(&path);
	hl_buf_free_secure(&resp.body);
	return rc;
}

/* ---- the chain ---- */

static enum hl_err run_begin(struct run *r, struct hl_creds_provider *p, time_t now,
			     struct hl_error *err)
{
	memset(r, 0, sizeof(*r));
	r->p = p;
	r->cfg = p->cfg;
	r->now = now;
	hl_buf_init(&r->tried, 2048);
	return hl_config_read_profile(p->cfg, &r->prof, err);
}

static void run_end(struct run *r)
{
	hl_profile_free(r->prof);
	hl_buf_free(&r->tried);
}

/* One provider by kind; *found false means it had nothing. */
static enum hl_err fetch_one(struct run *r, enum source kind, bool refreshing,
			     struct hl_credentials *out, bool *found, struct hl_error *err)
{
	*found = false;
	switch (kind) {
	case SRC_ENV:
		return fetch_env(r, refreshing, out, found, err);
	case SRC_SHARED_FILE:
		return fetch_file_keys(r, HL_PROFILE_CREDENTIALS, out, found, err);
	case SRC_PROCESS:
		return fetch_process(r, out, found, err);
	case SRC_CONFIG_FILE:
		return fetch_file_keys(r, HL_PROFILE_CONFIG, out, found, err);
	case SRC_CONTAINER:
		return fetch_container(r, out, found, err);
	case SRC_IMDS:
		return fetch_imds(r, out, found, err);
	case SRC_NONE:
		break;
	}
	return HL_ERR_OK;
}

static enum hl_err resolve_chain(struct run *r, struct hl_credentials *out, enum source *kind,
				 struct hl_error *err)
{
	bool found = false;
	enum hl_err rc;
	if (r->cfg->profile_explicit) {
		tried(r, "environment (%s)", "skipped: profile chosen explicitly");
	} else {
		rc = fetch_env(r, false, out, &found, err);
		if (rc || found) {
			*kind = SRC_ENV;
			return rc;
		}
	}
	rc = check_sts_profiles(r, err);
	if (rc)
		return rc;
	static const enum source rest[] = {SRC_SHARED_FILE, SRC_PROCESS, SRC_CONFIG_FILE,
					   SRC_CONTAINER, SRC_IMDS};
	for (size_t i = 0; i < sizeof(rest) / sizeof(rest[0]); i++) {
		if (rest[i] == SRC_PROCESS &&
		    hl_profile_get(r->prof, HL_PROFILE_MERGED, "login_session"))
			return unsupported(r, "login_session (aws login)", err);
		rc = fetch_one(r, rest[i], false, out, &found, err);
		if (rc || found) {
			*kind = rest[i];
			return rc;
		}
	}
	return hl_error_set(err, HL_ERR_NO_CREDENTIALS,
			    "no credentials for profile '%s'; tried: %s", r->cfg->profile,
			    r->tried.data ? r->tried.data : "nothing");
}

/* Runs the whole chain (kind == SRC_NONE) or refreshes from one provider. */
static enum hl_err fetch(struct hl_creds_provider *p, enum source kind, time_t now,
			 struct hl_credentials *out, enum source *ret_kind, struct hl_error *err)
{
	struct run r;
	enum hl_err rc = run_begin(&r, p, now, err);
	if (rc)
		goto out;
	if (kind == SRC_NONE) {
		rc = resolve_chain(&r, out, ret_kind, err);
	} else {
		bool found = false;
		*ret_kind = kind;
		rc = fetch_one(&r, kind, true, out, &found, err);
		if (!rc && !found)
			rc = hl_error_set(
			    err, HL_ERR_CREDENTIALS,
			    "refreshing %s credentials: the provider returned none (%s)",
			    source_names[kind], r.tried.data ? r.tried.data : "");
	}
	if (!rc && out->expiration != 0 && out->expiration <= now) {
		hl_credentials_clear(out);
		rc =
		    hl_error_set(err, HL_ERR_CREDENTIALS, "credentials from %s are already expired",
				 source_names[*ret_kind]);
	}
out:
	run_end(&r);
	return rc;
}

/* ---- the cache ---- */

void hl_creds_tuning_default(struct hl_creds_tuning *t)
{
	t->process_timeout_ms = 15000;
	t->container_timeout_ms = 2000;
	t->container_retry_sleep_ms = 1000;
	t->container_attempts = 3;
	t->container_host = "169.254.170.2";
}

void hl_creds_provider_tune(struct hl_creds_provider *p, const struct hl_creds_tuning *t)
{
	p->tune = *t;
	if (p->tune.container_attempts < 1)
		p->tune.container_attempts = 1;
}

enum hl_err hl_creds_provider_new(const struct hl_config *cfg, struct hl_creds_provider **ret,
				  struct hl_error *err)
{
	struct hl_creds_provider *p = calloc(1, sizeof(*p));
	if (!p)
		return hl_error_set(err, HL_ERR_NOMEM, "out of memory");
	p->cfg = cfg;
	hl_creds_tuning_default(&p->tune);
	if (pthread_mutex_init(&p->lock, NULL)) {
		free(p);
		return hl_error_set(err, HL_ERR_NOMEM, "cannot create a mutex");
	}
	if (pthread_mutex_init(&p->refresh_lock, NULL)) {
		pthread_mutex_destroy(&p->lock);
		free(p);
		return hl_error_set(err, HL_ERR_NOMEM, "cannot create a mutex");
	}
	*ret = p;
	return HL_ERR_OK;
}

void hl_creds_provider_free(struct hl_creds_provider *p)
{
	if (!p)
		return;
	hl_credentials_clear(&p->cached);
	pthread_mutex_destroy(&p->lock);
	pthread_mutex_destroy(&p->refresh_lock);
	free(p);
}

void hl_creds_invalidate(struct hl_creds_provider *p)
{
	pthread_mutex_lock(&p->lock);
	hl_credentials_clear(&p->cached);
	p->have = false;
	p->kind = SRC_NONE;
	p->generation++;
	pthread_mutex_unlock(&p->lock);
}

/* Copies the cache when it needs nothing (or only an advisory refresh and
 * allow_advisory). Call with p->lock held. */
static enum hl_err snapshot_locked(struct hl_creds_provider *p, time_t now, bool allow_advisory,
				   struct hl_credentials *ret, bool *done)
{
	*done = false;
	if (!p->have)
		return HL_ERR_OK;
	enum hl_refresh need = hl_creds_refresh_need(p->cached.expiration, now);
	if (need == HL_REFRESH_NONE || (need == HL_REFRESH_ADVISORY && allow_advisory)) {
		*done = true;
		return hl_credentials_copy(ret, &p->cached);
	}
	return HL_ERR_OK;
}

enum hl_err hl_creds_get(struct hl_creds_provider *p, time_t now, struct hl_credentials *ret,
			 struct hl_error *err)
{
	bool done;
	enum hl_err rc;
	memset(ret, 0, sizeof(*ret));

	pthread_mutex_lock(&p->lock);
	rc = snapshot_locked(p, now, false, ret, &done);
	enum refresh_mode { FULL, ADVISORY, MANDATORY } mode = FULL;
	if (!done && p->have)
		mode = hl_creds_refresh_need(p->cached.expiration, now) == HL_REFRESH_ADVISORY
			   ? ADVISORY
			   : MANDATORY;
	pthread_mutex_unlock(&p->lock);
	if (done)
		return rc ? hl_error_set(err, rc, "out of memory") : HL_ERR_OK;

	if (mode == ADVISORY) {
		/* someone is already refreshing: the current ones are still good */
		if (pthread_mutex_trylock(&p->refresh_lock) != 0) {
			pthread_mutex_lock(&p->lock);
			rc = snapshot_locked(p, now, true, ret, &done);
			pthread_mutex_unlock(&p->lock);
			if (done)
				return rc ? hl_error_set(err, rc, "out of memory") : HL_ERR_OK;
			pthread_mutex_lock(&p->refresh_lock);
		}
	} else {
		pthread_mutex_lock(&p->refresh_lock);
	}

	/* another thread may have refreshed or invalidated while we waited */
	pthread_mutex_lock(&p->lock);
	rc = snapshot_locked(p, now, false, ret, &done);
	enum source kind = p->have ? p->kind : SRC_NONE;
	unsigned long gen = p->generation;
	pthread_mutex_unlock(&p->lock);
	if (done) {
		pthread_mutex_unlock(&p->refresh_lock);
		return rc ? hl_error_set(err, rc, "out of memory") : HL_ERR_OK;
	}

	struct hl_credentials fresh = {0};
	enum source got = kind;
	struct hl_error ferr;
	hl_error_clear(&ferr);
	rc = fetch(p, kind, now, &fresh, &got, &ferr);
	pthread_mutex_lock(&p->lock);
	if (!rc) {
		if (p->generation == gen) {
			hl_credentials_clear(&p->cached);
			/* without memory for the cache the caller still gets fresh ones */
			p->have = hl_credentials_copy(&p->cached, &fresh) == HL_ERR_OK;
			p->kind = p->have ? got : SRC_NONE;
		}
		*ret = fresh;
		memset(&fresh, 0, sizeof(fresh));
	} else if (kind != SRC_NONE && p->have && p->generation == gen &&
		   hl_creds_refresh_need(p->cached.expiration, now) == HL_REFRESH_ADVISORY) {
		/* advisory refresh failed: keep what we have */
		rc = hl_credentials_copy(ret, &p->cached);
	} else if (err) {
		*err = ferr;
	}
	pthread_mutex_unlock(&p->lock);
	pthread_mutex_unlock(&p->refresh_lock);
	hl_credentials_clear(&fresh);
	if (rc == HL_ERR_NOMEM)
		return hl_error_set(err, rc, "out of memory");
	return rc;
}
