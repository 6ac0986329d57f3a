"""From question to checked answer: the RAG chain, the assistant, chat history and the result."""
