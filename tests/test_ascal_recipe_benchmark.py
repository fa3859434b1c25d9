"""benchmarks/ascal_recipe.py on the tiny config: one model row (untrained and pretrained, pairs,
invariance indices) and one raw row, appended as JSON lines."""

import json

from datapaths import load_script

recipe = load_script("benchmarks/ascal_recipe.py")


def test_model_and_raw_rows_are_appended(tmp_path):
    out = tmp_path / "rows.jsonl"
    common = ["--config", "ascal_tiny", "--out", str(out)]
    assert recipe.main(common + ["--set", "train.epochs=2", "--set", "model.twin_positives=true",
                                 "--set", "data.instance_ids=raw_neighbours", "--tag", "tiny"]) == 0
    assert recipe.main(common + ["--raw", "--tag", "tiny_raw"]) == 0
    model, raw = [json.loads(line) for line in out.read_text().splitlines()]
    assert model["tag"] == "tiny" and model["kind"] == "model"
    for stage in ("untrained", "trained"):
        r = model[stage]
        assert 0.0 <= r["probe"] <= 1.0 and 0.0 <= r["knn1"] <= 1.0
        assert set(r["invariance"]) == {"random_cos", "time", "reflect"}
    assert model["untrained"] != model["trained"]                    # the encoder moved
    assert raw["kind"] == "raw" and set(raw) >= {"recorded", "model_input"}
