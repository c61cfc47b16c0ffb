"""The readers and splits of the triage corpora (bench/triage_data.py) and the per-corpus class
balance of the training (bench/train_triage.py uses it)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from triage_data import (
    MOZETIC,
    SB10K,
    MissingData,
    bucket_of,
    corpora,
    split_of,
)


def test_the_german_tweet_readers(tmp_path: Path) -> None:
    (tmp_path / "germeval2017_dev.tsv").write_text(
        "http://x/1\t@DB_Bahn Zug fällt aus\ttrue\tnegative\tAllgemein#Haupt:negative\n",
        encoding="utf-8")
    (tmp_path / SB10K).write_text("positive\tSchöner Tag heute :)\nmixed\tna ja\n"
                                  "neutral\t\n", encoding="utf-8")
    (tmp_path / MOZETIC).write_text("negative\tNee, oder?\npositive\tDanke!\n",
                                    encoding="utf-8")
    examples = corpora(tmp_path, "de", extra=("sb10k", "mozetic"))
    assert [(e.corpus, e.label) for e in examples] == [
        ("germeval2017", "negative"), ("sb10k", "positive"), ("mozetic", "negative"),
        ("mozetic", "positive")]
    (tmp_path / SB10K).unlink()
    with pytest.raises(MissingData, match="sb10k"):
        corpora(tmp_path, "de", extra=("sb10k",))


def test_germeval_train_is_read_beside_dev_when_it_is_there(tmp_path: Path) -> None:
    dev_line = "http://x/1\t@DB_Bahn Zug fällt aus\ttrue\tnegative\tAllgemein#Haupt:negative\n"
    (tmp_path / "germeval2017_dev.tsv").write_text(dev_line * 2, encoding="utf-8")
    # DEV is read as it is, repeats included: it holds the held-out set.
    assert [e.text for e in corpora(tmp_path, "de")] == ["@DB_Bahn Zug fällt aus"] * 2
    (tmp_path / "germeval2017_train.tsv").write_text(
        "http://x/2\tDanke, pünktlich!\ttrue\tpositive\t\n"
        "http://x/1\t@DB_Bahn Zug fällt aus\ttrue\tnegative\t\n"  # also in DEV: read once
        "http://x/3\tkaputt\ttrue\tmixed\t\n", encoding="utf-8")  # not a label: left out
    assert [(e.text, e.label, e.corpus) for e in corpora(tmp_path, "de")] == [
        ("@DB_Bahn Zug fällt aus", "negative", "germeval2017")] * 2 + [
        ("Danke, pünktlich!", "positive", "germeval2017")]


def test_buckets_decide_the_splits() -> None:
    for text in ("a", "Zug fällt aus", "  Zug FÄLLT aus ", "x" * 500):
        b = bucket_of(text)
        assert split_of(text) == ("train" if b <= 5 else "dev" if b <= 7 else "heldout")
    assert bucket_of("Zug fällt aus") == bucket_of("  zug fällt AUS ")


def test_classes_are_balanced_within_each_corpus() -> None:
    from triage_data import Example, sample_weights

    own = [Example("n", "neutral", "de", "g")] * 3 + [Example("p", "positive", "de", "g")]
    other = [Example("p2", "positive", "de", "o")] * 4
    w = sample_weights(own + other, {"o": 0.5})
    # Within "g": n / (classes * n_class); "o" has one class: its weight alone.
    assert list(w[:4]) == pytest.approx([4 / 6] * 3 + [2.0])
    assert list(w[4:]) == pytest.approx([0.5] * 4)
