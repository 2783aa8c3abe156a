#!/usr/bin/env python3
# check_readme_snippets.py — every c / cpp / python / cmake block in README.md is, line for line,
# part of a file the tests build and run, so the README cannot drift from working code. A block
# right after a `<!-- sketch: … -->` comment (it needs the host's own model) is exempt, by name.
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = {
    "c": ["examples/c/quickstart.c", "examples/c/deadline.c"],
    "cpp": ["examples/cpp/quickstart.cpp"],
    "python": ["python/examples/quickstart.py"],
    "cmake": ["Tests/cmake_consumer/CMakeLists.txt"],
}


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def contains(haystack: list[str], needle: list[str]) -> bool:
    return any(haystack[i:i + len(needle)] == needle for i in range(len(haystack) - len(needle) + 1))


def main() -> int:
    readme = (ROOT / "README.md").read_text()
    readme = re.sub(r"<!-- sketch:[^>]*-->\n```\w*\n.*?```", "", readme, flags=re.S)
    blocks = re.findall(r"```(c|cpp|python|cmake)\n(.*?)```", readme, re.S)
    failed = 0
    for lang, body in blocks:
        files = SOURCES[lang]
        if not any(contains(lines((ROOT / f).read_text()), lines(body)) for f in files):
            failed += 1
            print(f"README {lang} block is not in {', '.join(files)}:\n{body}")
    print(f"{len(blocks) - failed} passed, {failed} failed")
    return 1 if failed or not blocks else 0


if __name__ == "__main__":
    sys.exit(main())
