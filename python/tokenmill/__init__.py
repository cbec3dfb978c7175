"""tokenmill: byte-level BPE with tiktoken's ids and rustbpe's training, from a C++ core.

Drop-in for tiktoken::

    import tokenmill as tiktoken
    enc = tiktoken.get_encoding("o200k_base")
    enc.encode("hello world")                        # exactly tiktoken's ids
    enc.encode_ordinary_batch(texts, num_threads=8)  # C++ threads, GIL released

and for rustbpe::

    tok = tokenmill.Tokenizer()
    tok.train_from_iterator(docs, vocab_size=32768)  # rustbpe's merges, streamed in buffers
    enc = tok.to_encoding("mine", special_tokens={"<|bos|>": 32768})
"""
from tokenmill.core import (
    Encoding,
    encoding_for_model,
    encoding_name_for_model,
    get_encoding,
    list_encoding_names,
)
from tokenmill.train import GPT4_PATTERN, NANOCHAT_PATTERN, Tokenizer

__version__ = "0.1.0"

__all__ = [
    "Encoding",
    "Tokenizer",
    "get_encoding",
    "encoding_for_model",
    "encoding_name_for_model",
    "list_encoding_names",
    "GPT4_PATTERN",
    "NANOCHAT_PATTERN",
]
