# test_library.py — the loader (search order, FASTDRIVE_PRUNER_LIB, error listing places tried) and the ABI mirror of the header.
from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import HEADER, REPO

import fastdrive_pruner as fp
from fastdrive_pruner import _lib

PACKAGE_DIR = Path(fp.__file__).resolve().parent


def _run(code: str, env_updates: dict, cwd: Path, pythonpath: str = str(PACKAGE_DIR.parent)) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (cwd away from the source tree, so PYTHONPATH decides the package)."""
    env = {k: v for k, v in os.environ.items() if k != _lib.ENV_VAR}
    env.update(env_updates)
    env["PYTHONPATH"] = pythonpath
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True, timeout=60)


def test_env_var_pointing_at_a_missing_file_lists_where_it_looked(tmp_path) -> None:
    missing = tmp_path / "nowhere" / "libfastdrive_pruner.so"
    code = "import fastdrive_pruner as fp\nprint('imported')\nfp.Pruner('x.safetensors')"
    r = _run(code, {_lib.ENV_VAR: str(missing)}, tmp_path)
    assert r.returncode != 0 and r.stdout.strip() == "imported"  # import works; the first use fails
    assert "LibraryNotFoundError" in r.stderr
    assert str(missing) in r.stderr and "file does not exist" in r.stderr
    assert _lib.ENV_VAR in r.stderr and "places tried" in r.stderr


def test_without_env_var_every_place_is_listed(tmp_path) -> None:
    """A copy of the package outside any checkout with no library beside it: the error lists each place.

    The library's file name is changed in the child so that no system-wide install can satisfy the search.
    """
    shutil.copytree(PACKAGE_DIR, tmp_path / "fastdrive_pruner", ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    code = (
        "import fastdrive_pruner._lib as l\n"
        "l.LIBRARY_NAME = 'libfastdrive_pruner_absent.so'\n"
        "try:\n    l.load()\nexcept OSError as e:\n    print(e)\n    print(len(e.tried))\n"
    )
    r = _run(code, {}, tmp_path, pythonpath=str(tmp_path))
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert str(tmp_path / "fastdrive_pruner" / "libfastdrive_pruner_absent.so") + " (inside the package): file does not exist" in out
    assert str(tmp_path / "libfastdrive_pruner_absent.so") + " (next to the package)" in out
    assert "  3. libfastdrive_pruner_absent.so (system library search" in out  # no checkout: no build folders
    assert out.strip().endswith("3")
    assert "Install a fastdrive-pruner wheel" in out and _lib.ENV_VAR in out  # outside a checkout


def test_env_var_selects_the_library(tmp_path) -> None:
    real = _lib.library_path()
    r = _run("import fastdrive_pruner as fp\nprint(fp.library_path())", {_lib.ENV_VAR: str(real.parent)}, tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(real.parent / _lib.LIBRARY_NAME)


def test_repo_build_folders_are_searched_in_order() -> None:
    override = os.environ.get(_lib.ENV_VAR)
    if override:  # an explicit override replaces the search
        assert [str(p) for p, _ in _lib.candidate_paths()] in ([override], [str(Path(override) / _lib.LIBRARY_NAME)])
        return
    places = [str(p) for p, _ in _lib.candidate_paths()]
    root = _lib.find_repo_root(PACKAGE_DIR)
    assert root == REPO
    assert places[:2] == [str(PACKAGE_DIR / _lib.LIBRARY_NAME), str(PACKAGE_DIR.parent / _lib.LIBRARY_NAME)]
    assert places[2:5] == [str(p) for p, _ in _lib.repo_build_paths(REPO)]
    assert places[5:] == [_lib.LIBRARY_NAME]  # bare name: dlopen's system search
    assert str(_lib.library_path()) in places


def test_the_newest_repo_build_is_tried_first(tmp_path) -> None:
    """A stale distributable build must not shadow the release build made after it."""
    def build(folder: str, mtime: float) -> Path:
        lib = tmp_path / folder / _lib.LIBRARY_NAME
        lib.parent.mkdir(parents=True)
        lib.write_bytes(b"")
        os.utime(lib, (mtime, mtime))
        return lib

    debug = build(".build/debug", 4_000_000)  # `swift test` builds debug often: never preferred
    old = build(".build-dist/release", 1_000_000)
    assert [p for p, _ in _lib.repo_build_paths(tmp_path)] == [
        old, tmp_path / ".build/release" / _lib.LIBRARY_NAME, debug]  # a missing release build after a built one
    new = build(".build/release", 2_000_000)
    assert [p for p, _ in _lib.repo_build_paths(tmp_path)] == [new, old, debug]
    os.utime(old, (3_000_000, 3_000_000))  # rebuilt: now it is the newest release build
    assert [p for p, _ in _lib.repo_build_paths(tmp_path)] == [old, new, debug]


def header_version() -> tuple:
    """(MAJOR, MINOR, PATCH) of the header: the one place the project's version is written."""
    text = HEADER.read_text()
    return tuple(int(re.search(rf"^#define FASTDRIVE_VERSION_{p} (\d+)$", text, re.M).group(1))
                 for p in ("MAJOR", "MINOR", "PATCH"))


def test_version_is_the_headers(library) -> None:
    """The package (its installed metadata), the library and the binding's supported major all
    carry the header's version; a bump of the header without the rest fails here."""
    major, minor, patch = header_version()
    assert fp.__version__ == fp.library_version() == f"{major}.{minor}.{patch}"
    assert library.fastdrive_version_number() == major * 1_000_000 + minor * 1_000 + patch
    assert _lib.SUPPORTED_MAJOR == major


def test_a_library_of_another_major_version_is_refused(tmp_path) -> None:
    """A library that loads but reports 2.0.0 (a stub exporting every header function) is refused,
    and the message says which versions fit."""
    stubs = [f"int {name}(void) {{ return 0; }}" for name in _lib.FUNCTIONS
             if name not in ("fastdrive_pruner_version", "fastdrive_version_number")]
    source = tmp_path / "stub.c"
    source.write_text("\n".join(stubs + ['const char *fastdrive_pruner_version(void) { return "2.0.0"; }',
                                         "int fastdrive_version_number(void) { return 2000000; }", ""]))
    stub = tmp_path / _lib.LIBRARY_NAME
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(stub), str(source)], check=True)
    r = _run("import fastdrive_pruner as fp\nfp.library_version()", {_lib.ENV_VAR: str(stub)}, tmp_path)
    assert r.returncode != 0 and "LibraryNotFoundError" in r.stderr
    assert f"needs libfastdrive_pruner {_lib.SUPPORTED_MAJOR}.x" in r.stderr
    assert f"{stub} ($FASTDRIVE_PRUNER_LIB): library version 2.0.0" in r.stderr


def test_every_header_function_is_declared_in_header_order() -> None:
    names = re.findall(r"FASTDRIVE_API[^;]*?\b(fastdrive_\w+)\s*\(", HEADER.read_text(), re.S)
    assert names == list(_lib.FUNCTIONS)


def _c_struct_fields(c_name: str) -> list:
    """Field names of ``typedef struct c_name {...} c_name;`` in the header, in order."""
    body = re.search(r"typedef struct %s \{(.*?)\} %s;" % (c_name, c_name), HEADER.read_text(), re.S).group(1)
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    names = []
    for decl in filter(None, (d.strip() for d in body.split(";"))):
        declarators = decl.split(None, 1)[1]  # drop the type's first word; "*data", "grid_h, grid_w", "x[3]" remain
        names += re.findall(r"(\w+)\s*(?:\[\d+\])?\s*(?:,|$)", declarators)
    return names


def _c_enum_values(c_name: str) -> dict:
    """{NAME: value} of ``typedef enum c_name {...}`` in the header."""
    body = re.search(r"typedef enum %s \{(.*?)\} %s;" % (c_name, c_name), HEADER.read_text(), re.S).group(1)
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"(FASTDRIVE_\w+)\s*=\s*(\d+)", body)}


def test_structs_mirror_the_header() -> None:
    """Same fields in the same order as the header, and the sizes/offsets a C compiler gives on 64-bit Linux."""
    expected = {
        "fastdrive_pruner_options": (_lib.PrunerOptions, 40, {"compute": 12, "abort_callback": 16, "abort_user_data": 24,
                                                             "load": 32, "blas_threads": 36}),
        "fastdrive_tokens": (_lib.Tokens, 48, {"dtype": 8, "n_tokens": 16, "row_stride": 32, "grid_h": 40, "grid_w": 44}),
        "fastdrive_pruner_info": (_lib.PrunerInfo, 112, {"hidden_size": 16, "rms_norm_eps": 64, "rope": 80,
                                                         "mrope_section": 88, "arena_bytes": 104}),
        "fastdrive_select_params": (_lib.SelectParams, 80, {"k": 8, "aux": 16, "aux_count": 24, "important_ratio": 32,
                                                            "seed": 40, "image_pivots": 48, "text_pivots": 56,
                                                            "pivot_rows": 64, "relevance_theta": 72}),
    }
    for c_name, (struct, size, offsets) in expected.items():
        assert _c_struct_fields(c_name) == [f for f, _ in struct._fields_], c_name
        assert ctypes.sizeof(struct) == size, c_name
        for field, off in offsets.items():
            assert getattr(struct, field).offset == off, f"{c_name}.{field}"


def test_enums_mirror_the_header() -> None:
    prefixes = {"fastdrive_status": ("FASTDRIVE_", _lib.Status), "fastdrive_dtype": ("FASTDRIVE_", _lib.DType),
                "fastdrive_policy": ("FASTDRIVE_POLICY_", _lib.Policy), "fastdrive_load": ("FASTDRIVE_LOAD_", _lib.Load),
                "fastdrive_blas_threads": ("FASTDRIVE_BLAS_THREADS_", _lib.BLASThreads)}
    for c_name, (prefix, py_enum) in prefixes.items():
        assert {k[len(prefix):]: v for k, v in _c_enum_values(c_name).items()} == {m.name: m.value for m in py_enum}
    assert list(_c_enum_values("fastdrive_rope").values()) == [m.value for m in _lib.Rope]
    assert list(_c_enum_values("fastdrive_attention").values()) == [m.value for m in _lib.Attention]


def test_default_options_and_describe(library, f32_case) -> None:
    opts = library.fastdrive_pruner_default_options()
    assert (opts.struct_size, opts.max_tokens, opts.num_threads, opts.compute) == (16, 4096, 0, 0)
    path, _, _ = f32_case
    with fp.Pruner(path, max_tokens=100, num_threads=2) as p:
        assert (p.hidden_size, p.intermediate_size, p.num_attention_heads, p.num_key_value_heads, p.head_dim) == (64, 128, 4, 2, 16)
        assert (p.rope, p.attention, p.max_tokens, p.num_threads, p.compute) == ("none", "bidirectional", 100, 2, "f32")
        d, i, h, kv, hd = 64, 128, 4, 2, 16
        assert p.parameter_count == d + d + (h * hd * d + h * hd) + 2 * (kv * hd * d + kv * hd) + d * h * hd + d + 3 * i * d + d + 1
        assert p.arena_bytes > 0 and p.path == str(path)
        assert p.config["num_attention_heads"] == 4 and p.mrope_section == (2, 3, 3)
        assert "hidden_size=64" in repr(p)
