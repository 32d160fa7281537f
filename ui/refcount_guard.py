"""Work around a reference-count bug of shiboken6 6.12 on Python 3.11.

With PySide6/shiboken6 6.12.0 on CPython 3.11, every call of a C++ method that returns
``void`` gives back ``None`` without taking a reference to it (harmless on 3.12+, where None
is immortal, PEP 683). Each call therefore lowers None's reference count by one; after a few
thousand calls CPython frees None and the till aborts with "Fatal Python error: none_dealloc"
(the same happens to True/False through bool-returning calls). Reproduce with::

    e = QLineEdit()
    for _ in range(100_000):
        e.clear()        # aborts on 3.11 + shiboken6 6.12.0

Until the project moves to Python ≥ 3.12 or a fixed PySide6, ``protect_singletons()`` gives
None, True and False a reference count so large (2**40) that no session can wear it down —
what 3.12 does for them by design. It changes nothing else. Call it once, before the
QApplication is created.
"""

from __future__ import annotations

import ctypes
import sys

BALLAST = 1 << 40
_done = False


def needs_guard() -> bool:
    return sys.version_info < (3, 12)


def protect_singletons() -> bool:
    """Make None/True/False effectively immortal on Python < 3.12. Returns True if applied."""
    global _done
    if _done or not needs_guard():
        return _done
    for singleton in (None, True, False):
        # ob_refcnt is the first field of every PyObject (a Py_ssize_t) on CPython.
        refcount = ctypes.c_ssize_t.from_address(id(singleton))
        refcount.value += BALLAST
    _done = True
    return True
