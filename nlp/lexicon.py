"""The lexicon backend: weighted word lists for sentiment and risk category.

It needs no training and no download, so the pipeline runs from a fresh clone; the trained
linear backend replaces it as the default once a model has been trained.
"""

from __future__ import annotations

from nlp.types import Prediction

CATEGORY_WORDS: dict[str, dict[str, float]] = {
    "data_fraud": {
        "造假": 3,
        "弄虚作假": 3,
        "虚报": 3,
        "瞒报": 2,
        "注水": 2,
        "干预数据": 3,
        "干预统计": 3,
        "篡改": 2,
        "伪造": 2,
        "下指标": 2,
        "编造数据": 3,
        "数据造假": 3,
    },
    "procedure": {
        "代填": 3,
        "代报": 3,
        "没上门": 3,
        "不入户": 3,
        "漏登": 3,
        "错登": 3,
        "重复登记": 2,
        "没人来": 2,
        "已登记": 1,
        "敷衍": 1,
        "随便填": 2,
    },
    "data_security": {
        "系统故障": 3,
        "崩了": 2,
        "宕机": 3,
        "病毒": 2,
        "勒索": 2,
        "数据丢失": 3,
        "终端丢失": 3,
        "手持终端": 1,
        "联网直报": 1,
        "瘫痪": 2,
        "黑客": 2,
    },
    "privacy_leak": {
        "泄露": 3,
        "信息泄露": 3,
        "倒卖": 3,
        "推销电话": 3,
        "个人信息": 1,
        "身份证号": 1,
        "外泄": 3,
        "叫卖": 2,
        "商业秘密": 2,
    },
    "field_safety": {
        "被打": 3,
        "殴打": 3,
        "被狗咬": 3,
        "狗咬": 3,
        "受伤": 2,
        "洪水": 2,
        "暴雨": 1,
        "人身安全": 3,
        "中暑": 2,
        "摔伤": 3,
        "围攻": 2,
        "遇险": 2,
    },
    "non_cooperation": {
        "拒绝登记": 3,
        "拒绝配合": 3,
        "不配合": 3,
        "抵制": 3,
        "拒报": 3,
        "拒不": 2,
        "闭门": 1,
        "集体拒绝": 3,
        "不让进": 2,
    },
    "data_doubt": {
        "被平均": 3,
        "拖后腿": 2,
        "不相信": 2,
        "质疑": 2,
        "怎么算": 2,
        "对不上": 2,
        "数据不真实": 3,
        "不可信": 2,
        "水分": 2,
        "注水了吧": 2,
    },
    "scam": {
        "诈骗": 3,
        "冒充": 3,
        "假普查员": 3,
        "验证码": 3,
        "银行卡": 2,
        "骗子": 3,
        "转账": 2,
        "被骗": 3,
        "骗局": 3,
    },
    "staff_conduct": {
        "态度恶劣": 3,
        "态度差": 3,
        "推诿": 3,
        "补贴": 2,
        "克扣": 3,
        "拖欠": 3,
        "吃拿卡要": 3,
        "不作为": 2,
        "玩手机": 2,
        "劳务费": 2,
        "窗口": 1,
    },
}

POSITIVE = {
    "点赞": 2,
    "感谢": 2,
    "辛苦": 1.5,
    "赞": 1,
    "好评": 2,
    "满意": 2,
    "顺利": 1.5,
    "圆满": 2,
    "增长": 0.5,
    "提升": 0.5,
    "耐心": 1.5,
    "及时": 1,
    "热情": 1.5,
    "支持": 1,
    "[赞]": 2,
    "[鼓掌]": 2,
    "[心]": 1.5,
    "[给力]": 2,
    "[哈哈]": 1,
}
NEGATIVE = {
    "愤怒": 2,
    "气愤": 2,
    "投诉": 2,
    "恶劣": 2,
    "骗": 2,
    "泄露": 2,
    "造假": 2,
    "被打": 2,
    "受伤": 1.5,
    "质疑": 1.5,
    "不满": 2,
    "垃圾": 2,
    "离谱": 2,
    "无语": 1.5,
    "崩溃": 1.5,
    "丢失": 1.5,
    "拒绝": 1,
    "害怕": 1.5,
    "担心": 1,
    "太差": 2,
    "凭什么": 1.5,
    "[怒]": 2,
    "[泪]": 1.5,
    "[抓狂]": 2,
    "[衰]": 1.5,
    "[吐]": 2,
    "[生病]": 1,
    "[伤心]": 1.5,
}
NEGATORS = ("不", "没", "未", "无")


def _weighted_hits(text: str, words: dict[str, float]) -> tuple[float, list[str]]:
    """The summed weight of `words` found in `text` (negated ones count against) and the words
    that counted for."""
    total = 0.0
    found: list[str] = []
    for word, weight in words.items():
        start = text.find(word)
        while start != -1:
            negated = start > 0 and text[start - 1] in NEGATORS and not word.startswith("不")
            total += -weight * 0.5 if negated else weight
            if not negated and word not in found:
                found.append(word)
            start = text.find(word, start + 1)
    return total, found


class LexiconBackend:
    name = "lexicon"

    def predict(self, texts: list[str]) -> list[Prediction]:
        return [self._one(t) for t in texts]

    def _one(self, text: str) -> Prediction:
        hits = {c: _weighted_hits(text, words) for c, words in CATEGORY_WORDS.items()}
        category, (best, category_terms) = max(hits.items(), key=lambda kv: kv[1][0])
        if best < 2:
            category, best, category_terms = "general", 0.0, []
        category_score = min(0.5 + best / 10, 0.99) if category != "general" else 0.5
        pos, pos_terms = _weighted_hits(text, POSITIVE)
        neg, neg_terms = _weighted_hits(text, NEGATIVE)
        if category not in ("general",) and best >= 3:
            neg += 1.0  # a clear risk report reads as negative unless praise outweighs it
        margin = pos - neg
        if margin >= 1:
            sentiment, score, terms = "positive", min(0.5 + margin / 8, 0.99), pos_terms
        elif margin <= -1:
            sentiment, score, terms = "negative", min(0.5 - margin / 8, 0.99), neg_terms
        else:
            sentiment, score, terms = "neutral", 0.5, []
        return Prediction(
            sentiment, score, category, category_score, tuple(terms), tuple(category_terms)
        )
