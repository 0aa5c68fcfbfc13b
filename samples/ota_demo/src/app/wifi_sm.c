/* ota_demo sample: Wi-Fi connection manager state machine (scan -> join -> DHCP -> connected,
 * with capped exponential back-off after failures). Inputs come from main's simulated driver. */
#include "app.h"

static const char *const wifi_state_names[WIFI_STATE_COUNT] = {
    [WIFI_IDLE]      = "IDLE",
    [WIFI_SCANNING]  = "SCANNING",
    [WIFI_JOINING]   = "JOINING",
    [WIFI_DHCP]      = "DHCP",
    [WIFI_CONNECTED] = "CONNECTED",
    [WIFI_BACKOFF]   = "BACKOFF",
};

/* Per-state timeouts in ms (0 = none). */
static const uint16_t wifi_state_timeout_ms[WIFI_STATE_COUNT] = {
    [WIFI_IDLE]      = 100,
    [WIFI_SCANNING]  = 3000,
    [WIFI_JOINING]   = 10000,
    [WIFI_DHCP]      = 8000,
    [WIFI_CONNECTED] = 0,
    [WIFI_BACKOFF]   = 0,     /* uses sm->backoff_ms */
};

static void enter(wifi_sm_t *sm, wifi_state_t s, uint32_t now_ms)
{
    sm->state = s;
    sm->state_entered_ms = now_ms;
    switch (s) {
    case WIFI_SCANNING:  event_log_add(EV_SCAN_START, sm->attempts); break;
    case WIFI_JOINING:   event_log_add(EV_JOIN_START, sm->attempts); break;
    case WIFI_CONNECTED: event_log_add(EV_DHCP_OK, now_ms);          break;
    case WIFI_BACKOFF:   event_log_add(EV_BACKOFF, sm->backoff_ms);  break;
    default: break;
    }
}

static void fail(wifi_sm_t *sm, uint32_t now_ms)
{
    sm->attempts++;
    if (sm->attempts >= app_config.join_retry_limit) {
        sm->backoff_ms = (sm->backoff_ms == 0u) ? 500u : sm->backoff_ms * 2u;
        if (sm->backoff_ms > app_config.backoff_cap_ms) {
            sm->backoff_ms = app_config.backoff_cap_ms;
        }
        sm->attempts = 0;
        enter(sm, WIFI_BACKOFF, now_ms);
    } else {
        enter(sm, WIFI_SCANNING, now_ms);
    }
}

void wifi_sm_init(wifi_sm_t *sm, uint32_t now_ms)
{
    sm->attempts = 0;
    sm->backoff_ms = 0;
    sm->last_result = 0;
    enter(sm, WIFI_IDLE, now_ms);
}

wifi_state_t wifi_sm_step(wifi_sm_t *sm, wifi_input_t in, int result, uint32_t now_ms)
{
    uint32_t in_state = now_ms - sm->state_entered_ms;
    uint32_t timeout  = wifi_state_timeout_ms[sm->state];

    sm->last_result = result;
    switch (sm->state) {
    case WIFI_IDLE:
        if (in == WIFI_IN_TICK && in_state >= timeout) {
            enter(sm, WIFI_SCANNING, now_ms);
        }
        break;
    case WIFI_SCANNING:
        if (in == WIFI_IN_SCAN_RESULT) {
            event_log_add(EV_SCAN_DONE, (uint32_t)result);
            if (result > 0) {
                enter(sm, WIFI_JOINING, now_ms);
            } else {
                fail(sm, now_ms);
            }
        } else if (in == WIFI_IN_TICK && in_state >= timeout) {
            fail(sm, now_ms);
        }
        break;
    case WIFI_JOINING:
        if (in == WIFI_IN_JOIN_RESULT) {
            if (result == 0) {
                event_log_add(EV_JOIN_OK, sm->attempts);
                enter(sm, WIFI_DHCP, now_ms);
            } else {
                event_log_add(EV_JOIN_FAIL, (uint32_t)result);
                fail(sm, now_ms);
            }
        } else if (in == WIFI_IN_TICK && in_state >= timeout) {
            event_log_add(EV_JOIN_FAIL, 0xFFFFFFFFu);
            fail(sm, now_ms);
        }
        break;
    case WIFI_DHCP:
        if (in == WIFI_IN_DHCP_BOUND) {
            sm->attempts = 0;
            sm->backoff_ms = 0;
            enter(sm, WIFI_CONNECTED, now_ms);
        } else if (in == WIFI_IN_TICK && in_state >= timeout) {
            fail(sm, now_ms);
        }
        break;
    case WIFI_CONNECTED:
        if (in == WIFI_IN_LINK_DOWN) {
            event_log_add(EV_LINK_LOST, now_ms);
            enter(sm, WIFI_SCANNING, now_ms);
        }
        break;
    case WIFI_BACKOFF:
        if (in == WIFI_IN_TICK && in_state >= sm->backoff_ms) {
            enter(sm, WIFI_SCANNING, now_ms);
        }
        break;
    default:
        enter(sm, WIFI_IDLE, now_ms);
        break;
    }
    return sm->state;
}

const char *wifi_state_name(wifi_state_t s)
{
    return ((unsigned)s < WIFI_STATE_COUNT) ? wifi_state_names[s] : "?";
}
