"""The bounded Jinja sandbox for templates users write (应答口径, notices): Jinja's own sandbox
blocks escapes to Python internals but not resource use, so this one also bounds the size of
every text, list and number a template builds, and the time a render may take.

Sizes are checked before an operation allocates (`'a'|center(10**9)`, `'%300000000d' % 1`,
`s ~ s ~ s`), since checking the result would come after the damage. Time is checked on every
loop iteration, call, attribute and operator, against a deadline `render()` sets for the
current thread; a loop body that does nothing still passes through the loop's iterator.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from functools import wraps
from typing import Any

from jinja2 import Template, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import generate_lorem_ipsum

# What one user-edited template may build. Replies and notices are a few thousand characters;
# a longer text, list or loop is a mistake or an attack on the process that renders it.
MAX_TEXT = 100_000
MAX_LOOP = 1_000
MAX_INT_BITS = 4_096  # about 1,200 decimal digits
RENDER_SECONDS = 2.0

# Kept for the names the rest of the code used before the bounds moved here.
MAX_PRODUCT = MAX_TEXT

SIZED = (str, list, tuple, dict, set, frozenset)
# Width and precision in %-formatting and in str.format fields, where a number is a size.
PERCENT_SIZES = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\d*)(?:\.(\d*))?")
FORMAT_SIZES = re.compile(r"\{[^{}]*?:[^{}\d]*(\d+)(?:[,_]?\.(\d+))?")

# Filters whose first argument is measured before the call, so must not be an iterator.
MATERIALISED = frozenset({"join", "sum"})
# str methods whose output a short call can make enormous, and no reply needs.
REFUSED_METHODS = frozenset({"translate", "maketrans", "expandtabs"})

_deadline: ContextVar[float | None] = ContextVar("sandbox_deadline", default=None)


class RenderLimit(SecurityError):
    """A template went over a bound; the message is the Chinese reason shown to its author."""


def tick() -> None:
    deadline = _deadline.get()
    if deadline is not None and time.perf_counter() > deadline:
        raise RenderLimit(f"模板渲染超过 {RENDER_SECONDS:g} 秒，已停止")


def _size(value: Any, limit: int = MAX_TEXT) -> int:
    """Characters and items, counted through nested containers (a list of one long text
    repeated is as long as its text repeated); stops counting past `limit`."""
    if isinstance(value, str):
        return len(value)
    if not isinstance(value, SIZED):
        return 0
    items = value.items() if isinstance(value, dict) else value
    total = 0
    for item in items:
        total += 1 + _size(item, limit - total)
        if total > limit:
            break
    return total


def _bounded(value: Any) -> Any:
    if _size(value) > MAX_TEXT:
        raise RenderLimit(f"模板生成的文本或列表过长（上限 {MAX_TEXT} 个字符或项）")
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise RenderLimit("模板中的数字过大")
    return value


def _check_arguments(args: Iterable[Any]) -> None:
    """A number passed to a filter or method is a width, a count or a size: bound it."""
    for arg in args:
        if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) > MAX_TEXT:
            raise RenderLimit(f"模板中的数值参数过大（上限 {MAX_TEXT}）")
        _bounded(arg)


def _check_format(pattern: str, sizes: re.Pattern[str]) -> None:
    for match in sizes.finditer(pattern):
        for number in match.groups():
            if number and int(number) > MAX_TEXT:
                raise RenderLimit(f"模板的格式宽度过大（上限 {MAX_TEXT}）")


def _check_joined(parts: Iterable[Any], separator: str = "") -> None:
    if not isinstance(parts, SIZED):
        return  # str.join on an iterator: the result is measured after
    total = 0
    for part in parts:
        total += _size(part) + len(separator)
        if total > MAX_TEXT:
            raise _too_long()


def _too_long() -> RenderLimit:
    return RenderLimit(f"模板生成的文本过长（上限 {MAX_TEXT} 个字符）")


def _precheck(name: str, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """What `name` (a filter or a str method) would allocate, refused before it does."""
    if name in REFUSED_METHODS and isinstance(value, str):
        raise RenderLimit(f"模板中不能使用 {name}")
    _check_arguments((*args, *kwargs.values()))
    if name == "join" and isinstance(value, str) and args:  # str.join(iterable)
        _check_joined(args[0], value)
    elif name == "join" and isinstance(value, SIZED):  # the filter: items|join(sep)
        _check_joined([str(v) for v in value], str(args[0]) if args else "")
    elif name == "indent" and isinstance(value, str):
        width = args[0] if args else kwargs.get("width", 4)
        if (value.count("\n") + 1) * _size(width) > MAX_TEXT or (
            isinstance(width, int) and (value.count("\n") + 1) * width > MAX_TEXT
        ):
            raise _too_long()
    elif name == "sum" and _size(kwargs.get("start", args[1] if len(args) > 1 else 0)):
        if sum(_size(v) for v in value) > MAX_TEXT:
            raise _too_long()
    elif name == "replace" and isinstance(value, str) and len(args) >= 2:
        grows = max(len(str(args[1])) - len(str(args[0])), 0)
        if (value.count(str(args[0])) if args[0] else len(value) + 1) * grows > MAX_TEXT:
            raise _too_long()
    elif name == "format" and isinstance(value, str):
        _check_format(value, PERCENT_SIZES)
        _check_format(value, FORMAT_SIZES)


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    # Filters marked pass_context / pass_environment get that first; `wraps` copies the mark.
    skip = 1 if hasattr(function, "jinja_pass_arg") else 0

    @wraps(function)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        tick()
        if name in MATERIALISED and len(args) > skip and not isinstance(args[skip], SIZED):
            # A generator (from map or select) would be used up by the check: list it first.
            args = (*args[:skip], _listed(args[skip]), *args[skip + 1 :])
        value = args[skip] if len(args) > skip else None
        _precheck(name, value, tuple(args[skip + 1 :]), kwargs)
        return _bounded(function(*args, **kwargs))

    return bounded


def _listed(items: Iterable[Any]) -> list[Any]:
    """An iterator's items as a list, refused as soon as they add up to too much."""
    listed, total = [], 0
    for item in items:
        tick()
        total += 1 + _size(item)
        if total > MAX_TEXT:
            raise RenderLimit(f"模板生成的文本或列表过长（上限 {MAX_TEXT} 个字符或项）")
        listed.append(item)
    return listed


def _ticking(items: Iterable[Any]) -> Iterator[Any]:
    for item in items:
        tick()
        yield item


def bounded_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_LOOP:
        raise RenderLimit(f"模板中的 range 超过 {MAX_LOOP} 项")
    return numbers


def bounded_lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:  # noqa: A002
    """Jinja's placeholder text, which makes thousands of paragraphs from one short call."""
    if n > 20 or max > 200:
        raise RenderLimit("模板中的 lipsum 过长（最多 20 段，每段 200 词）")
    return str(generate_lorem_ipsum(n=n, html=html, min=min, max=max))


class _BoundedCode(CodeGenerator):
    """Compiles `~` to a join that measures first, and every loop over an iterator that
    checks the deadline (Jinja's documented `code_generator_class` hook)."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.bounded_join((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        ticking = nodes.Call(nodes.EnvironmentAttribute("ticking"), [node.iter], [], None, None)
        ticking.set_lineno(node.lineno)
        node.iter = ticking
        super().visit_For(node, frame)


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The sandbox with every operator, call, filter and loop bounded in size and time."""

    code_generator_class = _BoundedCode
    intercepted_binops = frozenset({"*", "**", "%", "+", "//", "/", "-"})
    intercepted_unops = frozenset({"-", "+"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.filters = {name: _bounded_filter(name, f) for name, f in self.filters.items()}
        self.globals["range"] = bounded_range
        self.globals["lipsum"] = bounded_lipsum

    @staticmethod
    def ticking(items: Iterable[Any]) -> Iterator[Any]:
        return _ticking(items)

    @staticmethod
    def bounded_join(parts: tuple[Any, ...]) -> str:
        tick()
        texts = [str(p) for p in parts]
        _check_joined(texts)
        return "".join(texts)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        tick()
        _bounded(left)
        _bounded(right)
        if operator == "**":
            if not isinstance(right, int | float) or abs(right) > 64:
                raise RenderLimit("模板中的乘方过大")
            if isinstance(left, int) and left.bit_length() * abs(right) > MAX_INT_BITS:
                raise RenderLimit("模板中的数字过大")
        elif operator == "*":
            if isinstance(left, SIZED) or isinstance(right, SIZED):
                count = right if isinstance(left, SIZED) else left
                size = _size(left) or _size(right)
                if isinstance(count, int) and count * max(size, 1) > MAX_TEXT:
                    raise RenderLimit("模板生成的文本过长")
            elif isinstance(left, int) and isinstance(right, int):
                if left.bit_length() + right.bit_length() > MAX_INT_BITS:
                    raise RenderLimit("模板中的数字过大")
        elif operator == "%" and isinstance(left, str):
            _check_format(left, PERCENT_SIZES)
            _check_arguments(right if isinstance(right, tuple) else (right,))
        elif operator == "+" and _size(left) + _size(right) > MAX_TEXT:
            raise RenderLimit("模板生成的文本过长")
        return _bounded(super().call_binop(context, operator, left, right))

    def call_unop(self, context: Any, operator: str, arg: Any) -> Any:
        tick()
        return super().call_unop(context, operator, arg)

    def getattr(self, obj: Any, attribute: str) -> Any:
        tick()
        if isinstance(obj, str) and attribute in ("format", "format_map"):
            # The sandbox hands these out wrapped, without their string: checked here.
            _check_format(obj, FORMAT_SIZES)
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        tick()
        return super().getitem(obj, argument)

    def call(
        __self,  # noqa: N805 - Jinja's signature; the context may be passed as `self`
        __context: Any,
        __obj: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        tick()
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str) and args and not isinstance(args[0], SIZED):
            # ''.join(generator): listed first so that it can be measured.
            args = (_listed(args[0]), *args[1:])
        if isinstance(owner, str):
            _precheck(getattr(__obj, "__name__", ""), owner, args, kwargs)
        else:
            _check_arguments((*args, *kwargs.values()))
        return _bounded(super().call(__context, __obj, *args, **kwargs))


def render(template: Template, context: dict[str, Any]) -> str:
    """Render within the time and size bounds; raises RenderLimit with the reason."""
    token = _deadline.set(time.perf_counter() + RENDER_SECONDS)
    try:
        out: list[str] = []
        size = 0
        for chunk in template.generate(**context):
            size += len(chunk)
            if size > MAX_TEXT:
                raise RenderLimit(f"模板生成的文本过长（上限 {MAX_TEXT} 个字符）")
            out.append(chunk)
        return "".join(out)
    finally:
        _deadline.reset(token)
