# setup.py — what pyproject.toml cannot say statically: the trainer's version, which is the project's
# one version number (the FASTDRIVE_VERSION_* macros of include/fastdrive_pruner.h).
import re
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).resolve().parent
HEADER = HERE.parent / "include" / "fastdrive_pruner.h"


def project_version() -> str:
    """MAJOR.MINOR.PATCH from the header in a checkout; from PKG-INFO when building this folder's sdist."""
    if HEADER.is_file():
        text = HEADER.read_text()
        parts = [re.search(rf"^#define FASTDRIVE_VERSION_{p} (\d+)$", text, re.M) for p in ("MAJOR", "MINOR", "PATCH")]
        if all(parts):
            return ".".join(m.group(1) for m in parts)
        raise SystemExit(f"{HEADER}: no FASTDRIVE_VERSION_MAJOR/MINOR/PATCH lines")
    info = HERE / "PKG-INFO"
    if info.is_file():
        return re.search(r"^Version: (\S+)$", info.read_text(), re.M).group(1)
    raise SystemExit(f"cannot tell the version: neither {HEADER} nor {info} exists")


setup(version=project_version())
