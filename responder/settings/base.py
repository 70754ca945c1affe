"""The base of every settings section, and the error every configuration mistake raises."""

from __future__ import annotations

from pydantic import (
    BaseModel,
    ConfigDict,
)


class ConfigError(Exception):
    """A configuration file or variable is wrong; the message names where and what."""

    def __init__(self, where: str, key: str, problem: str) -> None:
        self.where, self.key, self.problem = where, key, problem
        super().__init__(f"{where}: {key}: {problem}" if key else f"{where}: {problem}")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")
