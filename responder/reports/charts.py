"""PNG charts for the daily and weekly reports: the sentiment trend and the top sources.

Charts are drawn on `matplotlib.figure.Figure` with the Agg canvas, never through pyplot:
pyplot keeps global figures and state that would leak between the scheduler's threads. Fonts
are passed to each text element for the same reason, instead of changing `rcParams`.

Chinese labels need a CJK font. The first installed one of `CJK_FONTS` is used; without one
the charts still render, with boxes for Chinese characters, and a warning names the package.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import MaxNLocator

from responder.labels import label

log = logging.getLogger(__name__)

# Simplified-Chinese faces first: the JP/KR/TC faces of the same families draw some shared
# characters in their own regional forms.
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Microsoft YaHei",
    "PingFang SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "Noto Sans SC",
    "Droid Sans Fallback",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
)
# File names of the fonts above, for fonts installed after matplotlib cached its font list.
_CJK_FILES = ("notosanscjk", "sourcehansans", "wqy-", "droidsansfallback", "msyh", "simhei")
FONT_PACKAGE = "fonts-noto-cjk"

DPI = 150
WIDTH = 7.2  # inches: 1080 px at DPI, shown 720 px wide
TEXT = "#1f2933"
MUTED = "#7b8794"
GRID = "#e4e7eb"
BAR = "#2e6fb7"
TICK_PT = 10  # shown at about 13 px, beside the page's 14 px text
MAX_NAME = 16  # characters of a source name shown; longer ones end in "…"


# The words drawn into the charts; the rest of a report's text is in templates/reports/.
WORDS = {
    "trend_daily": "信息量与情感倾向（每小时）",
    "trend_weekly": "信息量与情感倾向（每日）",
    "sources": "主要信源",
    "sources_top": "主要信源（信息最多的{n}个）",
    "empty": "本期无相关信息",
    "unjudged": "未研判",
}
WEEKDAYS = "一二三四五六日"
SENTIMENT_COLORS = {
    "negative": "#d64545",
    "neutral": "#9aa5b1",
    "positive": "#3f9142",
    "unjudged": "#d9dee4",
}


@dataclass(frozen=True)
class Series:
    name: str
    color: str
    values: list[int]


@cache
def cjk_font() -> str | None:
    """The family name of an installed CJK font, or None (logged once, naming the package)."""
    found = _installed_cjk_font()
    if found is None:
        # matplotlib caches its font list on disk when first imported, so a font installed
        # later is only seen once its file is added by hand.
        for path in font_manager.findSystemFonts():
            if any(key in Path(path).name.lower() for key in _CJK_FILES):
                font_manager.fontManager.addfont(path)
        found = _installed_cjk_font()
    if found is None:
        # One line in both languages: it is among the first things a person reads at start-up.
        log.warning(
            "未找到中文字体，图表中的中文将显示为方框："
            "请安装 %s（如 apt-get install %s）后重新启动。"
            " No CJK font found, Chinese text in charts will show as boxes: install %s "
            "(e.g. apt-get install %s) and restart.",
            FONT_PACKAGE,
            FONT_PACKAGE,
            FONT_PACKAGE,
            FONT_PACKAGE,
        )
    return found


def _installed_cjk_font() -> str | None:
    names = {entry.name for entry in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in names), None)


def _font(size: float, weight: str = "normal") -> FontProperties:
    family = cjk_font()
    return FontProperties(
        family=[family, "DejaVu Sans"] if family else ["DejaVu Sans"], size=size, weight=weight
    )


def _figure(height: float) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(WIDTH, height), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        axes.spines[side].set_color(GRID)
    axes.tick_params(colors=MUTED, length=0)
    return figure, axes


def _style_ticks(axes: Axes) -> None:
    for tick in (*axes.get_xticklabels(), *axes.get_yticklabels()):
        tick.set_fontproperties(_font(TICK_PT))
        tick.set_color(TEXT)


def _title(figure: Figure, title: str) -> None:
    figure.suptitle(
        _plain(title),
        x=0.012,
        y=0.975,
        ha="left",
        color=TEXT,
        fontproperties=_font(TICK_PT + 2, "bold"),
    )


def _plain(text: str) -> str:
    """Text as written: matplotlib reads a pair of `$` as mathematics."""
    return text.replace("$", r"\$")


def _png(figure: Figure) -> bytes:
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI, facecolor="white")
    return out.getvalue()


def _empty(axes: Axes, text: str) -> None:
    axes.text(
        0.5,
        0.5,
        text,
        transform=axes.transAxes,
        ha="center",
        va="center",
        color=MUTED,
        fontproperties=_font(11),
    )


def sentiment_trend(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    empty_text: str,
    label_every: int = 1,
) -> bytes:
    """Stacked bars, one per time bucket, one colour per sentiment (negative at the bottom,
    where its height is easiest to compare); `label_every` thins crowded axis labels."""
    figure, axes = _figure(3.1)
    _title(figure, title)
    positions = list(range(len(labels)))
    bottom = [0] * len(labels)
    shown = [s for s in series if any(s.values)]
    for item in shown:
        axes.bar(
            positions,
            item.values,
            bottom=bottom,
            width=0.72,
            color=item.color,
            label=_plain(item.name),
            linewidth=0,
        )
        bottom = [b + v for b, v in zip(bottom, item.values, strict=True)]
    axes.set_xticks(positions)
    axes.set_xticklabels(
        [_plain(text) if i % label_every == 0 else "" for i, text in enumerate(labels)]
    )
    axes.set_xlim(-0.6, len(labels) - 0.4)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    axes.grid(axis="y", color=GRID, linewidth=0.8)
    axes.set_axisbelow(True)
    if shown:
        axes.set_ylim(0, max(bottom) * 1.12)
        axes.legend(
            loc="lower right",
            bbox_to_anchor=(1.0, 1.0),
            ncol=len(shown),
            frameon=False,
            prop=_font(TICK_PT),
            handlelength=1.0,
            handleheight=1.0,
            borderaxespad=0.2,
            columnspacing=1.2,
        )
    else:
        axes.set_ylim(0, 1)
        _empty(axes, empty_text)
    _style_ticks(axes)
    figure.subplots_adjust(left=0.06, right=0.985, top=0.84, bottom=0.16)
    return _png(figure)


def top_sources(title: str, names: Sequence[str], counts: Sequence[int], empty_text: str) -> bytes:
    """Horizontal bars, the largest source on top, each labelled with its count."""
    names = [_plain(n if len(n) <= MAX_NAME else n[: MAX_NAME - 1] + "…") for n in names]
    height = max(2.0, 0.8 + 0.38 * len(names))
    figure, axes = _figure(height)
    _title(figure, title)
    if names:
        positions = list(range(len(names)))[::-1]
        bars = axes.barh(positions, counts, height=0.62, color=BAR, linewidth=0)
        axes.set_yticks(positions)
        axes.set_yticklabels(names)
        # Each bar carries its count, so the x axis would only repeat them.
        axes.bar_label(bars, padding=4, color=TEXT, fontproperties=_font(TICK_PT))
        axes.set_xlim(0, max(counts) * 1.1)
        axes.set_xticks([])
        axes.spines["bottom"].set_visible(False)
    else:
        axes.set_xticks([])
        axes.set_yticks([])
        _empty(axes, empty_text)
    _style_ticks(axes)
    # Room on the left for the longest name: one em per Chinese character.
    longest = max((len(n) for n in names), default=0)
    left = (longest * TICK_PT + 12) / (WIDTH * 72)
    figure.subplots_adjust(
        left=max(left, 0.06), right=0.96, top=1 - 0.42 / height, bottom=0.12 / height
    )
    return _png(figure)


def trend_chart(
    kind: str, buckets: Sequence[tuple[datetime, Mapping[str, int]]], sentiments: Sequence[str]
) -> bytes:
    """A report's trend: hourly buckets for the daily, days for the weekly."""
    if kind == "daily":
        labels = [start.strftime("%H:%M") for start, _ in buckets]
    else:
        labels = [f"{d.month}/{d.day}\n周{WEEKDAYS[d.weekday()]}" for d, _ in buckets]
    series = [
        Series(
            WORDS["unjudged"] if code == "unjudged" else label("sentiments", code),
            SENTIMENT_COLORS[code],
            [counts.get(code, 0) for _, counts in buckets],
        )
        for code in sentiments
    ]
    title = WORDS[f"trend_{kind}"]
    return sentiment_trend(title, labels, series, WORDS["empty"], 3 if kind == "daily" else 1)


def sources_chart(sources: Sequence[tuple[str, int]], more: bool) -> bytes:
    """A report's top sources; `more` when some sources are left out."""
    title = WORDS["sources_top"].format(n=len(sources)) if more else WORDS["sources"]
    return top_sources(title, [n for n, _ in sources], [c for _, c in sources], WORDS["empty"])
