/* ota_demo sample: formats the JSON status report the device would POST to its server. */
#include "app.h"
#include "../common/mini_libc.h"

typedef struct {
    char  *p;
    char  *end;
    size_t needed;
} writer_t;

static void put_char(writer_t *w, char c)
{
    if (w->p < w->end - 1) {
        *w->p++ = c;
        *w->p = '\0';
    }
    w->needed++;
}

static void put_str(writer_t *w, const char *s)
{
    while (*s != '\0') {
        put_char(w, *s++);
    }
}

static void put_json_str(writer_t *w, const char *s, size_t max)
{
    static const char hex[] = "0123456789abcdef";
    put_char(w, '"');
    for (size_t i = 0; i < max && s[i] != '\0'; i++) {
        char c = s[i];
        if (c == '"' || c == '\\') {
            put_char(w, '\\');
            put_char(w, c);
        } else if ((uint8_t)c < 0x20u) {
            put_str(w, "\\u00");
            put_char(w, hex[((uint8_t)c >> 4) & 0xFu]);
            put_char(w, hex[(uint8_t)c & 0xFu]);
        } else {
            put_char(w, c);
        }
    }
    put_char(w, '"');
}

static void put_uint(writer_t *w, uint32_t v)
{
    char digits[10];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0u);
    while (n > 0) {
        put_char(w, digits[--n]);
    }
}

/* Fixed-point with one decimal: -123 -> "-12.3". */
static void put_fixed1(writer_t *w, int32_t v)
{
    if (v < 0) {
        put_char(w, '-');
        v = -v;
    }
    put_uint(w, (uint32_t)v / 10u);
    put_char(w, '.');
    put_char(w, (char)('0' + (uint32_t)v % 10u));
}

static const char *const report_keys[] = {
    "{\"serial\":", ",\"uptime_s\":", ",\"wifi\":", ",\"temperature_c\":",
    ",\"humidity_pct\":", ",\"samples\":", ",\"id\":", "}",
};

size_t report_format(char *buf, size_t size, const sensor_reading_t *r, const char *wifi_state,
                     const char *serial, uint32_t uptime_ms)
{
    writer_t w = { buf, buf + size, 0 };
    char id[16];
    uint8_t raw_id[8];
    uint32_t crc = crc32_ieee(serial, strlen(serial));

    for (int i = 0; i < 4; i++) {
        raw_id[i]     = (uint8_t)(crc >> (8 * i));
        raw_id[4 + i] = (uint8_t)(app_config.magic >> (8 * i));
    }
    (void)base64_encode(raw_id, sizeof(raw_id), id, sizeof(id));

    if (size != 0u) {
        buf[0] = '\0';
    }
    put_str(&w, report_keys[0]);  put_json_str(&w, serial, 20);   /* mfg serial_number[20] */
    put_str(&w, report_keys[1]);  put_uint(&w, uptime_ms / 1000u);
    put_str(&w, report_keys[2]);  put_json_str(&w, wifi_state, 16);
    put_str(&w, report_keys[3]);  put_fixed1(&w, r->temperature_c10);
    put_str(&w, report_keys[4]);  put_fixed1(&w, (int32_t)r->humidity_pm);
    put_str(&w, report_keys[5]);  put_uint(&w, r->samples);
    put_str(&w, report_keys[6]);  put_json_str(&w, id, sizeof(id));
    put_str(&w, report_keys[7]);
    return w.needed;
}

size_t base64_encode(const uint8_t *in, size_t len, char *out, size_t out_size)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t need = 4u * ((len + 2u) / 3u);
    if (out_size < need + 1u) {
        return 0;
    }
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t b = (uint32_t)in[i] << 16;
        if (i + 1 < len) b |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len) b |= in[i + 2];
        out[o++] = alphabet[(b >> 18) & 63u];
        out[o++] = alphabet[(b >> 12) & 63u];
        out[o++] = (i + 1 < len) ? alphabet[(b >> 6) & 63u] : '=';
        out[o++] = (i + 2 < len) ? alphabet[b & 63u] : '=';
    }
    out[o] = '\0';
    return o;
}
