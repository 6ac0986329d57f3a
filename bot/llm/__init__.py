"""The chat model: OpenAI-protocol providers, the local llama.cpp server, the bundled GGUF."""
