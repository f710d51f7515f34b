/* A scripted HTTP/1.1 server on a loopback port, in a thread of the test
 * process: each request gets the next scripted answer (or the default),
 * requests are recorded byte for byte, connections are counted. One
 * connection is served at a time, which is all sequential tests need.
 * Header-only; for the api/ unit tests. */
#ifndef HL_FAKE_HTTP_H
#define HL_FAKE_HTTP_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum fake_action {
	FAKE_ANSWER,	   /* send the answer, keep the connection */
	FAKE_DROP,	   /* read the request, close without answering */
	FAKE_STALL,	   /* read the request, wait delay_ms, close */
	FAKE_ANSWER_CLOSE, /* answer with Connection: close and close */
};

struct fake_resp {
	enum fake_action action;
	int status;
	const char *reason;
	const char *headers; /* extra header lines, each ending in \r\n; may be NULL */
	const char *body;    /* may be NULL */
	int delay_ms;	     /* before answering (or before closing for STALL) */
};

#define FAKE_MAX_REQS 64
#define FAKE_REQ_MAX 65536

struct fake_srv {
	int lfd;
	int port;
	pthread_t th;
	pthread_mutex_t lock;
	const struct fake_resp *script; /* protected by lock */
	size_t n_script, next;		/* protected by lock */
	struct fake_resp dflt;		/* protected by lock */
	int connections;		/* protected by lock */
	int requests;			/* protected by lock */
	char *reqs[FAKE_MAX_REQS];	/* raw requests; protected by lock */
	size_t req_len[FAKE_MAX_REQS];
	bool stop; /* protected by lock */
};

static __attribute__((unused)) bool fake_stopping(struct fake_srv *s)
{
	pthread_mutex_lock(&s->lock);
	bool v = s->stop;
	pthread_mutex_unlock(&s->lock);
	return v;
}

static __attribute__((unused)) void fake_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* Reads one request into buf; returns its length, 0 on EOF/garbage/stop. */
static __attribute__((unused)) size_t fake_read_request(struct fake_srv *s, int fd, char *buf,
							size_t cap)
{
	size_t len = 0, need = 0;
	while (!need || len < need) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int pr = poll(&p, 1, 100);
		if (fake_stopping(s))
			return 0;
		if (pr <= 0)
			continue;
		if (len + 1 >= cap)
			return 0;
		ssize_t r = read(fd, buf + len, cap - len - 1);
		if (r <= 0)
			return 0;
		if (len == 0 && !((buf[0] >= 'A' && buf[0] <= 'Z')))
			return 0; /* not HTTP (a TLS hello, say): hang up */
		len += (size_t)r;
		buf[len] = '\0';
		if (!need) {
			char *end = strstr(buf, "\r\n\r\n");
			if (!end)
				continue;
			size_t clen = 0;
			for (char *l = buf; l && l < end;
			     l = strstr(l, "\r\n") ? strstr(l, "\r\n") + 2 : NULL)
				if (strncasecmp(l, "Content-Length:", 15) == 0)
					clen = strtoul(l + 15, NULL, 10);
			need = (size_t)(end + 4 - buf) + clen;
		}
	}
	return len;
}

static __attribute__((unused)) void fake_write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL); /* the client may have hung up */
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static __attribute__((unused)) void fake_serve_conn(struct fake_srv *s, int fd)
{
	char *buf = malloc(FAKE_REQ_MAX);
	for (;;) {
		size_t len = fake_read_request(s, fd, buf, FAKE_REQ_MAX);
		if (!len)
			break;
		struct fake_resp r;
		pthread_mutex_lock(&s->lock);
		r = s->next < s->n_script ? s->script[s->next++] : s->dflt;
		if (s->requests < FAKE_MAX_REQS) {
			s->reqs[s->requests] = malloc(len + 1);
			memcpy(s->reqs[s->requests], buf, len + 1);
			s->req_len[s->requests] = len;
		}
		s->requests++;
		pthread_mutex_unlock(&s->lock);
		if (r.delay_ms)
			fake_sleep_ms(r.delay_ms);
		if (r.action == FAKE_DROP || r.action == FAKE_STALL)
			break;
		const char *body = r.body ? r.body : "";
		char head[4096];
		int hn = snprintf(
		    head, sizeof(head), "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\n%s%s\r\n",
		    r.status, r.reason ? r.reason : "OK", strlen(body), r.headers ? r.headers : "",
		    r.action == FAKE_ANSWER_CLOSE ? "Connection: close\r\n" : "");
		fake_write_all(fd, head, (size_t)hn);
		fake_write_all(fd, body, strlen(body));
		if (r.action == FAKE_ANSWER_CLOSE)
			break;
	}
	free(buf);
	close(fd);
}

static __attribute__((unused)) void *fake_main(void *arg)
{
	struct fake_srv *s = arg;
	while (!fake_stopping(s)) {
		struct pollfd p = {.fd = s->lfd, .events = POLLIN};
		if (poll(&p, 1, 100) <= 0)
			continue;
		int fd = accept(s->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		pthread_mutex_lock(&s->lock);
		s->connections++;
		pthread_mutex_unlock(&s->lock);
		fake_serve_conn(s, fd);
	}
	return NULL;
}

static __attribute__((unused)) bool fake_start(struct fake_srv *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->dflt = (struct fake_resp){FAKE_ANSWER, 200, "OK", NULL, "{}", 0};
	s->lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&a, sizeof(a)) || listen(s->lfd, 16) ||
	    getsockname(s->lfd, (struct sockaddr *)&a, &al))
		return false;
	s->port = ntohs(a.sin_port);
	return pthread_create(&s->th, NULL, fake_main, s) == 0;
}

static __attribute__((unused)) void fake_script(struct fake_srv *s, const struct fake_resp *script,
						size_t n)
{
	pthread_mutex_lock(&s->lock);
	s->script = script;
	s->n_script = n;
	s->next = 0;
	pthread_mutex_unlock(&s->lock);
}

static __attribute__((unused)) int fake_requests(struct fake_srv *s)
{
	pthread_mutex_lock(&s->lock);
	int n = s->requests;
	pthread_mutex_unlock(&s->lock);
	return n;
}

static __attribute__((unused)) int fake_connections(struct fake_srv *s)
{
	pthread_mutex_lock(&s->lock);
	int n = s->connections;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* Request i as received (valid until fake_stop). */
static __attribute__((unused)) const char *fake_request(struct fake_srv *s, int i)
{
	pthread_mutex_lock(&s->lock);
	const char *r = i >= 0 && i < s->requests && i < FAKE_MAX_REQS ? s->reqs[i] : NULL;
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* Value of header name in request i (first match, case-insensitive), into
 * out; false when absent. */
static __attribute__((unused)) bool fake_header(struct fake_srv *s, int i, const char *name,
						char *out, size_t outsz)
{
	const char *r = fake_request(s, i);
	size_t n = strlen(name);
	if (!r)
		return false;
	const char *end = strstr(r, "\r\n\r\n");
	for (const char *l = strstr(r, "\r\n"); l && l < end; l = strstr(l + 2, "\r\n")) {
		const char *h = l + 2;
		if (strncasecmp(h, name, n) == 0 && h[n] == ':') {
			const char *v = h + n + 1;
			while (*v == ' ')
				v++;
			const char *e = strstr(v, "\r\n");
			size_t vl = (size_t)(e - v);
			if (vl >= outsz)
				vl = outsz - 1;
			memcpy(out, v, vl);
			out[vl] = '\0';
			return true;
		}
	}
	return false;
}

/* Body of request i. */
static __attribute__((unused)) const char *fake_body(struct fake_srv *s, int i)
{
	const char *r = fake_request(s, i);
	const char *e = r ? strstr(r, "\r\n\r\n") : NULL;
	return e ? e + 4 : NULL;
}

static __attribute__((unused)) void fake_stop(struct fake_srv *s)
{
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->th, NULL);
	close(s->lfd);
	for (int i = 0; i < s->requests && i < FAKE_MAX_REQS; i++)
		free(s->reqs[i]);
	pthread_mutex_destroy(&s->lock);
}

#endif
