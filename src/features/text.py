"""Chinese text features: normalisation, a cached jieba tokenizer and the TF-IDF word + char union.

Normalisation rules (`normalize_text`), in order:
1. literal escapes such as `\\ue310` (emoji written as text in the SMS corpus) are decoded when they
   name a non-ASCII code point (ASCII escapes stay as written, so the result is idempotent);
2. NFKC: full-width letters, digits and punctuation become half-width, the ideographic space a space;
   any Unicode decimal digit becomes its ASCII digit;
3. control and format characters (Cc, Cf, surrogates, variation selectors) are removed, whitespace
   runs become one space; symbols and emoji (Unicode So, private-use code points such as the
   SoftBank emoji `\\ue310`) become the placeholder ` EMOJI `;
4. Latin letters are lower-cased, placeholders excepted;
5. URLs -> ` URL `, phone numbers (mobile, landline, 400/800, also when masked as `x`) -> ` PHONE `,
   other runs of digits and masked `x` digits (with `.,:/-` inside) -> ` NUM `. Digits glued to
   Latin letters (`4g`, `mp3`, `iphone6`) are kept: they name products, not quantities.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import re
import struct
import sys
import tempfile
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline

from src.data.checksums import sha256_file
from src.paths import CACHE_DIR

log = logging.getLogger(__name__)

RESOURCES_DIR: Path = Path(__file__).resolve().parent / "resources"
DEFAULT_USER_DICT: Path = RESOURCES_DIR / "telecom_userdict.txt"
DEFAULT_STOPWORDS: Path = RESOURCES_DIR / "stopwords_zh.txt"
PLACEHOLDERS: tuple[str, ...] = ("NUM", "URL", "PHONE", "EMOJI")
TEXT_COLUMN = "text"
_TOKEN_CACHE_VERSION = 1

_ESCAPE = re.compile(r"\\+u([0-9a-fA-F]{4})")
_PLACEHOLDER = re.compile(r"\b(?:NUM|URL|PHONE|EMOJI)\b")
_URL = re.compile(
    r"(?:https?://|www\.)[a-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+"
    r"|(?<![a-z0-9.])[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.(?:com|cn|net|org|cc|me|io|info|html?)"
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
_PUNCT_ONLY = re.compile(r"^[\W_]+$")


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


def _normalize_once(text: str) -> str:
    text = _ESCAPE.sub(_decode_escape, text)
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
    text = str(text)
    # a few passes reach the fixed point (NFKC or lower-casing can reveal a new pattern)
    for _ in range(4):
        out = _normalize_once(text)
        if out == text:
            break
        text = out
    return text


def has_content(normalized: str) -> bool:
    """True if a normalised text has a letter besides the placeholder tokens."""
    return bool(_CONTENT.search(_PLACEHOLDER.sub(" ", normalized)))


def as_text_list(X: Any, column: str = TEXT_COLUMN) -> list[Any]:
    """Raw texts from a DataFrame (its `text` column), a Series, an array or a list."""
    if isinstance(X, pd.DataFrame):
        if column not in X.columns:
            if X.shape[1] != 1:
                raise ValueError(f"expected a DataFrame with a '{column}' column, got {list(X.columns)}")
            column = X.columns[0]
        return X[column].tolist()
    if isinstance(X, pd.Series):
        return X.tolist()
    if isinstance(X, str):
        raise TypeError("expected a collection of texts, got a single string; wrap it in a list")
    if isinstance(X, np.ndarray):
        return X.ravel().tolist() if X.ndim == 2 and X.shape[1] == 1 else X.tolist()
    return list(X)


def _is_missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


class _TextColumnTransformer(BaseEstimator, TransformerMixin):
    """Shared by the text transformers: raw strings in, one `column` out."""

    column: str

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """One output: the text column (so pipeline feature names resolve)."""
        return np.asarray([self.column], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags


class TextNormalizer(_TextColumnTransformer):
    """Raw texts (DataFrame `text` column, Series or list) -> list of normalised strings.

    Missing texts (None/NaN) become '' and are counted in `n_missing_` with a warning, so a batch
    scores instead of failing; loaders quarantine them before training.
    """

    def __init__(self, column: str = TEXT_COLUMN) -> None:
        self.column = column

    def fit(self, X: Any, y: Any = None) -> TextNormalizer:
        """Nothing to learn."""
        self.n_missing_ = 0
        return self

    def transform(self, X: Any) -> list[str]:
        """Normalise every text."""
        texts = as_text_list(X, self.column)
        self.n_missing_ = sum(_is_missing(t) for t in texts)
        if self.n_missing_:
            log.warning("%d missing text(s) (None/NaN) scored as empty texts", self.n_missing_)
        return [normalize_text(t) for t in texts]


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a (small) file, memoised on (path, size, mtime)."""
    stat = Path(path).stat()
    return _file_sha256(str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=64)
def _file_sha256(path: str, size: int, mtime_ns: int) -> str:
    return sha256_file(path)


def _jieba_dict_path() -> Path:
    import jieba

    return Path(jieba.__file__).resolve().parent / "dict.txt"


def dictionary_checksums(
    user_dict: str | Path | None = "default", stopwords: str | Path | None = "default"
) -> dict:
    """SHA-256 of jieba's main dictionary, the user dictionary and the stop-word list (for MLflow)."""
    out = {"jieba_dict": file_sha256(_jieba_dict_path())}
    user_path = _resolve_resource(user_dict, DEFAULT_USER_DICT)
    stop_path = _resolve_resource(stopwords, DEFAULT_STOPWORDS)
    out["user_dict"] = file_sha256(user_path) if user_path else None
    out["stopwords"] = file_sha256(stop_path) if stop_path else None
    return out


def _resolve_resource(value: str | Path | None, default: Path) -> Path | None:
    if value is None or value == "none":
        return None
    return default if value == "default" else Path(value)


def read_stopwords(path: str | Path) -> frozenset[str]:
    """Stop words, one per line; '#' starts a comment line."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip() for w in lines if w.strip() and not w.lstrip().startswith("#"))


_JIEBA_POOL: dict[tuple[str, str, str], Any] = {}


def _private_jieba(user_dict: Path | None, cache_root: Path) -> Any:
    """Our own `jieba.Tokenizer` (never the global one), shared by tokenizers with the same dictionary."""
    # the dictionary alone defines the instance; its jieba.cache goes to the first caller's cache folder
    key = (str(user_dict), file_sha256(user_dict) if user_dict else "")
    tokenizer = _JIEBA_POOL.get(key)
    if tokenizer is None:
        import jieba

        logging.getLogger("jieba").setLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        tmp_dir = cache_root / "jieba"
        try:
            tmp_dir.mkdir(parents=True, exist_ok=True)
            tokenizer.tmp_dir = str(tmp_dir)
        except OSError:  # read-only deployment: fall back to the system temp folder
            tokenizer.tmp_dir = tempfile.gettempdir()
        tokenizer.cache_file = "jieba.cache"
        tokenizer.initialize()
        if user_dict is not None:
            tokenizer.load_userdict(str(user_dict))
        _JIEBA_POOL[key] = tokenizer
    return tokenizer


def _identity(tokens: Any) -> Any:
    """Pass pre-tokenised documents through TfidfVectorizer unchanged (module-level so it pickles)."""
    return tokens


class JiebaTokenizer(_TextColumnTransformer):
    """Texts -> token lists with a private `jieba.Tokenizer` (the global jieba is never touched).

    The jieba instance is built lazily and not pickled, so the fitted transformer reloads in a
    fresh process. `user_dict`/`stopwords` take 'default' (the files shipped in
    src/features/resources), a path, or None. Token lists of batches of at least
    `cache_min_texts` texts are cached under `<cache_dir>/tokens/` keyed by the SHA-256 of the
    texts, this tokenizer's config and the dictionary checksums; a process-wide memo also
    serves subsets (CV folds) of an already tokenised corpus without calling jieba.
    """

    _memo: ClassVar[dict[str, dict[str, list[str]]]] = {}

    def __init__(
        self,
        hmm: bool = True,
        user_dict: str | None = "default",
        stopwords: str | None = "default",
        normalize: bool = True,
        drop_punct: bool = True,
        cache_dir: str | None = None,
        use_cache: bool = True,
        cache_min_texts: int = 1000,
        column: str = TEXT_COLUMN,
    ) -> None:
        self.hmm = hmm
        self.user_dict = user_dict
        self.stopwords = stopwords
        self.normalize = normalize
        self.drop_punct = drop_punct
        self.cache_dir = cache_dir
        self.use_cache = use_cache
        self.cache_min_texts = cache_min_texts
        self.column = column

    # --- jieba instance, built on first use -------------------------------------------------
    def _cache_root(self) -> Path:
        return Path(self.cache_dir) if self.cache_dir else CACHE_DIR

    def _jieba(self) -> Any:
        tokenizer = self.__dict__.get("_jieba_instance")
        if tokenizer is None:
            tokenizer = _private_jieba(
                _resolve_resource(self.user_dict, DEFAULT_USER_DICT), self._cache_root()
            )
            self.__dict__["_jieba_instance"] = tokenizer
        return tokenizer

    def _stopword_set(self) -> frozenset[str]:
        words = self.__dict__.get("_stopword_cache")
        if words is None:
            path = _resolve_resource(self.stopwords, DEFAULT_STOPWORDS)
            words = read_stopwords(path) if path else frozenset()
            self.__dict__["_stopword_cache"] = words
        return words

    def __getstate__(self) -> dict:
        """Drop the jieba instance and caches: they are rebuilt on first use after unpickling."""
        state = super().__getstate__()
        state = dict(state)
        state.pop("_jieba_instance", None)
        state.pop("_stopword_cache", None)
        return state

    # --- config and cache key ---------------------------------------------------------------
    def config_key(self) -> dict[str, Any]:
        """Everything that changes the tokens: the cache key's config part."""
        return {
            "version": _TOKEN_CACHE_VERSION,
            "hmm": bool(self.hmm),
            "normalize": bool(self.normalize),
            "drop_punct": bool(self.drop_punct),
            "dictionaries": dictionary_checksums(self.user_dict, self.stopwords),
        }

    def dictionary_checksums(self) -> dict[str, str | None]:
        """Checksums of the dictionaries this tokenizer uses."""
        return dictionary_checksums(self.user_dict, self.stopwords)

    def cache_key(self, texts: Sequence[str]) -> str:
        """SHA-256 of (texts, tokenizer config, dictionary checksums)."""
        digest = hashlib.sha256(json.dumps(self.config_key(), sort_keys=True).encode())
        for text in texts:
            data = text.encode("utf-8", "surrogatepass")
            digest.update(struct.pack("<Q", len(data)))
            digest.update(data)
        return digest.hexdigest()

    # --- tokenisation -----------------------------------------------------------------------
    def _cut(self, texts: Sequence[str]) -> list[list[str]]:
        """Run jieba on texts (the only place jieba is called)."""
        tokenizer, stop, hmm = self._jieba(), self._stopword_set(), bool(self.hmm)
        out = []
        for text in texts:
            tokens = [t for t in tokenizer.lcut(text, HMM=hmm) if t.strip() and t not in stop]
            if self.drop_punct:
                tokens = [t for t in tokens if not _PUNCT_ONLY.match(t)]
            out.append(tokens)
        return out

    def _prepare(self, X: Any) -> list[str]:
        texts = as_text_list(X, self.column)
        if self.normalize:
            return [normalize_text(t) for t in texts]
        return ["" if _is_missing(t) else str(t) for t in texts]

    def fit(self, X: Any, y: Any = None) -> JiebaTokenizer:
        """Nothing to learn; checks the dictionaries exist."""
        self.dictionary_checksums_ = self.dictionary_checksums()
        return self

    def transform(self, X: Any) -> list[list[str]]:
        """Token lists, from the disk cache, the process memo or jieba."""
        texts = self._prepare(X)
        self.cache_hit_ = False
        cacheable = self.use_cache and len(texts) >= self.cache_min_texts
        path = None
        if cacheable:
            key = self.cache_key(texts)
            path = self._cache_root() / "tokens" / f"{key}.pkl"
            if path.is_file():
                try:
                    with open(path, "rb") as handle:
                        tokens = pickle.load(handle)
                    self.cache_hit_ = True
                    self._remember(texts, tokens)
                    return tokens
                except (OSError, pickle.UnpicklingError, EOFError):
                    log.warning("unreadable token cache %s; tokenising again", path)
        tokens = self._tokens_via_memo(texts)
        if path is not None:
            self._write_cache(path, tokens)
        return tokens

    def _memo_for_config(self) -> dict[str, list[str]]:
        key = json.dumps(self.config_key(), sort_keys=True)
        return self._memo.setdefault(key, {})

    def _remember(self, texts: Sequence[str], tokens: list[list[str]]) -> None:
        if self.use_cache:
            self._memo_for_config().update(zip(texts, tokens, strict=True))

    def _tokens_via_memo(self, texts: Sequence[str]) -> list[list[str]]:
        memo = self._memo_for_config() if self.use_cache else {}
        missing = list(dict.fromkeys(t for t in texts if t not in memo))
        if missing:
            fresh = dict(zip(missing, self._cut(missing), strict=True))
            if self.use_cache:
                memo.update(fresh)
        else:
            fresh = {}
        return [list(fresh[t]) if t in fresh else list(memo[t]) for t in texts]

    def _write_cache(self, path: Path, tokens: list[list[str]]) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(tokens, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except OSError as err:
            log.warning("could not write the token cache %s: %s", path, err)

    @classmethod
    def clear_memo(cls) -> None:
        """Forget the in-process token memo (tests, benchmarks)."""
        cls._memo.clear()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags


def make_text_features(
    word_ngram_range: Iterable[int] = (1, 2),
    char_ngram_range: Iterable[int] | None = (1, 3),
    min_df: int | float = 2,
    max_df: float = 1.0,
    max_features: int | None = None,
    char_max_features: int | None = None,
    sublinear_tf: bool = True,
    hmm: bool = True,
    user_dict: str | None = "default",
    stopwords: str | None = "default",
    char_analyzer: str = "char",
    cache_dir: str | None = None,
    use_cache: bool = True,
    column: str = TEXT_COLUMN,
) -> Pipeline:
    """Raw texts -> sparse TF-IDF of jieba words (n-grams) plus character n-grams."""
    words = Pipeline(
        [
            (
                "tokenize",
                JiebaTokenizer(
                    hmm=hmm,
                    user_dict=user_dict,
                    stopwords=stopwords,
                    normalize=False,
                    cache_dir=cache_dir,
                    use_cache=use_cache,
                ),
            ),
            (
                "tfidf",
                TfidfVectorizer(
                    tokenizer=_identity,
                    preprocessor=_identity,
                    token_pattern=None,
                    lowercase=False,
                    ngram_range=tuple(word_ngram_range),
                    min_df=min_df,
                    max_df=max_df,
                    max_features=max_features,
                    sublinear_tf=sublinear_tf,
                    dtype=np.float32,
                ),
            ),
        ]
    )
    branches: list[tuple[str, Any]] = [("words", words)]
    if char_ngram_range is not None:
        chars = TfidfVectorizer(
            analyzer=char_analyzer,
            ngram_range=tuple(char_ngram_range),
            lowercase=False,
            min_df=min_df,
            max_df=max_df,
            max_features=char_max_features,
            sublinear_tf=sublinear_tf,
            dtype=np.float32,
        )
        branches.append(("chars", chars))
    return Pipeline([("normalize", TextNormalizer(column=column)), ("union", FeatureUnion(branches))])
