"""`shopsmart run`: the desktop app. Paints the window first, opens the database after."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from types import ModuleType

PYSIDE_FEATURE_MODULE = "shibokensupport.feature"


def module_uses_pyside(module: ModuleType) -> bool:
    """PySide6's own test (does the module's source mention "PySide6"?) without linecache.

    PySide6 replaces ``__import__`` and, for every module imported after it, asks
    ``shibokensupport.feature._mod_uses_pyside`` whether it uses PySide6 (for the optional
    ``from __feature__ import snake_case``). That reads the source through
    ``inspect.getsource``, which leaves every file's lines in ``linecache`` for the life of
    the process: for the till's ~650 modules ~12 MB of text held as ~30 MB of Python strings
    at "ready" (docs/ui.md, start-up memory). Here the source is read from the module's
    loader and dropped; the answer is the same.
    """
    spec = getattr(module, "__spec__", None)
    loader = getattr(module, "__loader__", None) or getattr(spec, "loader", None)
    get_source = getattr(loader, "get_source", None)
    if get_source is None:
        return False  # a builtin or extension module: no source to look at
    name = spec.name if spec is not None else getattr(module, "__name__", "")
    try:
        source = get_source(name)
    except Exception:  # unreadable source: PySide6 answers "not PySide" then too
        return False
    return bool(source) and "PySide6" in source


def keep_module_sources_out_of_memory() -> None:
    """Install ``module_uses_pyside`` in PySide6's import hook (after PySide6 is imported).

    A PySide6 without that hook (another version) is left alone.
    """
    feature = sys.modules.get(PYSIDE_FEATURE_MODULE)
    if feature is not None and callable(getattr(feature, "_mod_uses_pyside", None)):
        feature._mod_uses_pyside = module_uses_pyside  # type: ignore[attr-defined]


def run_app(data_dir: Path) -> int:
    from PySide6.QtCore import QTimer

    keep_module_sources_out_of_memory()

    from PySide6.QtWidgets import QApplication

    from ui.main_window import MainWindow
    from ui.style import STYLESHEET

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("ShopSmart POS")
    app.setOrganizationName("ShopSmart")
    app.setStyleSheet(STYLESHEET)
    window = MainWindow(data_dir, start_sync=True)
    screen = app.primaryScreen().availableGeometry()
    if window.width() > screen.width() or window.height() > screen.height():
        window.showMaximized()  # a counter screen smaller than 1280×800: all of it, not past it
    else:
        window.show()
    # After the first paint: open (migrate) the store in the DB worker.
    QTimer.singleShot(0, window.start)
    return int(app.exec())
