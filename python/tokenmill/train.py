"""rustbpe's ``Tokenizer`` API over tokenmill's C++ trainer: the same merges as rustbpe 0.1.0.

``train_from_iterator`` reads the iterator in buffers of ``buffer_size`` strings; each buffer is counted by
C++ with the GIL released on a helper thread while the next buffer is being read, so a generator over a
corpus of any size streams (memory grows with the number of distinct chunks, not with the corpus).

Beyond rustbpe: special tokens (``special_tokens=`` in training, ids after the merges, nanochat's scheme),
``save``/``load`` of tokenmill's model file, and ``to_encoding`` (a ``tokenmill.Encoding`` without tiktoken).
"""
from __future__ import annotations

import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Iterable, Sequence

from tokenmill import _core
from tokenmill.core import Encoding

__all__ = ["Tokenizer", "GPT4_PATTERN", "NANOCHAT_PATTERN"]

#: rustbpe's default split pattern (the GPT-4 pattern without possessive \p{L}++).
GPT4_PATTERN: str = _core.GPT4_PATTERN
#: nanochat's split pattern (\p{N}{1,2}).
NANOCHAT_PATTERN: str = _core.NANOCHAT_PATTERN


class Tokenizer:
    """A byte-level BPE tokenizer trained with rustbpe's rule (drop-in for ``rustbpe.Tokenizer``)."""

    def __init__(self) -> None:
        """An untrained tokenizer: 256 byte tokens, empty pattern (``encode`` returns [] like rustbpe)."""
        self._model = _core.CoreModel.bytes_only("")
        self._encoding: Encoding | None = None

    # ---- training ----

    def train_from_iterator(
        self,
        iterator: Iterable[str],
        vocab_size: int,
        buffer_size: int = 8192,
        pattern: str | None = None,
        *,
        special_tokens: Sequence[str] = (),
    ) -> None:
        """Trains on the documents the iterator yields (each str one document) until ``vocab_size`` tokens.

        Args:
            iterator: any iterable of str, consumed once, ``buffer_size`` items at a time.
            vocab_size: 256 byte tokens + merges (ValueError below 256). Fewer merges are made if no pair is
                left, as rustbpe.
            buffer_size: documents per buffer handed to the C++ counter.
            pattern: the split pattern; None = rustbpe's GPT-4 pattern. ValueError if it does not compile.
            special_tokens: (tokenmill only) appended after the merges: ids vocab_size_reached, +1, ...
        """
        if pattern is None:
            pattern = GPT4_PATTERN
        if not isinstance(vocab_size, int):
            raise TypeError(f"'{type(vocab_size).__name__}' object cannot be interpreted as an integer")
        if vocab_size < 256:
            raise ValueError("vocab_size must be at least 256")
        if not isinstance(buffer_size, int) or buffer_size < 1:
            raise ValueError("buffer_size must be a positive int")
        # A str is a Sequence[str] of its characters: '<|bos|>' would become one-character specials.
        # Refuse it as a type error, which is what the annotation says.
        if isinstance(special_tokens, (str, bytes)):
            raise TypeError(
                f"special_tokens must be a sequence of str, not {type(special_tokens).__name__!r} "
                f"(write special_tokens=[{special_tokens!r}])"
            )
        specials = list(special_tokens)
        for t in specials:
            if not isinstance(t, str):
                raise TypeError(f"special_tokens must be a sequence of str, got an item of type {type(t).__name__!r}")
        trainer = _core.CoreTrainer(pattern)
        it = iter(iterator)
        # Buffer k is counted (GIL released) on the helper thread while buffer k+1 is read here.
        with ThreadPoolExecutor(1, thread_name_prefix="tokenmill-count") as pool:
            pending = None
            while True:
                buf = list(itertools.islice(it, buffer_size))
                if pending is not None:
                    pending.result()
                if not buf:
                    break
                pending = pool.submit(trainer.add_documents, buf)
        self._model = trainer.train(vocab_size, specials)
        self._encoding = None

    # ---- rustbpe's accessors ----

    @property
    def vocab_size(self) -> int:
        """256 + number of merges (special tokens not counted, as rustbpe has none)."""
        return 256 + self._model.merges

    def get_pattern(self) -> str:
        """The split pattern the tokenizer was trained with ('' if untrained)."""
        return self._model.pattern

    def get_mergeable_ranks(self) -> list[tuple[bytes, int]]:
        """[(token bytes, id)] in id order: the 256 bytes, then one token per merge (rustbpe's format)."""
        return self._model.mergeable_ranks()

    def get_special_tokens(self) -> dict[str, int]:
        """Special token text -> id (tokenmill only)."""
        return self._model.special_tokens()

    # ---- encoding / decoding ----

    def _enc(self) -> Encoding | None:
        if self._encoding is None and self._model.pattern:
            self._encoding = self.to_encoding("tokenmill")
        return self._encoding

    def encode(self, text: str) -> list[int]:
        """Text -> ids (special tokens' text is ordinary text, as in rustbpe)."""
        enc = self._enc()
        if enc is None:
            if not isinstance(text, str):
                raise TypeError(f"argument 'text': '{type(text).__name__}' object cannot be cast as 'str'")
            return []  # rustbpe: an untrained tokenizer has an empty pattern, which matches nothing
        return enc.encode_ordinary(text)

    def batch_encode(self, texts: list[str], num_threads: int | None = None) -> list[list[int]]:
        """Encodes each text, in parallel on C++ threads (all cores unless ``num_threads``)."""
        enc = self._enc()
        if enc is None:
            return [self.encode(t) for t in texts]
        return enc.encode_ordinary_batch(texts, num_threads=num_threads or (os.cpu_count() or 1))

    def decode(self, ids: Sequence[int]) -> str:
        """Ids -> text. ValueError ``Unknown token id: N`` for an unknown id (rustbpe); UnicodeDecodeError if
        the bytes are not valid UTF-8."""
        enc = self._enc()
        if enc is None:
            enc = Encoding("bytes", pat_str=".", mergeable_ranks={bytes([b]): b for b in range(256)},
                           special_tokens={})
        try:
            data = enc.decode_bytes(ids)
        except KeyError:
            for i in ids:
                try:
                    enc.decode_single_token_bytes(i)
                except KeyError:
                    raise ValueError(f"Unknown token id: {i}") from None
            raise
        return data.decode("utf-8")

    # ---- tokenmill additions ----

    def to_encoding(self, name: str = "tokenmill", special_tokens: dict[str, int] | None = None) -> Encoding:
        """A ``tokenmill.Encoding`` with this tokenizer's ranks, pattern and special tokens (plus
        ``special_tokens`` if given), built directly (no tiktoken, no Python dict of the ranks)."""
        if not self._model.pattern:
            raise ValueError("the tokenizer is not trained (no split pattern)")
        if special_tokens:
            ranks = dict(self.get_mergeable_ranks())
            specials = {**self.get_special_tokens(), **special_tokens}
            return Encoding(name, pat_str=self.get_pattern(), mergeable_ranks=ranks, special_tokens=specials)
        core = self._model.encoding(name)
        enc = Encoding.__new__(Encoding)
        specials = core.special_tokens()
        enc._init(name, core, core.pattern, specials, core.n_vocab - 1, builtin=False)
        return enc

    def save(self, path: str | os.PathLike) -> None:
        """Writes tokenmill's model file (ranks + pattern + special tokens), atomically."""
        self._model.save(os.fspath(path))

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Tokenizer":
        """Reads a model file written by ``save`` or by ``tokenmill train -o``."""
        self = cls.__new__(cls)
        self._model = _core.CoreModel.load(os.fspath(path))
        self._encoding = None
        return self

    def __repr__(self) -> str:
        return f"<tokenmill.Tokenizer vocab_size={self.vocab_size}>"
