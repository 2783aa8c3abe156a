# _version.py — the package version: the project's one version number, recorded when the package is built.
"""``__version__`` of the installed distribution. setup.py sets it from the FASTDRIVE_VERSION_*
macros of ``include/fastdrive_pruner.h``, the one place the project's version is written, so the
package, the wheel and the C library it bundles always carry the same number."""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fastdrive-pruner")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"
