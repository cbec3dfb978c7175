"""tiktoken's ``Encoding`` API over tokenmill's C++ encoder.

Every public name, argument, default, return type and exception follows tiktoken 0.14.0
(``tiktoken/core.py``); the work is done by ``tokenmill._core`` with the GIL released, and the batch
calls run on the C++ thread pool instead of a Python ``ThreadPoolExecutor``.
"""
from __future__ import annotations

import functools
import re
import threading
from typing import TYPE_CHECKING, AbstractSet, Collection, Literal, NoReturn, Sequence

from tokenmill import _core

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "Encoding",
    "get_encoding",
    "encoding_for_model",
    "encoding_name_for_model",
    "list_encoding_names",
]


def _check_special_args(encoding: "Encoding", allowed_special, disallowed_special):
    """tiktoken's argument rules, mapped to the core's (allowed, disallowed); None means "all".

    tiktoken: allowed "all" = every special token; disallowed "all" = every special token not allowed; the
    two set operations it performs raise the same TypeErrors here (e.g. a list for allowed_special).
    """
    if allowed_special == "all":
        if disallowed_special == "all":
            return None, ()
        return None, disallowed_special
    if disallowed_special == "all":
        if not isinstance(allowed_special, AbstractSet):
            encoding.special_tokens_set - allowed_special  # raises tiktoken's TypeError
        return allowed_special, None
    return allowed_special, disallowed_special


class Encoding:
    """A byte-level BPE encoding: a split pattern, mergeable ranks and special tokens.

    Drop-in for ``tiktoken.Encoding``: same constructor, methods and errors; ids are exactly tiktoken's.
    """

    def __init__(
        self,
        name: str,
        *,
        pat_str: str,
        mergeable_ranks: dict[bytes, int],
        special_tokens: dict[str, int],
        explicit_n_vocab: int | None = None,
    ):
        """Creates an Encoding from Python data, as ``tiktoken.Encoding(...)`` does.

        Args:
            name: the encoding's name (shown in repr, used when pickling).
            pat_str: the regex that splits text into pieces (the OpenAI patterns run on hand-written scanners,
                others on PCRE2).
            mergeable_ranks: token bytes -> rank (rank = id = merge priority).
            special_tokens: special token text -> id.
            explicit_n_vocab: if given, checked like tiktoken (AssertionError on mismatch).

        Beyond tiktoken's checks, tokenmill requires every single byte to be a token and every gap in the
        ranks to be filled by a special token (ValueError otherwise).
        """
        if not isinstance(name, str):
            raise TypeError(f"name must be str, not {type(name).__name__!r}")
        if not isinstance(pat_str, str):
            raise TypeError(f"pat_str must be str, not {type(pat_str).__name__!r}")
        if not isinstance(mergeable_ranks, dict):
            raise TypeError(f"mergeable_ranks must be dict[bytes, int], not {type(mergeable_ranks).__name__!r}")
        if not isinstance(special_tokens, dict):
            raise TypeError(f"special_tokens must be dict[str, int], not {type(special_tokens).__name__!r}")
        max_token_value = max(max(mergeable_ranks.values()), max(special_tokens.values(), default=0))
        if explicit_n_vocab:
            assert len(mergeable_ranks) + len(special_tokens) == explicit_n_vocab
            assert max_token_value == explicit_n_vocab - 1
        core = _core.CoreEncoding.create(name, pat_str, mergeable_ranks, special_tokens)
        self._init(name, core, pat_str, dict(special_tokens), max_token_value, builtin=False)

    def _init(self, name, core, pat_str, special_tokens, max_token_value, builtin) -> None:
        self.name = name
        self._core_bpe = core
        self._pat_str = pat_str
        self._special_tokens = special_tokens
        self.max_token_value = max_token_value
        self._special_token_values = set(special_tokens.values())
        self._builtin = builtin

    @classmethod
    def _load_builtin(cls, name: str) -> "Encoding":
        core = _core.CoreEncoding.load(name)
        self = cls.__new__(cls)
        specials = core.special_tokens()
        self._init(name, core, core.pattern, specials, core.n_vocab - 1, builtin=True)
        return self

    def __repr__(self) -> str:
        return f"<Encoding {self.name!r}>"

    # ====================
    # Encoding
    # ====================

    def encode_ordinary(self, text: str, *, num_threads: int = 1) -> list[int]:
        """Encodes a string into tokens, ignoring special tokens.

        This is equivalent to ``encode(text, disallowed_special=())`` (but slightly faster).
        Lone surrogates are replaced by U+FFFD first, as tiktoken does.
        ``num_threads`` > 1 (tokenmill only) encodes a long text on several threads with the same ids:
        it is cut where the pattern is certain to start a piece, in parts of at least 1 MiB.

        >>> enc.encode_ordinary("hello world")
        [31373, 995]
        """
        return self._core_bpe.encode_ordinary(text, num_threads)

    def encode(
        self,
        text: str,
        *,
        allowed_special: Literal["all"] | AbstractSet[str] = set(),  # noqa: B006
        disallowed_special: Literal["all"] | Collection[str] = "all",
    ) -> list[int]:
        """Encodes a string into tokens.

        Text of a special token in ``allowed_special`` becomes that token; text of one in
        ``disallowed_special`` (default "all": every special token not allowed) raises ValueError; pass
        ``disallowed_special=()`` to encode such text as ordinary text.

        >>> enc.encode("<|endoftext|>", allowed_special="all")
        [50256]
        """
        allowed, disallowed = _check_special_args(self, allowed_special, disallowed_special)
        try:
            return self._core_bpe.encode(text, allowed, disallowed)
        except ValueError:
            self._raise_disallowed(text, allowed, disallowed)
            raise

    def encode_to_numpy(
        self,
        text: str,
        *,
        allowed_special: Literal["all"] | AbstractSet[str] = set(),  # noqa: B006
        disallowed_special: Literal["all"] | Collection[str] = "all",
    ) -> "npt.NDArray[np.uint32]":
        """Encodes a string into tokens, returning a numpy uint32 array that owns the C++ buffer (no copy)."""
        allowed, disallowed = _check_special_args(self, allowed_special, disallowed_special)
        try:
            return self._core_bpe.encode_to_numpy(text, allowed, disallowed)
        except ValueError:
            self._raise_disallowed(text, allowed, disallowed)
            raise

    def encode_ordinary_batch(self, text: list[str], *, num_threads: int = 8) -> list[list[int]]:
        """Encodes a list of strings into tokens, in parallel (C++ threads), ignoring special tokens.

        The result is identical for any ``num_threads``.

        >>> enc.encode_ordinary_batch(["hello world", "goodbye world"])
        [[31373, 995], [11274, 16390, 995]]
        """
        return self._core_bpe.encode_ordinary_batch(text, num_threads)

    def encode_batch(
        self,
        text: list[str],
        *,
        num_threads: int = 8,
        allowed_special: Literal["all"] | AbstractSet[str] = set(),  # noqa: B006
        disallowed_special: Literal["all"] | Collection[str] = "all",
    ) -> list[list[int]]:
        """Encodes a list of strings into tokens, in parallel. See ``encode`` for the special-token rules."""
        allowed, disallowed = _check_special_args(self, allowed_special, disallowed_special)
        try:
            return self._core_bpe.encode_batch(text, num_threads, allowed, disallowed)
        except ValueError:
            for t in text:
                self._raise_disallowed(t, allowed, disallowed)
            raise

    def encode_single_token(self, text_or_bytes: str | bytes) -> int:
        """Encodes text corresponding to a single token (special tokens included) to its id.

        Raises ``KeyError`` if it is not a token.

        >>> enc.encode_single_token("hello")
        31373
        """
        return self._core_bpe.encode_single_token(text_or_bytes)

    def _encode_bytes(self, text: bytes) -> list[int]:
        """tiktoken's ``_encode_bytes``: bytes that may not be valid UTF-8."""
        return self._core_bpe.encode_bytes(text)

    # ====================
    # Decoding
    # ====================

    def decode_bytes(self, tokens: Sequence[int]) -> bytes:
        """Decodes a list of tokens into bytes.

        >>> enc.decode_bytes([31373, 995])
        b'hello world'
        """
        return self._core_bpe.decode_bytes(tokens)

    def decode(self, tokens: Sequence[int], errors: str = "replace") -> str:
        """Decodes a list of tokens into a string; invalid UTF-8 is handled by ``errors`` (Python's handlers).

        >>> enc.decode([31373, 995])
        'hello world'
        """
        return self._core_bpe.decode(tokens, errors)

    def decode_single_token_bytes(self, token: int) -> bytes:
        """Decodes a token (special tokens included) into bytes. Raises ``KeyError`` if there is no such token.

        >>> enc.decode_single_token_bytes(31373)
        b'hello'
        """
        return self._core_bpe.decode_single_token_bytes(token)

    def decode_tokens_bytes(self, tokens: Sequence[int]) -> list[bytes]:
        """Decodes a list of tokens into a list of bytes (one per token).

        >>> enc.decode_tokens_bytes([31373, 995])
        [b'hello', b' world']
        """
        return self._core_bpe.decode_tokens_bytes(tokens)

    def decode_with_offsets(self, tokens: Sequence[int]) -> tuple[str, list[int]]:
        """Decodes a list of tokens into a string and the character offset at which each token starts.

        If a token starts inside a character, its offset is that character's. Raises UnicodeDecodeError if
        the tokens do not decode to valid UTF-8 (as tiktoken does).

        >>> enc.decode_with_offsets([31373, 995])
        ('hello world', [0, 5])
        """
        token_bytes = self.decode_tokens_bytes(tokens)
        text_len = 0
        offsets = []
        for token in token_bytes:
            offsets.append(max(0, text_len - (0x80 <= token[0] < 0xC0)))
            text_len += sum(1 for c in token if not 0x80 <= c < 0xC0)
        text = b"".join(token_bytes).decode("utf-8", errors="strict")
        return text, offsets

    def decode_batch(
        self, batch: Sequence[Sequence[int]], *, errors: str = "replace", num_threads: int = 8
    ) -> list[str]:
        """Decodes a batch (list of lists of tokens) into a list of strings."""
        return self._core_bpe.decode_batch(batch, errors, num_threads)

    def decode_bytes_batch(self, batch: Sequence[Sequence[int]], *, num_threads: int = 8) -> list[bytes]:
        """Decodes a batch (list of lists of tokens) into a list of bytes."""
        return self._core_bpe.decode_bytes_batch(batch, num_threads)

    # ====================
    # Miscellaneous
    # ====================

    def token_byte_values(self) -> list[bytes]:
        """Returns the bytes of every mergeable token, sorted (as tiktoken)."""
        return self._core_bpe.token_byte_values()

    @property
    def eot_token(self) -> int:
        """The id of ``<|endoftext|>`` (KeyError if this encoding has none)."""
        return self._special_tokens["<|endoftext|>"]

    @functools.cached_property
    def special_tokens_set(self) -> set[str]:
        """The texts of all special tokens."""
        return set(self._special_tokens.keys())

    def is_special_token(self, token: int) -> bool:
        """Whether ``token`` is the id of a special token."""
        assert isinstance(token, int)
        return token in self._special_token_values

    @property
    def n_vocab(self) -> int:
        """For backwards compatibility. Prefer to use ``enc.max_token_value + 1``."""
        return self.max_token_value + 1

    @property
    def _mergeable_ranks(self) -> dict[bytes, int]:
        """tiktoken's attribute of the same name (built on demand from the C++ vocabulary)."""
        return self._core_bpe.mergeable_ranks()

    # ====================
    # Private
    # ====================

    def _raise_disallowed(self, text, allowed, disallowed) -> None:
        """After the core refused `text`: raise tiktoken's ValueError naming the token tiktoken would name."""
        if disallowed is None:
            disallowed = self.special_tokens_set - (set() if allowed is None else allowed)
        if not disallowed or not isinstance(text, str):
            return
        if not isinstance(disallowed, frozenset):
            disallowed = frozenset(disallowed)
        if match := _special_token_regex(disallowed).search(text):
            raise_disallowed_special_token(match.group())

    def __getstate__(self) -> object:
        # As tiktoken: built-in encodings pickle by name.
        if self._builtin:
            return self.name
        return {
            "name": self.name,
            "pat_str": self._pat_str,
            "mergeable_ranks": self._mergeable_ranks,
            "special_tokens": self._special_tokens,
        }

    def __setstate__(self, value: object) -> None:
        if isinstance(value, str):
            self.__dict__ = get_encoding(value).__dict__
            return
        self.__init__(**value)


@functools.lru_cache(maxsize=128)
def _special_token_regex(tokens: frozenset[str]) -> "re.Pattern[str]":
    try:
        import regex as rx
    except ImportError:
        rx = re
    inner = "|".join(rx.escape(token) for token in tokens)
    return rx.compile(f"({inner})")


def raise_disallowed_special_token(token: str) -> NoReturn:
    raise ValueError(
        f"Encountered text corresponding to disallowed special token {token!r}.\n"
        "If you want this text to be encoded as a special token, "
        f"pass it to `allowed_special`, e.g. `allowed_special={{{token!r}, ...}}`.\n"
        f"If you want this text to be encoded as normal text, disable the check for this token "
        f"by passing `disallowed_special=(enc.special_tokens_set - {{{token!r}}})`.\n"
        "To disable this check for all special tokens, pass `disallowed_special=()`.\n"
    )


# ====================
# Registry
# ====================

_lock = threading.RLock()
ENCODINGS: dict[str, Encoding] = {}


def list_encoding_names() -> list[str]:
    """Names of the built-in encodings (gpt2, r50k_base, p50k_base, p50k_edit, cl100k_base, o200k_base, ...)."""
    return list(_core.builtin_names())


def get_encoding(encoding_name: str) -> Encoding:
    """The built-in encoding ``encoding_name`` (one instance per name, as tiktoken).

    The rank file is read from the cache ($TOKENMILL_CACHE_DIR, else ~/.cache/tokenmill), fetched and
    sha256-verified on first use. Unknown names raise ValueError listing the known ones.
    """
    if not isinstance(encoding_name, str):
        raise TypeError(f"encoding_name must be str, not {type(encoding_name).__name__!r}")
    enc = ENCODINGS.get(encoding_name)
    if enc is not None:
        return enc
    with _lock:
        enc = ENCODINGS.get(encoding_name)
        if enc is not None:
            return enc
        names = list_encoding_names()
        if encoding_name not in names:
            raise ValueError(f"Unknown encoding {encoding_name}.\nKnown encodings: {', '.join(names)}")
        enc = Encoding._load_builtin(encoding_name)
        ENCODINGS[encoding_name] = enc
        return enc


def encoding_name_for_model(model_name: str) -> str:
    """tiktoken's model -> encoding-name table (KeyError for unknown models, with tiktoken's message)."""
    name = _core.encoding_name_for_model(model_name)
    if name is None:
        raise KeyError(
            f"Could not automatically map {model_name} to a tokeniser. "
            "Please use `tiktoken.get_encoding` to explicitly get the tokeniser you expect."
        )
    return name


def encoding_for_model(model_name: str) -> Encoding:
    """The encoding a model uses, e.g. ``encoding_for_model("gpt-4o")`` is o200k_base."""
    return get_encoding(encoding_name_for_model(model_name))
