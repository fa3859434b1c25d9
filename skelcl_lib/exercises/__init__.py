"""Exercise checkers for the notebooks: ``from skelcl_lib.exercises.nb01 import check_...``.

A checker prints a short verdict and returns True/False; it never raises on a wrong answer
(learners should see a hint, not a traceback), but it does say what shape or type it expected.
"""

from __future__ import annotations


def verdict(ok: bool, success: str = "Correct!", hint: str = "Not quite.") -> bool:
    print(("✅ " + success) if ok else ("❌ " + hint))
    return bool(ok)
