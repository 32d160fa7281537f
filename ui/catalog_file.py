"""Reading a catalog file a person chose, for the import dialog and `shopsmart import-catalog`.

The format itself (columns, prices, barcodes) is ``app.domain.catalog_file``.
"""

from __future__ import annotations

from pathlib import Path

from app.domain.catalog_file import catalog_kind
from app.domain.errors import PosError


def read_catalog_file(path: Path) -> tuple[str, str]:
    """(text, kind) of a .csv, .json or .jsonl catalog; a PosError a person understands
    otherwise."""
    kind = catalog_kind(path.name)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise PosError(f"cannot read {path.name}: {error}") from None
    return text, kind
