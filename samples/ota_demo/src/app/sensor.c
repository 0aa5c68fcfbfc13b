/*
 * ota_demo sample: a simulated thermistor/humidity front end. Raw ADC counts come from a
 * deterministic pseudo-random walk; they are median-of-5 filtered, linearly interpolated
 * through a calibration table and smoothed with an exponential moving average.
 */
#include "app.h"

typedef struct {
    uint16_t adc;                 /* raw 12-bit ADC count      */
    int16_t  temperature_c10;     /* tenths of a degree C      */
} calibration_point_t;

/* NTC divider: counts fall as temperature rises. Sorted by descending adc. */
static const calibration_point_t calibration[] = {
    { 3900, -200 }, { 3680, -100 }, { 3350,    0 }, { 2930,  100 },
    { 2460,  200 }, { 1990,  300 }, { 1560,  400 }, { 1190,  500 },
    {  890,  600 }, {  660,  700 }, {  490,  800 },
};
#define CALIBRATION_POINTS (sizeof(calibration) / sizeof(calibration[0]))

static uint16_t window[5];
static uint32_t window_fill;
static int32_t  ema_c10;
static uint32_t ema_humidity;
static uint32_t lfsr = 0xACE1u;   /* .data: seed for the simulated sensor noise */
static uint32_t sample_count;

static uint32_t lfsr_next(void)
{
    /* 16-bit Galois LFSR, taps 0xB400. */
    uint32_t lsb = lfsr & 1u;
    lfsr >>= 1;
    if (lsb) {
        lfsr ^= 0xB400u;
    }
    return lfsr;
}

static uint16_t median5(const uint16_t v[5])
{
    uint16_t s[5];
    for (int i = 0; i < 5; i++) {
        s[i] = v[i];
    }
    for (int i = 1; i < 5; i++) {          /* insertion sort, 5 elements */
        uint16_t x = s[i];
        int j = i - 1;
        while (j >= 0 && s[j] > x) {
            s[j + 1] = s[j];
            j--;
        }
        s[j + 1] = x;
    }
    return s[2];
}

static int32_t adc_to_c10(uint16_t adc)
{
    if (adc >= calibration[0].adc) {
        return calibration[0].temperature_c10;
    }
    for (size_t i = 1; i < CALIBRATION_POINTS; i++) {
        const calibration_point_t *hi = &calibration[i - 1], *lo = &calibration[i];
        if (adc >= lo->adc) {
            int32_t span_adc = (int32_t)hi->adc - (int32_t)lo->adc;
            int32_t span_t   = (int32_t)lo->temperature_c10 - (int32_t)hi->temperature_c10;
            return hi->temperature_c10 + span_t * ((int32_t)hi->adc - (int32_t)adc) / span_adc;
        }
    }
    return calibration[CALIBRATION_POINTS - 1].temperature_c10;
}

void sensor_init(void)
{
    window_fill = 0;
    sample_count = 0;
    ema_c10 = 0;
    ema_humidity = 0;
}

void sensor_sample(uint32_t now_ms, sensor_reading_t *out)
{
    /* Simulated raw reading around ~22 C with noise and a slow daily-ish drift. */
    uint32_t noise = lfsr_next() & 0x3Fu;
    uint32_t drift = (now_ms / 1000u) % 200u;
    uint16_t raw = (uint16_t)(2300u + drift + noise);

    window[window_fill % 5u] = raw;
    window_fill++;
    int32_t t = adc_to_c10(window_fill >= 5u ? median5(window) : raw);
    uint32_t h = 400u + (lfsr_next() % 200u);

    if (sample_count == 0u) {
        ema_c10 = t;
        ema_humidity = h;
    } else {
        ema_c10 += (t - ema_c10) / 8;       /* alpha = 1/8 */
        ema_humidity = (ema_humidity * 7u + h) / 8u;
    }
    sample_count++;

    out->temperature_c10 = ema_c10;
    out->humidity_pm = ema_humidity;
    out->samples = sample_count;
}
