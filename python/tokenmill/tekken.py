"""Mistral's Tekken tokenizer files (``tekken.json``), with mistral-common's ids.

Drop-in for the encode/decode part of ``mistral_common.tokens.tokenizers.tekken.Tekkenizer``::

    from tokenmill.tekken import Tekkenizer, SpecialTokenPolicy
    tok = Tekkenizer.from_file("tekken_240911.json")
    ids = tok.encode("Hello world", bos=True, eos=False)   # [1, 22177, 4304], as mistral-common
    tok.decode(ids)                                         # "Hello world" (special tokens ignored)

``tok.encoding`` is the tiktoken-compatible :class:`tokenmill.Encoding` behind it (ids already offset by
the special tokens; its ``decode`` writes special tokens' names).
"""
from __future__ import annotations

import enum
from pathlib import Path
from typing import Sequence

from . import _core
from .core import Encoding


class SpecialTokenPolicy(str, enum.Enum):
    """mistral-common's policy for special tokens in decode."""

    IGNORE = "ignore"
    KEEP = "keep"
    RAISE = "raise"


_POLICY_CODE = {SpecialTokenPolicy.IGNORE: 0, SpecialTokenPolicy.KEEP: 1, SpecialTokenPolicy.RAISE: 2}


class Tekkenizer:
    """A tekken.json loaded by tokenmill's C++ core."""

    def __init__(self, core: "_core.CoreTekken", path: Path):
        self._core = core
        self._path = path
        self._special = core.special_tokens()
        self._special_ids = {t: i for i, t in enumerate(self._special)}
        self.special_token_policy = SpecialTokenPolicy.IGNORE

    @classmethod
    def from_file(cls, path: str | Path) -> "Tekkenizer":
        path = Path(path)
        return cls(_core.CoreTekken.load(str(path)), path)

    def encode(self, s: str, bos: bool, eos: bool) -> list[int]:
        return self._core.encode(s, bos, eos)

    def decode(self, tokens: Sequence[int], special_token_policy: SpecialTokenPolicy | str | None = None) -> str:
        policy = self.special_token_policy if special_token_policy is None else SpecialTokenPolicy(special_token_policy)
        # A special token under RAISE is a ValueError, as in mistral-common.
        return self._core.decode(list(tokens), _POLICY_CODE[policy])

    @property
    def encoding(self) -> Encoding:
        core = self._core.encoding()
        enc = Encoding.__new__(Encoding)
        enc._init(core.name, core, core.pattern, core.special_tokens(), core.n_vocab - 1, builtin=False)
        return enc

    @property
    def n_words(self) -> int:
        return self._core.n_words

    @property
    def num_special_tokens(self) -> int:
        return len(self._special)

    @property
    def version(self) -> str:
        return self._core.version

    def get_special_token(self, s: str) -> int:
        if s not in self._special_ids:
            raise ValueError(f"Unknown control token {s}")
        return self._special_ids[s]

    def is_special(self, token: int | str) -> bool:
        if isinstance(token, str):
            return token in self._special_ids
        return 0 <= int(token) < len(self._special)

    @property
    def bos_id(self) -> int:
        return self.get_special_token("<s>")

    @property
    def eos_id(self) -> int:
        return self.get_special_token("</s>")

    @property
    def pad_id(self) -> int:
        return self.get_special_token("<pad>")

    @property
    def unk_id(self) -> int:
        return self.get_special_token("<unk>")
