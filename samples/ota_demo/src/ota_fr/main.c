/*
 * ota_demo sample factory-reset / OTA-upgrade app (stands in for WICED snip.ota_fr, which the
 * bootloader copies from SFLASH LUT index 0 after a factory reset). It replays a canned upload
 * through the upload parser and image checks; a real one would serve HTTP over Wi-Fi and write
 * the body to the APP0 slot in serial flash.
 */
#include "ota_fr.h"
#include "../common/cortex_m3.h"
#include "../common/mini_libc.h"

extern volatile uint32_t app_ticks_ms;
void app_systick_start_1ms(void);

/* Initialised .data: LED blink pattern (ms on/off pairs) for "waiting for upload"; it is
 * switched at run time to the "upload failed" pattern, so it has to live in RAM. */
static uint16_t led_pattern[6] = { 100, 100, 100, 700, 0, 0 };
static uint32_t fr_generation = 0x46520001u;   /* "FR", v1 */

/* .rodata: a canned upload (request header + start of an ELF header, deliberately short). */
static const char canned_request[] =
    "POST /upgrade HTTP/1.1\r\n"
    "Host: 192.168.0.1\r\n"
    "Content-Type: application/octet-stream\r\n"
    "Content-Length: 52\r\n"
    "\r\n";

static const uint8_t canned_elf_header[52] = {
    0x7F, 'E', 'L', 'F', 1, 1, 1, 0,  0, 0, 0, 0, 0, 0, 0, 0,
    2, 0, 40, 0, 1, 0, 0, 0,                   /* ET_EXEC, EM_ARM, EV_CURRENT */
    0x01, 0xC1, 0x00, 0x08,                    /* e_entry 0x0800C101          */
    52, 0, 0, 0,  0, 0, 0, 0,                  /* e_phoff, e_shoff            */
    0, 2, 0, 5,  52, 0, 32, 0,  0, 0,          /* flags, ehsize, phentsize, phnum 0 */
    40, 0, 0, 0, 0, 0,
};

static const uint16_t led_pattern_failed[6] = { 50, 50, 50, 50, 50, 750 };

static uint8_t upload_buffer[256];
volatile uint32_t ota_fr_result;              /* upload_error_t, for a debugger */
volatile uint32_t ota_fr_body_crc;

static void buffer_sink(uint32_t offset, const uint8_t *data, size_t len, void *ctx)
{
    (void)ctx;
    if (offset < sizeof(upload_buffer)) {
        size_t n = sizeof(upload_buffer) - offset;
        memcpy(upload_buffer + offset, data, len < n ? len : n);
    }
}

static upload_error_t run_canned_upload(void)
{
    upload_parser_t parser;
    elf_summary_t summary;

    upload_init(&parser, buffer_sink, NULL);
    upload_feed(&parser, (const uint8_t *)canned_request, sizeof(canned_request) - 1u);
    upload_feed(&parser, canned_elf_header, sizeof(canned_elf_header));
    if (parser.state != UP_DONE) {
        return parser.error != UP_OK ? parser.error : UP_ERR_NO_LENGTH;
    }
    ota_fr_body_crc = parser.crc ^ 0xFFFFFFFFu;
    return elf_check(upload_buffer, parser.received, &summary);
}

int main(void)
{
    app_systick_start_1ms();
    ota_fr_result = run_canned_upload();     /* phnum 0: rejected as UP_ERR_BAD_IMAGE */
    if (ota_fr_result != UP_OK) {
        memcpy(led_pattern, led_pattern_failed, sizeof(led_pattern));
        fr_generation |= 0x8000u;
    }

    uint32_t phase = 0, phase_start = app_ticks_ms;
    for (;;) {
        uint16_t len = led_pattern[phase % 6u];
        if (len == 0u || app_ticks_ms - phase_start >= len) {
            phase++;
            phase_start = app_ticks_ms;
        }
        if (upload_error_text((upload_error_t)ota_fr_result)[0] == '\0') {
            fr_generation++;                  /* never: keeps the text table referenced */
        }
        cpu_wait_for_interrupt();
    }
}
