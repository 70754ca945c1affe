"""Text normalisation and jieba segmentation with the office's user dictionary."""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import opencc

_SPACE = re.compile(r"\s+")
# Weibo emoticon codes such as [泪] or [doge]: short bracketed words, kept as sentiment signals.
EMOTICON = re.compile(r"\[[\u4e00-\u9fffA-Za-z]{1,6}\]")
_t2s_lock = threading.Lock()
_t2s = None
_traditional: frozenset[str] = frozenset()


def _traditional_chars() -> frozenset[str]:
    """Characters t2s conversion changes: those of OpenCC's TSCharacters that map to another
    character, and the few that only its phrase table changes."""
    folder = Path(opencc.__file__).parent / "dictionary"
    changing: set[str] = set()
    for name in ("TSCharacters.txt", "TSPhrases.txt"):
        for line in (folder / name).read_text(encoding="utf-8").splitlines():
            source, _, targets = line.partition("\t")
            target = targets.split(" ")[0] if targets else source
            changing.update(a for a, b in zip(source, target, strict=False) if a != b)
    return frozenset(changing)


def _to_simplified(text: str) -> str:
    global _t2s, _traditional
    with _t2s_lock:
        if _t2s is None:
            _t2s = opencc.OpenCC("t2s")
            _traditional = _traditional_chars()
    # Converting costs about 1 ms for 200 characters, and almost every mention is written in
    # simplified characters already: convert only text with a character conversion changes.
    if _traditional.isdisjoint(text):
        return text
    # OpenCC converts each stretch between its separators on its own, so only the stretches
    # holding such a character need converting ("什么" in one clause does not make the whole
    # mention pay): the result is the same as converting the whole text.
    parts = _t2s.split_chars_re.split(text)
    return "".join(
        part if i % 2 or _traditional.isdisjoint(part) else str(_t2s.convert(part))
        for i, part in enumerate(parts)
    )


# Emoji carry the same sentiment as Weibo's emoticon codes; writing them as codes lets every
# backend and the corpus see one signal. Emoji not listed here are kept as they are.
EMOJI_CODES = {
    "😭": "[泪]",
    "😢": "[泪]",
    "😿": "[泪]",
    "😡": "[怒]",
    "😠": "[怒]",
    "🤬": "[怒]",
    "💢": "[怒]",
    "👍": "[赞]",
    "👏": "[鼓掌]",
    "❤": "[心]",
    "❤️": "[心]",
    "😂": "[笑cry]",
    "🤣": "[笑cry]",
    "😄": "[哈哈]",
    "😁": "[哈哈]",
    "😆": "[哈哈]",
    "🙂": "[微笑]",
    "😊": "[微笑]",
    "🤮": "[吐]",
    "😤": "[哼]",
    "😱": "[吃惊]",
    "🍉": "[吃瓜]",
    "🙄": "[白眼]",
    "🤦": "[捂脸]",
    "💪": "[给力]",
}
_EMOJI = re.compile("|".join(sorted(map(re.escape, EMOJI_CODES), key=len, reverse=True)))


def normalise(text: str, keep_lines: bool = False) -> str:
    """Full-width to half-width (NFKC), traditional to simplified, common emoji to Weibo
    emoticon codes, whitespace collapsed; with `keep_lines`, within each line, and empty lines
    dropped."""
    text = unicodedata.normalize("NFKC", text)
    text = _to_simplified(text)
    text = _EMOJI.sub(lambda m: EMOJI_CODES[m.group()], text)
    if keep_lines:
        lines = (_SPACE.sub(" ", line).strip() for line in text.splitlines())
        return "\n".join(line for line in lines if line)
    return _SPACE.sub(" ", text).strip()


def emoticons(text: str) -> list[str]:
    return EMOTICON.findall(text)


class Segmenter:
    """A private jieba tokenizer, so the global one and other users are left untouched.

    The dictionary loads on first use (≈1 s), never at import.
    """

    def __init__(self, userdict: Path | None = None, extra_words: Iterable[str] = ()) -> None:
        self._userdict = userdict
        self._extra = [w for w in extra_words if w]
        self._tokenizer = None
        self._lock = threading.Lock()

    def _load(self):  # type: ignore[no-untyped-def]
        with self._lock:
            if self._tokenizer is None:
                # jieba takes about 0.15 s to import: only segmenting texts pays for it.
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tok = jieba.Tokenizer()
                tok.initialize()
                if self._userdict is not None and self._userdict.exists():
                    # Given a path, jieba leaves the file open; hand it an open file instead.
                    with self._userdict.open("rb") as handle:
                        tok.load_userdict(handle)
                for word in self._extra:
                    tok.add_word(word, freq=20000)
                self._tokenizer = tok
        return self._tokenizer

    def cut(self, text: str) -> list[str]:
        return [t for t in self._load().lcut(text) if t.strip()]

    def keywords(self, text: str, top_k: int = 10, ignore: Iterable[str] = ()) -> list[str]:
        """The most distinctive words of `text` by TF-IDF against jieba's shipped IDF table."""
        idf, median = _idf_table()
        skip = set(ignore)
        counts: dict[str, int] = {}
        for token in self.cut(text):
            if len(token) >= 2 and token not in skip and not _NOT_A_TERM.match(token):
                counts[token] = counts.get(token, 0) + 1
        ranked = sorted(counts, key=lambda t: (-counts[t] * idf.get(t, median), t))
        return ranked[:top_k]


_NOT_A_TERM = re.compile(
    r"^[\d\W_a-zA-Z]+$|^(我们|他们|你们|这个|那个|什么|没有|已经|可以|就是|还是|"
    r"一个|自己|因为|所以|但是|如果|表示|进行|相关|目前|工作|情况|问题|大家|"
    r"现在|今天|昨天|知道|觉得|这样|时候|真的|还有|一下|不是|这些|记者)$"
)
_idf_lock = threading.Lock()
_idf: tuple[dict[str, float], float] | None = None


def _idf_table() -> tuple[dict[str, float], float]:
    global _idf
    with _idf_lock:
        if _idf is None:
            # jieba takes about 0.15 s to import: only segmenting texts pays for it.
            import jieba

            table: dict[str, float] = {}
            # Read directly: importing jieba.analyse leaks an open file handle.
            path = Path(jieba.__file__).parent / "analyse" / "idf.txt"
            text = path.read_text(encoding="utf-8")
            for line in text.splitlines():
                word, _, value = line.partition(" ")
                if value:
                    table[word] = float(value)
            values = sorted(table.values())
            _idf = (table, values[len(values) // 2])
    return _idf


def idf_table() -> tuple[dict[str, float], float]:
    """jieba's shipped IDF weights and their median (for words it does not know)."""
    return _idf_table()
