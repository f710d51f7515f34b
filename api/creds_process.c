/* credential_process: the profile's command, split as a POSIX shell would
 * but run without one, under a deadline, with its stdout parsed as the SDKs'
 * Version 1 JSON and its stderr quoted (sanitised) in errors. */
#include "creds_process.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "iso8601.h"
#include "clock.h"
#include "ini.h"

extern char **environ;

#define PROCESS_OUT_MAX (64 * 1024)
#define PROCESS_ERR_MAX (2 * 1024)

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
	hl_mono_after(timeout_ms, &deadline);
	bool timed_out = false;
	while (op[0] >= 0 || ep[0] >= 0) {
		long left = (long)hl_mono_left_ms(&deadline);
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
		if ((long)hl_mono_left_ms(&deadline) <= 0)
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

enum hl_err hl_creds_process_parse(const char *data, size_t len, struct hl_credentials *out,
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
	const char *akid = hl_creds_json_str(j, "AccessKeyId");
	const char *secret = hl_creds_json_str(j, "SecretAccessKey");
	if (!akid || !*akid || !secret || !*secret) {
		rc = hl_error_set(err, HL_ERR_CREDENTIALS, "credential_process output lacks %s",
				  !akid || !*akid ? "AccessKeyId" : "SecretAccessKey");
		goto out;
	}
	const char *exp_s = hl_creds_json_str(j, "Expiration");
	time_t exp = 0;
	if (exp_s && !hl_iso8601_parse_secs(exp_s, &exp)) {
		rc = hl_error_set(err, HL_ERR_CREDENTIALS,
				  "credential_process output: Expiration '%.64s' is not ISO 8601",
				  exp_s);
		goto out;
	}
	if (hl_creds_set(out, HL_CREDS_SRC_PROCESS, akid, secret,
			 hl_creds_json_str(j, "SessionToken"), exp)) {
		rc = hl_error_set(err, HL_ERR_NOMEM, "out of memory");
		goto out;
	}
	rc = HL_ERR_OK;
out:
	hl_creds_json_delete_secure(j);
	return rc;
}

enum hl_err hl_creds_fetch_process(struct hl_creds_run *r, struct hl_credentials *out, bool *found,
				   struct hl_error *err)
{
	const char *cmd = hl_profile_get(r->prof, HL_PROFILE_MERGED, "credential_process");
	if (!cmd || !*cmd) {
		hl_creds_tried(r, "credential_process (%s)", "not set");
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
	rc = spawn_capture(argv, r->tune->process_timeout_ms, &sout, &serr, &status, err);
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
	rc = hl_creds_process_parse(sout.data ? sout.data : "", sout.len, out, err);
	if (!rc)
		*found = true;
out:
	hl_shell_split_free(argv);
	hl_buf_free_secure(&sout);
	hl_buf_free_secure(&serr);
	return rc;
}
