"""Pure domain: orders, their validation and their status transitions (no I/O)."""
