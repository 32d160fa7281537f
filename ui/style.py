"""The one application stylesheet: calm neutrals, one accent, status colours only with words."""

from __future__ import annotations

ACCENT = "#0f6e8c"
ACCENT_DARK = "#0b5670"
ACCENT_LIGHT = "#e3f1f5"
INK = "#1f2933"
MUTED = "#52606d"
LINE = "#d3d8de"
SURFACE = "#ffffff"
BACKGROUND = "#f3f4f6"
OK = "#1a7f37"
WARN = "#9a6700"
BAD = "#b42318"
DISABLED = "#9aa5b1"  # text of anything that cannot be used now (buttons, menu items)
BASE_FONT_PX = 15
TOUCH_PX = 44

STYLESHEET = f"""
* {{
    font-family: "DejaVu Sans", "Segoe UI", "Helvetica Neue", sans-serif;
    font-size: {BASE_FONT_PX}px;
    color: {INK};
}}
QMainWindow, QDialog, QWidget#Page {{ background: {BACKGROUND}; }}
QFrame#Panel {{
    background: {SURFACE};
    border: 1px solid {LINE};
    border-radius: 8px;
}}
QFrame#Header {{ background: {INK}; }}
QFrame#Header QLabel {{ color: #f5f7fa; font-size: 16px; }}
QLabel#HeaderTitle {{ font-weight: bold; font-size: 17px; }}
QLabel#StatusOffline {{
    color: #ffffff; background: {BAD}; border-radius: 6px; padding: 4px 10px; font-weight: bold;
}}
QLabel#StatusOnline {{
    color: #ffffff; background: {OK}; border-radius: 6px; padding: 4px 10px; font-weight: bold;
}}
QLabel#StatusWaiting {{
    color: #ffffff; background: {WARN}; border-radius: 6px; padding: 4px 10px; font-weight: bold;
}}
QFrame#AlertBar {{ background: #fdecea; border-bottom: 2px solid {BAD}; }}
QLabel#AlertText {{ color: {BAD}; font-weight: bold; }}
QLabel#Muted {{ color: {MUTED}; }}
QLabel#Title {{ font-size: 24px; font-weight: bold; }}
QLabel#Subtitle {{ font-size: 17px; color: {MUTED}; }}
QLabel#Error {{ color: {BAD}; font-weight: bold; }}
QLabel#Notice {{
    background: #fff4e5; color: {INK}; border: 1px solid {WARN}; border-left: 6px solid {WARN};
    border-radius: 6px; padding: 8px 12px; font-weight: bold;
}}
QLabel#ErrorNotice {{
    background: #fdecea; color: {BAD}; border: 1px solid {BAD}; border-left: 6px solid {BAD};
    border-radius: 6px; padding: 8px 12px; font-weight: bold;
}}
QLabel#Busy {{
    background: {ACCENT_LIGHT}; color: {INK}; border-radius: 6px; padding: 8px 12px;
}}
QLabel#TotalCaption {{ font-size: 22px; font-weight: bold; color: {MUTED}; }}
QLabel#TotalLabel {{ font-size: 40px; font-weight: bold; }}
QLabel#BigAmount {{ font-size: 40px; font-weight: bold; }}
QLabel#ChangeAmount {{ font-size: 40px; font-weight: bold; color: {OK}; }}
QLabel#TaxLine {{ color: {MUTED}; }}
QLineEdit, QSpinBox, QDateEdit, QComboBox {{
    background: {SURFACE}; border: 1px solid {LINE}; border-radius: 6px;
    padding: 6px 10px; min-height: 30px;
}}
QComboBox::drop-down, QDateEdit::drop-down {{
    subcontrol-origin: padding; subcontrol-position: center right; width: 30px; border: none;
}}
QComboBox::down-arrow, QDateEdit::down-arrow {{
    image: url(:/qt-project.org/styles/commonstyle/images/arrow-down-16.png);
    width: 14px; height: 14px;
}}
QLineEdit:focus {{ border: 2px solid {ACCENT}; }}
QLineEdit#ScanField, QLineEdit#SearchField, QLineEdit#PinField, QLineEdit#AmountField {{
    font-size: 20px; min-height: 36px;
}}
QPushButton {{
    background: {SURFACE}; border: 1px solid {LINE}; border-radius: 6px;
    padding: 6px 14px; min-height: {TOUCH_PX - 14}px; min-width: 44px;
}}
QPushButton:hover {{ border-color: {ACCENT}; }}
QPushButton:pressed {{ background: {ACCENT_LIGHT}; }}
QPushButton:focus {{ border: 2px solid {ACCENT}; }}
QPushButton:disabled {{ color: {DISABLED}; background: #eceef1; }}
QPushButton#Primary, QPushButton#PayButton {{
    background: {ACCENT}; color: #ffffff; border: none; font-weight: bold;
}}
QPushButton#Primary:hover, QPushButton#PayButton:hover {{ background: {ACCENT_DARK}; }}
QPushButton#Primary:disabled {{ background: #9fb8c1; color: #f0f0f0; }}
QPushButton#PayButton {{ font-size: 28px; min-height: 80px; min-width: 220px; }}
QPushButton#PayButton:disabled {{ background: #9fb8c1; color: #f0f0f0; }}
QPushButton#Danger {{ color: {BAD}; border-color: {BAD}; }}
QPushButton[compact="true"] {{ padding: 6px 8px; }}
QPushButton#ClerkButton {{ font-size: 20px; min-height: 80px; min-width: 120px; }}
QPushButton#ClerkButton:checked {{ background: {ACCENT}; color: #ffffff; border: none; }}
QPushButton#KeyButton {{ font-size: 24px; min-height: 56px; min-width: 72px; }}
QPushButton#Department {{ min-height: 40px; padding: 4px 4px; font-weight: bold; }}
QPushButton#Department:checked {{ background: {ACCENT_LIGHT}; border: 2px solid {ACCENT}; }}
QPushButton#Slot, QPushButton#SlotProvisional, QPushButton#SlotFull {{
    min-height: 44px; padding: 2px 4px; font-size: 13px;
}}
QPushButton#Slot:checked {{ background: {ACCENT_LIGHT}; border: 3px solid {ACCENT}; }}
QPushButton#SlotProvisional {{ border: 1px dashed {WARN}; color: #7a5200; }}
QPushButton#SlotProvisional:checked {{ background: #fff4e5; border: 3px solid {WARN}; }}
QLabel#SlotLegend {{ color: {MUTED}; font-size: 13px; }}
QPushButton#QuickCash {{ font-size: 20px; min-height: 56px; }}
QPushButton#Tender {{ font-size: 18px; min-height: 52px; font-weight: bold; }}
QTableView, QListWidget, QTableWidget {{
    background: {SURFACE}; border: 1px solid {LINE}; border-radius: 6px;
    gridline-color: #eceef1; selection-background-color: {ACCENT_LIGHT};
    selection-color: {INK}; alternate-background-color: #fafbfc;
}}
QTableWidget#SearchResults::item {{ padding: 0px 8px; }}
QHeaderView::section {{
    background: #eef0f3; color: {MUTED}; border: none; border-bottom: 1px solid {LINE};
    padding: 6px 8px; font-weight: bold;
}}
QProgressBar {{
    border: 1px solid {LINE}; border-radius: 6px; background: {SURFACE}; text-align: center;
    min-height: 24px;
}}
QProgressBar::chunk {{ background: {ACCENT}; border-radius: 5px; }}
QMenuBar {{ background: {SURFACE}; border-bottom: 1px solid {LINE}; }}
QMenuBar::item {{ padding: 6px 12px; }}
QMenuBar::item:selected, QMenu::item:selected {{ background: {ACCENT_LIGHT}; }}
QMenu {{ background: {SURFACE}; border: 1px solid {LINE}; }}
QMenu::item {{ padding: 8px 24px; }}
QMenu::item:disabled, QMenuBar::item:disabled {{ color: {DISABLED}; }}
QLabel:disabled, QLineEdit:disabled, QCheckBox:disabled, QRadioButton:disabled {{
    color: {DISABLED};
}}
QComboBox:disabled, QDateEdit:disabled, QSpinBox:disabled {{
    color: {DISABLED}; background: #eceef1;
}}
QTextBrowser {{ background: {SURFACE}; border: 1px solid {LINE}; }}
"""
