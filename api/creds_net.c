/* Container credentials and EC2 IMDS over libcurl: one easy handle per
 * request, no proxy, capped bodies, and every buffer or header that may hold
 * a token or a secret wiped before it is freed. */
#include "creds_net.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "http_easy.h"
#include "iso8601.h"
#include "rand.h"
#include "url.h"

#define HTTP_BODY_MAX (64 * 1024)
#define TOKEN_FILE_MAX (16 * 1024)

/* ---- HTTP ---- */

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
	const struct hl_http_easy_opts o = {timeout_ms, ca_bundle};
	CURL *h = NULL;
	CURLcode cc;
	enum hl_err rc = hl_http_easy_new(&o, &h);
	if (rc) {
		snprintf(errbuf, CURL_ERROR_SIZE, "cannot set up a curl handle");
		return rc;
	}
	errbuf[0] = '\0';
	bool put = strcmp(method, "PUT") == 0;
	if ((cc = curl_easy_setopt(h, CURLOPT_URL, url)) ||
	    (cc = curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms)) ||
	    (cc = curl_easy_setopt(h, CURLOPT_NOPROXY, "*")) || /* metadata endpoints are local */
	    (cc = curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf)) ||
	    (cc = curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body)) ||
	    (cc = curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp->body)) ||
	    (cc = curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs)) ||
	    (put && ((cc = curl_easy_setopt(h, CURLOPT_POSTFIELDS, "")) ||
		     (cc = curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L)) ||
		     (cc = curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT"))))) {
		snprintf(errbuf, CURL_ERROR_SIZE, "cannot set up the request: %s",
			 curl_easy_strerror(cc));
		curl_easy_cleanup(h);
		return hl_http_easy_setopt_err(cc);
	}
	cc = curl_easy_perform(h);
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
	return hl_url_host_is_loopback(host);
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
	struct hl_url u;
	if (hl_url_parse(full, &u) ||
	    (strcmp(u.scheme, "http") != 0 && strcmp(u.scheme, "https") != 0))
		return hl_error_set(
		    err, HL_ERR_CONFIG,
		    "AWS_CONTAINER_CREDENTIALS_FULL_URI '%.200s' is not an http(s) URL", full);
	if (strcmp(u.scheme, "http") == 0 && !container_host_allowed(u.host))
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
static enum hl_err container_auth(const struct hl_creds_run *r, struct hl_buf *tok, bool *have,
				  struct hl_error *err)
{
	*have = false;
	const char *file = hl_creds_env(r, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
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

enum hl_err hl_creds_metadata_parse(const char *data, size_t len, enum hl_creds_source src,
				    struct hl_credentials *out, const char **missing)
{
	*missing = NULL;
	const char *end = NULL;
	cJSON *j = cJSON_ParseWithLengthOpts(data ? data : "", len, &end, false);
	enum hl_err rc = HL_ERR_PROTOCOL;
	if (!cJSON_IsObject(j)) {
		*missing = "a JSON object";
		goto out;
	}
	static const char *const need[] = {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"};
	for (size_t i = 0; i < 4; i++) {
		if (!hl_creds_json_str(j, need[i])) {
			*missing = need[i];
			goto out;
		}
	}
	time_t exp;
	if (!hl_iso8601_parse_secs(hl_creds_json_str(j, "Expiration"), &exp)) {
		*missing = "a valid Expiration";
		goto out;
	}
	rc = hl_creds_set(out, src, hl_creds_json_str(j, "AccessKeyId"),
			  hl_creds_json_str(j, "SecretAccessKey"), hl_creds_json_str(j, "Token"),
			  exp);
out:
	hl_creds_json_delete_secure(j);
	return rc;
}

enum hl_err hl_creds_fetch_container(struct hl_creds_run *r, struct hl_credentials *out,
				     bool *found, struct hl_error *err)
{
	const struct hl_creds_tuning *t = r->tune;
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
		hl_creds_tried(r, "container (%s not set)",
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
		enum hl_err pe = hl_creds_metadata_parse(resp.body.data, resp.body.len,
							 HL_CREDS_SRC_CONTAINER, out, &missing);
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

static enum hl_err imds_settings(const struct hl_creds_run *r, struct imds *m, struct hl_error *err)
{
	const char *ep = hl_creds_setting(r, "AWS_EC2_METADATA_SERVICE_ENDPOINT",
					  "ec2_metadata_service_endpoint");
	const char *mode = hl_creds_setting(r, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
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
		ipv6 = hl_config_true(hl_creds_setting(r, "AWS_IMDS_USE_IPV6", "imds_use_ipv6"));
	}
	if (ep) {
		struct hl_url u;
		if (hl_url_parse(ep, &u) ||
		    (strcmp(u.scheme, "http") != 0 && strcmp(u.scheme, "https") != 0))
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
	const char *to =
	    hl_creds_setting(r, "AWS_METADATA_SERVICE_TIMEOUT", "metadata_service_timeout");
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
	const char *na = hl_creds_setting(r, "AWS_METADATA_SERVICE_NUM_ATTEMPTS",
					  "metadata_service_num_attempts");
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
	m->v1_disabled = hl_config_true(
	    hl_creds_setting(r, "AWS_EC2_METADATA_V1_DISABLED", "ec2_metadata_v1_disabled"));
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
			hl_creds_json_delete_secure(j);
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

enum hl_err hl_creds_fetch_imds(struct hl_creds_run *r, struct hl_credentials *out, bool *found,
				struct hl_error *err)
{
	if (hl_config_true(hl_creds_env(r, "AWS_EC2_METADATA_DISABLED"))) {
		hl_creds_tried(r, "EC2 IMDS (disabled by %s)", "AWS_EC2_METADATA_DISABLED");
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
	enum hl_err pe = hl_creds_metadata_parse(resp.body.data, resp.body.len, HL_CREDS_SRC_IMDS,
						 out, &missing);
	if (pe == HL_ERR_NOMEM) {
		rc = hl_error_set(err, HL_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (pe) {
		snprintf(why, sizeof(why), "credentials response lacks %s", missing);
		goto none;
	}
	out->expiration = hl_creds_imds_stable_expiry(out->expiration, r->now, hl_rand_between(120, 600) /* 2 to 10 minutes */);
	*found = true;
	rc = HL_ERR_OK;
	goto out;
none : {
	char note[400];
	snprintf(note, sizeof(note), "EC2 IMDS at %.150s (%.200s)", m.base, why);
	hl_creds_tried(r, "%s", note);
}
	rc = HL_ERR_OK;
out:
	hl_buf_free_secure(&token);
	hl_buf_free(&path);
	hl_buf_free_secure(&resp.body);
	return rc;
}
