/* The INIT reply repair. libfuse before 3.16.2 never copies
 * FUSE_PARALLEL_DIROPS into its INIT reply, whatever the filesystem asks
 * for, so the kernel runs one LOOKUP or READDIR at a time per directory:
 * 32 readers of cold resources in one fhir/<Type>/ went no faster than one
 * (BENCHMARKS.md, D4). The daemon's replies to the kernel pass through
 * hlfs_kio_patch(), which adds the flags init asked for to the INIT reply,
 * once, and touches nothing else. With a libfuse that sends the flags
 * itself, the repair changes no bit.
 * Pure: no FUSE calls. Thread-safe. */
#ifndef HLFS_KIO_H
#define HLFS_KIO_H

#include <linux/fuse.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/uio.h>

struct hlfs_kio {
	atomic_uint_least32_t add; /* FUSE_* flags the INIT reply still lacks; 0 once sent */
};

/* From init, before libfuse replies: the reply must carry these kernel
 * flags (FUSE_PARALLEL_DIROPS), which the kernel offered. */
void hlfs_kio_want(struct hlfs_kio *k, uint32_t flags);

/* Called with every reply before it is written. When iov[0..count) is
 * the INIT reply and flags are wanted, copies its body into *body, adds
 * the flags there, points iov[1] at *body and returns 1 (libfuse's own
 * buffer is left as it was). Else returns 0 and changes nothing. */
int hlfs_kio_patch(struct hlfs_kio *k, struct iovec *iov, int count, struct fuse_init_out *body);

#endif
