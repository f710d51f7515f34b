#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "kio.h"
#include "tap.h"

/* A reply as libfuse hands it over: header and body in two pieces. */
struct reply {
	struct fuse_out_header h;
	struct fuse_init_out init;
	struct iovec iov[2];
};

static void init_reply(struct reply *r, uint64_t unique, size_t body_len)
{
	memset(r, 0, sizeof(*r));
	r->init.major = FUSE_KERNEL_VERSION;
	r->init.minor = 38;
	r->init.flags = FUSE_ASYNC_READ | FUSE_BIG_WRITES;
	r->init.max_write = 131072;
	r->h.unique = unique;
	r->h.len = (uint32_t)(sizeof(r->h) + body_len);
	r->iov[0] = (struct iovec){&r->h, sizeof(r->h)};
	r->iov[1] = (struct iovec){&r->init, body_len};
}

int main(void)
{
	struct hlfs_kio k = {0};
	struct reply r;
	struct fuse_init_out body;

	init_reply(&r, 2, sizeof(r.init));
	is_int(hlfs_kio_patch(&k, r.iov, 2, &body), 0, "nothing wanted: the INIT reply passes as it is");
	ok(r.iov[1].iov_base == &r.init, "and its body is libfuse's own");

	hlfs_kio_want(&k, FUSE_PARALLEL_DIROPS);

	/* Replies that are not INIT's keep every byte. */
	struct reply other;
	init_reply(&other, 4, sizeof(other.init));
	other.h.error = -ENOENT;
	is_int(hlfs_kio_patch(&k, other.iov, 2, &body), 0, "an error reply is not INIT's");
	init_reply(&other, 0, sizeof(other.init));
	is_int(hlfs_kio_patch(&k, other.iov, 2, &body), 0, "a notification (unique 0) is not INIT's");
	init_reply(&other, 4, sizeof(other.init));
	is_int(hlfs_kio_patch(&k, other.iov, 1, &body), 0, "a header alone is not INIT's");
	init_reply(&other, 4, 8);
	is_int(hlfs_kio_patch(&k, other.iov, 2, &body), 0, "a body too short for the flags is not");
	init_reply(&other, 4, sizeof(other.init) + 1);
	is_int(hlfs_kio_patch(&k, other.iov, 2, &body), 0, "nor one longer than INIT's");
	init_reply(&other, 4, sizeof(other.init));
	other.init.major = 0x10000; /* a 64-byte read reply that does not start with 7 */
	is_int(hlfs_kio_patch(&k, other.iov, 2, &body), 0, "a body not starting with version 7 is not");
	ok(other.init.flags == (FUSE_ASYNC_READ | FUSE_BIG_WRITES), "and none of them was changed");

	/* The INIT reply gets the flags, in a copy. */
	init_reply(&r, 2, sizeof(r.init));
	is_int(hlfs_kio_patch(&k, r.iov, 2, &body), 1, "the INIT reply is repaired");
	ok(r.iov[1].iov_base == &body, "its body now points at the copy");
	ok(body.flags == (FUSE_ASYNC_READ | FUSE_BIG_WRITES | FUSE_PARALLEL_DIROPS),
	   "the copy has the wanted flag added to libfuse's");
	ok(body.max_write == 131072 && body.minor == 38, "and libfuse's other fields");
	ok(r.init.flags == (FUSE_ASYNC_READ | FUSE_BIG_WRITES), "libfuse's buffer is unchanged");
	is_int(r.iov[1].iov_len, sizeof(r.init), "the length stays the reply's");

	/* Once only: a later reply of the same shape passes as it is. */
	init_reply(&r, 6, sizeof(r.init));
	is_int(hlfs_kio_patch(&k, r.iov, 2, &body), 0, "a second INIT-shaped reply is left alone");

	/* An old kernel's short INIT reply (24 bytes) is repaired within it. */
	struct hlfs_kio k2 = {0};
	hlfs_kio_want(&k2, FUSE_PARALLEL_DIROPS);
	init_reply(&r, 2, 24);
	memset(&body, 0xee, sizeof(body));
	is_int(hlfs_kio_patch(&k2, r.iov, 2, &body), 1, "a 24-byte INIT reply is repaired");
	ok(body.flags & FUSE_PARALLEL_DIROPS, "with the flag");
	is_int(r.iov[1].iov_len, 24, "and keeps its 24 bytes");

	/* Flags libfuse already sends stay set once. */
	struct hlfs_kio k3 = {0};
	hlfs_kio_want(&k3, FUSE_PARALLEL_DIROPS);
	init_reply(&r, 2, sizeof(r.init));
	r.init.flags |= FUSE_PARALLEL_DIROPS;
	is_int(hlfs_kio_patch(&k3, r.iov, 2, &body), 1, "a reply that has the flag is matched");
	ok(body.flags == (FUSE_ASYNC_READ | FUSE_BIG_WRITES | FUSE_PARALLEL_DIROPS),
	   "and no bit changes");

	return done_testing();
}
