"""Load the prompt templates in this folder and check their declared variables.

Each template is a `<name>.txt` file: a short header of `# key: value` lines, a `---` line, then
the template body in Python `str.format` syntax (`{variable}`; literal braces doubled):

    # description: Rewrites a follow-up question as a standalone question.
    # variables: history, question
    ---
    Conversation:
    {history}
    ...

The loader checks that the body uses exactly the declared variables, so a template and the code
that fills it cannot drift apart silently.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from newsbot.errors import ConfigError

PROMPTS_DIR = Path(__file__).resolve().parent
_SEPARATOR = "---"


@dataclass(frozen=True)
class PromptTemplateFile:
    """One template: its name (the file stem), description, declared variables and body."""

    name: str
    description: str
    variables: frozenset[str]
    text: str

    def format(self, **values: object) -> str:
        """Fill the template; the keys must be exactly the declared variables."""
        given = frozenset(values)
        if given != self.variables:
            raise ValueError(
                f"prompt {self.name!r} takes {sorted(self.variables)}, got {sorted(given)}"
            )
        return self.text.format(**values)


@dataclass(frozen=True)
class Prompts:
    """All templates by name; the chain's templates are also attributes."""

    templates: Mapping[str, PromptTemplateFile]

    def get(self, name: str) -> PromptTemplateFile:
        """The template called `name`.

        Raises:
            ConfigError: when there is no `<name>.txt` template.
        """
        try:
            return self.templates[name]
        except KeyError:
            raise ConfigError(
                f"No prompt template {name!r} (have: {', '.join(sorted(self.templates))}): "
                f"add prompts/{name}.txt"
            ) from None

    @property
    def condense(self) -> PromptTemplateFile:
        return self.get("condense")

    @property
    def answer_system(self) -> PromptTemplateFile:
        return self.get("answer_system")

    @property
    def answer_user(self) -> PromptTemplateFile:
        return self.get("answer_user")

    @property
    def answer_retry(self) -> PromptTemplateFile:
        return self.get("answer_retry")

    @property
    def answer_more(self) -> PromptTemplateFile:
        return self.get("answer_more")


def body_variables(text: str) -> frozenset[str]:
    """The `{names}` a `str.format` template uses (doubled braces are literals)."""
    try:
        return frozenset(field for _, field, _, _ in string.Formatter().parse(text) if field)
    except ValueError as exc:
        raise ConfigError(f"Malformed prompt template: {exc}") from exc


def parse_template(name: str, raw: str) -> PromptTemplateFile:
    """Parse one template file's text (header, `---`, body) and check its variables.

    Raises:
        ConfigError: when the header is missing or the body's variables differ from the declared.
    """
    header, sep, body = raw.partition(f"\n{_SEPARATOR}\n")
    if not sep:
        raise ConfigError(f"Prompt {name!r} has no '---' line after its header: add one")
    fields: dict[str, str] = {}
    for line in header.splitlines():
        key, colon, value = line.lstrip("# ").partition(":")
        if colon:
            fields[key.strip().lower()] = value.strip()
    declared = frozenset(v.strip() for v in fields.get("variables", "").split(",") if v.strip())
    used = body_variables(body)
    if used != declared:
        raise ConfigError(
            f"Prompt {name!r} declares variables {sorted(declared)} but its body uses "
            f"{sorted(used)}: make the '# variables:' line match the body"
        )
    return PromptTemplateFile(
        name=name, description=fields.get("description", ""), variables=declared, text=body.strip()
    )


def load_prompts(directory: Path | None = None) -> Prompts:
    """Load every `*.txt` template in `directory` (default: this package's folder)."""
    folder = directory or PROMPTS_DIR
    templates = {
        path.stem: parse_template(path.stem, path.read_text(encoding="utf-8"))
        for path in sorted(folder.glob("*.txt"))
    }
    return Prompts(templates=templates)
