/*
 * ota_demo sample: read the header and mfg_info of DCT copy 1 straight from internal flash.
 * Offsets follow the WICED 3.5.2 platform_dct_header_t / platform_dct_mfg_info_t layout
 * (docs/wiced-formats.md section 2): magic @0x08, write_incomplete @0x0C, sequence @0x10,
 * mfg_info @0x18C (product_name +32, serial_number +96).
 */
#include "app.h"

#define DCT1_BASE              0x08004000u
#define DCT_MAGIC_OFFSET       0x008u
#define DCT_WRITE_INCOMPLETE   0x00Cu
#define DCT_SEQUENCE_OFFSET    0x010u
#define DCT_MFG_INFO_OFFSET    0x18Cu
#define MFG_PRODUCT_NAME       32u
#define MFG_SERIAL_NUMBER      96u
#define DCT_MAGIC_BRCM         0x4D435242u   /* "BRCM" little-endian */

static uint32_t flash_word(uint32_t addr)
{
    return *(const volatile uint32_t *)(uintptr_t)addr;
}

void dct_read_summary(dct_summary_t *out)
{
    const volatile uint8_t *dct = (const volatile uint8_t *)(uintptr_t)DCT1_BASE;

    out->valid = (flash_word(DCT1_BASE + DCT_MAGIC_OFFSET) == DCT_MAGIC_BRCM) &&
                 (dct[DCT_WRITE_INCOMPLETE] == 0u);
    out->sequence = out->valid ? flash_word(DCT1_BASE + DCT_SEQUENCE_OFFSET) : 0u;
    if (out->valid) {
        out->product_name  = (const char *)(uintptr_t)(DCT1_BASE + DCT_MFG_INFO_OFFSET + MFG_PRODUCT_NAME);
        out->serial_number = (const char *)(uintptr_t)(DCT1_BASE + DCT_MFG_INFO_OFFSET + MFG_SERIAL_NUMBER);
    } else {
        out->product_name  = "unknown product";
        out->serial_number = "unknown serial";
    }
}
