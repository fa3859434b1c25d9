"""Fuzz campaign over every reader: only ``DataFormatError`` (or ``OSError``) may come out, and a
mutated input that still loads must load exactly as an independent re-reading says.

The mutations and oracles live in ``fuzzing.py``; ``benchmarks/fuzz_readers.py`` runs the same
cases at scale and writes the table in ``docs/results/fuzz_readers.md``.
"""

import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzzing import BAD_OUTCOMES, FORMATS, run_case


def campaign(fmt: str, folder, examples: int) -> dict[str, int]:
    seen: dict[str, int] = {}

    @settings(max_examples=examples, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.randoms(use_true_random=False))
    def case(rng):
        outcome, detail = run_case(FORMATS[fmt], rng, folder)
        seen[outcome] = seen.get(outcome, 0) + 1
        if outcome in BAD_OUTCOMES:   # keep the files of the failing case for a look
            shutil.copytree(folder, folder.parent / "failing", dirs_exist_ok=True)
        assert outcome not in BAD_OUTCOMES, f"{fmt}: {outcome}: {detail} (files in {folder.parent / 'failing'})"

    case()
    return seen


# torch warns about the odd pickle protocols that byte flips produce before it refuses them
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_fuzz_readers_fast(fmt, tmp_path):
    seen = campaign(fmt, tmp_path / "case", 50)
    assert sum(seen.values()) == 50 and seen.get("clear_error", 0) > 0


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_fuzz_readers_campaign(fmt, tmp_path):
    seen = campaign(fmt, tmp_path / "case", 500)
    assert sum(seen.values()) == 500
    assert seen.get("clear_error", 0) >= 200, seen    # most mutations break the file
