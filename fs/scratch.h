/* Editors' scratch files in FHIR type directories (DESIGN.md "Editing"):
 * vim's .swp and 4913, sed -i's sedXXXXXX, `f.json.tmp`, backups `f.json~`.
 * Held in memory only, never sent, gone with the registry; bounded in number
 * and bytes. Thread-safe (one lock of its own); pure: no FUSE, no clock. */
#ifndef HLFS_SCRATCH_H
#define HLFS_SCRATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

struct hlfs_scratch;	  /* the registry */
struct hlfs_scratch_file; /* one open handle's file; stays valid after unlink */

struct hlfs_scratch_limits {
	size_t max_files; /* names at once (unlinked but open files count too); 0: 1024 */
	size_t max_total; /* bytes of content at once, all files; 0: 16 MiB */
	size_t max_file;  /* bytes of one file (fhir_max_bytes); 0: 8 MiB */
};

struct hlfs_scratch_stat {
	size_t size;
	time_t mtime;
};

/* Caller frees with hlfs_scratch_free(). NULL on ENOMEM. */
struct hlfs_scratch *hlfs_scratch_new(const struct hlfs_scratch_limits *lim);
/* Frees every file, open or not (at unmount). NULL is fine. */
void hlfs_scratch_free(struct hlfs_scratch *s);

/* Every function below returns 0 (or a count) or a negative errno. dir is
 * the caller's key of the directory ("<store-id>/Patient"), name a file name
 * in it; both are copied. now stamps mtime. */

/* Opens dir/name, creating it when create (then excl makes an existing file
 * -EEXIST); trunc empties it. -ENOENT when absent and !create, -ENOSPC over
 * max_files. *ret is released with hlfs_scratch_close(). */
int hlfs_scratch_open(struct hlfs_scratch *s, const char *dir, const char *name, bool create,
		      bool excl, bool trunc, time_t now, struct hlfs_scratch_file **ret);
/* Drops the handle; an unlinked file's bytes are freed with its last handle. */
void hlfs_scratch_close(struct hlfs_scratch *s, struct hlfs_scratch_file *f);

/* Copies up to size bytes at off into buf; returns the count (0 at EOF). */
ssize_t hlfs_scratch_read(struct hlfs_scratch *s, struct hlfs_scratch_file *f, char *buf,
			  size_t size, off_t off);
/* Writes size bytes at off (a gap reads as zeros); returns size, -EFBIG past
 * max_file, -ENOSPC past max_total, -ENOMEM. Nothing is written on error. */
ssize_t hlfs_scratch_write(struct hlfs_scratch *s, struct hlfs_scratch_file *f, const char *buf,
			   size_t size, off_t off, time_t now);
/* Sets the size of an open file (ftruncate) or of dir/name (f NULL). */
int hlfs_scratch_truncate(struct hlfs_scratch *s, struct hlfs_scratch_file *f, const char *dir,
			  const char *name, off_t size, time_t now);
/* Size and mtime of an open file (f) or of dir/name (f NULL). */
int hlfs_scratch_stat(struct hlfs_scratch *s, struct hlfs_scratch_file *f, const char *dir,
		      const char *name, struct hlfs_scratch_stat *ret);

/* Creates or replaces dir/name with a copy of data[0..len) (renaming a
 * resource to a scratch name: the scratch becomes a copy). */
int hlfs_scratch_put(struct hlfs_scratch *s, const char *dir, const char *name, const char *data,
		     size_t len, time_t now);
/* A copy of dir/name's bytes for a PUT (renaming it onto <id>.json); the file
 * stays until the caller unlinks it after the PUT succeeded. Caller frees
 * *ret_data (NUL-terminated; *ret_len excludes the NUL). */
int hlfs_scratch_copy(struct hlfs_scratch *s, const char *dir, const char *name, char **ret_data,
		      size_t *ret_len);
/* Removes the name; open handles keep the bytes until closed. */
int hlfs_scratch_unlink(struct hlfs_scratch *s, const char *dir, const char *name);
/* rename(2) between scratch names: replaces an existing target; a rename of
 * a file onto itself succeeds and changes nothing. */
int hlfs_scratch_rename(struct hlfs_scratch *s, const char *dir, const char *from,
			const char *to_dir, const char *to, time_t now);
/* Names in dir, in creation order. Caller frees with hlfs_scratch_names_free().
 * Returns the count. */
long hlfs_scratch_list(struct hlfs_scratch *s, const char *dir, char ***ret_names);
void hlfs_scratch_names_free(char **names, size_t n);

/* Bytes and files held now (for tests and `.stats`). */
void hlfs_scratch_usage(struct hlfs_scratch *s, size_t *ret_files, size_t *ret_bytes);

#endif
