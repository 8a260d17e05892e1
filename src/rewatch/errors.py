"""Error kinds the orchestrator treats differently."""


class PermanentError(Exception):
    """Retrying will not help (bad input, a failed build or audit): fail the run at once."""
