"""Take the README screenshots from the real app: the chat after a real answer, and the embed page.

chat.png (1280x800): the answer with its source highlighted after a click on its [1];
library.png: the Library tab; embed.png: examples/embed.html with both widgets answered;
phone.png (390x844): the chat on a phone, after the same click.

Builds a throwaway library from examples/articles with the real embedder and the bundled local
model (from the usual models folder), serves the app and examples/embed.html on two loopback
ports, asks real questions in headless Chromium and writes docs/screenshots/*.png.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path

import fastapi
from fastapi.staticfiles import StaticFiles
from playwright.sync_api import Locator, Page, expect, sync_playwright

from bot.web import build_app
from bot.web.server import serving_in_thread
from newsbot.factories import build_assistant, build_store
from newsbot.library import StoreLibrary
from newsbot.settings import get_settings

log = logging.getLogger("screenshots")

REPO = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
CHAT_QUESTION = "What did Pakistan and the US agree on?"
WIDGET_QUESTION = "How many smart kettles did Brightwell recall, and why?"
EXAMPLES = [CHAT_QUESTION, WIDGET_QUESTION, "What did the climate panel warn coastal towns about?"]
ANSWER_TIMEOUT_MS = 300_000


def ask_and_wait(box: Locator, question: str) -> None:
    """Ask in a chat and wait until the answer is complete (the input is enabled again)."""
    box.wait_for(timeout=60_000)
    box.fill(question)
    box.press("Enter")
    with contextlib.suppress(AssertionError):  # a fast answer may re-enable it at once
        expect(box).to_be_disabled(timeout=5_000)
    expect(box).to_be_enabled(timeout=ANSWER_TIMEOUT_MS)


def shoot(page: Page, path: Path) -> None:
    page.wait_for_timeout(800)  # let the last stream update and scroll settle
    page.screenshot(path=str(path))
    log.info("wrote %s", path)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args.out.mkdir(parents=True, exist_ok=True)

    # The usual folder: no second copy of the model.
    models_dir = get_settings().storage.resolved_models_dir
    with tempfile.TemporaryDirectory(prefix="newsbot-shots-") as tmp:
        settings = get_settings(data_dir=Path(tmp), models_dir=models_dir)
        store = build_store(settings)
        library = StoreLibrary(settings, store)
        log.info("ingest: %s", library.ingest([str(REPO / "examples" / "articles")]))
        host = fastapi.FastAPI()
        host.mount("/", StaticFiles(directory=REPO / "examples"))
        with serving_in_thread(host) as host_url:
            embedder = host_url.replace("127.0.0.1", "localhost")
            # Only configured origins may frame the widget (SECURITY.md): allow the host page.
            app = build_app(
                build_assistant(settings, store),
                library,
                examples=EXAMPLES,
                allowed_origins=[embedder],
            )
            shoot_all(app, embedder, args.out)


def show_first_source(page: Page) -> None:
    """Click the answer's first [n], as a reader checking it would."""
    cite = page.locator("a.nb-cite").first
    if cite.count():
        cite.click()
    else:
        log.warning("the answer cites nothing: no citation to click")


def shoot_all(app: fastapi.FastAPI, host_url: str, out: Path) -> None:
    """The chat, the Library tab, the chat on a phone, and the widget in `host_url`'s embed.html."""
    with serving_in_thread(app) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(url + "/")
        ask_and_wait(page.locator("#nb-input textarea"), CHAT_QUESTION)
        show_first_source(page)
        shoot(page, out / "chat.png")

        page.get_by_role("tab", name="Library").click()
        page.locator("#nb-articles table").wait_for()
        shoot(page, out / "library.png")

        phone = browser.new_page(viewport={"width": 390, "height": 844})
        phone.goto(url + "/")
        ask_and_wait(phone.locator("#nb-input textarea"), WIDGET_QUESTION)
        show_first_source(phone)
        shoot(phone, out / "phone.png")

        embed = browser.new_page(viewport={"width": 1280, "height": 800})
        embed.goto(f"{host_url}/embed.html?server={url}")
        frame = embed.frame_locator("#newsbot-iframe")
        ask_and_wait(frame.locator("textarea"), WIDGET_QUESTION)
        component = embed.locator("gradio-app")
        ask_and_wait(component.locator("textarea"), CHAT_QUESTION)
        shoot(embed, out / "embed.png")
        browser.close()


if __name__ == "__main__":
    main()
