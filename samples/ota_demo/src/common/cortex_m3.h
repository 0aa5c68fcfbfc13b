/* ota_demo sample: the few Cortex-M3 core registers the sample code touches (ARMv7-M ARM, B3.2). */
#ifndef OTA_DEMO_CORTEX_M3_H
#define OTA_DEMO_CORTEX_M3_H

#include <stdint.h>

#define REG32(addr)        (*(volatile uint32_t *)(uintptr_t)(addr))

#define SCB_VTOR           REG32(0xE000ED08u)  /* vector table offset register          */
#define SCB_AIRCR          REG32(0xE000ED0Cu)  /* application interrupt/reset control   */
#define SYST_CSR           REG32(0xE000E010u)  /* SysTick control and status            */
#define SYST_RVR           REG32(0xE000E014u)  /* SysTick reload value                  */
#define SYST_CVR           REG32(0xE000E018u)  /* SysTick current value                 */

#define SYST_CSR_ENABLE    (1u << 0)
#define SYST_CSR_TICKINT   (1u << 1)
#define SYST_CSR_CLKSOURCE (1u << 2)           /* processor clock                      */

#define AIRCR_VECTKEY      (0x05FAu << 16)
#define AIRCR_SYSRESETREQ  (1u << 2)

/* STM32F2 after reset runs from the 16 MHz HSI oscillator. */
#define OTA_DEMO_CORE_CLOCK_HZ 16000000u

static inline void cpu_wait_for_interrupt(void) { __asm volatile("wfi" ::: "memory"); }
static inline void cpu_dsb(void)                 { __asm volatile("dsb" ::: "memory"); }
static inline uint32_t cpu_ipsr(void)
{
    uint32_t v;
    __asm volatile("mrs %0, ipsr" : "=r"(v));
    return v;
}

#endif
