"""Followed feeds and sitemaps: read each document, find its new entries, store them.

`documents` reads a fetched feed or sitemap into entries; `pages` reads an entry's linked page
(robots.txt honoured, `robots`); `poller` polls one source (conditional GET, backoff, full text)
and hands new articles to the ingest pipeline; `worker` polls the due sources until stopped, one
process per source (the lease in `vectorstore.follows`); `schedule` holds the intervals.
"""
