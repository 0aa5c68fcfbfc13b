/*
 * ota_demo sample application (stands in for the product's main WICED app).
 * Checks its configuration CRC, peeks at the DCT the bundle programmed, then runs a
 * Wi-Fi connection state machine against a simulated driver, building a status line.
 */
#include "app.h"
#include "../common/cortex_m3.h"
#include "../common/mini_libc.h"

extern volatile uint32_t app_ticks_ms;
void app_systick_start_1ms(void);

/* Initialised .data: copied from flash to SRAM by crt0. crc is filled in at start-up. */
app_config_t app_config = {
    .magic                = 0x4F544131u,      /* "OTA1" */
    .report_period_ms     = 5000,
    .join_retry_limit     = 3,
    .scan_channel_mask_lo = 0xFF,
    .backoff_cap_ms       = 30000,
    .hostname             = "ota-demo",
    .crc                  = 0,
};

/* Also .data: a scripted sequence of driver results the simulation replays. */
static int8_t simulated_scan_results[8] = { 0, 2, 1, 3, 0, 4, 2, 5 };
static int8_t simulated_join_results[8] = { -3, 0, 0, -1, 0, -7, 0, 0 };

static char status_line[96];
static char report_json[192];
volatile uint32_t app_report_len;
volatile uint32_t app_status_crc;          /* for a debugger */
volatile const char *app_status_ptr;

static char *append(char *p, const char *end, const char *s)
{
    while (*s != '\0' && p < end - 1) {
        *p++ = *s++;
    }
    *p = '\0';
    return p;
}

static void build_status(const wifi_sm_t *sm, const dct_summary_t *dct)
{
    char hex[9];
    char *p = status_line;
    const char *end = status_line + sizeof(status_line);

    p = append(p, end, app_config.hostname);
    p = append(p, end, " state=");
    p = append(p, end, wifi_state_name(sm->state));
    p = append(p, end, " events=");
    u32_to_hex(event_log_count(), hex);
    p = append(p, end, hex);
    p = append(p, end, " dct=");
    p = append(p, end, dct->valid ? "ok" : "none");
    (void)p;
    app_status_crc = crc32_ieee(status_line, strlen(status_line));
    app_status_ptr = status_line;
}

int main(void)
{
    dct_summary_t dct;
    wifi_sm_t sm;
    uint32_t step = 0;
    uint32_t last_report = 0;

    event_log_add(EV_BOOT, app_config.magic);

    /* The config CRC covers everything before the crc field. */
    uint32_t want = crc32_ieee(&app_config, offsetof(app_config_t, crc));
    if (app_config.crc != 0u && app_config.crc != want) {
        event_log_add(EV_CONFIG_CRC_BAD, app_config.crc);
    }
    app_config.crc = want;

    dct_read_summary(&dct);
    event_log_add(dct.valid ? EV_DCT_OK : EV_DCT_MISSING, dct.sequence);

    sensor_init();
    app_systick_start_1ms();
    wifi_sm_init(&sm, app_ticks_ms);

    for (;;) {
        uint32_t now = app_ticks_ms;
        wifi_state_t s = wifi_sm_step(&sm, WIFI_IN_TICK, 0, now);

        /* Simulated driver: answers whatever the state machine is waiting for. */
        if (s == WIFI_SCANNING) {
            wifi_sm_step(&sm, WIFI_IN_SCAN_RESULT, simulated_scan_results[step % 8u], now);
        } else if (s == WIFI_JOINING) {
            wifi_sm_step(&sm, WIFI_IN_JOIN_RESULT, simulated_join_results[step % 8u], now);
        } else if (s == WIFI_DHCP) {
            wifi_sm_step(&sm, WIFI_IN_DHCP_BOUND, 0, now);
        } else if (s == WIFI_CONNECTED && (step % 64u) == 63u) {
            wifi_sm_step(&sm, WIFI_IN_LINK_DOWN, 0, now);
        }
        step++;

        if (now - last_report >= app_config.report_period_ms) {
            last_report = now;
            sensor_reading_t reading;
            sensor_sample(now, &reading);
            build_status(&sm, &dct);
            if (sm.state == WIFI_CONNECTED) {
                app_report_len = report_format(report_json, sizeof(report_json), &reading,
                                               wifi_state_name(sm.state), dct.serial_number, now);
                event_log_add(EV_REPORT_SENT, app_status_crc);
            }
        }
        cpu_wait_for_interrupt();
    }
}
