"""tokenmill.tekken against mistral-common 1.13.1's Tekkenizer (the oracle) on the tekken files it ships."""
from __future__ import annotations

import random
from pathlib import Path

import mistral_common
import pytest
from mistral_common.tokens.tokenizers.base import SpecialTokenPolicy as MistralPolicy
from mistral_common.tokens.tokenizers.tekken import Tekkenizer as MistralTekkenizer

from tokenmill.tekken import SpecialTokenPolicy, Tekkenizer

DATA = Path(mistral_common.__file__).parent / "data"
TEXTS = ["", "Hello world", "  leading spaces\n\n\ttabs", "ünïcode ÉCOLE naïve", "日本語のテキスト", "12345 3.14159",
         "emoji 👍🏽 👨‍👩‍👧‍👦", "<s>[INST] not special [/INST]</s>", "x\r\ny/z//", "Ǆemo ǅemo ʰello ª"]


@pytest.fixture(scope="module", params=["tekken_240718.json", "tekken_240911.json"])
def pair(request):
    return Tekkenizer.from_file(DATA / request.param), MistralTekkenizer.from_file(DATA / request.param)


def test_encode_with_bos_and_eos_matches(pair):
    ours, ref = pair
    for text in TEXTS:
        for bos in (False, True):
            for eos in (False, True):
                assert ours.encode(text, bos=bos, eos=eos) == ref.encode(text, bos=bos, eos=eos), (text, bos, eos)


def test_decode_under_each_policy_matches(pair):
    ours, ref = pair
    rng = random.Random(3)
    for _ in range(200):
        ids = [rng.choice([0, 1, 2, 5, 999, rng.randrange(1000, 1256), rng.randrange(1000, ref.n_words)])
               for _ in range(rng.randint(0, 10))]
        for policy, mistral in ((SpecialTokenPolicy.IGNORE, MistralPolicy.IGNORE),
                                (SpecialTokenPolicy.KEEP, MistralPolicy.KEEP)):
            assert ours.decode(ids, policy) == ref.decode(ids, special_token_policy=mistral), (ids, policy)
        if any(i < ref.num_special_tokens for i in ids):
            with pytest.raises(ValueError):
                ref.decode(ids, special_token_policy=MistralPolicy.RAISE)
            with pytest.raises(ValueError):
                ours.decode(ids, SpecialTokenPolicy.RAISE)


def test_properties_and_the_encoding_match(pair):
    ours, ref = pair
    assert (ours.n_words, ours.num_special_tokens, ours.bos_id, ours.eos_id, ours.pad_id, ours.unk_id) == (
        ref.n_words, ref.num_special_tokens, ref.bos_id, ref.eos_id, ref.pad_id, ref.unk_id)
    assert ours.version == ref.version.value
    for s in ("<s>", "[INST]", "<SPECIAL_500>"):
        assert ours.get_special_token(s) == ref.get_special_token(s)
    with pytest.raises(ValueError):
        ours.get_special_token("<nope>")
    enc = ours.encoding
    assert enc.encode_ordinary(TEXTS[3]) == ref.encode(TEXTS[3], bos=False, eos=False)
    assert enc.n_vocab == ref.n_words


def test_a_damaged_file_is_an_error_naming_the_field(tmp_path):
    text = (DATA / "tekken_240911.json").read_text()
    bad = tmp_path / "bad.json"
    bad.write_text(text.replace('"version": "v3"', '"version": "v99"').replace('"version":"v3"', '"version":"v99"'))
    with pytest.raises(ValueError, match="config.version"):
        Tekkenizer.from_file(bad)
    with pytest.raises(OSError):
        Tekkenizer.from_file(tmp_path / "missing.json")
