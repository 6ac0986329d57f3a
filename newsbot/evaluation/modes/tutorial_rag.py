"""The reference a user would build instead of newsbot: LangChain's RAG tutorial, as written.

RecursiveCharacterTextSplitter (1,000 characters, 200 overlap, start index kept), then
`langchain_chroma.Chroma.from_documents` with the same embedder into its own collection, top-4
similarity search (no date filter: the tutorial has none), and the tutorial's RAG prompt with the
choices appended to the question. Only the evaluation and the benchmark use it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_text_splitters import RecursiveCharacterTextSplitter

from newsbot.evaluation.dataset import Doc

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from langchain_chroma import Chroma

logger = logging.getLogger(__name__)

CHUNK_CHARS = 1000
OVERLAP_CHARS = 200
TOP_K = 4
#: The prompt of LangChain's RAG tutorial (hub "rlm/rag-prompt"), quoted as the tutorial uses it.
TUTORIAL_PROMPT = (
    "You are an assistant for question-answering tasks. Use the following pieces of retrieved "
    "context to answer the question. If you don't know the answer, just say that you don't know. "
    "Use three sentences maximum and keep the answer concise.\n"
    "Question: {question} \nContext: {context} \nAnswer:"
)
#: Added under the choices so that a multiple-choice answer can be read at all.
CHOICE_INSTRUCTION = "Reply with the letter of the correct choice."


@dataclass(frozen=True)
class Split:
    """One tutorial chunk: its id, text and the dataset document it comes from."""

    chunk_id: str
    article_id: str
    text: str
    published: str | None


def split_docs(docs: Iterable[Doc]) -> list[Document]:
    """The tutorial's splits: 1,000/200 characters, each with `article_id`, `published`, start."""
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=CHUNK_CHARS, chunk_overlap=OVERLAP_CHARS, add_start_index=True
    )
    sources = [
        Document(
            page_content=doc.text, metadata={"article_id": doc.id, "published": doc.date or ""}
        )
        for doc in docs
    ]
    splits = splitter.split_documents(sources)
    counters: dict[str, int] = {}
    for split in splits:
        article = split.metadata["article_id"]
        index = counters.get(article, 0)
        counters[article] = index + 1
        split.id = f"{article}:rc{index}"
    return splits


def build_index(
    splits: Sequence[Document],
    embeddings: Embeddings,
    client: ClientAPI,
    collection: str,
) -> Chroma:
    """The tutorial's vector store over `splits`, reused when the collection already holds them."""
    from langchain_chroma import Chroma

    existing = Chroma(collection_name=collection, embedding_function=embeddings, client=client)
    count = existing._collection.count()
    if count == len(splits):
        logger.info("Plain RAG collection %s already holds %d chunks", collection, count)
        return existing
    if count:
        client.delete_collection(collection)
    started = time.perf_counter()
    store = Chroma.from_documents(
        list(splits),
        embeddings,
        ids=[str(s.id) for s in splits],
        collection_name=collection,
        client=client,
    )
    logger.info(
        "Plain RAG: embedded %d chunks in %.1f s", len(splits), time.perf_counter() - started
    )
    return store


def search(store: Chroma, question: str, k: int = TOP_K) -> list[Split]:
    """The tutorial's retrieval: top-k similarity search on the question, no filter."""
    return [
        Split(
            chunk_id=str(doc.id),
            article_id=str(doc.metadata["article_id"]),
            text=doc.page_content,
            published=str(doc.metadata.get("published") or "") or None,
        )
        for doc in store.similarity_search(question, k=k)
    ]


def build_prompt(question: str, choices_text: str, splits: Sequence[Split]) -> str:
    """The tutorial prompt: context joined by blank lines, the choices under the question."""
    context = "\n\n".join(split.text for split in splits)
    full_question = f"{question.strip()}\n{choices_text}\n{CHOICE_INSTRUCTION}"
    return TUTORIAL_PROMPT.format(question=full_question, context=context)
