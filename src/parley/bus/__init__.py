"""Event fan-out: in-process for the embedded server; across nodes later (LISTEN/NOTIFY)."""
