"""Exercise checkers for the notebooks: ``from skelcl_lib.exercises.nb01 import check_...``.

A checker prints a short verdict and returns True/False; it never raises on a wrong answer
(learners should see a hint, not a traceback), but it does say what shape or type it expected.

Each ``nbNN`` module also holds ``SOLUTIONS``: the hidden solution of each exercise, shown by
``show_solution(SOLUTIONS, name)`` folded away until the learner opens it. The tests run the same
code, so what a learner sees is what passes the checker.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass


def verdict(ok: bool, success: str = "Correct!", hint: str = "Not quite.") -> bool:
    print(("✅ " + success) if ok else ("❌ " + hint))
    return bool(ok)


@dataclass(frozen=True)
class Solution:
    """One exercise's solution: ``code`` (Python, runs in the notebook after its imports) and a
    short ``note`` (markdown-like text: paragraphs and `inline code`)."""

    code: str = ""
    note: str = ""


def _note_html(note: str) -> str:
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", note.strip()) if p.strip()]
    out = []
    for p in paragraphs:
        text = re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(p, quote=False))
        out.append(f"<p>{text}</p>")
    return "".join(out)


class SolutionView:
    """What ``show_solution`` returns: folded HTML in Jupyter and Colab, a one-line hint as text
    (printed in full with ``reveal=True``)."""

    def __init__(self, solution: Solution, name: str, reveal: bool):
        self.solution, self.name, self.reveal = solution, name, reveal

    def _repr_html_(self) -> str:
        body = ""
        if self.solution.code:
            body += f"<pre><code>{html.escape(self.solution.code.strip())}</code></pre>"
        body += _note_html(self.solution.note)
        opened = " open" if self.reveal else ""
        return f"<details{opened}><summary><b>Solution</b> (click to open)</summary>{body}</details>"

    def __repr__(self) -> str:
        if not self.reveal:
            return (f"Solution to '{self.name}' hidden: call show_solution(SOLUTIONS, "
                    f"{self.name!r}, reveal=True) to print it.")
        parts = [self.solution.code.strip(), self.solution.note.strip()]
        return "\n\n".join(p for p in parts if p)


def show_solution(solutions: dict, name: str, reveal: bool = False) -> SolutionView:
    """The solution ``solutions[name]``, folded away until opened (``reveal=True``: shown open)."""
    if name not in solutions:
        raise KeyError(f"no solution named {name!r}; this notebook's solutions: {sorted(solutions)}")
    return SolutionView(solutions[name], name, reveal)
