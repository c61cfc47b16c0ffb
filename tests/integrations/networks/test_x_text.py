"""X's count of a post's length (integrations/networks/x_text.py) against twitter-text's own
conformance cases (tests/fixtures/x/twitter_text/README.md says which, from where), and the
cases this project relies on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from integrations.networks import x_text

CASES = Path(__file__).parents[2] / "fixtures" / "x" / "twitter_text"
# Each counting section with the configuration twitter-text's own runners give it.
COUNTING = {"WeightedTweetsCounterTest": x_text.V2,
            "WeightedTweetsWithDiscountedEmojiCounterTest": x_text.V3,
            "UnicodeDirectionalMarkerCounterTest": x_text.V3}
URL_SECTIONS = ("urls", "urls_with_indices", "urls_with_directional_markers",
                "tco_urls_with_params")


def cases(name: str, sections: tuple[str, ...]) -> list[Any]:
    tests = yaml.safe_load((CASES / name).read_text(encoding="utf-8"))["tests"]
    return [pytest.param(section, case, id=f"{section}: {case['description']}")
            for section in sections for case in tests[section]]


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def test_all_the_conformance_cases_are_here() -> None:
    assert len(cases("validate.yml", ("tweets", *COUNTING))) == 52
    assert len(cases("extract.yml", URL_SECTIONS)) == 108


@pytest.mark.parametrize(("section", "case"), cases("validate.yml", tuple(COUNTING)))
def test_weighted_counting(section: str, case: dict[str, Any]) -> None:
    parsed = x_text.parse(case["text"], COUNTING[section])
    assert {"weightedLength": parsed.weighted_length, "valid": parsed.valid,
            "permillage": parsed.permillage,
            "displayRangeStart": parsed.display_range[0],
            "displayRangeEnd": parsed.display_range[1],
            "validRangeStart": parsed.valid_range[0],
            "validRangeEnd": parsed.valid_range[1]} == case["expected"]


@pytest.mark.parametrize(("section", "case"), cases("validate.yml", ("tweets",)))
def test_validity_with_the_140_character_configuration(section: str,
                                                       case: dict[str, Any]) -> None:
    assert x_text.parse(case["text"], x_text.V1).valid is case["expected"]


@pytest.mark.parametrize(("section", "case"), cases("extract.yml", URL_SECTIONS))
def test_the_urls_that_count_23(section: str, case: dict[str, Any]) -> None:
    text = case["text"]
    spans = x_text.url_spans(text)
    if section == "urls_with_indices" or section == "urls_with_directional_markers":
        assert [{"url": text[a:b], "indices": [utf16(text[:a]), utf16(text[:b])]}
                for a, b in spans] == case["expected"]
    else:
        assert [text[a:b] for a, b in spans] == case["expected"]


@pytest.mark.parametrize(("text", "length"), [
    ("acme.com/x is back", 31),  # a link without a scheme counts 23 too
    ("Status: https://status.acme.com/incidents/42?ref=x (thanks!)", 41),
    ("see https://status.acme.example", 31),  # .example is no delegated top-level domain
    ("file.txt and hello.world", 36),  # .txt is no top-level domain, .world is
    ("x" * 280, 280),
    ("日本" * 70, 280),  # CJK weighs 2
    ("café", 4), ("cafe\u0301", 4),  # NFC first
    ("👨‍👩‍👧 ok", 5), ("🏳️‍🌈", 2), ("🙋🏽", 2), ("1️⃣", 2), ("🇩🇪", 2),  # one emoji each
    ("©", 1), ("©️", 2),  # text presentation, emoji presentation
    ("   ", 0), ("", 0),
])
def test_lengths_echtzeit_relies_on(text: str, length: int) -> None:
    assert x_text.weighted_length(text) == length


def test_a_host_x_cannot_encode_is_no_link() -> None:
    label = "a" * 64  # over 63 characters: not a domain name, counted as text
    assert x_text.weighted_length(f"https://{label}.com") == len(label) + 12
    # An ACE prefix before non-ASCII: no domain, so every character counts (the kana 2 each).
    assert x_text.weighted_length("see http://xn--はじめよう.com/x") == 4 + 7 + 4 + 10 + 6
