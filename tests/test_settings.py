"""Settings: the groups read the same NEWSBOT_* variables as ever, moved ones are refused with
their new spelling, and NEWSBOT_TUNING reaches the policy objects that hold the measured numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answer.grounding import GroundingPolicy
from newsbot.errors import ConfigError
from newsbot.factories import answer_options, ranking
from newsbot.settings import GROUPS, get_settings
from vectorstore.ranking import RankingPolicy


def test_each_variable_lands_in_its_group(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_LLM_PROVIDER", "openai")
    monkeypatch.setenv("NEWSBOT_EMBEDDER", "openai_compatible")
    monkeypatch.setenv("NEWSBOT_EMBED_BATCH_SIZE", "8")
    monkeypatch.setenv("NEWSBOT_TOP_K", "6")
    monkeypatch.setenv("NEWSBOT_ALLOWED_HOSTS", '["news.example.com"]')
    monkeypatch.setenv("NEWSBOT_FETCH_ALLOW_NETWORKS", '["10.0.0.0/8"]')
    monkeypatch.setenv("NEWSBOT_HTTP_TIMEOUT", "7")
    monkeypatch.setenv("NEWSBOT_MAX_QUEUED_QUESTIONS", "9")
    settings = get_settings(data_dir="/tmp/newsbot-settings-test", llm_max_tokens=99)
    assert settings.model.provider == "openai"
    assert settings.model.max_tokens == 99  # an override, by its flat name
    assert (settings.embedder.provider, settings.embedder.batch_size) == ("openai_compatible", 8)
    assert settings.retrieval.top_k == 6
    assert settings.web.allowed_hosts == ["news.example.com"]
    assert (settings.fetch.allow_networks, settings.fetch.timeout) == (["10.0.0.0/8"], 7.0)
    assert settings.limits.max_queued_questions == 9
    assert settings.storage.data_dir == Path("/tmp/newsbot-settings-test")
    assert settings.replace(top_k=2).retrieval.top_k == 2


def test_every_variable_name_is_unique() -> None:
    names = [cls.env_name(field) for cls in GROUPS.values() for field in cls.model_fields]
    assert len(names) == len(set(names))
    assert {"NEWSBOT_DATA_DIR", "NEWSBOT_LLM_MODEL_PATH", "NEWSBOT_CONTEXT_TOKENS"} <= set(names)


def test_a_bad_value_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_EMBED_BATCH_SIZE", "0")
    with pytest.raises(ConfigError, match="NEWSBOT_EMBED_BATCH_SIZE"):
        get_settings()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("NEWSBOT_FETCH_ALLOW_NETWORKS", "192.168.1.0/24"),
        ("NEWSBOT_ALLOWED_ORIGINS", "http://x.example"),
        ("NEWSBOT_TUNING", "not json"),
    ],
)
def test_a_list_or_mapping_that_is_not_json_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    """Found by a review: these stopped the CLI with a pydantic-settings traceback."""
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=f"{variable} is not JSON .*write a list as"):
        get_settings()


@pytest.mark.parametrize(
    "old", ["NEWSBOT_KEYWORD_WEIGHT", "NEWSBOT_RECENCY_DAYS", "NEWSBOT_GROUNDING"]
)
def test_a_moved_variable_is_refused_with_its_new_spelling(
    monkeypatch: pytest.MonkeyPatch, old: str
) -> None:
    monkeypatch.setenv(old, "1")
    with pytest.raises(ConfigError, match=f"{old} is no longer read: use NEWSBOT_TUNING"):
        get_settings()


def test_tuning_reaches_the_policies_that_hold_the_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    default = get_settings()
    assert ranking(default) == RankingPolicy()  # the measured weights, in one place
    assert answer_options(default)["policy"] == GroundingPolicy()
    monkeypatch.setenv(
        "NEWSBOT_TUNING", '{"recency_days": 30, "cited_support": 0.5, "time_phrases": true}'
    )
    tuned = get_settings()
    assert ranking(tuned).recency_days == 30
    assert answer_options(tuned)["policy"].cited_support == 0.5
    assert answer_options(tuned)["time_windows"] is True
    dense = tuned.replace(retrieval="dense")
    assert ranking(dense).keyword_weight == 0.0


def test_an_unknown_tuning_name_lists_the_known_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_TUNING", '{"recency_wieght": 2}')
    with pytest.raises(ConfigError, match=r"unknown names \['recency_wieght'\].*recency_weight"):
        ranking(get_settings())


def test_the_configuration_page_names_every_variable() -> None:
    page = (Path(__file__).resolve().parent.parent / "docs" / "configuration.md").read_text()
    missing = [
        cls.env_name(field)
        for cls in GROUPS.values()
        for field in cls.model_fields
        if f"`{cls.env_name(field)}`" not in page
    ]
    assert not missing, f"docs/configuration.md does not name {missing}"
