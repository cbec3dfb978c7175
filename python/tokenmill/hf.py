"""tokenmill.hf: Hugging Face tokenizer.json models with exactly the output of `tokenizers` 0.23.3.

A drop-in for the parts of `tokenizers.Tokenizer` it implements, with HF's names, defaults and types::

    from tokenmill.hf import Tokenizer
    tok = Tokenizer.from_file("tokenizer.json")
    enc = tok.encode("Hello world")          # add_special_tokens=True, as HF
    enc.ids, enc.tokens, enc.offsets         # offsets are character offsets, as HF's Python API
    tok.encode_batch(texts)                  # C++ threads, GIL released; same result as one by one
    tok.decode(enc.ids)                      # skip_special_tokens=True, as HF
    stream = DecodeStream(skip_special_tokens=True)   # HF's tokenizers.decoders.DecodeStream
    stream.step(tok, enc.ids[0])             # the next complete text, or None

What it does not implement raises instead of answering differently: pairs, pre-tokenized input,
truncation and padding (NotImplementedError), and tokenizer.json components tokenmill lacks (ValueError
naming the JSON path, at load).
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

from tokenmill import _hf

__all__ = ["Tokenizer", "Encoding", "AddedToken", "DecodeStream"]


class AddedToken:
    """An added token as HF's `get_added_tokens_decoder` describes it."""

    __slots__ = ("content", "single_word", "lstrip", "rstrip", "normalized", "special")

    def __init__(self, content, single_word=False, lstrip=False, rstrip=False, normalized=True, special=False):
        self.content, self.single_word, self.lstrip, self.rstrip = content, single_word, lstrip, rstrip
        self.normalized, self.special = normalized, special

    def __repr__(self):
        return (
            f'AddedToken("{self.content}", rstrip={self.rstrip}, lstrip={self.lstrip}, '
            f"single_word={self.single_word}, normalized={self.normalized}, special={self.special})"
        )

    def __eq__(self, other):
        return isinstance(other, AddedToken) and all(getattr(self, k) == getattr(other, k) for k in self.__slots__)

    def __hash__(self):
        return hash(self.content)


class Encoding:
    """One encoded sequence (HF's Encoding): ids, tokens, character offsets and the masks."""

    __slots__ = ("ids", "type_ids", "tokens", "offsets", "special_tokens_mask", "attention_mask", "word_ids")

    def __init__(self, parts):
        (self.ids, self.type_ids, self.tokens, self.offsets, self.special_tokens_mask, self.attention_mask,
         self.word_ids) = parts

    @property
    def words(self) -> List[Optional[int]]:
        return self.word_ids

    @property
    def sequence_ids(self) -> List[Optional[int]]:
        return [None if m else 0 for m in self.special_tokens_mask]

    @property
    def n_sequences(self) -> int:
        return 1

    @property
    def overflowing(self) -> list:
        return []

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self):
        return (
            f"Encoding(num_tokens={len(self.ids)}, attributes=[ids, type_ids, tokens, offsets, attention_mask, "
            "special_tokens_mask, overflowing])"
        )


def _not_implemented(what: str):
    raise NotImplementedError(f"tokenmill.hf does not implement {what} yet")


class Tokenizer:
    """A tokenizer.json model. Build it with `from_file` or `from_str`."""

    def __init__(self, *args, **kwargs):
        raise TypeError("build a tokenmill.hf.Tokenizer with Tokenizer.from_file(path) or Tokenizer.from_str(json)")

    @classmethod
    def _make(cls, core, json_str: str) -> "Tokenizer":
        self = object.__new__(cls)
        self._core = core
        self._json = json_str
        return self

    @classmethod
    def from_str(cls, json: str) -> "Tokenizer":
        return cls._make(_hf.Tokenizer.from_str(json), json)

    @classmethod
    def from_file(cls, path: str) -> "Tokenizer":
        with open(path, encoding="utf-8") as f:
            json = f.read()
        return cls._make(_hf.Tokenizer.from_str(json), json)

    @classmethod
    def from_buffer(cls, buffer: bytes) -> "Tokenizer":
        return cls.from_str(bytes(buffer).decode("utf-8"))

    def to_str(self, pretty: bool = False) -> str:
        # The file it was loaded from, unchanged (HF re-serialises; loading either gives the same model).
        if pretty:
            import json

            return json.dumps(json.loads(self._json), indent=2, ensure_ascii=False)
        return self._json

    def save(self, path: str, pretty: bool = True) -> None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.to_str(pretty))

    def __getstate__(self):
        return {"json": self._json}

    def __setstate__(self, state):
        self._core = _hf.Tokenizer.from_str(state["json"])
        self._json = state["json"]

    # ---- encoding ----

    def encode(self, sequence, pair=None, is_pretokenized: bool = False, add_special_tokens: bool = True) -> Encoding:
        if pair is not None:
            _not_implemented("pairs")
        if is_pretokenized:
            _not_implemented("pre-tokenized input")
        return Encoding(self._core.encode(sequence, add_special_tokens))

    def encode_batch(self, input: Sequence, is_pretokenized: bool = False, add_special_tokens: bool = True) -> List[Encoding]:
        if is_pretokenized:
            _not_implemented("pre-tokenized input")
        if any(not isinstance(x, str) for x in input):
            _not_implemented("pairs (tuples) in encode_batch")
        return [Encoding(p) for p in self._core.encode_batch(list(input), add_special_tokens)]

    def encode_batch_fast(self, input: Sequence, is_pretokenized: bool = False, add_special_tokens: bool = True) -> List[Encoding]:
        return self.encode_batch(input, is_pretokenized, add_special_tokens)

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = True) -> str:
        return self._core.decode(list(ids), skip_special_tokens)

    def decode_batch(self, sequences: Sequence[Sequence[int]], skip_special_tokens: bool = True) -> List[str]:
        return self._core.decode_batch([list(s) for s in sequences], skip_special_tokens)

    # ---- vocabulary ----

    def token_to_id(self, token: str) -> Optional[int]:
        return self._core.token_to_id(token)

    def id_to_token(self, id: int) -> Optional[str]:
        return self._core.id_to_token(id)

    def get_vocab(self, with_added_tokens: bool = True) -> Dict[str, int]:
        return self._core.vocab(with_added_tokens)

    def get_vocab_size(self, with_added_tokens: bool = True) -> int:
        return self._core.vocab_size(with_added_tokens)

    def get_added_tokens_decoder(self) -> Dict[int, AddedToken]:
        return {
            i: AddedToken(content, single_word, lstrip, rstrip, normalized, special)
            for (i, content, single_word, lstrip, rstrip, normalized, special) in self._core.added_tokens()
        }

    # ---- truncation and padding: not implemented; the defaults (none) are what a loaded file has ----

    @property
    def truncation(self):
        return None

    @property
    def padding(self):
        return None

    def no_truncation(self) -> None:
        pass

    def no_padding(self) -> None:
        pass

    def enable_truncation(self, *args, **kwargs):
        _not_implemented("truncation")

    def enable_padding(self, *args, **kwargs):
        _not_implemented("padding")


class DecodeStream:
    """HF's `tokenizers.decoders.DecodeStream`: feed ids with `step(tokenizer, id)` (an int or a list of
    ints); it returns the next complete piece of text, or None while a character is still cut short."""

    def __init__(self, ids: Optional[List[int]] = None, skip_special_tokens: bool = False):
        self._core = _hf.DecodeStream(ids, skip_special_tokens)

    def step(self, tokenizer: Tokenizer, id) -> Optional[str]:
        if not isinstance(tokenizer, Tokenizer):
            raise TypeError("DecodeStream.step expects a tokenmill.hf.Tokenizer")
        return self._core.step(tokenizer._core, id)
