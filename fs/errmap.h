/* The one mapping from libhealthlake errors to errno (DESIGN.md "Errors"). */
#ifndef HLFS_ERRMAP_H
#define HLFS_ERRMAP_H

#include "err.h"

/* Positive errno for code; 0 for HL_ERR_OK. Pure. */
int hlfs_errno(enum hl_err code);

#endif
