#!/usr/bin/env bash
# check_install.sh — `cmake --install` as C/C++ users consume it, wherever the tree lands: a --prefix,
# DESTDIR staging, and the installed tree moved elsewhere. Each time a C program is compiled and run
# with `pkg-config --cflags --libs fastdrive_pruner` (the README's command); the moved tree also
# serves find_package; the installed `fastdrive-pruner` tool runs with an empty environment (no Swift).
# Every installed version (library file, .pc, CMake package, tool) must be the header's.
#
# usage: check_install.sh CMAKE_BUILD_DIR SOURCE_DIR MODEL.safetensors
set -euo pipefail
build="$1" src="$2" model="$3"
version="$("$src/Tests/packaging/header_version.sh")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
consumer="$src/Tests/cmake_consumer"

# Compile and run the consumer program against the .pc file found under $1 (as README: rpath from libdir).
pkg_config_program() {
    local root="$1" label="$2" pc
    pc="$(find "$root" -name fastdrive_pruner.pc)"
    [ -n "$pc" ] || { echo "FAIL $label: no fastdrive_pruner.pc under $root"; return 1; }
    export PKG_CONFIG_PATH="$(dirname "$pc")"
    local got
    got="$(pkg-config --modversion fastdrive_pruner)"
    [ "$got" = "$version" ] || { echo "FAIL $label: pkg-config says version $got, the header $version"; return 1; }
    cc -std=c99 -Wall -Wextra -Werror -pedantic "$consumer/main.c" -o "$work/app" \
        $(pkg-config --cflags --libs fastdrive_pruner) -Wl,-rpath,"$(pkg-config --variable=libdir fastdrive_pruner)"
    "$work/app" "$model" >/dev/null
    echo "ok: $label: pkg-config $got, compiled and ran against $(pkg-config --variable=libdir fastdrive_pruner)"
}

cmake --install "$build" --prefix "$work/opt" >/dev/null
pkg_config_program "$work/opt" "--prefix"
[ -f "$(echo "$work"/opt/lib*/libfastdrive_pruner.so."$version")" ] || { echo "FAIL: no libfastdrive_pruner.so.$version"; exit 1; }

tool="$work/opt/bin/fastdrive-pruner"
[ "$(env -i "$tool" --version)" = "$version" ] || { echo "FAIL: installed tool: $(env -i "$tool" --version)"; exit 1; }
grep -q "hidden_size = 128" <<<"$(env -i "$tool" inspect "$model")" || { echo "FAIL: installed tool cannot inspect"; exit 1; }
echo "ok: bin/fastdrive-pruner $version runs with an empty environment"

DESTDIR="$work/stage" cmake --install "$build" --prefix /usr/local >/dev/null
pkg_config_program "$work/stage/usr/local" "DESTDIR staging"

mv "$work/opt" "$work/moved"
pkg_config_program "$work/moved" "moved tree"
cmake -S "$consumer" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$work/moved" >/dev/null
cmake --build "$work/consumer" >/dev/null
"$work/consumer/my_stack" "$model" >/dev/null
grep -q "set(PACKAGE_VERSION \"$version\")" "$work/moved"/lib*/cmake/FastDrivePruner/FastDrivePrunerConfigVersion.cmake ||
    { echo "FAIL: the CMake package version is not $version"; exit 1; }
echo "ok: moved tree: find_package(FastDrivePruner $version) configured, built and ran"
