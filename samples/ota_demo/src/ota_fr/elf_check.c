/*
 * ota_demo sample: sanity checks on an uploaded ELF32 image before it is accepted, matching
 * what the WICED loader uses (e_entry, e_phoff, e_phentsize, e_phnum; per phdr p_type bit 0,
 * p_offset, p_paddr, p_filesz). Every load segment must land in application flash (or SRAM).
 */
#include "ota_fr.h"
#include "../common/mini_libc.h"

#define APP_FLASH_START 0x0800C000u
#define APP_FLASH_END   0x08100000u
#define SRAM_START      0x20000000u
#define SRAM_END        0x20020000u

#define EM_ARM          40u
#define ELF_HEADER_SIZE 52u
#define PHDR_SIZE       32u

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static int in_range(uint32_t start, uint32_t size, uint32_t lo, uint32_t hi)
{
    return start >= lo && start <= hi && size <= hi - start;
}

upload_error_t elf_check(const uint8_t *image, size_t len, elf_summary_t *out)
{
    static const uint8_t ident[6] = { 0x7F, 'E', 'L', 'F', 1 /* ELFCLASS32 */, 1 /* LSB */ };

    if (len < ELF_HEADER_SIZE || memcmp(image, ident, sizeof(ident)) != 0) {
        return UP_ERR_BAD_IMAGE;
    }
    if (le16(image + 18) != EM_ARM) {
        return UP_ERR_BAD_IMAGE;
    }

    uint32_t phoff  = le32(image + 28);
    uint16_t phsize = le16(image + 42);
    uint16_t phnum  = le16(image + 44);
    if (phsize != PHDR_SIZE || phnum == 0u || phoff > len || (uint32_t)phnum * PHDR_SIZE > len - phoff) {
        return UP_ERR_BAD_IMAGE;
    }

    out->entry = le32(image + 24);
    out->load_segments = 0;
    out->lowest_paddr = 0xFFFFFFFFu;
    out->highest_paddr_end = 0;

    for (uint32_t i = 0; i < phnum; i++) {
        const uint8_t *ph = image + phoff + i * PHDR_SIZE;
        uint32_t type = le32(ph + 0), paddr = le32(ph + 12), filesz = le32(ph + 16);

        if ((type & 1u) == 0u || filesz == 0u) {
            continue;                       /* the loader skips these too */
        }
        if (!in_range(paddr, filesz, APP_FLASH_START, APP_FLASH_END) &&
            !in_range(paddr, filesz, SRAM_START, SRAM_END)) {
            return UP_ERR_BAD_IMAGE;
        }
        out->load_segments++;
        if (paddr < out->lowest_paddr) {
            out->lowest_paddr = paddr;
        }
        if (paddr + filesz > out->highest_paddr_end) {
            out->highest_paddr_end = paddr + filesz;
        }
    }
    if (out->load_segments == 0u || !in_range(out->entry & ~1u, 2u, APP_FLASH_START, APP_FLASH_END)) {
        return UP_ERR_BAD_IMAGE;
    }
    return UP_OK;
}
