/*
 * ota_demo sample bootloader (stands in for WICED's waf.bootloader, which lives in STM32
 * sector 0). This one only does the final step of the real bootloader: check that an
 * application is present at 0x0800C000 and start it the way platform_start_app does
 * (initial MSP from word 0, reset vector from word 1 with the Thumb bit forced).
 * No DCT parsing, no SFLASH loading, no factory-reset button.
 */
#include <stdint.h>

#define APP_START        0x0800C000u   /* APP_CODE, vector table first */
#define APP_END          0x08100000u   /* end of the 1 MiB flash       */
#define SRAM_START       0x20000000u
#define SRAM_END         0x20020000u   /* 128 KiB                      */

extern uint32_t bootloader_stack_top[];   /* bootloader.ld: top of BTLDR_SRAM */

void bootloader_reset_handler(void);
void bootloader_fault_handler(void);

__attribute__((section(".rodata.bootloader_id"), used))
const char bootloader_id[] = "ota_demo sample bootloader v1 (not WICED waf.bootloader)";

__attribute__((noreturn)) static void start_app(uint32_t msp, uint32_t entry)
{
    __asm volatile(
        "msr msp, %0 \n"
        "bx  %1      \n"
        :
        : "r"(msp), "r"(entry | 1u)
        : "memory");
    __builtin_unreachable();
}

void bootloader_reset_handler(void)
{
    const volatile uint32_t *app_vectors = (const volatile uint32_t *)APP_START;
    uint32_t msp   = app_vectors[0];
    uint32_t entry = app_vectors[1];

    /* Erased flash reads 0xFFFFFFFF: only jump to something that looks like an app. */
    int stack_ok = (msp > SRAM_START) && (msp <= SRAM_END) && ((msp & 3u) == 0u);
    int entry_ok = ((entry & ~1u) >= APP_START) && ((entry & ~1u) < APP_END);

    if (stack_ok && entry_ok) {
        start_app(msp, entry);
    }
    for (;;) {
        __asm volatile("wfi");
    }
}

void bootloader_fault_handler(void)
{
    for (;;) {
        __asm volatile("wfi");
    }
}

typedef void (*vector_t)(void);

__attribute__((section(".vectors"), used))
const vector_t bootloader_vectors[16] = {
    [0]  = (vector_t)(uintptr_t)bootloader_stack_top,
    [1]  = bootloader_reset_handler,
    [2]  = bootloader_fault_handler,  /* NMI        */
    [3]  = bootloader_fault_handler,  /* HardFault  */
    [4]  = bootloader_fault_handler,  /* MemManage  */
    [5]  = bootloader_fault_handler,  /* BusFault   */
    [6]  = bootloader_fault_handler,  /* UsageFault */
    [11] = bootloader_fault_handler,  /* SVCall     */
    [12] = bootloader_fault_handler,  /* DebugMon   */
    [14] = bootloader_fault_handler,  /* PendSV     */
    [15] = bootloader_fault_handler,  /* SysTick    */
};
