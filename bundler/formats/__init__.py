"""Binary structures of WICED SDK 3.5.2, declared once with Construct (names follow the SDK's C headers)."""
