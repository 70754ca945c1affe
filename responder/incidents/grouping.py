"""Event grouping: whether a mention tells the same real-world event as an open incident.

An incident is one thing that happened (DOMAIN.md, "Incidents are events"): same place, same
kind of occurrence, close in time, however the mentions word it. The signals are cheap, since
every noteworthy mention of a cycle is compared with every open incident it could join:

- words: a TF-IDF vector over the mention's jieba tokens (weights from jieba's shipped IDF
  table, so a lone mention needs no corpus), compared by cosine with the incident's summed
  vector; the office's own words and keywords say nothing about which event it is;
- places: 乡镇、街道、村、社区、小区、园区 named in the text, found from the token before a
  place suffix (its dictionary tag rules out 我们村-style pronouns); two mentions that both
  name places but no common one tell different events, however alike their words;
- numbers: a shared specific figure (8000元, 312份) is strong evidence of one event;
- time and category: the further apart in time, or in different risk categories, the more
  alike the words must be.

The outcome carries its reasons in Chinese ("同一地点：青石镇；…"), shown on the incident page.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import jieba

import nlp
from nlp.text import idf_table

VECTOR_TERMS = 40
PROFILE_TERMS = 80
PROFILE_LIST = 12
# Thresholds measured on bench/data/events.yaml (`python -m bench.events`).
MIN_SCORE = 0.27
PLACE_BONUS = 0.25
NUMBER_BONUS = 0.3
PER_DAY = 0.06
OTHER_PLACES = 0.45
OTHER_CATEGORY = 0.25

PLACE_SUFFIXES = (
    "工业园区", "开发区", "工业园", "园区", "街道", "社区", "小区", "花园", "华庭", "家园",
    "新村", "镇", "乡", "村",
)  # fmt: skip
PARK_SUFFIXES = ("工业园区", "开发区", "工业园", "园区")
_PLACE = re.compile("([\u4e00-\u9fff]{2,3}?)(" + "|".join(PLACE_SUFFIXES) + ")(?![部里民委干])")
# Characters that do not occur in place names but do before suffixes in running text.
_FUNCTION_CHARS = set(
    "的了在是和与到从给把被让也都就还又说去来我你他她这那有个们一不上下里中回全各每本该镇乡村区街人按打"
)
_NOT_NAMES = {
    "附近",
    "周边",
    "隔壁",
    "老家",
    "农村",
    "乡村",
    "城乡",
    "个别",
    "所在",
    "整个",
    "部分",
    "多个",
    "城镇",
    "乡镇",
}
# Dictionary tags of words that can name a place: nouns, place and organisation names,
# abbreviations. Pronouns, numerals, verbs and the like ("我们村", "每个村") cannot.
PROPER_TAGS = {"ns", "nr", "nz", "nt", "nrt", "nrfg", "j"}
NAME_TAGS = {"n", "ns", "nr", "nz", "nt", "nrt", "nrfg", "j", "l", "ng"}
_NUMBER = re.compile(r"(\d+(?:\.\d+)?)\s*(万|亿)?\s*(%|元|块|人|户|名|份|条|公斤|家|起|岁)?")
_CJK = re.compile(r"^[\u4e00-\u9fff]+$")
_STOP = re.compile(
    r"^[\d\W_a-zA-Z]+$|^(我们|他们|你们|咱们|这个|那个|什么|没有|已经|可以|就是|还是|"
    r"一个|自己|因为|所以|但是|如果|表示|进行|相关|目前|工作|情况|问题|大家|有人|"
    r"现在|今天|昨天|知道|觉得|这样|时候|真的|还有|一下|不是|这些|记者|近日|日前|"
    r"的|了|是|在|和|也|都|就|说|被|把|要|还|有|我|你|他|她|这|那|吗|啊|呢|吧|个|让)$"
)
_tags_lock = threading.Lock()
_tags: dict[str, str] | None = None


def dictionary_tags() -> dict[str, str]:
    """jieba's part-of-speech tag of each dictionary word, read once from its shipped file."""
    global _tags
    with _tags_lock:
        if _tags is None:
            table: dict[str, str] = {}
            path = Path(jieba.__file__).parent / "dict.txt"
            for line in path.read_text(encoding="utf-8").splitlines():
                parts = line.split(" ")
                if len(parts) == 3:
                    table[parts[0]] = parts[2]
            _tags = table
    return _tags


@dataclass
class Features:
    """What a mention (or an incident's mentions) says about its event."""

    vector: dict[str, float]
    places: list[str]
    numbers: list[str]
    # The text read, where a place may be named without its suffix (柳湾普查员).
    text: str = ""
    # How many mentions named each place, of how many: for an incident's features.
    place_counts: dict[str, int] = field(default_factory=dict)
    mentions: int = 1

    @property
    def stems(self) -> set[str]:
        return {place_stem(p) for p in self.places}

    def defining(self) -> list[str]:
        """The places that say where this happened: named by at least a third of the
        mentions. A county-wide story naming a victim's township once is not about it."""
        return defining_places(self.places, self.place_counts, self.mentions)


@dataclass
class Join:
    score: float
    reasons: list[str] = field(default_factory=list)

    @property
    def reason(self) -> str:
        return "；".join(self.reasons)


def place_stem(place: str) -> str:
    """The name without its suffix: 东坝镇 and 东坝工业园 are both 东坝."""
    for suffix in sorted(PLACE_SUFFIXES, key=len, reverse=True):
        if place.endswith(suffix) and len(place) > len(suffix):
            return place[: -len(suffix)]
    return place


class Grouper:
    """Builds features from text and scores a mention against an incident's profile."""

    def __init__(
        self, segmenter: nlp.Segmenter, common: Iterable[str] = (), min_shared_terms: int = 2
    ) -> None:
        self.segmenter = segmenter
        self.min_shared_terms = min_shared_terms
        # Regions (临江县, 江州市) and the office are everywhere; they name no one event.
        self.common = set(common)

    def features(self, title: str, text: str, author: str = "") -> Features:
        """`author` counts for places only: local accounts are often named after theirs
        (柳湾镇的风), while their words would pull unrelated posts of one author together."""
        tokens = self.segmenter.cut(f"{title}\n{text}")
        places = self._places(f"{title}\n{text}")
        if author:
            places += [p for p in self._places(author) if p not in places]
        return Features(
            vector=self._vector(tokens),
            places=places,
            numbers=numbers(text),
            text=f"{title}\n{text}\n{author}",
        )

    def _vector(self, tokens: list[str]) -> dict[str, float]:
        idf, median = idf_table()
        counts: dict[str, int] = {}
        for token in tokens:
            if token in self.common or _STOP.match(token):
                continue
            counts[token] = counts.get(token, 0) + 1
        weights = {t: (1 + math.log(c)) * idf.get(t, median) for t, c in counts.items()}
        # Longer words also count by their character pairs at half weight, so 联网直报 meets
        # 直报 and 工业园区 meets 工业园: paraphrases often shorten or lengthen a word.
        for token in list(weights):
            if len(token) >= 3 and _CJK.match(token):
                for i in range(len(token) - 1):
                    pair = token[i : i + 2]
                    weights[pair] = max(weights.get(pair, 0.0), weights[token] / 2)
        top = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:VECTOR_TERMS]
        return normalised(dict(top))

    def _places(self, text: str) -> list[str]:
        """Places named in the text: two or three characters before a place suffix, unless
        they are a pronoun, a common word or function characters ("我们村", "在村部"), or
        begin inside another word. A name ending in 街 is a street's (老街社区)."""
        tags = dictionary_tags()
        found: list[str] = []
        for match in _PLACE.finditer(text):
            prefix, suffix = match.group(1), match.group(2)
            # Most names have two characters; a third only when the last two are no word.
            names = [prefix[-2:]]
            if len(prefix) == 3 and prefix[-2:] not in tags:
                names.append(prefix)
            place = ""
            for name in names:
                start = match.start(2) - len(name)
                if (
                    name in self.common
                    or name in _NOT_NAMES
                    or set(name.removesuffix("街")) & _FUNCTION_CHARS
                    or _inside_word(text, start, tags)
                    or (len(name) == 3 and tags.get(name[:2], "ns") not in PROPER_TAGS)
                ):
                    continue
                tag = tags.get(name)
                if suffix in PARK_SUFFIXES and tag is not None and tag not in PROPER_TAGS:
                    break  # 经济开发区: a common word before a park names no park
                if tag is None or tag in NAME_TAGS:
                    place = name + suffix
                    break
            if not place and suffix in PARK_SUFFIXES:
                # A development zone or industrial park is a unit of its own, named or not.
                place = "园区"
            if place and place not in found:
                found.append(place)
        return found

    def score(
        self,
        features: Features,
        category: str,
        when: datetime,
        profile: dict[str, Any],
        incident_category: str,
        first_seen: datetime,
        last_seen: datetime,
    ) -> Join | None:
        """How well the mention fits the incident, with reasons; None when it cannot join."""
        their_places: list[str] = list(profile.get("places", []))
        their_defining = defining_places(
            their_places, profile.get("place_counts", {}), profile.get("mentions", 1)
        )
        shared_stems = features.stems & {place_stem(p) for p in their_places}
        # Where the incident happened, named bare (柳湾普查员 for 柳湾镇), is the same place.
        shared_stems |= {
            stem
            for stem in {place_stem(p) for p in their_defining}
            if stem not in PARK_SUFFIXES and stem in features.text
        }
        # Both name where it happened, and nowhere in common: most likely two events, unless
        # the words are nearly the same. Only the places that define each side count: a
        # county-wide story naming a victim's township once is not that township's event.
        apart = bool(features.defining() and their_defining and not shared_stems)
        vector: dict[str, float] = profile.get("vector", {})
        norm = math.sqrt(sum(w * w for w in vector.values())) or 1.0
        shared_terms = [t for t in features.vector if t in vector]
        if len(shared_terms) < self.min_shared_terms:
            return None
        similarity = sum(features.vector[t] * vector[t] for t in shared_terms) / norm
        score = similarity
        reasons = []
        if shared_stems:
            score += PLACE_BONUS
            names = [p for p in features.places if place_stem(p) in shared_stems]
            names += [p for p in their_places if place_stem(p) in shared_stems - features.stems]
            reasons.append("同一地点：" + "、".join(dict.fromkeys(names)))
        shared_numbers = [n for n in features.numbers if n in profile.get("numbers", [])]
        if shared_numbers and not apart:  # a figure repeated in two places is a pattern
            score += NUMBER_BONUS
            reasons.append("相同数字：" + "、".join(shared_numbers[:3]))
        need = MIN_SCORE + (OTHER_PLACES if apart else 0.0)
        if category != incident_category:
            need += OTHER_CATEGORY
        else:
            reasons.append("同类事件")
        gap = max((first_seen - when).total_seconds(), (when - last_seen).total_seconds(), 0)
        need += PER_DAY * gap / 86400
        if score < need:
            return None
        if shared_terms:
            ranked = sorted(shared_terms, key=lambda t: -features.vector[t] * vector[t])
            reasons.append("共同内容：" + "、".join(ranked[:4]))
        reasons.append(f"相隔{_hours(gap)}；相似度{similarity:.2f}")
        return Join(score=score - need, reasons=reasons)


def _inside_word(text: str, start: int, tags: dict[str, str]) -> bool:
    """Whether the character at `start` ends a common word begun before it (大家|对社区,
    普查员|进小区, 打电话|问镇): a name cannot begin in the middle of another word. After
    the division it belongs to, it can (临江县|城关镇, though 县城 is a word)."""
    if start > 0 and text[start - 1] in "省市县区":
        return False
    for length in (2, 3):
        word = text[max(start - length + 1, 0) : start + 1]
        if len(word) == length and tags.get(word, "ns") not in PROPER_TAGS:
            return True
    return False


def numbers(text: str) -> list[str]:
    """Specific figures (amounts, counts, rates); years and small counts say too little."""
    found: list[str] = []
    for value, scale, unit in _NUMBER.findall(text):
        if not unit and not scale and "." not in value:
            continue
        if not unit and len(value) == 4 and value[:2] in ("19", "20"):
            continue
        if "." not in value and not scale and int(value) < 10:
            continue
        figure = f"{value}{scale}{'元' if unit == '块' else unit}"
        if figure not in found:
            found.append(figure)
    return found


def new_profile(features: Features) -> dict[str, Any]:
    profile: dict[str, Any] = {"vector": {}, "places": [], "numbers": []}
    return add_to_profile(profile, features)


def add_to_profile(profile: dict[str, Any], features: Features) -> dict[str, Any]:
    """The incident's profile after a mention (or another incident) joins: summed vectors,
    places with how many mentions named them, and numbers."""
    vector = dict(profile.get("vector", {}))
    for term, weight in features.vector.items():
        vector[term] = vector.get(term, 0.0) + weight
    top = sorted(vector.items(), key=lambda kv: (-kv[1], kv[0]))[:PROFILE_TERMS]
    before = profile_features(profile)
    counts = {p: before.place_counts.get(p, 1) for p in before.places}
    for place in features.places:
        counts[place] = counts.get(place, 0) + features.place_counts.get(place, 1)
    places = list(counts)[:PROFILE_LIST]
    figures = list(profile.get("numbers", []))
    figures += [n for n in features.numbers if n not in figures]
    return {
        "vector": {t: round(w, 4) for t, w in top},
        "places": places,
        "place_counts": {p: counts[p] for p in places},
        # A profile from before place counts counts its mentions from here on.
        "mentions": profile.get("mentions", 0) + features.mentions,
        "numbers": figures[-PROFILE_LIST * 2 :],
    }


def profile_features(profile: dict[str, Any], text: str = "") -> Features:
    """An incident's profile as features, to score it against another incident."""
    return Features(
        vector=normalised(dict(profile.get("vector", {}))),
        places=list(profile.get("places", [])),
        numbers=list(profile.get("numbers", [])),
        text=text,
        place_counts=dict(profile.get("place_counts", {})),
        mentions=int(profile.get("mentions", 1)),
    )


def merge_profiles(target: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
    """The profile of an incident another was merged into."""
    features = profile_features(source)
    features.vector = dict(source.get("vector", {}))  # summed weights, as the target's
    return add_to_profile(target, features)


def defining_places(places: list[str], counts: dict[str, int], mentions: int) -> list[str]:
    """The places named by at least a third of an incident's mentions (all of them for a
    profile without counts)."""
    if not counts:
        return list(places)
    return [p for p in places if counts.get(p, 1) * 3 >= mentions]


def normalised(weights: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
    return {t: w / norm for t, w in weights.items()}


def _hours(seconds: float) -> str:
    hours = seconds / 3600
    if hours < 1:
        return "不到1小时"
    if hours < 48:
        return f"{hours:.0f}小时"
    return f"{hours / 24:.0f}天"


def profile_within(profile: dict[str, Any], text: str) -> dict[str, Any]:
    """The part of a profile these mentions' text still supports (after a split)."""
    return {
        "vector": {t: w for t, w in profile.get("vector", {}).items() if t in text},
        "places": [p for p in profile.get("places", []) if p in text],
        "numbers": [
            n for n in profile.get("numbers", []) if n.rstrip("元%人户名份条公斤家起岁") in text
        ],
    }
