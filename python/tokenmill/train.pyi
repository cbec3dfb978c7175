import os
from typing import Iterable, Sequence

from tokenmill.core import Encoding

GPT4_PATTERN: str
NANOCHAT_PATTERN: str

class Tokenizer:
    """rustbpe-compatible BPE trainer (same merges as rustbpe 0.1.0)."""

    def __init__(self) -> None: ...
    def train_from_iterator(
        self,
        iterator: Iterable[str],
        vocab_size: int,
        buffer_size: int = 8192,
        pattern: str | None = None,
        *,
        special_tokens: Sequence[str] = (),
    ) -> None:
        """Trains on the documents the iterator yields, streamed in buffers of buffer_size."""
    @property
    def vocab_size(self) -> int:
        """256 + number of merges."""
    def get_pattern(self) -> str:
        """The split pattern ('' if untrained)."""
    def get_mergeable_ranks(self) -> list[tuple[bytes, int]]:
        """[(token bytes, id)] in id order."""
    def get_special_tokens(self) -> dict[str, int]:
        """Special token text -> id."""
    def encode(self, text: str) -> list[int]:
        """Text -> ids."""
    def batch_encode(self, texts: list[str], num_threads: int | None = None) -> list[list[int]]:
        """encode on each text, on C++ threads."""
    def decode(self, ids: Sequence[int]) -> str:
        """Ids -> text (ValueError for unknown ids)."""
    def to_encoding(self, name: str = "tokenmill", special_tokens: dict[str, int] | None = None) -> Encoding:
        """A tokenmill.Encoding with these ranks, pattern and special tokens."""
    def save(self, path: str | os.PathLike[str]) -> None:
        """Writes the tokenmill model file."""
    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Tokenizer:
        """Reads a tokenmill model file."""
