/* ota_demo sample: bit-at-a-time reflected CRC-32 (no tables; the FR app favours size). */
#include "ota_fr.h"

uint32_t crc32_bitwise(uint32_t crc, const uint8_t *data, size_t len)
{
    while (len--) {
        crc ^= *data++;
        for (int bit = 0; bit < 8; bit++) {
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
        }
    }
    return crc;
}
