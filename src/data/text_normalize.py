"""Text normalisation shared by the text loaders (src/data/text.py) and the text features.

Normalisation rules (`normalize_text`), in order:
1. literal escapes such as `\\ue310` (emoji written as text in the SMS corpus) are decoded when they
   name a non-ASCII code point (ASCII escapes stay as written, so the result is idempotent);
   Unicode emoji become their Chinese CLDR names from the `emoji` package (👍 -> 拇指向上,
   😡 -> 怒火中烧), so sentiment carried by an emoji survives;
2. NFKC: full-width letters, digits and punctuation become half-width, the ideographic space a space;
   any Unicode decimal digit becomes its ASCII digit;
3. control and format characters (Cc, Cf, surrogates, variation selectors) are removed, whitespace
   runs become one space; the remaining symbols (Unicode So, private-use code points such as the
   SoftBank emoji `\\ue310`, which have no name) become the placeholder ` EMOJI `;
4. Latin letters are lower-cased, placeholders excepted;
5. URLs -> ` URL `, phone numbers (mobile, landline, 400/800, also when masked as `x`) -> ` PHONE `,
   other runs of digits and masked `x` digits (with `.,:/-` inside) -> ` NUM `. Digits glued to
   Latin letters (`4g`, `mp3`, `iphone6`) are kept: they name products, not quantities.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import lru_cache
from typing import Any

import emoji
import numpy as np
import pandas as pd

PLACEHOLDERS: tuple[str, ...] = ("NUM", "URL", "PHONE", "EMOJI")
# normalised texts remembered per process: every model of a sweep job (and the jobs a process runs
# one after another) normalises the same corpus several times (selection, refit, test, extras)
NORMALIZE_MEMO_TEXTS = 1 << 18
_ESCAPE = re.compile(r"\\+u([0-9a-fA-F]{4})")
_PLACEHOLDER = re.compile(r"\b(?:" + "|".join(PLACEHOLDERS) + r")\b")
_URL = re.compile(
    r"(?:https?://|www\.)[a-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+"
    r"|(?<![a-z0-9.])[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.(?:com|cn|net|org|cc|me|io|info|top|vip|xyz|shop|club|site|online|ltd|link|html?)"
    r"(?:/[a-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*)?(?![a-z0-9])"
)
_PHONE = re.compile(
    r"(?<![a-z0-9])(?:\+?86[- ]?)?"
    r"(?:1[0-9x]{10}|x{11}|[0-9x]{3,4}-[0-9x]{7,8}|0[0-9]{2,3}[0-9x]{7,8}|[48]00-?[0-9x]{3}-?[0-9x]{4})"
    r"(?![a-z0-9])"
)
_NUMBER = re.compile(r"(?<![a-z0-9])[0-9x]+(?:[.,:/\-][0-9x]+)*(?![a-z0-9])")
_SPACES = re.compile(r"\s+")
_CONTENT = re.compile(r"[^\W\d_]")  # any letter (CJK or Latin)
_NOT_WORD = re.compile(r"[\W_]+")


@lru_cache(maxsize=1)
def _char_table() -> dict[int, str | None]:
    """Translation table: controls/formats removed, symbols -> EMOJI, any decimal digit -> ASCII."""
    table: dict[int, str | None] = {}
    for code in range(sys.maxunicode + 1):
        category = unicodedata.category(chr(code))
        if category in ("Cc", "Cf", "Cs") and not chr(code).isspace():
            table[code] = None
        elif category in ("So", "Co"):
            table[code] = " EMOJI "
        elif category == "Nd" and code > 0x7F:
            table[code] = str(unicodedata.decimal(chr(code)))
    for code in range(0xFE00, 0xFE10):  # variation selectors
        table[code] = None
    return table


def _decode_escape(match: re.Match[str]) -> str:
    code = int(match.group(1), 16)
    return chr(code) if code >= 0x80 else match.group(0)


def _lower_keep_placeholders(text: str) -> str:
    if not _PLACEHOLDER.search(text):
        return text.lower()
    parts = _PLACEHOLDER.split(text)
    kept = _PLACEHOLDER.findall(text)
    out = [parts[0].lower()]
    for placeholder, part in zip(kept, parts[1:], strict=True):
        out.append(placeholder)
        out.append(part.lower())
    return "".join(out)


@lru_cache(maxsize=1)
def _emoji_chars() -> frozenset[str]:
    """Every non-ASCII character of any emoji, plus the variation selectors `demojize` drops."""
    chars = {c for key in emoji.EMOJI_DATA for c in key if ord(c) > 0x7F}
    return frozenset(chars | {"\ufe0e", "\ufe0f"})


def demojize_zh(text: str) -> str:
    """`emoji.demojize` to Chinese names; a text without any emoji character is returned as it is.

    Every emoji holds a non-ASCII character, so a text with none of them has nothing to replace (and
    `demojize`, which walks the text character by character in Python, would return it unchanged).
    """
    if _emoji_chars().isdisjoint(text):
        return text
    return emoji.demojize(text, language="zh", delimiters=(" ", " "))


def _normalize_once(text: str) -> str:
    text = _ESCAPE.sub(_decode_escape, text)
    text = demojize_zh(text)
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(_char_table())
    text = _lower_keep_placeholders(text)
    text = _URL.sub(" URL ", text)
    text = _PHONE.sub(" PHONE ", text)
    text = _NUMBER.sub(" NUM ", text)
    return _SPACES.sub(" ", text).strip()


def normalize_text(text: Any) -> str:
    """Normalise one raw text (see the module docstring); None/NaN give ''."""
    if text is None or (isinstance(text, float) and np.isnan(text)) or text is pd.NA:
        return ""
    return _normalize_str(str(text))


@lru_cache(maxsize=NORMALIZE_MEMO_TEXTS)
def _normalize_str(text: str) -> str:
    """`normalize_text` of a string, memoised (a pure function of the text)."""
    # a few passes reach the fixed point (NFKC or lower-casing can reveal a new pattern)
    for _ in range(4):
        out = _normalize_once(text)
        if out == text:
            break
        text = out
    return text


def strip_punctuation(normalized: str) -> str:
    """A normalised text without punctuation, symbols or spaces (placeholders kept, as words)."""
    return _NOT_WORD.sub("", normalized)


def has_content(normalized: str) -> bool:
    """True if a normalised text has a letter besides the placeholder tokens."""
    return bool(_CONTENT.search(_PLACEHOLDER.sub(" ", normalized)))
