"""`shopsmart run`: the desktop app. Paints the window first, opens the database after."""

from __future__ import annotations

import logging
import sys
from pathlib import Path


def run_app(data_dir: Path) -> int:
    from PySide6.QtCore import QTimer
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
    window.show()
    # After the first paint: open (migrate) the store in the DB worker.
    QTimer.singleShot(0, window.start)
    return int(app.exec())
