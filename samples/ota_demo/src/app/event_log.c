/* ota_demo sample: fixed-size event log (RAM ring buffer) plus event name strings. */
#include "app.h"

#define EVENT_LOG_SIZE 32u

typedef struct {
    uint8_t  event;
    uint8_t  reserved[3];
    uint32_t arg;
} event_record_t;

static event_record_t event_ring[EVENT_LOG_SIZE];
static uint32_t       event_total;

static const char *const event_names[EV_COUNT] = {
    [EV_BOOT]           = "boot",
    [EV_DCT_OK]         = "dct: copy 1 valid",
    [EV_DCT_MISSING]    = "dct: no valid copy",
    [EV_SCAN_START]     = "wifi: scan started",
    [EV_SCAN_DONE]      = "wifi: scan done",
    [EV_JOIN_START]     = "wifi: joining",
    [EV_JOIN_OK]        = "wifi: joined",
    [EV_JOIN_FAIL]      = "wifi: join failed",
    [EV_DHCP_OK]        = "net: dhcp bound",
    [EV_LINK_LOST]      = "wifi: link lost",
    [EV_BACKOFF]        = "wifi: backing off",
    [EV_CONFIG_CRC_BAD] = "config: crc mismatch",
    [EV_REPORT_SENT]    = "report: sent",
};

void event_log_add(app_event_t ev, uint32_t arg)
{
    event_record_t *r = &event_ring[event_total % EVENT_LOG_SIZE];
    r->event = (uint8_t)ev;
    r->arg   = arg;
    event_total++;
}

uint32_t event_log_count(void)
{
    return event_total;
}

const char *event_name(app_event_t ev)
{
    return ((unsigned)ev < EV_COUNT) ? event_names[ev] : "?";
}
