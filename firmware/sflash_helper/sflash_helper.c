/*
 * sflash_helper: mailbox loop, JEDEC SPI NOR driver and STM32F2 SPI/GPIO access. See sflash_helper.h.
 *
 * Only MCU-family facts are compiled in (STM32F2 SPI/GPIO register layout, RCC_AHB1ENR, IWDG key register);
 * everything about the board (which SPI, which pins, clock, chip) comes from helper_config at run time.
 */
#include "sflash_helper.h"

#include <stddef.h>

/* ---- STM32F2 registers (RM0033) ---- */
#define REG32(a) (*(volatile uint32_t *)(uintptr_t)(a))
#define REG16(a) (*(volatile uint16_t *)(uintptr_t)(a))

#define RCC_AHB1ENR      0x40023830u   /* GPIOxEN = bit x, GPIOx base = 0x40020000 + 0x400 * x */
#define GPIO_PORT_FIRST  0x40020000u
#define GPIO_PORT_STRIDE 0x400u
#define GPIO_PORT_COUNT  9u            /* A..I */
#define IWDG_KR          0x40003000u   /* writing 0xAAAA reloads the watchdog if the application started it */

#define GPIO_MODER   0x00u
#define GPIO_OSPEEDR 0x08u
#define GPIO_PUPDR   0x0Cu
#define GPIO_BSRR    0x18u
#define GPIO_AFRL    0x20u

#define SPI_CR1 0x00u
#define SPI_CR2 0x04u
#define SPI_SR  0x08u
#define SPI_DR  0x0Cu
#define SPI_CR1_MSTR (1u << 2)
#define SPI_CR1_SPE  (1u << 6)
#define SPI_CR1_SSI  (1u << 8)
#define SPI_CR1_SSM  (1u << 9)
#define SPI_SR_RXNE  (1u << 0)
#define SPI_SR_TXE   (1u << 1)
#define SPI_SR_BSY   (1u << 7)

/* ---- JEDEC serial-flash opcodes ---- */
#define OP_WRSR  0x01u
#define OP_EWSR  0x50u   /* SST: enable-write-status-register, arms the very next WRSR */
#define OP_PP    0x02u
#define OP_READ  0x03u
#define OP_RDSR  0x05u
#define OP_WREN  0x06u
#define OP_RDID  0x9Fu
#define OP_CE    0x60u
#define SR_WIP   0x01u
#define SR_WEL   0x02u
#define SR_BP    0x3Cu   /* block-protect bits BP0..BP3 */

#define SPI_TIMEOUT        100000u     /* status polls per byte */
#define READY_TIMEOUT_PAGE 2000000u    /* RDSR polls: page program / sector erase */
#define READY_TIMEOUT_CHIP 200000000u  /* RDSR polls: chip erase (tens of seconds) */

extern uint32_t __stack_top;
void helper_entry(void);

/* ---- Mailbox (placed by link.ld) ---- */
__attribute__((section(".data_config"), used))
const helper_data_config_t data_config = {
    .entry_point = helper_entry,
    .stack_addr = &__stack_top,
    .data_buffer_size = HELPER_DATA_BUFFER_SIZE,
};

__attribute__((section(".data_transfer"), used))
helper_data_transfer_t data_transfer = { 0u, 0u, CMD_NONE, RESULT_OK };

__attribute__((section(".data_buffer"), used, aligned(4)))
uint8_t data_buffer[HELPER_DATA_BUFFER_SIZE];

/* Defaults: identified but unconfigured; the kit patches this section or the host writes it before `resume`. */
__attribute__((section(".helper_config"), used))
volatile sflash_helper_config_t helper_config = {
    .magic = HELPER_CONFIG_MAGIC,
    .version = HELPER_CONFIG_VERSION,
};

static uint8_t sector_buf[HELPER_MAX_SECTOR_SIZE];
static uint32_t crc_table[256];

/* Working copy of the configuration, validated at the start of each command. */
static sflash_helper_config_t cfg;
static int bus_error;

/* Freestanding: GCC may emit calls to these. */
void *memcpy(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--) *d++ = *s++;
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    uint8_t *d = dst;
    while (n--) *d++ = (uint8_t)c;
    return dst;
}

static int bytes_differ(const uint8_t *a, const uint8_t *b, uint32_t n)
{
    while (n--) {
        if (*a++ != *b++) return 1;
    }
    return 0;
}

/* 1 if some bit must go from 0 to 1, which only an erase can do (programming only clears bits). */
static int needs_erase(const uint8_t *old, const uint8_t *new_bytes, uint32_t n)
{
    while (n--) {
        if ((*old++ & *new_bytes) != *new_bytes) return 1;
        new_bytes++;
    }
    return 0;
}

static int all_erased(const uint8_t *p, uint32_t n)
{
    while (n--) {
        if (*p++ != 0xFFu) return 0;
    }
    return 1;
}

static void kick_watchdog(void)
{
    REG32(IWDG_KR) = 0xAAAAu;
}

/* ---- CRC-32 (IEEE 802.3, reflected 0xEDB88320; same as zlib.crc32) ---- */
static void crc_init(void)
{
    for (uint32_t i = 0; i < 256u; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1u) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc_update(uint32_t crc, const uint8_t *p, uint32_t n)
{
    crc = ~crc;
    while (n--) crc = crc_table[(crc ^ *p++) & 0xFFu] ^ (crc >> 8);
    return ~crc;
}

/* ---- GPIO / SPI ---- */
static int port_index(uint32_t port)
{
    if (port < GPIO_PORT_FIRST || (port - GPIO_PORT_FIRST) % GPIO_PORT_STRIDE != 0u) return -1;
    uint32_t idx = (port - GPIO_PORT_FIRST) / GPIO_PORT_STRIDE;
    return idx < GPIO_PORT_COUNT ? (int)idx : -1;
}

static void pin_alternate(uint32_t port, uint32_t pin, uint32_t af)
{
    uint32_t afr = port + GPIO_AFRL + (pin >> 3) * 4u;
    uint32_t shift = (pin & 7u) * 4u;
    REG32(afr) = (REG32(afr) & ~(0xFu << shift)) | (af << shift);
    REG32(port + GPIO_OSPEEDR) |= 2u << (pin * 2u);                                    /* 50 MHz */
    REG32(port + GPIO_MODER) = (REG32(port + GPIO_MODER) & ~(3u << (pin * 2u))) | (2u << (pin * 2u));
}

static void cs_high(void)
{
    REG32(cfg.cs_port + GPIO_BSRR) = 1u << cfg.cs_pin;
}

static void cs_low(void)
{
    REG32(cfg.cs_port + GPIO_BSRR) = 1u << (cfg.cs_pin + 16u);
}

static int config_valid(void)
{
    if (cfg.magic != HELPER_CONFIG_MAGIC || cfg.version != HELPER_CONFIG_VERSION || cfg.spi_base == 0u) return 0;
    if (cfg.spi_rcc_enr == 0u || cfg.spi_rcc_bit > 31u || cfg.gpio_af > 15u || cfg.spi_br > 7u || cfg.spi_mode > 3u)
        return 0;
    if (port_index(cfg.sck_port) < 0 || port_index(cfg.miso_port) < 0 || port_index(cfg.mosi_port) < 0 ||
        port_index(cfg.cs_port) < 0)
        return 0;
    if (cfg.sck_pin > 15u || cfg.miso_pin > 15u || cfg.mosi_pin > 15u || cfg.cs_pin > 15u) return 0;
    if (cfg.sector_size == 0u || cfg.sector_size > HELPER_MAX_SECTOR_SIZE || (cfg.sector_size & (cfg.sector_size - 1u)))
        return 0;
    if (cfg.page_size == 0u || cfg.page_size > 256u || (cfg.page_size & (cfg.page_size - 1u))) return 0;
    if (cfg.sector_erase_opcode == 0u || cfg.sector_erase_opcode > 0xFFu) return 0;
    return 1;
}

static void spi_init(void)
{
    REG32(RCC_AHB1ENR) |= (1u << port_index(cfg.sck_port)) | (1u << port_index(cfg.miso_port)) |
                          (1u << port_index(cfg.mosi_port)) | (1u << port_index(cfg.cs_port));
    REG32(cfg.spi_rcc_enr) |= 1u << cfg.spi_rcc_bit;
    (void)REG32(cfg.spi_rcc_enr);  /* let the clock enable settle before touching the peripheral */

    /* Chip select: drive high first, then make it an output. */
    cs_high();
    REG32(cfg.cs_port + GPIO_OSPEEDR) |= 2u << (cfg.cs_pin * 2u);
    REG32(cfg.cs_port + GPIO_MODER) = (REG32(cfg.cs_port + GPIO_MODER) & ~(3u << (cfg.cs_pin * 2u))) |
                                      (1u << (cfg.cs_pin * 2u));
    pin_alternate(cfg.sck_port, cfg.sck_pin, cfg.gpio_af);
    pin_alternate(cfg.miso_port, cfg.miso_pin, cfg.gpio_af);
    pin_alternate(cfg.mosi_port, cfg.mosi_pin, cfg.gpio_af);
    REG32(cfg.miso_port + GPIO_PUPDR) = (REG32(cfg.miso_port + GPIO_PUPDR) & ~(3u << (cfg.miso_pin * 2u))) |
                                        (1u << (cfg.miso_pin * 2u));                   /* pull-up */

    /* Master, software NSS, 8-bit frames, MSB first, no CRC, polled (no interrupts, no DMA). */
    REG16(cfg.spi_base + SPI_CR1) = 0u;
    REG16(cfg.spi_base + SPI_CR2) = 0u;
    REG16(cfg.spi_base + SPI_CR1) = (uint16_t)(SPI_CR1_MSTR | SPI_CR1_SSM | SPI_CR1_SSI | (cfg.spi_br << 3) | cfg.spi_mode);
    REG16(cfg.spi_base + SPI_CR1) |= SPI_CR1_SPE;
    (void)REG16(cfg.spi_base + SPI_DR);  /* drop a stale received byte */
    bus_error = 0;
}

static uint8_t spi_xfer(uint8_t out)
{
    uint32_t n = SPI_TIMEOUT;
    if (bus_error) return 0xFFu;
    while ((REG16(cfg.spi_base + SPI_SR) & SPI_SR_TXE) == 0u) {
        if (--n == 0u) { bus_error = 1; return 0xFFu; }
    }
    REG16(cfg.spi_base + SPI_DR) = out;
    n = SPI_TIMEOUT;
    while ((REG16(cfg.spi_base + SPI_SR) & SPI_SR_RXNE) == 0u) {
        if (--n == 0u) { bus_error = 1; return 0xFFu; }
    }
    return (uint8_t)REG16(cfg.spi_base + SPI_DR);
}

static void spi_end(void)
{
    uint32_t n = SPI_TIMEOUT;
    while ((REG16(cfg.spi_base + SPI_SR) & SPI_SR_BSY) != 0u) {
        if (--n == 0u) { bus_error = 1; break; }
    }
    cs_high();
}

static void send_address(uint8_t opcode, uint32_t address)
{
    cs_low();
    spi_xfer(opcode);
    spi_xfer((uint8_t)(address >> 16));
    spi_xfer((uint8_t)(address >> 8));
    spi_xfer((uint8_t)address);
}

/* ---- JEDEC serial flash ---- */
static uint32_t flash_read_id(void)
{
    cs_low();
    spi_xfer(OP_RDID);
    uint32_t id = (uint32_t)spi_xfer(0xFFu) << 16;
    id |= (uint32_t)spi_xfer(0xFFu) << 8;
    id |= spi_xfer(0xFFu);
    spi_end();
    return id;
}

static uint8_t flash_status(void)
{
    cs_low();
    spi_xfer(OP_RDSR);
    uint8_t s = spi_xfer(0xFFu);
    spi_end();
    return s;
}

static int flash_wait_ready(uint32_t polls)
{
    while (polls--) {
        uint8_t s = flash_status();
        if (bus_error) return -1;
        if ((s & SR_WIP) == 0u) return 0;
        kick_watchdog();
    }
    return -1;
}

static int flash_write_enable(void)
{
    cs_low();
    spi_xfer(OP_WREN);
    spi_end();
    uint8_t s = flash_status();
    return (bus_error || (s & SR_WEL) == 0u) ? -1 : 0;
}

static int flash_read(uint32_t address, uint8_t *dst, uint32_t n)
{
    send_address(OP_READ, address);
    while (n--) *dst++ = spi_xfer(0xFFu);
    spi_end();
    return bus_error ? -1 : 0;
}

/* WREN, then EWSR right before WRSR 0, as the WICED SDK does for SST parts (sflash_write_status_register): an
 * SST25VF080B powers up with its BP bits set and takes WRSR after EWSR (or WREN); parts without EWSR ignore 0x50.
 * Fails if a BP bit is still set afterwards (e.g. BPL locked with WP# low), rather than at the verify. */
static int flash_unprotect(void)
{
    if (flash_write_enable() != 0) return -1;
    cs_low();
    spi_xfer(OP_EWSR);
    spi_end();
    cs_low();
    spi_xfer(OP_WRSR);
    spi_xfer(0u);
    spi_end();
    if (flash_wait_ready(READY_TIMEOUT_PAGE) != 0) return -1;
    return ((flash_status() & SR_BP) != 0u || bus_error) ? -1 : 0;
}

static int flash_sector_erase(uint32_t address)
{
    if (flash_write_enable() != 0) return -1;
    send_address((uint8_t)cfg.sector_erase_opcode, address);
    spi_end();
    return flash_wait_ready(READY_TIMEOUT_PAGE);
}

static int flash_chip_erase(void)
{
    if (flash_write_enable() != 0) return -1;
    cs_low();
    spi_xfer(OP_CE);
    spi_end();
    return flash_wait_ready(READY_TIMEOUT_CHIP);
}

/* Program `n` bytes page by page. Pages whose new bytes are all 0xFF are skipped: programming only clears bits,
 * so writing 0xFF never changes the flash. */
static int flash_program(uint32_t address, const uint8_t *src, uint32_t n)
{
    while (n > 0u) {
        uint32_t room = cfg.page_size - (address & (cfg.page_size - 1u));
        uint32_t len = n < room ? n : room;
        if (!all_erased(src, len)) {
            if (flash_write_enable() != 0) return -1;
            send_address(OP_PP, address);
            for (uint32_t i = 0; i < len; i++) spi_xfer(src[i]);
            spi_end();
            if (flash_wait_ready(READY_TIMEOUT_PAGE) != 0) return -1;
        }
        address += len;
        src += len;
        n -= len;
        kick_watchdog();
    }
    return 0;
}

/* Compare flash [address, +n) with `expect` in sector_buf-sized pieces: 0 same, 1 different, -1 read error. */
static int flash_compare(uint32_t address, const uint8_t *expect, uint32_t n)
{
    while (n > 0u) {
        uint32_t len = n < sizeof sector_buf ? n : sizeof sector_buf;
        if (flash_read(address, sector_buf, len) != 0) return -1;
        if (bytes_differ(sector_buf, expect, len)) return 1;
        address += len;
        expect += len;
        n -= len;
        kick_watchdog();
    }
    return 0;
}

/* Sector by sector. `mode` WRITE_IF_NEEDED: leave sectors that already hold the bytes; program in place when only
 * 1->0 bit changes are needed (e.g. after a chip erase); otherwise erase. WRITE_ALWAYS: erase every sector (no read
 * when the range covers it whole). WRITE_BLANK: `src` is NULL and stands for 0xFF bytes: a sector is erased only
 * when it is not blank. An erased sector that the range covers only in part is read first and its other bytes are
 * programmed back. `erased` counts the sector erases. */
enum write_mode { WRITE_IF_NEEDED, WRITE_ALWAYS, WRITE_BLANK };

static uint32_t write_sectors(uint32_t address, const uint8_t *src, uint32_t n, enum write_mode mode,
                              uint32_t *erased)
{
    uint32_t sector = address & ~(cfg.sector_size - 1u);
    uint32_t offset = address - sector;
    while (n > 0u) {
        uint32_t len = cfg.sector_size - offset;
        if (len > n) len = n;
        int whole = offset == 0u && len == cfg.sector_size;
        int erase = 1;
        if (!(mode == WRITE_ALWAYS && whole)) {
            if (flash_read(sector, sector_buf, cfg.sector_size) != 0) return RESULT_READ_FAILED;
            if (mode == WRITE_BLANK) erase = !all_erased(&sector_buf[offset], len);
            else if (mode == WRITE_IF_NEEDED) erase = needs_erase(&sector_buf[offset], src, len);
        }
        if (!erase) {
            if (src != NULL && bytes_differ(&sector_buf[offset], src, len) &&
                flash_program(sector + offset, src, len) != 0)
                return RESULT_WRITE_FAILED;
        } else {
            if (flash_sector_erase(sector) != 0) return RESULT_ERASE_FAILED;
            (*erased)++;
            if (whole) {
                if (src != NULL && flash_program(sector, src, len) != 0) return RESULT_WRITE_FAILED;
            } else {
                if (src != NULL) memcpy(&sector_buf[offset], src, len);
                else memset(&sector_buf[offset], 0xFF, len);
                if (flash_program(sector, sector_buf, cfg.sector_size) != 0) return RESULT_WRITE_FAILED;
            }
        }
        if (src != NULL) src += len;
        n -= len;
        sector += cfg.sector_size;
        offset = 0u;
        kick_watchdog();
    }
    return RESULT_OK;
}

static uint32_t crc_flash(uint32_t address, uint32_t n, uint32_t *crc)
{
    *crc = 0u;
    while (n > 0u) {
        uint32_t len = n < sizeof sector_buf ? n : sizeof sector_buf;
        if (flash_read(address, sector_buf, len) != 0) return RESULT_READ_FAILED;
        *crc = crc_update(*crc, sector_buf, len);
        address += len;
        n -= len;
        kick_watchdog();
    }
    return RESULT_OK;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t run_command(uint32_t command, uint32_t address, uint32_t size)
{
    /* Copy the configuration once per command so the host may rewrite it between commands. Unconfigured (the
     * committed ELF before the kit patches it): every command answers NOT_CONFIGURED and no GPIO or SPI register
     * is touched, since their addresses would come from the zeroed config. */
    for (uint32_t i = 0; i < sizeof cfg / 4u; i++) ((uint32_t *)&cfg)[i] = ((volatile uint32_t *)&helper_config)[i];
    if (!config_valid()) return RESULT_NOT_CONFIGURED;

    if (command & CMD_CRC32_MEMORY) {
        /* MCU address space, e.g. internal flash at 0x08000000; no SPI needed. */
        uint32_t crc = 0u;
        const uint8_t *p = (const uint8_t *)(uintptr_t)address;
        while (size > 0u) {
            uint32_t len = size < 4096u ? size : 4096u;
            crc = crc_update(crc, p, len);
            p += len;
            size -= len;
            kick_watchdog();
        }
        put_u32(data_buffer, crc);
        return RESULT_OK;
    }

    spi_init();

    uint32_t id = flash_read_id();
    helper_config.jedec_id_read = id;
    if (bus_error) return RESULT_READ_FAILED;
    if (command & CMD_READ_ID) {
        put_u32(data_buffer, id);
        return RESULT_OK;
    }
    if (cfg.expected_jedec_id != 0u && id != cfg.expected_jedec_id) {
        put_u32(data_buffer, id);
        return RESULT_JEDEC_ID_MISMATCH;
    }

    if (cfg.chip_size != 0u && (address > cfg.chip_size || size > cfg.chip_size - address))
        return RESULT_SIZE_TOO_BIG_CHIP;

    if (command & CMD_CRC32_SFLASH) {
        uint32_t crc;
        uint32_t r = crc_flash(address, size, &crc);
        if (r == RESULT_OK) put_u32(data_buffer, crc);
        return r;
    }

    if (command & CMD_ERASE_BLANK) {
        /* no data: the range may be larger than the buffer; runs alone (other bits ignored) */
        uint32_t erased = 0u;
        if ((cfg.flags & HELPER_FLAG_UNPROTECT) && flash_unprotect() != 0) return RESULT_WRITE_FAILED;
        uint32_t r = write_sectors(address, NULL, size, WRITE_BLANK, &erased);
        put_u32(data_buffer, erased);
        return r;
    }

    if (size > HELPER_DATA_BUFFER_SIZE) return RESULT_SIZE_TOO_BIG_BUFFER;

    if (command & CMD_READ) return flash_read(address, data_buffer, size) == 0 ? RESULT_OK : RESULT_READ_FAILED;

    if (command & CMD_INITIAL_VERIFY) {
        int same = flash_compare(address, data_buffer, size);
        if (same < 0) return RESULT_READ_FAILED;
        if (same == 0) return RESULT_OK;
    }

    if ((cfg.flags & HELPER_FLAG_UNPROTECT) &&
        (command & (CMD_ERASE_CHIP | CMD_WRITE | CMD_WRITE_ERASE_IF_NEEDED | CMD_ERASE_WRITE)) && flash_unprotect() != 0)
        return RESULT_WRITE_FAILED;

    if (command & CMD_ERASE_CHIP) {
        if (flash_chip_erase() != 0) return RESULT_ERASE_FAILED;
        if (command & CMD_VERIFY_CHIP_ERASURE) {
            uint32_t end = cfg.chip_size;
            for (uint32_t pos = 0; pos < end; pos += sizeof sector_buf) {
                uint32_t len = end - pos < sizeof sector_buf ? end - pos : sizeof sector_buf;
                if (flash_read(pos, sector_buf, len) != 0) return RESULT_READ_FAILED;
                if (!all_erased(sector_buf, len)) return RESULT_ERASE_FAILED;
                kick_watchdog();
            }
        }
    }

    if ((command & CMD_WRITE) && flash_program(address, data_buffer, size) != 0) return RESULT_WRITE_FAILED;

    if (command & (CMD_WRITE_ERASE_IF_NEEDED | CMD_ERASE_WRITE)) {
        uint32_t erased = 0u;
        uint32_t r = write_sectors(address, data_buffer, size,
                                   (command & CMD_ERASE_WRITE) ? WRITE_ALWAYS : WRITE_IF_NEEDED, &erased);
        if (r != RESULT_OK) return r;
    }

    if (command & CMD_POST_WRITE_VERIFY) {
        int same = flash_compare(address, data_buffer, size);
        if (same < 0) return RESULT_READ_FAILED;
        if (same > 0) return RESULT_VERIFY_FAILED;
    }
    return RESULT_OK;
}

__attribute__((noreturn)) void helper_main(void)
{
    crc_init();
    for (;;) {
        /* Idle: the host halts the core, fills size/address/data, sets result to IN_PROGRESS, writes the command
         * and resumes; it then polls `result`. */
        while (data_transfer.command == CMD_NONE) kick_watchdog();
        uint32_t command = data_transfer.command;
        data_transfer.result = RESULT_IN_PROGRESS;
        uint32_t result = run_command(command, data_transfer.sflash_address, data_transfer.size);
        /* deselect the chip after a bus command; cs_port is a GPIO port only in a validated config */
        if (result != RESULT_NOT_CONFIGURED && !(command & (CMD_CRC32_MEMORY | CMD_READ_ID))) cs_high();
        data_transfer.result = result;
        data_transfer.command = CMD_NONE;
        data_transfer.sflash_address = 0u;
        data_transfer.size = 0u;
    }
}
