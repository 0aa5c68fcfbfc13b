/* ota_demo sample: freestanding replacements for the few libc routines the sample uses. */
#ifndef OTA_DEMO_MINI_LIBC_H
#define OTA_DEMO_MINI_LIBC_H

#include <stddef.h>
#include <stdint.h>

void  *memcpy(void *dst, const void *src, size_t n);
void  *memset(void *dst, int c, size_t n);
int    memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int    strncmp(const char *a, const char *b, size_t n);

/* Writes v as 8 hex digits plus NUL into out[9]. */
void   u32_to_hex(uint32_t v, char out[9]);
/* Parses a decimal number; stops at the first non-digit. Returns digits consumed. */
size_t parse_u32(const char *s, size_t n, uint32_t *out);

#endif
