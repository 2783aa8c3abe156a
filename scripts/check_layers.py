#!/usr/bin/env python3
"""check_layers.py — fails when a file of the Swift library uses a type or import above its layer.

The library is one Swift module whose folders are layers (docs/architecture.md). A file may use
what its own folder and the layers below declare; it may not use a higher layer, nor a sibling
on its own level. The compiler cannot see this inside one module, so this script does:

* every top-level type (struct, class, enum, protocol, typealias, actor) and top-level function
  or constant of a folder belongs to that folder's layer (a file's own members of the same
  lower-case name shadow a top-level function or constant);
* a file that names one of a higher or sibling folder (outside comments and string text;
  string interpolations count) is a violation, reported with file, line and both layers;
* imports are allowed per folder (COpenBLAS only in Kernels/Gemm.swift, the C header's module
  only in ABI/, ...);
* a folder missing from LAYERS is an error, so a new folder gets a place before it gets code.

Not checked: members a higher layer adds to a lower type by extension (`extension X { func f }`
used below). Run `check_layers.py --self-test` to see it catch a planted upward use.
Stdlib only; exit status 0 when clean.
"""
from __future__ import annotations

import re
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "Sources" / "FastdrivePruner"

# Bottom to top. Folders in one tuple are siblings: neither may use the other.
LAYERS: list[tuple[str, ...]] = [
    ("Vocabulary",),          # error, config, element/compute types, modes, the tensor table
    ("Memory", "Threads"),    # arena, file bytes, system memory | worker pool
    ("Tensor",),              # non-owning views
    ("Kernels",),             # Swift faces of the C kernels and BLAS; the linear-layer dispatch
    ("Weights",),             # safetensors reader and writer, the weight set
    ("Model", "Select"),      # the forward pass | the selection policies
    ("Core",),                # Pruner: one handle, its plan and scratch
    ("ABI",),                 # the @c entry points
]

# Which modules a folder may import (Glibc/Musl/Darwin and Synchronization where noted are
# system modules; anything not listed is refused).
SYSTEM = {"Glibc", "Musl", "Darwin"}
IMPORTS: dict[str, set[str]] = {
    "Vocabulary": SYSTEM,
    "Memory": SYSTEM,
    "Threads": SYSTEM | {"Synchronization"},
    "Tensor": SYSTEM,
    "Kernels": SYSTEM | {"CKernels", "COpenBLAS"},
    "Weights": SYSTEM,
    "Model": SYSTEM,
    "Select": SYSTEM,
    "Core": SYSTEM,
    "ABI": SYSTEM | {"CFastdrivePruner", "Synchronization"},
}
# A module only one file may import: the one place that knows its calling convention.
SINGLE_FILE_IMPORTS = {"COpenBLAS": "Kernels/Gemm.swift"}

DECL = re.compile(
    r"^(?:@[\w()]+\s+)*(?:(?:public|package|internal|fileprivate|private|final|indirect|nonisolated)\s+)*"
    r"(?:(struct|class|enum|protocol|typealias|actor)\s+(\w+)|func\s+(\w+)|(?:let|var)\s+(\w+))"
)
IMPORT = re.compile(r"^\s*(?:@\w+\s+)?import\s+(?:(?:struct|class|enum|func)\s+)?(\w+)")
IDENT = re.compile(r"[A-Za-z_]\w*")
# Any declaration, at any depth: a file's own members shadow top-level names of other folders.
LOCAL = re.compile(r"\b(?:func|let|var|case|struct|class|enum|protocol|typealias)\s+(\w+)")


def strip(text: str) -> str:
    """The code of a Swift file with comments and string text blanked (newlines kept, so line
    numbers stay); the code inside string interpolations is kept."""
    out: list[str] = []
    i, n = 0, len(text)
    stack: list[str] = []  # "code" inside interpolation(s), with paren depth tracked below
    depth: list[int] = []

    def blank(s: str) -> str:
        return re.sub(r"[^\n]", " ", s)

    def skip_string(i: int, quote: str) -> int:
        """From just after an opening quote to just after the closing one; interpolations kept."""
        nonlocal out
        while i < n:
            if text.startswith(quote, i):
                out.append(" " * len(quote))
                return i + len(quote)
            if text[i] == "\\" and i + 1 < n:
                if text[i + 1] == "(":
                    out.append("  ")
                    i = code(i + 2, interpolation=True)
                    continue
                out.append(blank(text[i:i + 2]))
                i += 2
                continue
            out.append("\n" if text[i] == "\n" else " ")
            i += 1
        return i

    def code(i: int, interpolation: bool = False) -> int:
        level = 0
        while i < n:
            c = text[i]
            if text.startswith("//", i):
                j = text.find("\n", i)
                j = n if j < 0 else j
                out.append(" " * (j - i))
                i = j
            elif text.startswith("/*", i):
                d, j = 0, i
                while j < n:
                    if text.startswith("/*", j):
                        d, j = d + 1, j + 2
                    elif text.startswith("*/", j):
                        d, j = d - 1, j + 2
                        if d == 0:
                            break
                    else:
                        j += 1
                out.append(blank(text[i:j]))
                i = j
            elif text.startswith('#"', i) or text.startswith('"', i):
                hashes = 0
                while text.startswith("#", i + hashes):
                    hashes += 1
                k = i + hashes
                quote = '"""' if text.startswith('"""', k) else '"'
                out.append(" " * (hashes + len(quote)))
                i = skip_string(k + len(quote), quote + "#" * hashes)
            elif interpolation and c == "(":
                level += 1
                out.append(c)
                i += 1
            elif interpolation and c == ")":
                if level == 0:
                    out.append(" ")
                    return i + 1
                level -= 1
                out.append(c)
                i += 1
            else:
                out.append(c)
                i += 1
        return i

    code(0)
    return "".join(out)


def layer_of(folder: str) -> int | None:
    for rank, folders in enumerate(LAYERS):
        if folder in folders:
            return rank
    return None


def check(library: Path) -> list[str]:
    problems: list[str] = []
    files = sorted(library.rglob("*.swift"))
    owner: dict[str, str] = {}  # declared name -> folder
    stripped: dict[Path, str] = {}
    for f in files:
        rel = f.relative_to(library)
        folder = rel.parts[0] if len(rel.parts) > 1 else "."
        if layer_of(folder) is None:
            problems.append(f"{rel}: folder '{folder}' has no place in LAYERS (scripts/check_layers.py)")
            continue
        code = strip(f.read_text(encoding="utf-8"))
        stripped[f] = code
        for line in code.splitlines():
            if line[:1].isspace():
                continue  # only top-level declarations name what a layer offers
            m = DECL.match(line)
            if m:
                name = next(g for g in m.groups()[1:] if g)
                if name in owner and owner[name] != folder:
                    problems.append(f"{rel}: '{name}' is also declared in {owner[name]}/")
                owner.setdefault(name, folder)
    for f, code in stripped.items():
        rel = f.relative_to(library)
        folder = rel.parts[0]
        rank = layer_of(folder)
        local = set(LOCAL.findall(code))
        for lineno, line in enumerate(code.splitlines(), 1):
            imp = IMPORT.match(line)
            if imp:
                module = imp.group(1)
                only = SINGLE_FILE_IMPORTS.get(module)
                if module not in IMPORTS[folder] or (only and str(rel) != only):
                    where = f"only {only}" if only else "not " + folder + "/"
                    problems.append(f"{rel}:{lineno}: imports {module} ({where} may)")
                continue
            for ident in set(IDENT.findall(line)):
                other = owner.get(ident)
                if other is None or other == folder or (ident in local and not ident[:1].isupper()):
                    continue
                other_rank = layer_of(other)
                if other_rank > rank or other_rank == rank:
                    kind = "sibling" if other_rank == rank else "higher"
                    problems.append(f"{rel}:{lineno}: uses {ident} from {other}/ ({kind} layer {other_rank}) "
                                    f"in {folder}/ (layer {rank})")
    return problems


def self_test() -> int:
    """The check must be able to fail: plant an upward type use, an upward import and an
    unknown folder in a copy of the library and expect each to be reported."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "FastdrivePruner"
        shutil.copytree(LIBRARY, copy)
        assert not check(copy), "the clean copy must pass"
        (copy / "Tensor" / "Planted.swift").write_text(
            "// a comment naming Pruner is fine\nstruct Planted { let p: Pruner? = nil }\n")
        (copy / "Vocabulary" / "Planted2.swift").write_text('import CFastdrivePruner\nlet planted2 = "Kernels"\n')
        (copy / "Misc").mkdir()
        (copy / "Misc" / "Planted3.swift").write_text("struct Planted3 {}\n")
        (copy / "Model" / "Planted4.swift").write_text('let planted4 = "\\(TopK.self)"\n')
        found = check(copy)
        expected = ["Tensor/Planted.swift:2: uses Pruner", "Vocabulary/Planted2.swift:1: imports CFastdrivePruner",
                    "Misc/Planted3.swift: folder 'Misc'", "Model/Planted4.swift:1: uses TopK from Select/ (sibling"]
        missing = [e for e in expected if not any(p.startswith(e) for p in found)]
        unexpected = [p for p in found if not any(p.startswith(e) for e in expected)]
        for p in found:
            print("  planted:", p)
        if missing or unexpected:
            print("self-test FAILED; missing:", missing, "unexpected:", unexpected)
            return 1
    print("self-test: every planted violation was reported")
    return 0


def main() -> int:
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    problems = check(LIBRARY)
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} layering problem(s); layers bottom to top: "
              + " < ".join("/".join(l) for l in LAYERS))
        return 1
    files = len(list(LIBRARY.rglob("*.swift")))
    print(f"layers: {files} files, every import and type use points down ("
          + " < ".join("/".join(l) for l in LAYERS) + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
