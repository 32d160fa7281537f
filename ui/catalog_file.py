"""Reading a catalog file a person chose, for the import dialog and `shopsmart import-catalog`."""

from __future__ import annotations

from pathlib import Path

from app.domain.errors import PosError

CATALOG_KINDS = ("csv", "json")


def read_catalog_file(path: Path) -> tuple[str, str]:
    """(text, kind) of a .csv or .json catalog; a PosError a person understands otherwise."""
    kind = path.suffix.lower().lstrip(".")
    if kind not in CATALOG_KINDS:
        raise PosError(f"{path.name}: expected a .csv or .json file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise PosError(f"cannot read {path.name}: {error}") from None
    return text, kind
