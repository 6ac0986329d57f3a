// newsbot's page script, run once when the chat page or the widget loads (`bot.web.page`).
//
// Gradio labels each chat message with its raw content, and an answer's content is HTML (the
// citation links, the sources list): a screen reader would read the tags. Each message's
// label becomes its plain text instead. The empty Sources picker gets a placeholder (Gradio's
// dropdown has none), and a titled message's title is one button. The work is redone whenever Gradio redraws, by one MutationObserver.
() => {
  const LABEL_CHARS = 600;
  const plain = (element) => (element.innerText || element.textContent || "")
    .replace(/\s+/g, " ").trim();
  const relabel = (message) => {
    const label = message.getAttribute("aria-label") || "";
    // Gradio's own label, not one set here (which may hold a "<" the article wrote as text).
    if (!/[<>]/.test(label) || label === message.dataset.nbLabel) return;
    const who = message.dataset.testid === "user" ? "user's message: " : "bot's message: ";
    const content = message.querySelector(".message-content") || message;
    let text = plain(content);
    if (text.length > LABEL_CHARS) text = text.slice(0, LABEL_CHARS - 1) + "…";
    message.dataset.nbLabel = who + text;
    message.setAttribute("aria-label", who + text);
  };
  const placeholders = (root) => {
    for (const input of root.querySelectorAll("#nb-source-filter input")) {
      const chosen = input.closest("#nb-source-filter").querySelector(".token");
      const wanted = chosen ? "" : "All sources";
      if (input.getAttribute("placeholder") !== wanted) input.setAttribute("placeholder", wanted);
    }
  };
  // A titled message (Sources) opens and closes on its title, a role="button" element holding
  // an unlabelled arrow button: one control, so the arrow leaves the tab order and the tree.
  const titles = (root) => {
    for (const title of root.querySelectorAll('.title[role="button"]')) {
      const open = String(title.classList.contains("expanded"));
      if (title.getAttribute("aria-expanded") !== open) title.setAttribute("aria-expanded", open);
      for (const arrow of title.querySelectorAll("button")) {
        if (arrow.disabled) continue;
        arrow.disabled = true;  // no longer focusable (newsbot.css sends its clicks to the title)
        arrow.setAttribute("aria-hidden", "true");
      }
    }
  };
  const tidy = () => {
    for (const message of document.querySelectorAll("[data-testid=bot][aria-label], [data-testid=user][aria-label]")) {
      relabel(message);
    }
    placeholders(document);
    titles(document);
  };
  let pending = false;
  const later = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; tidy(); });
  };
  new MutationObserver(later).observe(document.body, {
    subtree: true, childList: true, characterData: true, attributes: true,
    attributeFilter: ["aria-label", "class"],
  });
  tidy();
}
