// newsbot's page script, run once when the chat page or the widget loads (`bot.web.page`).
//
// Gradio labels each chat message with its raw content, and an answer's content is HTML (the
// citation links, the sources list): a screen reader would read the tags. Each message's
// label becomes its plain text instead. The empty Sources picker gets a placeholder (Gradio's
// dropdown has none), a titled message's title is one button, and stored articles' links find the app. The work is redone whenever Gradio redraws, by one MutationObserver.
() => {
  const LABEL_CHARS = 600;
  // The text as read: lines (a source's heading, its passage) end in a full stop, so a
  // headline never runs into the passage under it.
  const plain = (element) => (element.innerText || element.textContent || "")
    .split(/\n+/).map((line) => line.replace(/\s+/g, " ").trim()).filter(Boolean)
    .map((line) => (/[.!?…:;]$/.test(line) ? line : line + "."))
    .join(" ");
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
  // A stored article's link is relative to the app's page; in a <gradio-app> on another site's
  // page it is made relative to the app's address (the element's src) instead.
  const storedLinks = (root) => {
    for (const link of root.querySelectorAll("gradio-app[src] a.nb-stored:not([data-nb-app])")) {
      const app = link.closest("gradio-app").getAttribute("src");
      const base = app.endsWith("/") ? app : app + "/";
      link.setAttribute("href", new URL(link.getAttribute("href"), new URL(base, location.href)).href);
      link.setAttribute("data-nb-app", "");
    }
  };
  const tidy = () => {
    for (const message of document.querySelectorAll("[data-testid=bot][aria-label], [data-testid=user][aria-label]")) {
      relabel(message);
    }
    placeholders(document);
    titles(document);
    storedLinks(document);
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
