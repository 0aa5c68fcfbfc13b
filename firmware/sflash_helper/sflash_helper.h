/*
 * sflash_helper: RAM-resident serial-flash programmer for STM32F205/F215 (Cortex-M3), driven by OpenOCD.
 *
 * Mailbox protocol: the same layout, command bits and result codes as the WICED SDK's sflash_write helper
 * (apps/waf/sflash_write, see ../../../shared/docs/wiced-formats.md section 5), so either host script can drive
 * either helper. Written from the protocol description; no SDK code.
 *
 * SRAM map (all little-endian u32 unless noted), fixed by link.ld:
 *   0x20000000 data_config      entry_point, stack_addr, data_buffer_size   (loaded from the ELF, read by host)
 *   0x2000000C data_transfer    size, sflash_address, command, result       (host writes, helper answers)
 *   0x2000001C data buffer      16384 bytes                                 (chunk to write / read-back data)
 *   0x20004020 helper_config    sflash_helper_config_t below (board SPI wiring; patched/written by the host)
 *   0x20004100 code, data, bss; stack grows down from 0x20008000 (fits every F205/F215 SRAM size)
 */
#ifndef SFLASH_HELPER_H
#define SFLASH_HELPER_H

#include <stdint.h>

#define HELPER_DATA_BUFFER_SIZE   16384u          /* __JTAG_FLASH_WRITER_DATA_BUFFER_SIZE__ for STM32F2xx */
#define HELPER_CONFIG_ADDRESS     0x20004020u
#define HELPER_CONFIG_MAGIC       0x43484653u     /* bytes "SFHC" */
#define HELPER_CONFIG_VERSION     1u
#define HELPER_MAX_SECTOR_SIZE    4096u

/* Command bits (bitwise OR). 0x01..0x80 are the SDK's; 0x20 (WRITE_DCT) is host-side only in the SDK and unused. */
#define CMD_NONE                    0x00000000u
#define CMD_INITIAL_VERIFY          0x00000001u   /* if the flash already holds the data, stop with OK */
#define CMD_ERASE_CHIP              0x00000002u
#define CMD_WRITE                   0x00000004u   /* program without erasing */
#define CMD_POST_WRITE_VERIFY       0x00000008u
#define CMD_VERIFY_CHIP_ERASURE     0x00000010u   /* with ERASE_CHIP: check the whole chip reads 0xFF */
#define CMD_READ                    0x00000040u   /* flash -> data buffer */
#define CMD_WRITE_ERASE_IF_NEEDED   0x00000080u   /* per sector: erase + rewrite only if the bytes differ */
/* Extensions (not in the SDK helper; an SDK helper ignores these bits and answers OK without doing anything, so the
 * host must check helper_config.magic before using them). Each runs alone: other bits are ignored. */
#define CMD_CRC32_SFLASH            0x00000100u   /* CRC-32 of flash [sflash_address, +size) -> data[0..3] */
#define CMD_CRC32_MEMORY            0x00000200u   /* CRC-32 of MCU memory [sflash_address, +size) -> data[0..3] */
#define CMD_READ_ID                 0x00000400u   /* RDID -> data[0..3] and helper_config.jedec_id_read, no check */
/* Sector-wise writing (the line kit's default: it erases only what the image or the old contents need). Both work
 * per sector of [sflash_address, +size); bytes of a sector outside that range keep their contents. */
#define CMD_ERASE_WRITE             0x00000800u   /* erase every sector, then program the buffer (with
                                                   * POST_WRITE_VERIFY: then compare); size <= data_buffer_size */
#define CMD_ERASE_BLANK             0x00001000u   /* blank-check every sector, erase those not all 0xFF; any size;
                                                   * the number of sectors erased -> data[0..3] */

/* Result codes. 0..7 are the SDK's. */
#define RESULT_IN_PROGRESS          0xFFFFFFFFu
#define RESULT_OK                   0u
#define RESULT_ERASE_FAILED         1u
#define RESULT_VERIFY_FAILED        2u
#define RESULT_SIZE_TOO_BIG_BUFFER  3u
#define RESULT_SIZE_TOO_BIG_CHIP    4u
#define RESULT_DCT_LOC_NOT_FOUND    5u            /* SDK only; never returned here */
#define RESULT_WRITE_FAILED         6u
#define RESULT_READ_FAILED          7u
/* Extensions */
#define RESULT_JEDEC_ID_MISMATCH    8u            /* RDID != helper_config.expected_jedec_id; read ID in data[0] */
#define RESULT_NOT_CONFIGURED       9u            /* helper_config magic/version wrong or a field out of range */

typedef struct {
    void (*entry_point)(void);
    void *stack_addr;
    uint32_t data_buffer_size;
} helper_data_config_t;

typedef struct {
    volatile uint32_t size;
    volatile uint32_t sflash_address;
    volatile uint32_t command;
    volatile uint32_t result;
} helper_data_transfer_t;

/* Board wiring of the serial flash. All u32 so the host can write it with `mww`. Ports are GPIO port base
 * addresses (GPIOA 0x40020000, GPIOB 0x40020400, ...), pins 0..15. */
typedef struct {
    uint32_t magic;               /* +0x00 HELPER_CONFIG_MAGIC */
    uint32_t version;             /* +0x04 HELPER_CONFIG_VERSION */
    uint32_t spi_base;            /* +0x08 SPI1 0x40013000, SPI2 0x40003800, SPI3 0x40003C00; 0 = unconfigured */
    uint32_t spi_rcc_enr;         /* +0x0C address of the RCC enable register (SPI1: RCC_APB2ENR 0x40023844) */
    uint32_t spi_rcc_bit;         /* +0x10 bit in that register (SPI1: 12) */
    uint32_t gpio_af;             /* +0x14 alternate function of SCK/MISO/MOSI (SPI1/2: 5, SPI3: 6) */
    uint32_t sck_port;            /* +0x18 */
    uint32_t sck_pin;             /* +0x1C */
    uint32_t miso_port;           /* +0x20 */
    uint32_t miso_pin;            /* +0x24 */
    uint32_t mosi_port;           /* +0x28 */
    uint32_t mosi_pin;            /* +0x2C */
    uint32_t cs_port;             /* +0x30 chip select: plain push-pull output, active low */
    uint32_t cs_pin;              /* +0x34 */
    uint32_t spi_br;              /* +0x38 SPI_CR1.BR 0..7: SCK = PCLK / 2^(br+1) */
    uint32_t spi_mode;            /* +0x3C bit1 CPOL, bit0 CPHA (0..3) */
    uint32_t expected_jedec_id;   /* +0x40 manufacturer<<16 | type<<8 | capacity; 0 = do not check */
    uint32_t chip_size;           /* +0x44 bytes; 0 = unknown (no size check) */
    uint32_t sector_size;         /* +0x48 erase unit in bytes, power of two <= 4096 */
    uint32_t sector_erase_opcode; /* +0x4C 0x20 for 4 KiB sector erase */
    uint32_t page_size;           /* +0x50 program page, power of two <= 256 (1 = byte program) */
    uint32_t flags;               /* +0x54 bit0: clear block protection (WREN, EWSR, WRSR 0) first */
    uint32_t jedec_id_read;       /* +0x58 output: last RDID answer */
    uint32_t reserved;            /* +0x5C */
} sflash_helper_config_t;

#define HELPER_FLAG_UNPROTECT 0x1u

#endif
