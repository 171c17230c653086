"""Accounts: users, roles granted on region nodes, login with throttling and a TOTP second factor, idle
timeout, and API tokens."""
