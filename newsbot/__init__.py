"""newsbot: question answering over news articles, with citations, offline by default."""
