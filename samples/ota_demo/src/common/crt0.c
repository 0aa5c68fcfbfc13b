/*
 * ota_demo sample: C start-up for applications linked at 0x0800C000 (app.ld).
 * The vector table is the first thing in the image; the bootloader jumps to
 * app_reset_handler, which sets its own MSP and VTOR (as WICED apps do), copies the
 * .data initialisers from flash (LMA) to SRAM (VMA), zeroes .bss and calls main().
 */
#include <stdint.h>
#include "cortex_m3.h"

/* Linker script symbols (app.ld). */
extern uint32_t app_stack_top[];
extern uint32_t app_vectors_start[];
extern uint32_t app_data_start[], app_data_end[], app_data_load_start[];
extern uint32_t app_bss_start[], app_bss_end[];

extern int main(void);
void app_reset_handler(void);
void app_crt0_init(void);
void app_default_handler(void);
void app_systick_handler(void);

/* Last unexpected exception number (IPSR), for a debugger to read. */
volatile uint32_t app_last_fault_ipsr;
volatile uint32_t app_ticks_ms;

__attribute__((naked, noreturn)) void app_reset_handler(void)
{
    /* Do not trust the MSP the bootloader left: load our own before touching the stack. */
    __asm volatile(
        "ldr r0, =app_stack_top \n"
        "msr msp, r0            \n"
        "b   app_crt0_init      \n");
}

__attribute__((noreturn, used)) void app_crt0_init(void)
{
    SCB_VTOR = (uint32_t)(uintptr_t)app_vectors_start;
    cpu_dsb();

    const uint32_t *src = app_data_load_start;
    for (uint32_t *dst = app_data_start; dst < app_data_end; ) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = app_bss_start; dst < app_bss_end; ) {
        *dst++ = 0u;
    }

    (void)main();

    /* main() should not return; if it does, ask for a system reset. */
    SCB_AIRCR = AIRCR_VECTKEY | AIRCR_SYSRESETREQ;
    for (;;) {
        cpu_wait_for_interrupt();
    }
}

void app_default_handler(void)
{
    app_last_fault_ipsr = cpu_ipsr();
    for (;;) {
        cpu_wait_for_interrupt();
    }
}

void app_systick_handler(void)
{
    app_ticks_ms++;
}

void app_systick_start_1ms(void)
{
    SYST_RVR = OTA_DEMO_CORE_CLOCK_HZ / 1000u - 1u;
    SYST_CVR = 0u;
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
}

typedef void (*vector_t)(void);

#define STM32F2_IRQ_COUNT 81   /* WWDG (0) .. HASH_RNG (80) on STM32F205/F215 */

/* Cortex-M3 system vectors followed by the STM32F2 peripheral interrupts. */
__attribute__((section(".vectors"), used))
const vector_t app_vector_table[16 + STM32F2_IRQ_COUNT] = {
    [0]  = (vector_t)(uintptr_t)app_stack_top,
    [1]  = app_reset_handler,
    [2]  = app_default_handler,   /* NMI          */
    [3]  = app_default_handler,   /* HardFault    */
    [4]  = app_default_handler,   /* MemManage    */
    [5]  = app_default_handler,   /* BusFault     */
    [6]  = app_default_handler,   /* UsageFault   */
    [11] = app_default_handler,   /* SVCall       */
    [12] = app_default_handler,   /* DebugMonitor */
    [14] = app_default_handler,   /* PendSV       */
    [15] = app_systick_handler,   /* SysTick      */
    [16 ... 16 + STM32F2_IRQ_COUNT - 1] = app_default_handler,
};
