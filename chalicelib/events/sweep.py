"""The hourly SLA sweep (placeholder)."""


def run_sweep() -> dict:
    return {"escalated": 0, "overdue": 0}
