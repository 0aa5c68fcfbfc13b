/*
 * Minimal start-up for a RAM-loaded program: the host loads every loadable section with `load_image`, points the
 * PC at data_config.entry_point and resumes. We mask interrupts (the application's vector table is still active),
 * set our own stack, clear .bss and enter the mailbox loop.
 */
#include <stdint.h>

extern uint32_t __bss_start, __bss_end;
void helper_main(void) __attribute__((noreturn));

__attribute__((noreturn, used)) static void helper_start(void)
{
    for (uint32_t *p = &__bss_start; p < &__bss_end; p++) *p = 0u;
    helper_main();
}

__attribute__((naked, noreturn, section(".text.entry"))) void helper_entry(void)
{
    __asm volatile(
        "cpsid i\n"
        "ldr r0, =__stack_top\n"
        "mov sp, r0\n"
        "b helper_start\n"
        ".ltorg\n");
}
