"""The `newsbot` commands, one module a group: articles (ingest, stats, list, delete), asking
(ask, chat, serve), the local model (model install) and evaluation (eval).

`newsbot.cli` registers them on the top-level group. Each command only parses its options and
calls the module that does the work (`newsbot.ingest_command`, `newsbot.web_entry`, ...), which it
imports inside the command, so `newsbot --help` loads none of them.
"""
