#!/usr/bin/env bash
# build_llamacpp.sh — fetch llama.cpp (with libmtmd) and build libllama + libmtmd once, into a cache.
#
#   scripts/build_llamacpp.sh            builds if needed, then prints the cache directory
#
# llama.cpp is not a Debian package, so its sources come from the PyPI source distribution of
# llama-cpp-python, which vendors llama.cpp (commit 0c1e57098) with tools/mtmd, gguf-py and
# models/ggml-vocab-qwen2.gguf. The sdist is pinned by version and sha256; nothing of it lives in
# this repository. The cache (outside the source tree) holds:
#
#   <dir>/src/       the vendored llama.cpp tree (gguf-py/, models/ggml-vocab-qwen2.gguf)
#   <dir>/install/   include/ and lib/ of libllama, libmtmd and ggml (shared, CPU only)
#
# A second run with the same sdist and the same build settings does nothing. The build takes about
# 10 minutes on 2 idle cores (37 with other compile jobs sharing them). Settings and why:
#   GGML_BLAS=OFF    ggml's BLAS backend resets OpenBLAS's process-wide thread count on every graph,
#                    which would undo the single-threaded OpenBLAS the pruner's worker pool relies on.
#   GGML_OPENMP=OFF  ggml then starts its threads for each graph and joins them when it returns, so
#                    nothing of ggml spins while the pruner's pool runs (see examples/llamacpp).
#   no common, tools, tests, examples, server, curl/openssl or video: only the two libraries.
#   GGML_NATIVE=ON   tuned for this CPU (but without AMX, see below); the cache is per machine.
#
# Environment: FASTDRIVE_CACHE_DIR (default ${XDG_CACHE_HOME:-$HOME/.cache}/fastdrive-pruner),
# PYTHON (the interpreter whose pip downloads the sdist; default .venv/bin/python, else python3),
# JOBS (parallel compile jobs; default all cores).
set -euo pipefail

version=0.3.36
sha256=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${FASTDRIVE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/fastdrive-pruner}"
dir="$cache/llama.cpp-$version"
sdist="llama_cpp_python-$version.tar.gz"
python="${PYTHON:-}"
if [ -z "$python" ]; then
    if [ -x "$root/.venv/bin/python" ]; then python="$root/.venv/bin/python"; else python=python3; fi
fi
jobs="${JOBS:-$(nproc)}"

cmake_flags=(
    -DCMAKE_BUILD_TYPE=Release
    -DBUILD_SHARED_LIBS=ON
    -DLLAMA_BUILD_COMMON=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_TOOLS=OFF
    -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF
    -DLLAMA_BUILD_MTMD=ON -DMTMD_VIDEO=OFF -DLLAMA_SUBPROCESS=OFF -DLLAMA_OPENSSL=OFF
    -DGGML_BLAS=OFF -DGGML_OPENMP=OFF -DGGML_NATIVE=ON -DGGML_CCACHE=OFF
    '-DCMAKE_INSTALL_RPATH=$ORIGIN'   # the installed libraries find each other (libllama → libggml)
)
if [ "$(uname -m)" = x86_64 ]; then
    # No AMX, even where -march=native would enable it: on a Xeon VM that advertises AMX, ggml's AMX
    # matmul (used for Q8_0/Q4 weights) dies with a general protection fault. Explicit -mno-* flags
    # win over -march=native whatever their order; the AVX-512 VNNI kernels are used instead.
    cmake_flags+=("-DCMAKE_C_FLAGS=-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
                  "-DCMAKE_CXX_FLAGS=-mno-amx-tile -mno-amx-int8 -mno-amx-bf16")
fi
# The stamp names everything the build depends on; a different stamp means build again.
stamp_text="llama-cpp-python $version sha256:$sha256 $(c++ --version | head -n 1) ${cmake_flags[*]}"

log() { echo "build_llamacpp: $*" >&2; }

mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9   # a second caller (tests and benchmark started together) waits for the first build

if [ -f "$dir/build.stamp" ] && [ "$(cat "$dir/build.stamp")" = "$stamp_text" ] &&
   [ -f "$dir/install/include/mtmd.h" ]; then
    log "cached: $dir"
    echo "$dir"
    exit 0
fi

check_sha() { [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$sha256" ]; }

if [ ! -f "$dir/$sdist" ] || ! check_sha "$dir/$sdist"; then
    rm -f "$dir/$sdist"
    log "downloading llama-cpp-python==$version (sdist, sha256 pinned)"
    printf 'llama-cpp-python==%s --hash=sha256:%s\n' "$version" "$sha256" >"$dir/requirements.txt"
    "$python" -m pip download --quiet --no-binary :all: --no-deps --require-hashes \
        -r "$dir/requirements.txt" -d "$dir" >&2
    check_sha "$dir/$sdist" || { log "sha256 of $sdist does not match $sha256"; exit 1; }
fi

if [ ! -f "$dir/src/tools/mtmd/mtmd.h" ]; then
    log "unpacking vendor/llama.cpp"
    rm -rf "$dir/src" "$dir/unpack"
    mkdir -p "$dir/unpack"
    tar -xzf "$dir/$sdist" -C "$dir/unpack" "llama_cpp_python-$version/vendor/llama.cpp"
    mv "$dir/unpack/llama_cpp_python-$version/vendor/llama.cpp" "$dir/src"
    rm -rf "$dir/unpack"
fi

log "building libllama + libmtmd (CPU, GGML_BLAS=OFF) with $jobs jobs; log in $dir/build.log"
start=$(date +%s)
rm -f "$dir/build.stamp"
{
    cmake -S "$dir/src" -B "$dir/build" -DCMAKE_INSTALL_PREFIX="$dir/install" "${cmake_flags[@]}" &&
        cmake --build "$dir/build" -j "$jobs" &&
        cmake --install "$dir/build"
} >"$dir/build.log" 2>&1 || { tail -n 40 "$dir/build.log" >&2; log "build failed; see $dir/build.log"; exit 1; }
[ -f "$dir/install/include/mtmd.h" ] || { log "install did not produce include/mtmd.h"; exit 1; }
echo "$stamp_text" >"$dir/build.stamp"
log "built in $(( $(date +%s) - start )) s"
echo "$dir"
