"""Prompt templates as data files with declared variables, and their loader."""

from prompts.loader import Prompts, PromptTemplateFile, load_prompts

__all__ = ["PromptTemplateFile", "Prompts", "load_prompts"]
