/* getxattr/listxattr for the fuse_operations table: the glue between the
 * tree (which renders the files) and the pure attributes of xattr.h. */
#ifndef HLFS_XATTROPS_H
#define HLFS_XATTROPS_H

#include <stddef.h>

/* fuse_operations.getxattr / .listxattr; private_data is a struct hlfs_fs.
 * Return the length, or -errno (ENODATA, ERANGE, ENOENT, ...). */
int hlfs_op_getxattr(const char *path, const char *name, char *value, size_t size);
int hlfs_op_listxattr(const char *path, char *list, size_t size);

#endif
