"""Reports of harm told in calm words (the guideline of `nlp/corpus/README.md`, issue 17).

A 舆情 analyst judges a mention by how it bears on the office: a report that a census taker was
hurt, that fieldwork stopped because a flood or an epidemic struck, that records were lost or
leaked, that a firm falsified figures and was punished, or that someone was swindled in the
office's name is negative however objective its wording. A character n-gram model learns the
tone of words and leans to neutral on such news; this reads the event itself.

It does not fire on warnings and rules ("请注意防范诈骗", "普查员不会索要验证码", "如遇暴雨请暂停
入户"), on harm that is denied ("没有丢失任何数据"), or on the office's own 辟谣 or 情况通报 of a
harm other than fraud, which the guideline keeps neutral.
"""

from __future__ import annotations

import re

from nlp.types import Prediction

# Events that happened, by kind: each pattern reads a harm as reported, not as a possibility.
_HARMS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "injury",
        re.compile(
            r"受伤|受轻伤|受重伤|摔伤|扭伤|咬伤|被咬|被打|殴打|打伤|遇害|身亡|死亡|殉职|不幸去世"
            r"|中暑|送医|住院|重症监护|交通事故|车祸|相撞|剐蹭|溺水|袭击|尾随|围攻|辱骂"
        ),
    ),
    (
        "disaster",
        re.compile(
            r"(?:受|因|遭遇?|由于)[^。；！？]{0,10}"
            r"(?:台风|暴雨|强降雨|降雪|暴雪|雨雪|冰冻|洪水|洪涝|汛情|地震|疫情|高温|泥石流|滑坡|强对流)"
            r"[^。；！？]{0,24}(?:暂停|推迟|延后|延期|顺延|中断|停摆|暂缓|停滞|无法|受阻|被迫)"
            r"|受灾|冲毁|灾情"
        ),
    ),
    (
        "security",
        re.compile(
            r"故障|宕机|瘫痪|崩溃|崩了|打不开|无法访问|无法登录|登不上|数据丢失|丢失|遗失|被盗"
            r"|损坏|勒索|黑客|入侵|攻击|篡改|病毒|中毒"
        ),
    ),
    (
        "leak",
        re.compile(r"泄露|泄漏|外泄|倒卖|贩卖|出售[^。；！？]{0,6}信息"),
    ),
    (
        "fraud",
        re.compile(
            r"虚报|瞒报|造假|弄虚作假|伪造|干预统计|编造|篡改统计|修改报表|改报表|虚增|虚高|注水"
            r"|授意|重复上报|重复填报|(?:调高|修改|改动)[^。；！？]{0,12}(?:数据|数字|报表)"
        ),
    ),
    (
        "punished",
        re.compile(
            r"立案|查处|撤职|问责|失信名单|违法行为|违法案件|处以罚款|罚款|被处分"
            r"|受到[^。；！？]{0,10}处分|免职|解聘|移送(?:纪检|司法|公安|检察)|追责|提起公诉|判处"
            r"|责令(?:整改|更正|改正)|被查出|查实"
        ),
    ),
    (
        "scam",
        re.compile(r"冒充|假冒|诈骗|骗取|被骗|骗走|骗了|行骗|转走"),
    ),
)
_FRAUD = dict(_HARMS)["fraud"]
# Just before a harm word: it is denied, prevented, feared or hypothetical.
_NOT_HAPPENED = re.compile(
    r"(?:不会|不得|不要|没有|没|未|无|防止|防范|谨防|警惕|预防|避免|严禁|禁止|以防|如遇|如发现|"
    r"若|一旦|如果|万一|可能|担心|是否|会不会|如何|怎么|可依法|可以|将|惩治|打击|严惩)"
    r"[^。；，,！？]{0,6}$"
)
# The whole text is a warning, a rule or a reminder.
_WARNING = re.compile(
    r"^(?:[【\[]?(?:温馨)?提[醒示][】\]]?|注意|提醒|请|预警|通知[:：]|防骗|安全提示)"
    r"|请(?:广大|各位|大家|市民|群众)?[^。]{0,6}(?:注意|提高警惕|谨防|警惕|防范|勿)"
    r"|(?:即将|将于|将会|预计|预报)[^。]{0,12}(?:台风|暴雨|强降雨|降雪|高温|寒潮)"
)
# A rebuttal: the harm is the rumour it denies.
_REBUTS = re.compile(r"不实|谣言|辟谣|不符|系伪造|系编造|澄清")
# The text ends by asking.
_ASKS = re.compile(
    r"(?:吗|呢|么|(?:还是|会不会|有没有|谁|什么|哪|怎么|如何|是否)[^。？?]{0,20})[？?]\s*$"
)
# The office speaks in its own voice: its 情况通报, 说明 or 辟谣.
_OFFICE_OWN = re.compile(
    r"^[^。]{0,30}(?:情况通报|情况说明|的说明|辟谣|澄清|声明)[:：]?|^(?:我局|本局|我办|本办|我中心)|我局"
)


# The office's own work: a mention about something else (a cat hurt, a museum's lost property)
# is no harm connected with it.
_OUR_WORK = re.compile(r"普查|统计|调查|直报|样本户|入户|记账户|数据|报表|产值|虚报|瞒报")
# Rules, plans, training, campaigns, advice and general discussion: they name harms without
# reporting one ("对篡改统计资料的给予处分", "开展反诈宣讲", "问：终端丢失了怎么办？").
_ROUTINE = re.compile(
    r"规定|明确|办法|条例|要求各|强调|部署|培训|演练|宣讲|宣传|讲座|课堂|话术|汇编|手法|解读|"
    r"专项行动|专项整治|专项治理|机制|举报电话|举报邮箱|投诉电话|邮箱|提醒|提示|告示|公示|"
    r"防骗|反诈|防诈|建议|^问[:：]|问[:：]|网友问|提问|求证|请问|怎么办|该怎么|慰问|看望|"
    r"依法保护|将依法|协助其|给予医疗|补助|占比|统计显示|常见|典型手法|多发|承诺|专家|观点"
)


def reported_harm(text: str) -> tuple[str, str] | None:
    """(kind, words) of the first harm the text reports as having happened, or None."""
    if _WARNING.search(text) or _ROUTINE.search(text) or not _OUR_WORK.search(text):
        return None
    if _ASKS.search(text) or _REBUTS.search(text):
        return None  # a plain question stays neutral
    office = bool(_OFFICE_OWN.search(text))
    fraud = bool(_FRAUD.search(text))
    for kind, pattern in _HARMS:
        # The office's own statement is neutral, except about fraud (the guideline).
        if office and not (kind == "fraud" or kind == "punished" and fraud):
            continue
        for match in pattern.finditer(text):
            if not _NOT_HAPPENED.search(text[max(0, match.start() - 12) : match.start()]):
                return kind, match.group()
    return None


def apply(texts: list[str], predictions: list[Prediction]) -> list[Prediction]:
    """Predictions with a neutral sentiment turned negative where the text reports harm; the
    words that tell of the harm lead the sentiment's deciding terms. The score stays the model's
    (its confidence in the neutral reading the rule overrode)."""
    out = []
    for text, prediction in zip(texts, predictions, strict=True):
        harm = reported_harm(text) if prediction.sentiment == "neutral" else None
        if harm is not None:
            terms = (harm[1], *(t for t in prediction.sentiment_terms if t != harm[1]))
            prediction = prediction._replace(sentiment="negative", sentiment_terms=terms[:4])
        out.append(prediction)
    return out
