"""Result rows, one type for every protocol and the benchmark, and their markdown table.
Accuracies are fractions in [0, 1]; the table prints percent."""

from __future__ import annotations

import numpy as np

from .protocols import SELECTION_NAMES

ROW_FIELDS = ("method", "dataset", "split", "protocol", "top1", "top5", "select", "seed", "wall_s", "settings")


def result_row(method: str, dataset: str, split: str, protocol: str, top1: float, top5: float | None = None,
               select: str = "-", seed: int = 0, wall_s: float = 0.0, settings: str = "") -> dict:
    """One result: a plain dict with the keys :data:`ROW_FIELDS` (JSON as is, read by
    :func:`results_table`). ``select`` names how the epoch was chosen (``protocols.SELECTIONS``
    or a phrase such as "none (no training)")."""
    return {"method": method, "dataset": dataset, "split": split, "protocol": protocol, "top1": top1,
            "top5": top5, "select": select, "seed": seed, "wall_s": wall_s, "settings": settings}


def _fmt_pct(values) -> str:
    v = [x for x in values if x is not None]
    if not v:
        return "–"
    v = 100 * np.asarray(v, dtype=float)
    return f"{v.mean():.1f}" if len(v) == 1 else f"{v.mean():.1f} ± {v.std(ddof=1):.1f}"


def results_table(rows) -> str:
    """A markdown table: one line per (method, dataset, split, protocol, selection, settings),
    seeds merged as mean ± std (sample std), wall time summed. Columns: method | data |
    protocol | top-1 (%) | top-5 (%) | selection | seeds | wall (s) | settings."""
    groups: dict = {}
    for r in rows:
        key = (r.get("method", ""), r.get("dataset", ""), r.get("split", ""), r["protocol"],
               r.get("select", "-"), r.get("settings", ""))
        groups.setdefault(key, []).append(r)
    lines = ["| method | data | protocol | top-1 (%) | top-5 (%) | selection | seeds | wall (s) | settings |",
             "|---|---|---|---|---|---|---|---|---|"]
    names = SELECTION_NAMES
    for (m, d, s, p, sel, settings), rs in groups.items():
        data = "/".join(x for x in (d, s) if x) or "–"
        seeds = ",".join(str(r.get("seed", "")) for r in rs)
        wall = sum(float(r.get("wall_s", 0.0)) for r in rs)
        lines.append(f"| {m or '–'} | {data} | {p} | {_fmt_pct(r['top1'] for r in rs)} | "
                     f"{_fmt_pct(r.get('top5') for r in rs)} | {names.get(sel, sel)} | {seeds} | "
                     f"{wall:.1f} | {settings or '–'} |")
    return "\n".join(lines)
