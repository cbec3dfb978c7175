"""``python -m tokenmill tokenize ...``: the CLI's `tokenize` command with Parquet input (through pyarrow).

Same options and output as ``tokenmill tokenize`` (see ``tokenmill tokenize --help``).
"""
from __future__ import annotations

import argparse
import sys


def _tokenize_parser(sub) -> None:
    p = sub.add_parser("tokenize", help="Tokenize corpora into megatron / nanogpt / llmc shards with a manifest")
    p.add_argument("inputs", nargs="+", help="Input files or globs; .gz / .zst decompressed; .parquet via pyarrow")
    p.add_argument("-o", "--output", required=True, help="Output prefix")
    p.add_argument("-f", "--format", default="megatron", choices=["megatron", "nanogpt", "llmc"])
    p.add_argument("--input-format", default="auto", choices=["auto", "lines", "whole", "jsonl"])
    p.add_argument("--field", default="text", help="JSON Lines field / Parquet column holding the document")
    p.add_argument("-e", "--encoding", default="cl100k_base", help="A built-in encoding")
    p.add_argument("--model", help="A tokenmill model file instead of -e")
    p.add_argument("--tokenizer", help="A Hugging Face tokenizer.json model instead of -e")
    p.add_argument("--add-special-tokens", action="store_true",
                   help="tokenizer.json: apply its post-processor template to each document")
    p.add_argument("--separator-token", help="Separator by token name (e.g. <|end_of_text|>)")
    p.add_argument("--separator", default="eos", choices=["eos", "bos", "none"])
    p.add_argument("--separator-id", type=int, help="Separator token id (default: <|endoftext|>)")
    p.add_argument("--shard-tokens", type=int, default=0)
    p.add_argument("-t", "--threads", type=int, default=1)
    p.add_argument("--batch-bytes", type=int, default=1 << 20)
    p.add_argument("--skip-bad", action="store_true")
    p.add_argument("--no-resume", action="store_true")
    p.add_argument("-q", "--quiet", action="store_true")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tokenmill")
    sub = parser.add_subparsers(dest="command", required=True)
    _tokenize_parser(sub)
    a = parser.parse_args(argv)
    from tokenmill import dataset

    try:
        s = dataset.tokenize(
            a.inputs, a.output, format=a.format, input_format=a.input_format, field=a.field, encoding=a.encoding,
            model=a.model, tokenizer=a.tokenizer, add_special_tokens=a.add_special_tokens, separator=a.separator,
            separator_id=a.separator_id, separator_token=a.separator_token, shard_tokens=a.shard_tokens,
            threads=a.threads, skip_bad=a.skip_bad, resume=not a.no_resume, batch_bytes=a.batch_bytes,
            progress=None if a.quiet else dataset.print_progress, progress_interval=5.0)
    except (OSError, ValueError) as e:
        print(f"tokenmill: {e}", file=sys.stderr)
        return 1
    if not a.quiet:
        if s["already_complete"]:
            print(f"tokenize: {a.output} is already complete (manifest {a.output}.manifest.json); nothing to do",
                  file=sys.stderr)
        else:
            print(f"tokenize: {s['documents']} documents, {s['tokens']} tokens in {s['shards']} shard(s) ({a.format}), "
                  f"{s['input_bytes_read'] / 1e6:.1f} MB read in {s['seconds']:.2f} s; {s['skipped']} skipped, "
                  f"{s['repaired']} repaired (invalid UTF-8), {s['resumed_documents']} kept from an earlier run",
                  file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
