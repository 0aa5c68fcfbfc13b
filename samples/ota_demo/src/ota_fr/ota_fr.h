/* ota_demo sample factory-reset / OTA-upgrade app (stands in for WICED snip.ota_fr). */
#ifndef OTA_DEMO_OTA_FR_H
#define OTA_DEMO_OTA_FR_H

#include <stddef.h>
#include <stdint.h>

/* ---- upload_parser.c: streaming parser for an HTTP POST carrying a *.stripped.elf ---- */
typedef enum {
    UP_REQUEST_LINE = 0,
    UP_HEADERS,
    UP_BODY,
    UP_DONE,
    UP_ERROR
} upload_state_t;

typedef enum {
    UP_OK = 0,
    UP_ERR_METHOD,
    UP_ERR_PATH,
    UP_ERR_LINE_TOO_LONG,
    UP_ERR_NO_LENGTH,
    UP_ERR_TOO_BIG,
    UP_ERR_BAD_IMAGE,
} upload_error_t;

typedef void (*upload_sink_t)(uint32_t offset, const uint8_t *data, size_t len, void *ctx);

typedef struct {
    upload_state_t state;
    upload_error_t error;
    char           line[64];
    size_t         line_len;
    uint32_t       content_length;
    uint32_t       received;
    uint32_t       crc;           /* running CRC-32 of the body */
    upload_sink_t  sink;
    void          *sink_ctx;
} upload_parser_t;

void           upload_init(upload_parser_t *p, upload_sink_t sink, void *ctx);
upload_state_t upload_feed(upload_parser_t *p, const uint8_t *data, size_t len);
const char    *upload_error_text(upload_error_t e);

/* ---- elf_check.c: the checks the WICED loader relies on, applied to an uploaded image ---- */
typedef struct {
    uint32_t entry;
    uint32_t load_segments;
    uint32_t lowest_paddr;
    uint32_t highest_paddr_end;
} elf_summary_t;

/* Returns UP_OK or UP_ERR_BAD_IMAGE. `image` must hold at least the ELF and program headers. */
upload_error_t elf_check(const uint8_t *image, size_t len, elf_summary_t *out);

/* ---- crc_bitwise.c ---- */
uint32_t crc32_bitwise(uint32_t crc, const uint8_t *data, size_t len);

#endif
