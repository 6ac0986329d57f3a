"""The word lists the answer check reads: one place for every list of words it treats specially.

Each list is grammar, not data about a benchmark: function words, words that point back into a
conversation, words that end a noun phrase. A word added here should be one that any English
answer could use that way, never one picked to make a particular case pass.
"""

from __future__ import annotations

import re


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Function words: they carry no claim, so they count for neither support nor coverage.
STOPWORDS = _words(
    """a an the and or but if then than that this these those there their they them he she it its
    his her we you your our i me my is are was were be been being am do does did done has have had
    having of in on at to for from by with about as into over after before between during under
    also not no so such can could would should will shall may might must just very more most
    other some any each all both who whom whose which what when where why how said says say
    according while up out one two new regarding concerning"""
)

# Words that point back into the conversation instead of naming a subject ("What about the
# second one?", "What did she say about him afterwards?").
REFERRING = _words(
    """him others rest latter former first second third fourth last next now then today yesterday
    tomorrow afterward afterwards later earlier ones thing things part point points bit side
    aspect detail details story article news case matter everything anything something"""
)

# Words that place a claim in time ("this week", "last Friday", "recently"). The `named_time`
# check judges them against the passages' dates, so the words themselves are no evidence.
TIME_WORDS = _words(
    """week weeks weekend month months year years today yesterday tomorrow tonight now recently
    recent latest last next earlier later monday tuesday wednesday thursday friday saturday
    sunday"""
)

# Capitalised words that name no subject of their own in a reader's follow-up: the calendar, and
# "I" with its contractions ("What did I miss in June?").
CALENDAR_AND_I = TIME_WORDS | _words(
    """january february march april may june july august september october november december
    i i'm i'd i'll i've"""
)
# What a reader opens a follow-up with, capitalised as a sentence's first word only: requests
# and acknowledgements ("Tell me more", "Thanks! What about ...").
CHAT_OPENERS = _words(
    """tell please thanks thank give explain summarise summarize list describe show really ok
    okay sure great cool wow hmm well"""
)

# Words that open sentences without naming anything, beside the stopwords and referring words.
SENTENCE_OPENERS = _words(
    "according although despite here instead thus therefore yes meanwhile overall"
)

# A sentence's first word is capitalised anyway; these are not names there.
NOT_A_NAME_AT_START = STOPWORDS | REFERRING | SENTENCE_OPENERS

# A subject named after "about" ends where a preposition or a relative clause begins ("about the
# lawsuits that were brought against him" → "the lawsuits"), except as its first word.
SUBJECT_END = _words(
    """that which who whom whose where when while because since in at on for with from by during
    after before to of over under between against into than as"""
)
# A subject phrase that starts with one of these names no noun ("about in 2024", "about what
# happened next").
NOT_A_NOUN_PHRASE = (SUBJECT_END - {"that", "which"}) | {"what", "why", "whether", "how"}

# "about" meaning "approximately" or "on the point of": "about 40", "about five people", "about
# to open", "about how many".
NOT_A_SUBJECT = re.compile(
    r"(?:to|how|half|a (?:dozen|third|quarter)|one|two|three|four|five|six|seven|eight|nine|ten|"
    r"twenty|thirty|forty|fifty|hundred|thousand|million|billion)\b|[$£€\d]",
    re.IGNORECASE,
)
