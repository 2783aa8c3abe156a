# setup.py — the parts of the fastdrive-pruner wheel that pyproject.toml cannot declare: the version
# (the header's FASTDRIVE_VERSION_*, the project's one version number), the native library (built by
# scripts/build_dist.sh, the same script CMake runs, and bundled inside the package) and a platform
# tag instead of a pure-Python one.
import re
import shutil
import subprocess
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

try:
    from setuptools.command.bdist_wheel import bdist_wheel  # setuptools >= 70.1
except ImportError:  # pragma: no cover
    from wheel.bdist_wheel import bdist_wheel

ROOT = Path(__file__).resolve().parent
HEADER = ROOT / "include" / "fastdrive_pruner.h"
LIBRARY = "libfastdrive_pruner.so"
MISSING = """cannot build fastdrive-pruner from source: {what}.
The package bundles libfastdrive_pruner.so, which is built from the Swift sources with
  - Swift 6.1 or newer on PATH (https://swift.org/install), and
  - OpenBLAS with its pkg-config file (Debian/Ubuntu: apt-get install libopenblas-dev pkg-config).
Or install a prebuilt wheel (pip install fastdrive_pruner-*.whl), which needs neither."""


def header_version() -> str:
    text = HEADER.read_text()
    parts = [re.search(rf"^#define FASTDRIVE_VERSION_{p} (\d+)$", text, re.M) for p in ("MAJOR", "MINOR", "PATCH")]
    if not all(parts):
        raise SystemExit(f"{HEADER}: no FASTDRIVE_VERSION_MAJOR/MINOR/PATCH lines")
    return ".".join(m.group(1) for m in parts)


def check_toolchain() -> None:
    """Fail before compiling anything, with one message that says what is missing and how to get it."""
    if shutil.which("swift") is None:
        raise SystemExit(MISSING.format(what="'swift' is not on PATH"))
    if shutil.which("pkg-config") is None:
        raise SystemExit(MISSING.format(what="'pkg-config' is not on PATH"))
    if subprocess.run(["pkg-config", "--exists", "openblas"]).returncode != 0:
        raise SystemExit(MISSING.format(what="pkg-config does not know OpenBLAS ('openblas')"))


class build_py_with_library(build_py):
    """Adds the distributable library to the package (not for editable installs: those load the
    checkout's own build folders, see fastdrive_pruner/_lib.py)."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        check_toolchain()
        built = subprocess.run(["bash", str(ROOT / "scripts" / "build_dist.sh"), str(ROOT / ".build-dist")],
                               stdout=subprocess.PIPE, text=True)
        if built.returncode != 0:
            raise SystemExit("scripts/build_dist.sh failed; the swift build log is above")
        target = Path(self.build_lib) / "fastdrive_pruner" / LIBRARY
        shutil.copyfile(built.stdout.strip().splitlines()[-1], target)
        target.chmod(0o755)


class NativeDistribution(Distribution):
    """Carries a native library: installed to platlib, and a wheel that is not pure (auditwheel
    refuses shared libraries in purelib)."""

    def has_ext_modules(self):
        return True


class platform_wheel(bdist_wheel):
    """py3-none-<platform>: any CPython 3 (ctypes, no extension module), one platform (the library's)."""

    def get_tag(self):
        _, _, platform = super().get_tag()
        return "py3", "none", platform


setup(version=header_version(), distclass=NativeDistribution,
      cmdclass={"build_py": build_py_with_library, "bdist_wheel": platform_wheel})
