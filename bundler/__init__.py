"""bundle: offline image bundler for WICED SDK 3.5.2 products (STM32F2 + serial flash)."""

__version__ = "0.1.0"
TOOL_NAME = "bundle"
