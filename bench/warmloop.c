/*
 * warmloop: the warm path of a file, as a program that re-reads it sees it.
 *
 *   warmloop PATH ITERATIONS
 *
 * Each iteration does stat(2), open(2), read(2) until end of file, close(2),
 * which is what `cat` or a polling script does per look. Prints one JSON line:
 *   {"iterations": N, "seconds": S, "per_sec": R, "bytes": B, "errors": E}
 * where B is the size of the last read. Exits 1 when any call failed or when
 * the bytes read differ from st_size (the FUSE contract: sizes are exact).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_sec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One stat+open+read+close. Returns bytes read, or -errno. */
static long one_pass(const char *path, char *buf, size_t cap, off_t *ret_size)
{
	struct stat sb;
	if (stat(path, &sb) != 0)
		return -errno;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	long total = 0;
	for (;;) {
		ssize_t n = read(fd, buf, cap);
		if (n < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		if (n == 0)
			break;
		total += n;
	}
	if (close(fd) != 0)
		return -errno;
	*ret_size = sb.st_size;
	return total;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: warmloop PATH ITERATIONS\n");
		return 2;
	}
	char *end = NULL;
	errno = 0;
	long iters = strtol(argv[2], &end, 10);
	if (errno || !end || *end || iters <= 0) {
		fprintf(stderr, "warmloop: bad iteration count %s\n", argv[2]);
		return 2;
	}
	static char buf[1 << 16];
	long errors = 0;
	long bytes = 0;
	int first_err = 0;
	int size_mismatch = 0;
	double t0 = now_sec();
	for (long i = 0; i < iters; i++) {
		off_t size = 0;
		long n = one_pass(argv[1], buf, sizeof(buf), &size);
		if (n < 0) {
			if (!first_err)
				first_err = (int)-n;
			errors++;
			continue;
		}
		if ((off_t)n != size)
			size_mismatch = 1;
		bytes = n;
	}
	double secs = now_sec() - t0;
	printf("{\"iterations\": %ld, \"seconds\": %.6f, \"per_sec\": %.1f, \"bytes\": %ld, "
	       "\"errors\": %ld, \"size_mismatch\": %d}\n",
	       iters, secs, (double)iters / secs, bytes, errors, size_mismatch);
	if (errors)
		fprintf(stderr, "warmloop: %ld failures, first: %s\n", errors, strerror(first_err));
	if (size_mismatch)
		fprintf(stderr, "warmloop: bytes read differ from st_size\n");
	return errors || size_mismatch ? 1 : 0;
}
