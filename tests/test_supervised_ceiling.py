"""benchmarks/stgcn_supervised_ceiling.py on the tiny dataset: both rows, the table and the JSON."""

import json

from datapaths import load_script

ceiling = load_script("benchmarks/stgcn_supervised_ceiling.py")


def test_table_has_the_untrained_and_the_supervised_row(tmp_path):
    out = tmp_path / "ceiling.md"
    assert ceiling.main(["--config", "skeletonclr_tiny", "--epochs", "1", "--select", "last", "--out", str(out)]) == 0
    rows = json.loads(out.with_suffix(".json").read_text())["rows"]
    assert [r["epochs"] for r in rows] == [0, 1]
    for r in rows:
        for key in ("probe", "knn1", "knn20"):
            assert 0.0 <= r[key] <= 1.0
    assert 0.0 <= rows[1]["end_to_end_top1"] <= 1.0 and rows[1]["train_seconds"] > 0
    text = out.read_text()
    assert "| untrained (random init) | 0 |" in text
    assert "| supervised from scratch, frozen backbone | 1 |" in text
    assert "UTC" not in text
