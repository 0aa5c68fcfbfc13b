"""Cortex-M vector table head (ARMv7-M ARM B1.5.3): word 0 = initial main stack pointer, word 1 = reset handler
(Thumb bit set), then the fault handlers. The WICED bootloader jumps through word 1 of the table at the app region's
start (waf_platform.c `platform_start_app`); `bundle inspect` checks both words."""

from __future__ import annotations

from construct import Int32ul, Struct

# The first four entries of the vector table (the part inspect checks); the rest are IRQ handlers.
cortex_m_vector_table_t = Struct(
    "initial_sp" / Int32ul,  # loaded into MSP at reset
    "reset_handler" / Int32ul,  # Thumb address (bit 0 set)
    "nmi_handler" / Int32ul,
    "hard_fault_handler" / Int32ul,
)

VECTOR_TABLE_HEAD_SIZE = cortex_m_vector_table_t.sizeof()
assert VECTOR_TABLE_HEAD_SIZE == 16
