"""tokenmill.hf: Hugging Face tokenizer.json models with exactly the output of `tokenizers` 0.23.3.

A drop-in for the parts of `tokenizers.Tokenizer` it implements, with HF's names, defaults and types::

    from tokenmill.hf import Tokenizer
    tok = Tokenizer.from_file("tokenizer.json")
    enc = tok.encode("Hello world")          # add_special_tokens=True, as HF
    enc.ids, enc.tokens, enc.offsets         # offsets are character offsets, as HF's Python API
    tok.encode_batch(texts)                  # C++ threads, GIL released; same result as one by one
    tok.decode(enc.ids)                      # skip_special_tokens=True, as HF
    tok.encode("Question?", "Answer.")      # a pair: the template's pair form, type ids, sequence_ids
    tok.enable_truncation(128, stride=16)    # HF's truncation (overflowing parts) and padding
    tok.enable_padding(pad_id=0, pad_token="<pad>")
    stream = DecodeStream(skip_special_tokens=True)   # HF's tokenizers.decoders.DecodeStream
    stream.step(tok, enc.ids[0])             # the next complete text, or None

For `transformers` users: `auto_tokenizer(folder, **kwargs)` is AutoTokenizer.from_pretrained on a local
folder with this Tokenizer as its backend, `pretrained_tokenizer_fast(path, **kwargs)` the same for
PreTrainedTokenizerFast(tokenizer_file=path), and `from_transformers(tok)` switches a tokenizer already built.

What it does not implement raises instead of answering differently: tokenizer.json components tokenmill
lacks (ValueError naming the JSON path, at load).
"""
from __future__ import annotations

import os
from typing import Dict, List, Optional, Sequence, Tuple

from tokenmill import _hf

__all__ = ["Tokenizer", "Encoding", "AddedToken", "DecodeStream", "pretrained_tokenizer_fast"]

_STRATEGIES = ["longest_first", "only_first", "only_second"]
_DIRECTIONS = ["right", "left"]


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
    """One encoded input (HF's Encoding): ids, tokens, character offsets, the masks, and what truncation
    cut off (`overflowing`, each an Encoding)."""

    __slots__ = ("ids", "type_ids", "tokens", "offsets", "special_tokens_mask", "attention_mask", "word_ids",
                 "sequence_ids", "n_sequences", "overflowing", "_ranges")

    def __init__(self, parts):
        (self.ids, self.type_ids, self.tokens, self.offsets, self.special_tokens_mask, self.attention_mask,
         self.word_ids, self.sequence_ids, self.n_sequences, overflowing, self._ranges) = parts
        self.overflowing = [Encoding(o) for o in overflowing]

    @property
    def words(self) -> List[Optional[int]]:
        return self.word_ids

    # HF's Encoding lookups (tokenizers/src/tokenizer/encoding.rs), over its sequence ranges.

    def _range(self, sequence_index: int) -> Tuple[int, int]:
        return self._ranges.get(sequence_index, (0, len(self.ids)))

    def token_to_sequence(self, token_index: int) -> Optional[int]:
        if token_index > len(self.ids):
            return None
        if not self._ranges:
            return 0
        return next((s for s, (b, e) in self._ranges.items() if b <= token_index < e), None)

    def token_to_chars(self, token_index: int) -> Optional[Tuple[int, int]]:
        if self.token_to_sequence(token_index) is None or token_index >= len(self.ids):
            return None
        return self.offsets[token_index]

    def token_to_word(self, token_index: int) -> Optional[int]:
        if self.token_to_sequence(token_index) is None or token_index >= len(self.ids):
            return None
        return self.word_ids[token_index]

    def word_to_tokens(self, word_index: int, sequence_index: int = 0) -> Optional[Tuple[int, int]]:
        begin, end = self._range(sequence_index)
        start = stop = None
        for i in range(begin, min(end, len(self.ids))):
            w = self.word_ids[i]
            if w is not None and w > word_index:
                break  # HF's take_while(w <= word), where None is below every word
            if w == word_index:
                start = i if start is None else start
                stop = i + 1
        return None if start is None else (start, stop)

    def word_to_chars(self, word_index: int, sequence_index: int = 0) -> Optional[Tuple[int, int]]:
        r = self.word_to_tokens(word_index, sequence_index)
        if r is None or r[1] == 0:
            return None
        return (self.offsets[r[0]][0], self.offsets[r[1] - 1][1])

    def char_to_token(self, char_pos: int, sequence_index: int = 0) -> Optional[int]:
        begin, end = self._range(sequence_index)
        for i in range(begin, min(end, len(self.ids))):
            s, e = self.offsets[i]
            if s <= char_pos < e:
                return i
        return None

    def char_to_word(self, char_pos: int, sequence_index: int = 0) -> Optional[int]:
        t = self.char_to_token(char_pos, sequence_index)
        return None if t is None else self.token_to_word(t)

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self):
        return (
            f"Encoding(num_tokens={len(self.ids)}, attributes=[ids, type_ids, tokens, offsets, attention_mask, "
            "special_tokens_mask, overflowing])"
        )


class _IdsFirstEncoding(Encoding):
    """`Tokenizer.encode`'s result where the ids come from the fused loop: the ids at once, every other field
    (tokens, offsets, masks, ...) from the full encode the first time one is read. Most callers read only
    `.ids`; building tokens and offsets for them would cost more than the ids. The full encode's ids are the
    fused loop's (tests/python/test_hf.py checks both against HF), and the core it runs on is the one that
    gave the ids: a Tokenizer's settings replace its core, never change it."""

    __slots__ = ("_rest",)

    def __init__(self, ids, rest):
        self.ids = ids
        self._rest = rest  # () -> the full encode's parts

    def __getattr__(self, name):  # only for a slot not yet set
        if name.startswith("__") or name == "_rest":
            raise AttributeError(name)
        rest = self._rest
        if rest is None:
            raise AttributeError(name)
        self._rest = None
        Encoding.__init__(self, rest())
        return getattr(self, name)

    def __reduce__(self):
        return (_encoding_of_fields, (tuple(getattr(self, k) for k in Encoding.__slots__),))


def _encoding_of_fields(fields):
    out = Encoding.__new__(Encoding)
    for k, v in zip(Encoding.__slots__, fields):
        setattr(out, k, v)
    return out


def _not_implemented(what: str):
    raise NotImplementedError(f"tokenmill.hf does not implement {what} yet")


class Tokenizer:
    """A tokenizer.json model. Build it with `from_file` or `from_str`."""

    def __init__(self, *args, **kwargs):
        raise TypeError("build a tokenmill.hf.Tokenizer with Tokenizer.from_file(path) or Tokenizer.from_str(json)")

    @classmethod
    def _make(cls, core, json) -> "Tokenizer":
        self = object.__new__(cls)
        self._core = core
        # The text it was loaded from (str, or the file's UTF-8 bytes: a str of a tokenizer.json is 2-4 bytes
        # a character, tens of megabytes held only for to_str and pickling).
        self._json_text = json
        return self

    @property
    def _json(self) -> str:
        t = self._json_text
        return t.decode("utf-8") if isinstance(t, bytes) else t

    @classmethod
    def from_str(cls, json: str) -> "Tokenizer":
        return cls._make(_hf.Tokenizer.from_str(json), json)

    @classmethod
    def from_file(cls, path: str) -> "Tokenizer":
        with open(path, "rb") as f:
            data = f.read()
        return cls._make(_hf.Tokenizer.from_bytes(data, path), data)

    @classmethod
    def from_encoding(cls, name: str) -> "Tokenizer":
        """tokenmill's own (HF has no such call): a built-in encoding ("cl100k_base", "o200k_base", ...) as a
        tokenizer.json model, with tiktoken's ids for encode(text, allowed_special="all"); `to_str()` is
        a file HF's tokenizers loads with the same ids."""
        return cls.from_str(_hf.encoding_tokenizer_json(name))

    @classmethod
    def from_buffer(cls, buffer: bytes) -> "Tokenizer":
        return cls.from_str(bytes(buffer).decode("utf-8"))

    def _settings_json(self):
        """The truncation and padding fields as HF's serde writes them."""
        t, p = self.truncation, self.padding
        trunc = None if t is None else {
            "direction": t["direction"].capitalize(), "max_length": t["max_length"],
            "strategy": "".join(w.capitalize() for w in t["strategy"].split("_")), "stride": t["stride"]}
        pad = None if p is None else {
            "strategy": "BatchLongest" if p["length"] is None else {"Fixed": p["length"]},
            "direction": p["direction"].capitalize(), "pad_to_multiple_of": p["pad_to_multiple_of"],
            "pad_id": p["pad_id"], "pad_type_id": p["pad_type_id"], "pad_token": p["pad_token"]}
        return trunc, pad

    def to_str(self, pretty: bool = False) -> str:
        # The file it was loaded from (HF re-serialises; loading either gives the same model), with the
        # truncation and padding set since.
        import json

        d = json.loads(self._json)
        trunc, pad = self._settings_json()
        changed = d.get("truncation") != trunc or d.get("padding") != pad
        if not changed and not pretty:
            return self._json
        d["truncation"], d["padding"] = trunc, pad
        return json.dumps(d, indent=2 if pretty else None, ensure_ascii=False)

    def save(self, path: str, pretty: bool = True) -> None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.to_str(pretty))

    def __getstate__(self):
        return {"json": self.to_str()}

    def __setstate__(self, state):
        self._core = _hf.Tokenizer.from_str(state["json"])
        self._json_text = state["json"]

    # ---- encoding ----

    def encode(self, sequence, pair=None, is_pretokenized: bool = False, add_special_tokens: bool = True) -> Encoding:
        core = self._core
        if is_pretokenized:
            return Encoding(core.encode_words(sequence, pair, add_special_tokens, False))
        if pair is None and type(sequence) is str and core.ids_fused() and core.truncation() is None \
                and core.padding() is None:
            return _IdsFirstEncoding(core.encode_ids(sequence, add_special_tokens),
                                     lambda: core.encode(sequence, None, add_special_tokens, False))
        return Encoding(core.encode(sequence, pair, add_special_tokens, False))

    def encode_batch(self, input: Sequence, is_pretokenized: bool = False, add_special_tokens: bool = True) -> List[Encoding]:
        return [Encoding(p) for p in self._core.encode_batch(input, add_special_tokens, False, is_pretokenized)]

    def encode_batch_fast(self, input: Sequence, is_pretokenized: bool = False, add_special_tokens: bool = True) -> List[Encoding]:
        """HF's encode_batch_fast: ids and masks as encode_batch; tokens, offsets and word ids left empty."""
        return [Encoding(p) for p in self._core.encode_batch(input, add_special_tokens, True, is_pretokenized)]

    def encode_ids(self, sequence: str, add_special_tokens: bool = True) -> List[int]:
        """tokenmill's own (HF has no such call): `encode(sequence).ids` without building the rest of the
        Encoding, on the fused path for byte-level models (the fastest way to count or feed ids)."""
        return self._core.encode_ids(sequence, add_special_tokens)

    def post_process(self, *args, **kwargs):
        _not_implemented("post_process on an Encoding")

    def num_special_tokens_to_add(self, is_pair: bool) -> int:
        return self._core.num_special_tokens_to_add(is_pair)

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

    # ---- settings of this object (the C++ Tokenizer it holds is replaced) ----

    @property
    def encode_special_tokens(self) -> bool:
        """HF's setting: True encodes the special added tokens' text as text (transformers'
        split_special_tokens); non-special added tokens are still extracted."""
        return self._core.encode_special_tokens()

    @encode_special_tokens.setter
    def encode_special_tokens(self, value: bool) -> None:
        self._core = self._core.with_encode_special_tokens(bool(value))

    @property
    def truncation(self) -> Optional[dict]:
        t = self._core.truncation()
        if t is None:
            return None
        max_length, stride, strategy, direction = t
        return {"max_length": max_length, "stride": stride, "strategy": _STRATEGIES[strategy],
                "direction": _DIRECTIONS[direction]}

    @property
    def padding(self) -> Optional[dict]:
        p = self._core.padding()
        if p is None:
            return None
        length, direction, multiple, pad_id, pad_type_id, pad_token = p
        return {"length": length, "pad_to_multiple_of": multiple, "pad_id": pad_id, "pad_token": pad_token,
                "pad_type_id": pad_type_id, "direction": _DIRECTIONS[direction]}

    def enable_truncation(self, max_length: int, stride: int = 0, strategy: str = "longest_first",
                          direction: str = "right") -> None:
        if strategy not in _STRATEGIES:
            raise ValueError(f"Unknown `strategy`: `{strategy}`. Use one of `longest_first`, `only_first`, or `only_second`")
        if direction not in _DIRECTIONS:
            raise ValueError(f"Unknown `direction`: `{direction}`. Use one of `left` or `right`.")
        self._core = self._core.with_truncation(
            (int(max_length), int(stride), _STRATEGIES.index(strategy), _DIRECTIONS.index(direction)))

    def no_truncation(self) -> None:
        self._core = self._core.with_truncation(None)

    def enable_padding(self, direction: str = "right", pad_id: int = 0, pad_type_id: int = 0, pad_token: str = "[PAD]",
                       length: Optional[int] = None, pad_to_multiple_of: Optional[int] = None) -> None:
        if direction not in _DIRECTIONS:
            raise ValueError(f"Unknown `direction`: `{direction}`. Use one of `left` or `right`")
        self._core = self._core.with_padding(
            (length, _DIRECTIONS.index(direction), pad_to_multiple_of, int(pad_id), int(pad_type_id), str(pad_token)))

    def no_padding(self) -> None:
        self._core = self._core.with_padding(None)


class DecodeStream:
    """HF's `tokenizers.decoders.DecodeStream`: feed ids with `step(tokenizer, id)` (an int or a list of
    ints); it returns the next complete piece of text, or None while a character is still cut short."""

    def __init__(self, ids: Optional[List[int]] = None, skip_special_tokens: bool = False):
        self._core = _hf.DecodeStream(ids, skip_special_tokens)

    def step(self, tokenizer: Tokenizer, id) -> Optional[str]:
        if not isinstance(tokenizer, Tokenizer):
            raise TypeError("DecodeStream.step expects a tokenmill.hf.Tokenizer")
        return self._core.step(tokenizer._core, id)


class _TransformersBackend:
    """What `transformers` calls on a PreTrainedTokenizerFast's `_tokenizer`, answered by tokenmill.

    transformers builds its tokenizer on a `tokenizers.Tokenizer` and edits it while it initialises (added
    special tokens, a new TemplateProcessing for add_bos_token/add_eos_token). That object is kept as the
    configuration (`_config`): its components are what `post_processor`, `normalizer`, `decoder`, ... return,
    and every edit through this backend is applied to it and then re-loaded into tokenmill, so tokenmill
    always encodes the configuration transformers sees. Encoding, decoding, truncation and padding are
    tokenmill's, and so is encode_special_tokens (split_special_tokens). Training raises NotImplementedError.
    """

    _OWN = {"_config", "_tm"}
    _REBUILD_ON_SET = {"post_processor", "normalizer", "pre_tokenizer", "decoder", "model"}

    def __init__(self, config):
        object.__setattr__(self, "_config", config)
        object.__setattr__(self, "_tm", Tokenizer.from_str(config.to_str()))
        self._tm.encode_special_tokens = config.encode_special_tokens
        # The settings live in tokenmill; the configuration keeps none, so re-loads cannot bring stale ones.
        config.no_truncation()
        config.no_padding()

    def _reload(self):
        old = self._tm
        tm = Tokenizer.from_str(self._config.to_str())
        tm._core = tm._core.with_truncation(old._core.truncation()).with_padding(old._core.padding()) \
            .with_encode_special_tokens(old._core.encode_special_tokens())
        object.__setattr__(self, "_tm", tm)

    def __getattr__(self, name):
        if name in self._OWN:  # not set yet (copy, unpickling): never look it up on itself
            raise AttributeError(name)
        return getattr(self._config, name)

    def __setattr__(self, name, value):
        if name == "encode_special_tokens":
            self._tm.encode_special_tokens = value
            return
        setattr(self._config, name, value)
        if name in self._REBUILD_ON_SET:
            self._reload()

    @property
    def encode_special_tokens(self) -> bool:
        return self._tm.encode_special_tokens

    def __deepcopy__(self, memo):
        import copy

        out = _TransformersBackend.__new__(_TransformersBackend)
        object.__setattr__(out, "_config", copy.deepcopy(self._config, memo))
        object.__setattr__(out, "_tm", pickle_copy(self._tm))
        return out

    # ---- what tokenmill answers ----

    def encode(self, sequence, pair=None, is_pretokenized=False, add_special_tokens=True):
        return self._tm.encode(sequence, pair, is_pretokenized, add_special_tokens)

    def encode_batch(self, input, is_pretokenized=False, add_special_tokens=True):
        return self._tm.encode_batch(input, is_pretokenized, add_special_tokens)

    def encode_batch_fast(self, input, is_pretokenized=False, add_special_tokens=True):
        return self._tm.encode_batch_fast(input, is_pretokenized, add_special_tokens)

    def decode(self, ids, skip_special_tokens=True):
        return self._tm.decode(ids, skip_special_tokens)

    def decode_batch(self, sequences, skip_special_tokens=True):
        return self._tm.decode_batch(sequences, skip_special_tokens)

    def token_to_id(self, token):
        return self._tm.token_to_id(token)

    def id_to_token(self, id):
        return self._tm.id_to_token(id)

    def get_vocab(self, with_added_tokens=True):
        return self._tm.get_vocab(with_added_tokens)

    def get_vocab_size(self, with_added_tokens=True):
        return self._tm.get_vocab_size(with_added_tokens)

    def num_special_tokens_to_add(self, is_pair):
        return self._tm.num_special_tokens_to_add(is_pair)

    @property
    def truncation(self):
        return self._tm.truncation

    @property
    def padding(self):
        return self._tm.padding

    def enable_truncation(self, max_length, stride=0, strategy="longest_first", direction="right"):
        self._tm.enable_truncation(max_length, stride=stride, strategy=strategy, direction=direction)

    def no_truncation(self):
        self._tm.no_truncation()

    def enable_padding(self, direction="right", pad_id=0, pad_type_id=0, pad_token="[PAD]", length=None,
                       pad_to_multiple_of=None):
        self._tm.enable_padding(direction=direction, pad_id=pad_id, pad_type_id=pad_type_id, pad_token=pad_token,
                                length=length, pad_to_multiple_of=pad_to_multiple_of)

    def no_padding(self):
        self._tm.no_padding()

    def to_str(self, pretty=False):
        return self._tm.to_str(pretty)

    def save(self, path, pretty=True):
        self._tm.save(path, pretty)

    # ---- edits: applied to the configuration, then re-loaded ----

    def add_tokens(self, tokens):
        n = self._config.add_tokens(tokens)
        self._reload()
        return n

    def add_special_tokens(self, tokens):
        n = self._config.add_special_tokens(tokens)
        self._reload()
        return n

    def train(self, *args, **kwargs):
        raise NotImplementedError("tokenmill.hf does not train tokenizer.json models")

    train_from_iterator = train


def pickle_copy(tok: Tokenizer) -> Tokenizer:
    out = Tokenizer.__new__(Tokenizer)
    out.__setstate__(tok.__getstate__())
    return out


def pretrained_tokenizer_fast(path: str, **kwargs):
    """A `transformers.PreTrainedTokenizerFast` for the local tokenizer.json at `path` whose backend is
    tokenmill: `tok(texts, text_pair, truncation=..., padding=..., return_offsets_mapping=...)`, `decode` and
    `batch_decode` give what transformers' own PreTrainedTokenizerFast(tokenizer_file=path, **kwargs) gives.
    `kwargs` are PreTrainedTokenizerFast's (bos_token, pad_token, add_bos_token, model_max_length, ...).
    Nothing is downloaded.

        from tokenmill.hf import pretrained_tokenizer_fast
        tok = pretrained_tokenizer_fast("tokenizer.json", pad_token="<|end_of_text|>")
        batch = tok(["Hello world", "Hi"], padding=True, truncation=True, max_length=16)

    split_special_tokens=True (per call or at construction) is tokenmill's encode_special_tokens.
    """
    from transformers import PreTrainedTokenizerFast

    return from_transformers(PreTrainedTokenizerFast(tokenizer_file=str(path), **kwargs))


def auto_tokenizer(path: str, **kwargs):
    """`transformers.AutoTokenizer.from_pretrained(path, **kwargs)` for a local folder (tokenizer.json and
    tokenizer_config.json), with tokenmill as its backend: the class transformers picks (Qwen2Tokenizer,
    GemmaTokenizer, ...) and what it gives, at tokenmill's speed. Nothing is downloaded (local_files_only).

        from tokenmill.hf import auto_tokenizer
        tok = auto_tokenizer("path/to/model")       # the folder holding tokenizer.json
        ids = tok("Hello world")["input_ids"]
    """
    from transformers import AutoTokenizer

    kwargs.setdefault("local_files_only", True)
    return from_transformers(AutoTokenizer.from_pretrained(os.fspath(path), **kwargs))


def from_transformers(tok):
    """Puts tokenmill under a transformers tokenizer built on HF tokenizers (`PreTrainedTokenizerFast` or a
    subclass, as AutoTokenizer gives), in place, and returns it. Its tokenizer.json configuration, as
    transformers has edited it, is what tokenmill loads; a component tokenmill does not implement is a
    ValueError naming it, and the tokenizer is left as it was."""
    backend = getattr(tok, "_tokenizer", None)
    if isinstance(backend, _TransformersBackend):
        return tok
    if backend is None or not hasattr(backend, "to_str"):
        raise TypeError(f"{type(tok).__name__} has no HF tokenizers backend for tokenmill to replace")
    tok._tokenizer = _TransformersBackend(backend)
    return tok
