"""The audit log: an append-only record of who did what to accounts, secrets and data (docs/security.md)."""
