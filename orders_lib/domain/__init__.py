"""Pure domain: orders, their validation and their status transitions, and the one percentile
definition every reported figure uses (no I/O, standard library only)."""
