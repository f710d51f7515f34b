#include "kio.h"

#include <stddef.h>
#include <string.h>

void hlfs_kio_want(struct hlfs_kio *k, uint32_t flags)
{
	atomic_fetch_or(&k->add, flags);
}

/* The INIT reply is the one success whose body starts with the protocol
 * version 7 and holds the flags word. Nothing else is written before it
 * (the kernel sends no request until it has the reply, and notifications
 * carry unique 0), and the wanted flags are taken at the first match, so
 * no later reply of the same shape is touched. */
static int is_init_reply(const struct iovec *iov, int count)
{
	if (count != 2 || iov[0].iov_len != sizeof(struct fuse_out_header))
		return 0;
	const struct fuse_out_header *h = iov[0].iov_base;
	if (h->error != 0 || h->unique == 0)
		return 0;
	if (iov[1].iov_len < offsetof(struct fuse_init_out, flags) + sizeof(uint32_t) ||
	    iov[1].iov_len > sizeof(struct fuse_init_out))
		return 0;
	uint32_t major;
	memcpy(&major, iov[1].iov_base, sizeof(major));
	return major == FUSE_KERNEL_VERSION;
}

int hlfs_kio_patch(struct hlfs_kio *k, struct iovec *iov, int count, struct fuse_init_out *body)
{
	if (atomic_load_explicit(&k->add, memory_order_relaxed) == 0 || !is_init_reply(iov, count))
		return 0;
	uint32_t add = atomic_exchange(&k->add, 0);
	if (add == 0)
		return 0;
	memset(body, 0, sizeof(*body));
	memcpy(body, iov[1].iov_base, iov[1].iov_len);
	body->flags |= add;
	iov[1].iov_base = body;
	return 1;
}
