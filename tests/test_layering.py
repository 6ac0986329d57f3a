"""The import directions of docs/ARCHITECTURE.md, checked on the source so the layering can't rot.

Each rule names a package (or module) and the packages of ours it may import; the most specific rule
wins. Imports inside functions count too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = ("newsbot", "bot", "ingest", "prompts", "vectorstore")
CORE = ("newsbot.errors", "newsbot.settings")

# module prefix -> prefixes it may import (itself always allowed)
RULES: dict[str, tuple[str, ...]] = {
    "newsbot.errors": (),
    "newsbot.settings": ("newsbot.errors",),
    "prompts": ("newsbot.errors",),
    "vectorstore": ("newsbot.errors",),
    "ingest": ("vectorstore", "newsbot.errors"),
    "bot": (),  # bot/__init__.py: the package marker
    "bot.llm": ("newsbot.errors",),
    "bot.answer.links": (),  # pure text: links made plain, used by the check and the web
    "bot.answer.grounding": (
        "bot.answer.links",
        "vectorstore.records",
        "vectorstore.sentences",  # the one sentence splitter (pure text)
        "newsbot.errors",
    ),
    "bot.answer": ("prompts", "vectorstore", "newsbot.errors"),
    "bot.terminal": ("bot.answer", "newsbot.errors"),
    "bot.web": ("bot.answer", "vectorstore.records", "newsbot.errors"),
    # Who may reach the app: the rules, the warnings that apply them, the layers that enforce them.
    "bot.web.origins": ("newsbot.errors",),
    "bot.web.refusals": ("bot.web.origins",),
    "bot.web.security": ("bot.web.auth", "bot.web.origins", "bot.web.refusals", "newsbot.errors"),
    # newsbot's ground floor (core): errors and settings, above. Its upper floor (app), below:
    # the adapters, the composition root, evaluation, the commands; each names what it wires.
    "newsbot": (),  # newsbot/__init__.py: the package marker
    "newsbot.article_list": ("ingest.cleaning", "ingest.dates", "vectorstore.records"),
    "newsbot.login_records": ("bot.web", "vectorstore.database", "newsbot.errors"),
    "newsbot.question_log": ("bot.web.answer_log", "vectorstore.database", "newsbot.errors"),
    "newsbot.factories": (*CORE, "bot.answer", "bot.llm", "prompts", "vectorstore"),
    "newsbot.ingest_command": (*CORE, "newsbot.factories", "ingest", "vectorstore"),
    "newsbot.library": (*CORE, "newsbot.ingest_command", "vectorstore"),
    "newsbot.retention_command": (*CORE, "vectorstore"),
    "newsbot.follow_command": (
        *CORE,
        "newsbot.factories",
        "newsbot.ingest_command",
        "newsbot.retention_command",
        "ingest",
        "vectorstore",
    ),
    "newsbot.web_entry": (
        *CORE,
        "newsbot.factories",
        "newsbot.follow_command",
        "newsbot.library",
        "newsbot.login_records",
        "newsbot.question_log",
        "bot.web",
        "vectorstore.store",
    ),
    "newsbot.evaluation": (
        *CORE,
        "newsbot.factories",
        "bot.answer",
        "ingest",
        "prompts",
        "vectorstore",
    ),
    "newsbot.commands": (
        *CORE,
        "newsbot.factories",
        "newsbot.ingest_command",
        "newsbot.follow_command",
        "newsbot.retention_command",
        "newsbot.article_list",
        "newsbot.web_entry",
        "newsbot.evaluation",
        "newsbot.question_log",
        "bot",
        "ingest.cleaning",
        "ingest.follow.schedule",
        "vectorstore.records",
    ),
    "newsbot.cli": ("newsbot.commands", "newsbot.errors"),
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.split(".")[0] in OURS}


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _rule(module: str) -> tuple[str, tuple[str, ...]]:
    matching = [prefix for prefix in RULES if _within(module, prefix)]
    assert matching, f"{module} has no layering rule: add one to RULES and ARCHITECTURE.md"
    prefix = max(matching, key=len)
    return prefix, RULES[prefix]


SOURCES = sorted(p for package in OURS for p in (ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_one_way(path: Path) -> None:
    module = _module_name(path)
    own, allowed = _rule(module)
    wrong = sorted(
        name
        for name in _imports(path)
        if not _within(name, own) and not any(_within(name, ok) for ok in allowed)
    )
    assert not wrong, f"{module} ({own} layer) may not import {wrong}"


def test_the_rules_cover_a_real_violation() -> None:
    # The check itself: bot importing ingest is what ARCHITECTURE.md forbids.
    own, allowed = _rule("bot.answer.chain")
    assert own == "bot.answer"
    assert not any(_within("ingest.pipeline", ok) for ok in allowed)
