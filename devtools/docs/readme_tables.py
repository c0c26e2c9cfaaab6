"""README's parameter table, generated from the settings schema (one row per setting of PoseConfig, StreamConfig
and NodeConfig: its default, change kind and description with its limits), so it never lacks a setting.

    python -m devtools.docs.readme_tables          # rewrite the table in README.md
    python -m devtools.docs.readme_tables --check  # exit 1 when README.md's table differs (test/test_docs.py)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parents[2] / "README.md"
BEGIN = "<!-- parameters: generated from the settings schema by python -m devtools.docs.readme_tables -->"
END = "<!-- end of parameters -->"


def _default(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return "[" + ", ".join(f"`{v}`" for v in value) + "]" if value else "(none)"
    if isinstance(value, str):
        return f"`{value}`" if value else "(empty)"
    return repr(value)


def parameter_table() -> str:
    """The markdown table of every node parameter, in schema order."""
    from pose_ros.node.parameters import SETTINGS

    rows = ["| parameter | default | change | meaning |", "|---|---|---|---|"]
    for s in SETTINGS.values():
        limits = f"; one of {', '.join(f'`{c}`' for c in s.choices)}" if s.choices else (
            f"; {s.range_text()}" if s.range_text() else "")
        meaning = (s.description + limits).replace("|", "\\|").replace("<", "&lt;")  # markdown, not HTML
        rows.append(f"| `{s.name}` | {_default(s.default)} | {s.change.replace('_', '-')} | {meaning} |")
    return "\n".join(rows)


def readme_with_table(text: str) -> str:
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[:start] + "\n" + parameter_table() + "\n" + text[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that README.md is up to date")
    args = parser.parse_args(argv)
    text = README.read_text()
    updated = readme_with_table(text)
    if args.check:
        if updated != text:
            print("README.md's parameter table differs from the schema: python -m devtools.docs.readme_tables")
            return 1
        return 0
    README.write_text(updated)
    return 0


if __name__ == "__main__":
    sys.exit(main())
