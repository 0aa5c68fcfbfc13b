/* ota_demo sample application: shared declarations. */
#ifndef OTA_DEMO_APP_H
#define OTA_DEMO_APP_H

#include <stddef.h>
#include <stdint.h>

/* ---- crc32.c: reflected CRC-32 (poly 0xEDB88320), nibble table in .rodata ---- */
uint32_t crc32_update(uint32_t crc, const void *data, size_t len);
uint32_t crc32_ieee(const void *data, size_t len);          /* init ~0, final xor ~0 */

/* ---- event_log.c: small ring buffer of event codes ---- */
typedef enum {
    EV_BOOT = 0,
    EV_DCT_OK,
    EV_DCT_MISSING,
    EV_SCAN_START,
    EV_SCAN_DONE,
    EV_JOIN_START,
    EV_JOIN_OK,
    EV_JOIN_FAIL,
    EV_DHCP_OK,
    EV_LINK_LOST,
    EV_BACKOFF,
    EV_CONFIG_CRC_BAD,
    EV_REPORT_SENT,
    EV_COUNT
} app_event_t;

void        event_log_add(app_event_t ev, uint32_t arg);
uint32_t    event_log_count(void);
const char *event_name(app_event_t ev);

/* ---- dct_view.c: read-only peek at the DCT copy 1 the bundle programs at 0x08004000 ---- */
typedef struct {
    int         valid;            /* magic "BRCM" and write_incomplete == 0 */
    uint32_t    sequence;
    const char *product_name;     /* points into flash, NUL-padded field   */
    const char *serial_number;
} dct_summary_t;

void dct_read_summary(dct_summary_t *out);

/* ---- wifi_sm.c: connection manager state machine ---- */
typedef enum {
    WIFI_IDLE = 0,
    WIFI_SCANNING,
    WIFI_JOINING,
    WIFI_DHCP,
    WIFI_CONNECTED,
    WIFI_BACKOFF,
    WIFI_STATE_COUNT
} wifi_state_t;

typedef enum {
    WIFI_IN_TICK = 0,
    WIFI_IN_SCAN_RESULT,
    WIFI_IN_JOIN_RESULT,
    WIFI_IN_DHCP_BOUND,
    WIFI_IN_LINK_DOWN,
} wifi_input_t;

typedef struct {
    wifi_state_t state;
    uint32_t     state_entered_ms;
    uint32_t     attempts;
    uint32_t     backoff_ms;
    int          last_result;
} wifi_sm_t;

void         wifi_sm_init(wifi_sm_t *sm, uint32_t now_ms);
wifi_state_t wifi_sm_step(wifi_sm_t *sm, wifi_input_t in, int result, uint32_t now_ms);
const char  *wifi_state_name(wifi_state_t s);

/* ---- main.c: run-time configuration (initialised .data) ---- */
typedef struct {
    uint32_t magic;
    uint16_t report_period_ms;
    uint8_t  join_retry_limit;
    uint8_t  scan_channel_mask_lo;
    uint32_t backoff_cap_ms;
    char     hostname[16];
    uint32_t crc;                 /* CRC-32 of the fields above */
} app_config_t;

extern app_config_t app_config;

/* ---- sensor.c: simulated temperature/humidity sensor with filtering and calibration ---- */
typedef struct {
    int32_t  temperature_c10;     /* tenths of a degree C */
    uint32_t humidity_pm;         /* per mille            */
    uint32_t samples;
} sensor_reading_t;

void sensor_init(void);
void sensor_sample(uint32_t now_ms, sensor_reading_t *out);

/* ---- report.c: JSON status report ---- */
size_t report_format(char *buf, size_t size, const sensor_reading_t *r, const char *wifi_state,
                     const char *serial, uint32_t uptime_ms);
size_t base64_encode(const uint8_t *in, size_t len, char *out, size_t out_size);

#endif /* OTA_DEMO_APP_H (sensor/report part) */
