// Browsers that block third-party storage (Chrome with third-party cookies blocked, Safari, Brave)
// throw on `localStorage` inside a cross-site iframe, and Gradio's chat then never finishes loading.
// Swap in an in-memory store so the embedded widget works; nothing needs to persist there.
(function () {
  try {
    window.localStorage.getItem("newsbot");
  } catch (blocked) {
    var data = new Map();
    var memory = {
      getItem: function (k) { return data.has(String(k)) ? data.get(String(k)) : null; },
      setItem: function (k, v) { data.set(String(k), String(v)); },
      removeItem: function (k) { data.delete(String(k)); },
      clear: function () { data.clear(); },
      key: function (i) { return Array.from(data.keys())[i] ?? null; },
      get length() { return data.size; },
    };
    try {
      Object.defineProperty(window, "localStorage", { value: memory, configurable: true });
    } catch (ignored) {}
  }
})();
