"""How a text carries a claim it contains: it asserts it, asks whether it is true, or quotes it
to refute it (the stance of issue 17's guideline, `nlp/corpus/README.md`)."""

from __future__ import annotations

import re

from nlp.types import Stance

# The writer quotes a claim to refute it or treats it as a fraud.
REFUTATION = re.compile(
    r"辟谣|谣言|不实|经核实|系误|澄清|不属实|纯属捏造|假消息|请勿轻信|勿信|别信|不要相信|"
    r"冒充|假冒|假普查员|骗子|诈骗|报警|是假的|假的[!！]|造谣|回应"
)
_NOT_REFUTATION = re.compile(r"不是谣言|并非谣言|不是假的|不是造谣")
# The writer asks whether a claim is true rather than stating it.
QUESTION = re.compile(
    r"吗|真的假的|是真的|是不是|靠谱|有没有|请问|对不对|属实|真有|哪个对|咋回事|准不准|是否"
)

# A question whether something is true, not about something else ("你达到了吗？").
TRUTH = re.compile(
    r"真的|假的|真假|属实|靠谱|准不准|准吗|对不对|对吗|是吗|这回事|真有|是不是真|可信|能信"
)
# A question asked in one word with its negation: "收不收费", "交不交钱", "是不是".
A_NOT_A = re.compile(r"(.)[不没]\1")
# An answer that says yes to the question before it ("要交吗？要的，一户15块"): the writer states
# the claim, and asks nothing.
_YES = re.compile(
    r"^\s*(?:要的|要[，,。！!]|是的|是[，,。！!]|对的|对[，,。！!]|会的|真的[，,。！!]|没错|确实|当然)"
)


def is_question(sentence: str) -> bool:
    """The sentence asks: a question mark with a question word, or a question word at the very
    end without one ("这数靠谱吗")."""
    stripped = sentence.rstrip()
    if stripped.endswith(("？", "?")):
        return bool(QUESTION.search(stripped) or A_NOT_A.search(stripped))
    return stripped.endswith(("吗", "吗…", "吗。")) and bool(TRUTH.search(stripped))


def questioned(sentences: list[str]) -> list[bool]:
    """Per sentence: it asks, or a short question right after it asks about it
    ("……增长12%。真的假的？"); a question the text answers with yes does not ask."""
    asks = [
        is_question(s) and not (i + 1 < len(sentences) and _YES.match(sentences[i + 1]))
        for i, s in enumerate(sentences)
    ]
    return [
        ask
        or (
            i + 1 < len(sentences)
            and asks[i + 1]
            and len(sentences[i + 1].strip()) <= 10
            and bool(TRUTH.search(sentences[i + 1]))
        )
        for i, ask in enumerate(asks)
    ]


def refutes(text: str) -> bool:
    """The text refutes a claim it quotes, or calls it a fraud."""
    return bool(REFUTATION.search(text)) and not _NOT_REFUTATION.search(text)


def stance_of(text: str, asked: bool) -> Stance:
    """How a text carries a claim found in it: refuting wins over asking ("网传……是真的吗？经核实
    不实"), and asking over stating."""
    if refutes(text):
        return "refutes"
    return "questions" if asked else "asserts"
