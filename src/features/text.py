"""Chinese text features: normalisation, a cached jieba tokenizer and the TF-IDF word + char union.

Normalisation (`normalize_text`) lives in src/data/text_normalize.py, shared with the text loaders.

Before normalisation (`prepare_texts`), a raw text is cut to `max_chars` characters (the same limit
as the loaders apply in training; cuts are counted and logged) and its sender signature (`【…】` at
the start or end, see `split_signature`) is taken out of the body: a registered signature names the
sender, not what the message is about.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import struct
import tempfile
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_selection import SelectKBest, chi2
from sklearn.pipeline import FeatureUnion, Pipeline

from src.data.checksums import sha256_file
from src.data.text_normalize import has_content, normalize_text, strip_punctuation
from src.features.portable_tfidf import PortableTfidfVectorizer

log = logging.getLogger(__name__)

RESOURCES_DIR: Path = Path(__file__).resolve().parent / "resources"
DEFAULT_USER_DICT: Path = RESOURCES_DIR / "telecom_userdict.txt"
DEFAULT_STOPWORDS: Path = RESOURCES_DIR / "stopwords_zh.txt"
TEXT_COLUMN = "text"
_TOKEN_CACHE_VERSION = 2
TOKEN_CACHE_ENV = "TELECOM_PROFILING_TOKEN_CACHE"  # "1" turns the disk cache on in a loaded model
TOKEN_CACHE_MAX_FILES = 32  # the per-user token cache keeps the newest files only
_MEMO_MAX_TEXTS = 1_000_000  # the in-process memo is cleared beyond this many texts
_SIGNATURE = re.compile(r"^\s*[【〖]([^【】〖〗]{1,24})[】〗]|[【〖]([^【】〖〗]{1,24})[】〗]\s*$")

_PUNCT_ONLY = re.compile(r"^[\W_]+$")


def split_signature(text: str) -> tuple[str, str]:
    """(normalised signature or '', body without it): `【顺丰速运】取件码…` -> ('顺丰速运', '取件码…')."""
    signatures = []

    def take(match: re.Match[str]) -> str:
        signatures.append(match.group(1) or match.group(2))
        return " "

    body = text
    for _ in range(2):  # a signature at the start and one at the end
        body = _SIGNATURE.sub(take, body, count=1)
    signature = " ".join(unicodedata.normalize("NFKC", s).strip().lower() for s in signatures)
    return signature, body.strip()


def prepare_texts(
    X: Any, column: str = TEXT_COLUMN, max_chars: int | None = None, drop_signature: bool = False
) -> tuple[list[str], int]:
    """(raw texts as strings, number cut to `max_chars`): missing -> '', signature taken out if asked."""
    texts = ["" if _is_missing(t) else str(t) for t in as_text_list(X, column)]
    truncated = 0
    if max_chars is not None:
        limit = int(max_chars)
        truncated = sum(len(t) > limit for t in texts)
        if truncated:
            texts = [t[:limit] for t in texts]
            log.warning("%d text(s) longer than %d characters truncated", truncated, limit)
    if drop_signature:
        texts = [split_signature(t)[1] for t in texts]
    return texts, truncated


def no_text_mask(X: Any, column: str = TEXT_COLUMN) -> np.ndarray:
    """True where a text is missing, empty, or has no letter after normalisation (digits, symbols only)."""
    texts = as_text_list(X, column)
    return np.asarray([not has_content(normalize_text(t)) for t in texts], dtype=bool)


def truncated_mask(X: Any, max_chars: int | None, column: str = TEXT_COLUMN) -> np.ndarray:
    """True where a text is longer than `max_chars` (so the model only read its first `max_chars`)."""
    texts = as_text_list(X, column)
    if max_chars is None:
        return np.zeros(len(texts), dtype=bool)
    return np.asarray([not _is_missing(t) and len(str(t)) > int(max_chars) for t in texts], dtype=bool)


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


class _TextColumnTransformer(TransformerMixin, BaseEstimator):
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

    Texts are cut to `max_chars` first and, with `drop_signature`, lose their `【signature】`
    (see `prepare_texts`); `strip_punct` removes punctuation, symbols and spaces after
    normalisation (the SMS corpus's normal class had them stripped upstream, so they would
    teach "punctuation means spam"). Missing texts (None/NaN) become '' with a logged warning, so a batch
    scores instead of failing; loaders quarantine them before training. Nothing is stored on the
    transformer by `transform`: its counts are logged.
    """

    def __init__(
        self,
        column: str = TEXT_COLUMN,
        max_chars: int | None = None,
        drop_signature: bool = False,
        strip_punct: bool = False,
    ) -> None:
        self.column = column
        self.max_chars = max_chars
        self.drop_signature = drop_signature
        self.strip_punct = strip_punct

    def fit(self, X: Any, y: Any = None) -> TextNormalizer:
        """Nothing to learn."""
        return self

    def transform(self, X: Any) -> list[str]:
        """Normalise every text."""
        raw = as_text_list(X, self.column)
        n_missing = sum(_is_missing(t) for t in raw)
        if n_missing:
            log.warning("%d missing text(s) (None/NaN) scored as empty texts", n_missing)
        texts, _ = prepare_texts(raw, self.column, self.max_chars, bool(self.drop_signature))
        if self.strip_punct:
            return [strip_punctuation(normalize_text(t)) for t in texts]
        return [normalize_text(t) for t in texts]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags


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


def user_cache_dir() -> Path:
    """This user's cache folder for the project ($XDG_CACHE_HOME or ~/.cache, then telecom-profiling)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "telecom-profiling"


_JIEBA_POOL: dict[tuple[str, str], Any] = {}


@lru_cache(maxsize=8)
def _stopwords_of(path: str, sha256: str) -> frozenset[str]:
    """Stop words of a file, memoised on its path and checksum."""
    return read_stopwords(path)


def private_jieba(user_dict: Path | None) -> Any:
    """Our own `jieba.Tokenizer` (never the global one), shared by tokenizers with the same dictionary."""
    key = (str(user_dict), file_sha256(user_dict) if user_dict else "")
    tokenizer = _JIEBA_POOL.get(key)
    if tokenizer is None:
        import jieba

        logging.getLogger("jieba").setLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        tmp_dir = user_cache_dir() / "jieba"
        try:
            tmp_dir.mkdir(parents=True, exist_ok=True)
            tokenizer.tmp_dir = str(tmp_dir)
        except OSError:  # no writable home: jieba's own default (the system temp folder)
            tokenizer.tmp_dir = tempfile.gettempdir()
        tokenizer.cache_file = "jieba.cache"
        tokenizer.initialize()
        if user_dict is not None:
            tokenizer.load_userdict(str(user_dict))
        _JIEBA_POOL[key] = tokenizer
    return tokenizer


NEGATORS: frozenset[str] = frozenset(
    {"不", "没", "没有", "别", "无", "未", "不是", "不太", "不会", "不用", "并不", "从不", "毫无", "不怎么"}
)
_NEGATED_PREFIX = re.compile(r"^(?:不|没|别|无|未)(?=\w)")


def negation_tokens(words: Sequence[str], scope: int) -> list[str]:
    """`不_<word>` for each of the `scope` words after a negator (stopping at punctuation).

    A word that jieba keeps whole with the negator inside (`不难吃`) also gives `不_难吃`, so
    "不难吃" and "不 难吃" share a feature, which a plain bigram does not.
    """
    out: list[str] = []
    left = 0
    for word in words:
        if not word.strip():
            continue
        if _PUNCT_ONLY.match(word):
            left = 0
        elif word in NEGATORS:
            left = scope
        elif left:
            out.append(f"不_{word}")
            left -= 1
        elif _NEGATED_PREFIX.match(word) and len(word) >= 2:
            out.append(f"不_{word[1:]}")
    return out


def pass_through(tokens: Any) -> Any:
    """Pass pre-tokenised documents through the TF-IDF vectorizer unchanged (module-level so it pickles)."""
    return tokens


def read_token_cache(path: Path) -> list[list[str]] | None:
    """Token lists from a JSON cache file, or None if it is missing or unreadable (never executes code)."""
    try:
        tokens = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(tokens, list) or not all(isinstance(t, list) for t in tokens):
        return None
    return tokens


def write_token_cache(path: Path, tokens: list[list[str]], max_files: int = TOKEN_CACHE_MAX_FILES) -> None:
    """Write token lists as JSON atomically, then keep only the newest `max_files` cache files."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(tokens, handle, ensure_ascii=False, separators=(",", ":"))
        os.replace(tmp, path)
        files = sorted(path.parent.glob("*.json"), key=lambda f: f.stat().st_mtime_ns, reverse=True)
        for old in files[max_files:]:
            old.unlink(missing_ok=True)
    except OSError as err:
        log.warning("could not write the token cache %s: %s", path.name, err)


class JiebaTokenizer(_TextColumnTransformer):
    """Texts -> token lists with a private `jieba.Tokenizer` (the global jieba is never touched).

    The jieba instance is built lazily and not pickled, so the fitted transformer reloads in a
    fresh process. `user_dict`/`stopwords` take 'default' (the files shipped in
    src/features/resources), a path, or None. With `normalize`, texts are cut to `max_chars` and
    lose their signature (`drop_signature`) before normalisation, as in `TextNormalizer`.

    Caching: token lists of batches of at least `cache_min_texts` texts are kept as JSON (never
    pickle) under `<cache_dir or user_cache_dir()>/tokens/`, keyed by the SHA-256 of the texts,
    this tokenizer's config and the dictionary checksums; at most `TOKEN_CACHE_MAX_FILES` files
    are kept. A process-wide memo serves subsets (CV folds) of an already tokenised corpus. Both
    are filled only while training: in an unpickled (loaded) model neither the memo nor the disk
    is written, and the disk cache is read only if the environment sets TELECOM_PROFILING_TOKEN_CACHE=1.
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
        max_chars: int | None = None,
        drop_signature: bool = False,
        negation_scope: int = 0,
        strip_punct: bool = False,
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
        self.max_chars = max_chars
        self.drop_signature = drop_signature
        self.negation_scope = negation_scope
        self.strip_punct = strip_punct
        self.column = column

    # --- jieba instance, built on first use -------------------------------------------------
    def _cache_root(self) -> Path:
        return Path(self.cache_dir) if self.cache_dir else user_cache_dir()

    def _jieba(self) -> Any:
        """The shared private jieba instance of this dictionary (module pool; nothing stored on self)."""
        return private_jieba(_resolve_resource(self.user_dict, DEFAULT_USER_DICT))

    def _stopword_set(self) -> frozenset[str]:
        path = _resolve_resource(self.stopwords, DEFAULT_STOPWORDS)
        return _stopwords_of(str(path), file_sha256(path)) if path else frozenset()

    def __getstate__(self) -> dict:
        """The parameters and fitted attributes only (the loaded flag is set again on unpickling)."""
        state = dict(super().__getstate__())
        state.pop("_loaded", None)
        return state

    def __setstate__(self, state: dict) -> None:
        """Mark an unpickled tokenizer as loaded: it neither writes caches nor reads the disk by default."""
        super().__setstate__(state)
        self.__dict__["_loaded"] = True

    def _is_loaded(self) -> bool:
        return bool(self.__dict__.get("_loaded", False))

    # --- config and cache key ---------------------------------------------------------------
    def config_key(self) -> dict[str, Any]:
        """Everything that changes the tokens: the cache key's config part."""
        return {
            "version": _TOKEN_CACHE_VERSION,
            "hmm": bool(self.hmm),
            "normalize": bool(self.normalize),
            "drop_punct": bool(self.drop_punct),
            "negation_scope": int(self.negation_scope),
            "strip_punct": bool(self.strip_punct),
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
            words = tokenizer.lcut(text, HMM=hmm)
            tokens = [t for t in words if t.strip() and t not in stop]
            if self.negation_scope:
                kept = [w for w in words if w not in stop or w in NEGATORS]
                tokens += negation_tokens(kept, int(self.negation_scope))
            if self.drop_punct:
                tokens = [t for t in tokens if not _PUNCT_ONLY.match(t)]
            out.append(tokens)
        return out

    def _prepare(self, X: Any) -> list[str]:
        if self.normalize:
            texts, _ = prepare_texts(X, self.column, self.max_chars, bool(self.drop_signature))
            if self.strip_punct:
                return [strip_punctuation(normalize_text(t)) for t in texts]
            return [normalize_text(t) for t in texts]
        return ["" if _is_missing(t) else str(t) for t in as_text_list(X, self.column)]

    def fit(self, X: Any, y: Any = None) -> JiebaTokenizer:
        """Nothing to learn; checks the dictionaries exist."""
        self.dictionary_checksums_ = self.dictionary_checksums()
        return self

    def transform(self, X: Any) -> list[list[str]]:
        """Token lists, from the disk cache, the process memo or jieba."""
        texts = self._prepare(X)
        training = not self._is_loaded()
        read_disk = training or os.environ.get(TOKEN_CACHE_ENV) == "1"
        cacheable = self.use_cache and read_disk and len(texts) >= self.cache_min_texts
        path = self._cache_root() / "tokens" / f"{self.cache_key(texts)}.json" if cacheable else None
        if path is not None and path.is_file():
            tokens = read_token_cache(path)
            if tokens is not None and len(tokens) == len(texts):
                log.debug("token cache hit: %s", path.name)
                if training:
                    self._remember(texts, tokens)
                return tokens
            log.warning("unreadable token cache %s; tokenising again", path.name)
        tokens = self._tokens_via_memo(texts, remember=training)
        if path is not None:
            write_token_cache(path, tokens)
        return tokens

    def _memo_for_config(self) -> dict[str, list[str]]:
        key = json.dumps(self.config_key(), sort_keys=True)
        return self._memo.setdefault(key, {})

    def _remember(self, texts: Sequence[str], tokens: list[list[str]]) -> None:
        if self.use_cache:
            memo = self._memo_for_config()
            if len(memo) + len(texts) > _MEMO_MAX_TEXTS:
                memo.clear()
            memo.update(zip(texts, tokens, strict=True))

    def _tokens_via_memo(self, texts: Sequence[str], remember: bool = True) -> list[list[str]]:
        memo = self._memo_for_config() if self.use_cache else {}
        missing = list(dict.fromkeys(t for t in texts if t not in memo))
        fresh = dict(zip(missing, self._cut(missing), strict=True)) if missing else {}
        if fresh and remember:
            self._remember(list(fresh), list(fresh.values()))
        return [list(fresh[t]) if t in fresh else list(memo[t]) for t in texts]

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
    max_chars: int | None = None,
    drop_signature: bool = False,
    negation_scope: int = 0,
    strip_punct: bool = False,
    select_k: int | None = None,
    column: str = TEXT_COLUMN,
) -> Pipeline:
    """Raw texts -> sparse TF-IDF of jieba words (n-grams) plus character n-grams.

    `max_chars` cuts every text as the loaders do in training; `drop_signature` takes the
    `【signature】` out of the body; `strip_punct` removes punctuation, symbols and spaces;
    `negation_scope` > 0 adds `不_<word>` tokens for the words that follow a negator.
    `select_k` keeps only the k columns with the highest chi-squared score against the labels
    the pipeline is fitted with (train only inside the harness); None keeps every column.
    """
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
                    negation_scope=negation_scope,
                ),
            ),
            (
                "tfidf",
                PortableTfidfVectorizer(
                    tokenizer=pass_through,
                    preprocessor=pass_through,
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
        chars = PortableTfidfVectorizer(
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
    normalizer = TextNormalizer(
        column=column, max_chars=max_chars, drop_signature=drop_signature, strip_punct=strip_punct
    )
    steps: list[tuple[str, Any]] = [("normalize", normalizer), ("union", FeatureUnion(branches))]
    if select_k is not None:
        steps.append(("select", SelectKBest(chi2, k=int(select_k))))
    return Pipeline(steps)
