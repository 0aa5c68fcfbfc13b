/* ota_demo sample: byte-at-a-time parser for "POST /upgrade HTTP/1.1" with a Content-Length body. */
#include "ota_fr.h"
#include "../common/mini_libc.h"

#define MAX_UPLOAD_BYTES (0xF4000u)   /* must fit the 976 KiB application area */

static const char *const upload_error_texts[] = {
    [UP_OK]                = "ok",
    [UP_ERR_METHOD]        = "only POST is accepted",
    [UP_ERR_PATH]          = "unknown upload path",
    [UP_ERR_LINE_TOO_LONG] = "header line too long",
    [UP_ERR_NO_LENGTH]     = "Content-Length missing",
    [UP_ERR_TOO_BIG]       = "image larger than the application area",
    [UP_ERR_BAD_IMAGE]     = "not an application ELF for this platform",
};

static const char request_prefix[]  = "POST ";
static const char upload_path[]     = "/upgrade";
static const char length_header[]   = "content-length:";

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static int header_is(const char *line, size_t len, const char *name)
{
    size_t n = strlen(name);
    if (len < n) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (lower(line[i]) != name[i]) {
            return 0;
        }
    }
    return 1;
}

static upload_state_t error(upload_parser_t *p, upload_error_t e)
{
    p->error = e;
    p->state = UP_ERROR;
    return p->state;
}

static void end_of_line(upload_parser_t *p)
{
    const char *l = p->line;
    size_t n = p->line_len;

    if (p->state == UP_REQUEST_LINE) {
        size_t plen = sizeof(request_prefix) - 1u;
        if (n < plen || strncmp(l, request_prefix, plen) != 0) {
            (void)error(p, UP_ERR_METHOD);
            return;
        }
        size_t ulen = sizeof(upload_path) - 1u;
        if (n < plen + ulen || strncmp(l + plen, upload_path, ulen) != 0) {
            (void)error(p, UP_ERR_PATH);
            return;
        }
        p->state = UP_HEADERS;
    } else if (n == 0u) {
        /* Blank line: headers finished. */
        if (p->content_length == 0u) {
            (void)error(p, UP_ERR_NO_LENGTH);
        } else {
            p->state = UP_BODY;
        }
    } else if (header_is(l, n, length_header)) {
        size_t i = sizeof(length_header) - 1u;
        while (i < n && l[i] == ' ') {
            i++;
        }
        (void)parse_u32(l + i, n - i, &p->content_length);
        if (p->content_length > MAX_UPLOAD_BYTES) {
            (void)error(p, UP_ERR_TOO_BIG);
        }
    }
}

void upload_init(upload_parser_t *p, upload_sink_t sink, void *ctx)
{
    memset(p, 0, sizeof(*p));
    p->state = UP_REQUEST_LINE;
    p->crc = 0xFFFFFFFFu;
    p->sink = sink;
    p->sink_ctx = ctx;
}

upload_state_t upload_feed(upload_parser_t *p, const uint8_t *data, size_t len)
{
    size_t i = 0;
    while (i < len && (p->state == UP_REQUEST_LINE || p->state == UP_HEADERS)) {
        char c = (char)data[i++];
        if (c == '\r') {
            continue;
        }
        if (c == '\n') {
            end_of_line(p);
            p->line_len = 0;
            continue;
        }
        if (p->line_len >= sizeof(p->line) - 1u) {
            return error(p, UP_ERR_LINE_TOO_LONG);
        }
        p->line[p->line_len++] = c;
        p->line[p->line_len] = '\0';
    }
    if (p->state == UP_BODY && i < len) {
        size_t want = p->content_length - p->received;
        size_t n = (len - i < want) ? len - i : want;
        p->crc = crc32_bitwise(p->crc, data + i, n);
        if (p->sink != NULL) {
            p->sink(p->received, data + i, n, p->sink_ctx);
        }
        p->received += (uint32_t)n;
        if (p->received == p->content_length) {
            p->state = UP_DONE;
        }
    }
    return p->state;
}

const char *upload_error_text(upload_error_t e)
{
    return ((unsigned)e < sizeof(upload_error_texts) / sizeof(upload_error_texts[0]))
               ? upload_error_texts[e] : "?";
}
