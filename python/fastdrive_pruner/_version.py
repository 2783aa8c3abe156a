# _version.py — the package version, kept equal to the C library's FASTDRIVE_VERSION_STRING.
"""Version of the Python package; it tracks the C library it binds (see ``library_version()``)."""

__version__ = "1.0.0"
