"""Fixtures of the Step Functions tests: asl-validator (tools/asl-validator.sh) and moto (tools/moto.sh)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="session")
def asl_validator(services):
    """Path of the asl-validator binary (installed with npm into .ci-state/node when missing)."""
    return services.start("asl-validator")["ASL_VALIDATOR"]


@pytest.fixture(scope="session")
def moto(services):
    """boto3 clients on the moto server, switched to its state-machine-executing mode."""
    from sfn_helpers import Moto

    return Moto(services.start("moto"))
