/* ota_demo sample: freestanding libc subset (built with -fno-tree-loop-distribute-patterns so
 * these loops are not turned back into calls to themselves). */
#include "mini_libc.h"

void *memcpy(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--) {
        *d++ = *s++;
    }
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    uint8_t *d = dst;
    while (n--) {
        *d++ = (uint8_t)c;
    }
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for (; n != 0; n--, x++, y++) {
        if (*x != *y) {
            return (int)*x - (int)*y;
        }
    }
    return 0;
}

size_t strlen(const char *s)
{
    const char *p = s;
    while (*p != '\0') {
        p++;
    }
    return (size_t)(p - s);
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n != 0; n--, a++, b++) {
        if (*a != *b || *a == '\0') {
            return (int)(uint8_t)*a - (int)(uint8_t)*b;
        }
    }
    return 0;
}

void u32_to_hex(uint32_t v, char out[9])
{
    static const char digits[16] = "0123456789abcdef";
    for (int i = 7; i >= 0; i--) {
        out[i] = digits[v & 0xFu];
        v >>= 4;
    }
    out[8] = '\0';
}

size_t parse_u32(const char *s, size_t n, uint32_t *out)
{
    uint32_t v = 0;
    size_t i = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        v = v * 10u + (uint32_t)(s[i] - '0');
        i++;
    }
    *out = v;
    return i;
}
