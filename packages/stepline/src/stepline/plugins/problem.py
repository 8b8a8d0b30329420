"""What an integration check returns: a problem, with how serious it is."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Severity(str, Enum):
    """How a problem affects the run: an error stops it before any step, a warning is printed."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One problem found by ``stepline_check_executor`` or ``stepline_check_integration``.

    ``message`` is one line that names the parts involved and the fix, e.g. ``the mlflow experiment
    tracker's tracking_uri is a file on this machine ...; use an mlflow tracking server``.
    """

    message: str
    severity: Severity = Severity.ERROR

    @classmethod
    def error(cls, message: str) -> Problem:
        """A problem that stops the run before its first step (an IntegrationError)."""
        return cls(message, Severity.ERROR)

    @classmethod
    def warning(cls, message: str) -> Problem:
        """A problem the run can live with: printed as ``warning: MESSAGE`` before the run."""
        return cls(message, Severity.WARNING)

    @property
    def is_error(self) -> bool:
        return self.severity == Severity.ERROR
