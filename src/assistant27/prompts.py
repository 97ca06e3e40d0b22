"""Prompts as package data files, rendered strictly: a missing variable is an error."""

from __future__ import annotations

from functools import cache
from importlib import resources
from string import Template


@cache
def load(name: str) -> Template:
    return Template(resources.files("assistant27").joinpath("prompts", name).read_text(encoding="utf-8"))


def render(name: str, **variables: str) -> str:
    """Fill prompt file `name`; raises KeyError when a variable the file uses is missing."""
    return load(name).substitute(**variables)


# The prompt files a generator reads; what they say is never part of an answer (prompt_echo.py).
PROMPT_FILES = ("system_fr.txt", "user.txt")
