"""The trainer's version: the project's one version number (include/fastdrive_pruner.h), set at build."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fastdrive-train")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"
