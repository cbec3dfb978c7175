from typing import AbstractSet, Collection, Literal, NoReturn, Sequence

import numpy as np
import numpy.typing as npt

class Encoding:
    """A byte-level BPE encoding with tiktoken's API and exactly tiktoken's ids."""

    name: str
    max_token_value: int
    def __init__(
        self,
        name: str,
        *,
        pat_str: str,
        mergeable_ranks: dict[bytes, int],
        special_tokens: dict[str, int],
        explicit_n_vocab: int | None = None,
    ) -> None: ...
    def encode_ordinary(self, text: str, *, num_threads: int = 1) -> list[int]:
        """Encodes a string into tokens, ignoring special tokens."""
    def encode(
        self,
        text: str,
        *,
        allowed_special: Literal["all"] | AbstractSet[str] = ...,
        disallowed_special: Literal["all"] | Collection[str] = "all",
    ) -> list[int]:
        """Encodes a string into tokens; ValueError for text of a disallowed special token."""
    def encode_to_numpy(
        self,
        text: str,
        *,
        allowed_special: Literal["all"] | AbstractSet[str] = ...,
        disallowed_special: Literal["all"] | Collection[str] = "all",
    ) -> npt.NDArray[np.uint32]:
        """Like encode, as a uint32 numpy array (no copy)."""
    def encode_ordinary_batch(self, text: list[str], *, num_threads: int = 8) -> list[list[int]]:
        """encode_ordinary on each string, on C++ threads; identical results for any num_threads."""
    def encode_batch(
        self,
        text: list[str],
        *,
        num_threads: int = 8,
        allowed_special: Literal["all"] | AbstractSet[str] = ...,
        disallowed_special: Literal["all"] | Collection[str] = "all",
    ) -> list[list[int]]:
        """encode on each string, on C++ threads."""
    def encode_single_token(self, text_or_bytes: str | bytes) -> int:
        """The id of a single token (special tokens included); KeyError if none."""
    def decode_bytes(self, tokens: Sequence[int]) -> bytes:
        """Tokens -> bytes; KeyError for an unknown id."""
    def decode(self, tokens: Sequence[int], errors: str = "replace") -> str:
        """Tokens -> str, invalid UTF-8 handled by `errors`."""
    def decode_single_token_bytes(self, token: int) -> bytes:
        """The bytes of one token (special tokens included); KeyError if none."""
    def decode_tokens_bytes(self, tokens: Sequence[int]) -> list[bytes]:
        """The bytes of each token."""
    def decode_with_offsets(self, tokens: Sequence[int]) -> tuple[str, list[int]]:
        """The text and the character offset of each token."""
    def decode_batch(
        self, batch: Sequence[Sequence[int]], *, errors: str = "replace", num_threads: int = 8
    ) -> list[str]:
        """decode on each list of tokens."""
    def decode_bytes_batch(self, batch: Sequence[Sequence[int]], *, num_threads: int = 8) -> list[bytes]:
        """decode_bytes on each list of tokens."""
    def token_byte_values(self) -> list[bytes]:
        """The bytes of every mergeable token, sorted."""
    @property
    def eot_token(self) -> int:
        """The id of <|endoftext|> (KeyError if absent)."""
    @property
    def special_tokens_set(self) -> set[str]:
        """The texts of all special tokens."""
    def is_special_token(self, token: int) -> bool:
        """Whether the id is a special token's."""
    @property
    def n_vocab(self) -> int:
        """max_token_value + 1."""
    @property
    def _mergeable_ranks(self) -> dict[bytes, int]: ...
    _pat_str: str
    _special_tokens: dict[str, int]
    def _encode_bytes(self, text: bytes) -> list[int]: ...

ENCODINGS: dict[str, Encoding]

def raise_disallowed_special_token(token: str) -> NoReturn: ...
def list_encoding_names() -> list[str]:
    """Names of the built-in encodings."""
def get_encoding(encoding_name: str) -> Encoding:
    """A built-in encoding; ValueError listing the known names for an unknown one."""
def encoding_name_for_model(model_name: str) -> str:
    """The encoding name tiktoken uses for a model; KeyError if unknown."""
def encoding_for_model(model_name: str) -> Encoding:
    """get_encoding(encoding_name_for_model(model_name))."""
