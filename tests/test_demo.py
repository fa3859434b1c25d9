"""The README's first command, in its quick form: dataset, figure, pretraining, probe table."""

import json

from skelcl_lib.cli import main


def test_demo_quick_writes_summary_figure_and_results(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SKELCL_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "demo"
    assert main(["demo", "--quick", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["dataset"] == "synthetic" and summary["num_classes"] >= 12
    assert set(summary["splits"]) >= {"xsub", "xview"} and summary["views"] == [1, 2, 3]
    n = summary["shape"][0]
    for counts in summary["splits"].values():
        assert counts["train"] + counts["test"] == n
    assert sum(summary["per_class"]) == n
    png = (out / "overview.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert "split xsub" in capsys.readouterr().out
    table = (out / "results.md").read_text()
    assert "AS-CAL (frozen CAE)" in table and "raw coordinates" in table
    for row in ("ascal", "raw"):
        acc = summary["pretrain"][row]["linear"]
        assert 0.0 <= acc <= 1.0
    assert (out / "ascal_xsub" / "checkpoint_last.pt").exists()
