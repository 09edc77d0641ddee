"""Gong's CRM schema API: the httpx client and a local emulator."""
