"""The ``retry`` executor: runnable's way to ask for a re-run in a config file.

```yaml
pipeline-executor:
  type: retry
  config:
    run_id: 20240101-120000-abcdef0123   # the run to re-run
```

``stepline execute -c retry.yaml PIPELINE`` then does what ``stepline retry RUN_ID`` does: a new run
that skips every step that succeeded in ``run_id`` (see :mod:`stepline.run.rerun`). It traverses and runs
steps here, like ``local``.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from stepline.executors.local import LocalExecutor, LocalSettings


class RetrySettings(LocalSettings):
    run_id: str = Field(min_length=1, description="The run to re-run.")


class RetryExecutor(LocalExecutor):
    name: ClassVar[str] = "retry"
    Settings: ClassVar[type] = RetrySettings

    @property
    def retry_of(self) -> str:
        """The run this executor re-runs."""
        return self.settings.run_id
