"""The answer-check suites of `newsbot eval`: `grounding` and `followups`.

Both ask the product (`Assistant.stream`), cache the model's raw draft in a predictions store and
score it with the product's own check (`bot.answer.grounding.check_answer`), so a changed check is
re-scored from the cache without the model.
"""
