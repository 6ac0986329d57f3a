"""Where article chunks live: embedders, the Chroma client, the article registry, the keyword index
and `NewsStore`, which ties them together (docs/ARCHITECTURE.md draws the modules)."""
