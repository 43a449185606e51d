"""Accounts, roles, sessions, display tokens and the audit trail (docs/SECURITY.md)."""
