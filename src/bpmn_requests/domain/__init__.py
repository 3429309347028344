"""The business: request record, statuses, money, approval policy, ledger rules, audit chain (stdlib only)."""
