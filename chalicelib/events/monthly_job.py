"""The monthly metrics job (placeholder)."""


def run_for_previous_month() -> dict:
    return {}
