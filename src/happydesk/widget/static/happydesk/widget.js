/*! Happydesk widget: one script tag on a company's own site opens a small help panel.
 *
 *   <script src="https://help.example/widget.js" data-mailbox="3" async></script>
 *
 * Search with suggestions as you type, articles read inside the panel, the contact form, what's new
 * since the last visit and open incidents. A host page that knows its user passes our SSO token (a JWT)
 * as data-jwt="…" or calls Happydesk.identify(token): the widget trades it once for a short-lived
 * identity of ours, kept in memory only (no cookie, no storage), sends it with messages (which are
 * then verified) and shows "Your conversations". Everything lives in one custom element with an open shadow
 * root that holds its own styles: the host page's CSS cannot reach in, and nothing leaks out (no
 * stylesheet, class or global style is added to the host document). No framework, no build step.
 * See docs/subsystems/widget.md.
 */
(() => {
  "use strict";

  // --- where we come from -------------------------------------------------------------------------
  const current = document.currentScript;
  const script =
    current && current.dataset && current.dataset.mailbox
      ? current
      : document.querySelector('script[src*="widget.js"][data-mailbox]');
  if (!script || window.Happydesk) return; // no tag to read, or included twice: the first one wins
  const mailboxId = String(script.dataset.mailbox || "").trim();
  if (!/^\d+$/.test(mailboxId)) {
    console.warn("Happydesk widget: data-mailbox must be the mailbox's number, e.g. data-mailbox=\"3\"");
    return;
  }
  // The server is wherever widget.js came from (works when Happydesk is mounted under a path, too).
  const base = new URL(".", script.src).href;
  const api = (path) => new URL(path, base).href;
  const launcherLabel = (script.dataset.label || "Help").trim() || "Help";
  const initialJwt = String(script.dataset.jwt || "").trim();

  // --- small helpers ------------------------------------------------------------------------------
  const safeStorage = (kind) => {
    try {
      const s = window[kind];
      return {
        get: (k) => { try { return s.getItem(k); } catch (e) { return null; } },
        set: (k, v) => { try { s.setItem(k, v); } catch (e) { /* full or blocked: not needed */ } },
      };
    } catch (e) { // storage disabled by the browser: remember nothing, work anyway
      return { get: () => null, set: () => {} };
    }
  };
  const local = safeStorage("localStorage");
  const perTab = safeStorage("sessionStorage");
  const SEEN_KEY = `happydesk:${mailboxId}:announcements-seen`;
  const SESSION_KEY = `happydesk:${mailboxId}:visit`;

  const randomId = () => {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID(); // secure contexts
    const bytes = new Uint8Array(16); // plain-http sites: same randomness, formatted by hand
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  };

  function flatten(list, out) {
    for (const item of list) {
      if (Array.isArray(item)) flatten(item, out);
      else if (item !== null && item !== undefined && item !== false) out.push(item);
    }
    return out;
  }

  /** h("p", {class: "x", onclick: fn}, "text", child) */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") el.className = value;
      else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
      else el.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of flatten(children, [])) el.append(child.nodeType ? child : String(child));
    return el;
  }

  const icon = (paths, size) => {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", String(size || 18));
    svg.setAttribute("height", String(size || 18));
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    for (const d of paths) {
      const p = document.createElementNS("http://www.w3.org/2000/svg", "path");
      p.setAttribute("d", d);
      svg.append(p);
    }
    return svg;
  };
  const ICONS = {
    help: ["M12 22a10 10 0 1 1 0-20 10 10 0 0 1 0 20z", "M9.3 9a2.8 2.8 0 0 1 5.4 1c0 1.9-2.7 2.4-2.7 4", "M12 17.5h.01"],
    close: ["M6 6l12 12", "M18 6L6 18"],
    search: ["M10.5 18a7.5 7.5 0 1 1 0-15 7.5 7.5 0 0 1 0 15z", "M16 16l5 5"],
    back: ["M15 6l-6 6 6 6"],
    external: ["M14 4h6v6", "M20 4l-9 9", "M18 14v5a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1h5"],
    alert: ["M12 3l10 18H2z", "M12 10v4", "M12 17.5h.01"],
    check: ["M5 12.5l4.5 4.5L19 7"],
  };

  // Only what an article or a snippet may contain reaches the panel. The server already sanitizes
  // (nh3 after Markdown); this second allow-list means a mistake there cannot run script on the
  // company's site. DOMParser documents are inert: nothing in them loads or runs while we read them.
  const ARTICLE_TAGS = new Set(
    ("a abbr b blockquote br caption code col colgroup dd del div dl dt em figcaption figure h1 h2 h3 " +
      "h4 h5 h6 hr i img ins kbd li mark ol p pre q s small span strong sub sup table tbody td tfoot th " +
      "thead tr u ul").split(" ")
  );
  const DROP_WITH_CONTENT = new Set(
    "script style template iframe frame object embed noscript svg math form input button textarea select link meta base".split(" ")
  );
  const ATTRIBUTES = {
    a: ["href", "title"],
    img: ["src", "alt", "title", "width", "height"],
    td: ["colspan", "rowspan", "data-align"],
    th: ["colspan", "rowspan", "data-align", "scope"],
    ol: ["start"],
    abbr: ["title"],
  };

  function safeUrl(value, against) {
    try {
      const url = new URL(value, against);
      return ["http:", "https:", "mailto:"].indexOf(url.protocol) >= 0 ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function cleanHtml(html, allowed, against) {
    const doc = new DOMParser().parseFromString(`<!doctype html><body>${html}</body>`, "text/html");
    const out = document.createDocumentFragment();
    const copy = (from, into) => {
      for (const node of Array.from(from.childNodes)) {
        if (node.nodeType === Node.TEXT_NODE) {
          into.append(node.data);
        } else if (node.nodeType === Node.ELEMENT_NODE) {
          const tag = node.localName;
          if (DROP_WITH_CONTENT.has(tag)) continue;
          if (!allowed.has(tag)) { copy(node, into); continue; } // unknown wrapper: keep its text
          const el = document.createElement(tag);
          for (const name of ATTRIBUTES[tag] || []) {
            let value = node.getAttribute(name);
            if (value === null) continue;
            if (name === "href" || name === "src") value = safeUrl(value, against);
            else if (name === "data-align") {
              // A table column's alignment, set through the CSSOM: a host page's strict policy allows that,
              // where it would refuse a style attribute (the server sends none for this reason).
              if (/^(left|right|center|justify)$/.test(value)) el.style.textAlign = value;
              continue;
            }
            if (value !== null) el.setAttribute(name, value);
          }
          if (tag === "a") { el.target = "_blank"; el.rel = "noopener noreferrer"; }
          if (tag === "img") { el.loading = "lazy"; el.referrerPolicy = "no-referrer"; }
          copy(node, el);
          into.append(el);
        }
      }
    };
    copy(doc.body, out);
    return out;
  }
  const MARK_ONLY = new Set(["mark"]);

  // The search matches every word it is given, so the little words of a sentence ("how do I reset my
  // password") would find nothing: send the words that carry the meaning. A query of only such words
  // is sent as typed.
  const STOP_WORDS = new Set(
    ("a about after again all also am an and any anyone are as at be been being but by can cannot could " +
      "did do does doing dont for from get getting got had has have having hello help hey hi how i if im in " +
      "into is it its ive just me my myself need no not now of on or our please should so some still than " +
      "thank thanks that the their them then there these they this to too trying tried up us want was we " +
      "were what when where which who why will with would you your " +
      "t s m re ve ll d don doesn didn isn wasn won couldn wouldn shouldn haven hasn aren weren cant").split(" ")
  );
  const WORD_SPLIT = /[\s.,;:!?()"“”‘’'`/\\|<>[\]{}+=*&^%$#@~_-]+/;
  function keywords(text, max) {
    const words = String(text).toLowerCase().split(WORD_SPLIT).filter(Boolean);
    const kept = words.filter((w) => !STOP_WORDS.has(w));
    return (kept.length ? kept : words).slice(0, max || 8).join(" ");
  }

  const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const ARTICLE_LINK = new RegExp(`^${escapeRe(base)}help/articles/(\\d+)(?:[-/]|$)`);
  const opensInPanel = (result) => result.kind === "article" || result.kind === "faq";

  function formatDate(iso) {
    try {
      return new Date(iso).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
    } catch (e) {
      return "";
    }
  }

  async function getJson(path, signal) {
    const response = await fetch(api(path), { credentials: "omit", signal });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return response.json();
  }

  // --- who the visitor is, when the host page tells us (SSO) ------------------------------------------
  let identity = null; // our signed identity from identify.json: in memory only, gone with the page
  let identified = null; // {name, email} of the identified visitor

  const authHeaders = () => (identity ? { Authorization: `Bearer ${identity}` } : {});

  async function getIdentified(path) {
    const response = await fetch(api(path), { credentials: "omit", headers: authHeaders() });
    if (response.status === 401) forget();
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return response.json();
  }

  // --- deflection: a random id for this visit (nothing personal), events reported once each ------
  let session = perTab.get(SESSION_KEY) || randomId();
  perTab.set(SESSION_KEY, session);
  let reported = new Set();

  function report(event) {
    if (reported.has(event)) return;
    reported.add(event);
    // text/plain keeps it a "simple" cross-origin request (no preflight); no cookies are sent.
    fetch(api(`widget/${mailboxId}/events.json`), {
      method: "POST",
      body: JSON.stringify({ session, event, source: "widget" }),
      headers: { "Content-Type": "text/plain" },
      credentials: "omit",
      keepalive: true,
    }).catch(() => { /* counting is best effort; never bother the visitor with it */ });
  }

  function newVisit() { // after a message is sent, what happens next is a new visit
    session = randomId();
    perTab.set(SESSION_KEY, session);
    reported = new Set();
  }

  // --- styles (inside the shadow root only) ------------------------------------------------------
  const ACCENT = "#2f6fde";
  const CSS = `
:host { all: initial !important; display: block !important; position: fixed !important; right: 0 !important;
  bottom: 0 !important; width: 0 !important; height: 0 !important; overflow: visible !important;
  z-index: 2147483000 !important; visibility: visible !important; opacity: 1 !important;
  contain: none !important; transform: none !important; filter: none !important; }
*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
.hd { --accent: ${ACCENT}; --accent-dark: #2358b8; --ink: #1f2328; --muted: #59636e; --line: #e3e6ea;
  --soft: #f6f7f9; --bad: #b42318; --warn-bg: #fff4e5; --warn-ink: #7a3e00;
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--ink); -webkit-font-smoothing: antialiased; text-align: left; letter-spacing: normal; }
button, input, select, textarea { font: inherit; color: inherit; margin: 0; }
button { cursor: pointer; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
:focus { outline: none; }
:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; border-radius: 4px; }
.sr-only { position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; border: 0; }

.launcher { position: fixed; right: 20px; bottom: 20px; display: inline-flex; align-items: center; gap: 8px;
  height: 48px; padding: 0 20px 0 16px; border: 0; border-radius: 24px; background: var(--accent); color: #fff;
  font-size: 15px; font-weight: 600; line-height: 1; box-shadow: 0 6px 18px rgba(31,35,40,.18), 0 1px 3px rgba(31,35,40,.14);
  transition: background-color .15s ease, transform .15s ease; }
.launcher:hover { background: var(--accent-dark); }
.launcher:active { transform: translateY(1px); }
.launcher:focus-visible { outline: none; box-shadow: 0 0 0 3px #fff, 0 0 0 5px var(--accent-dark), 0 6px 18px rgba(31,35,40,.18); }
.launcher svg { fill: none; stroke: currentColor; stroke-width: 2; stroke-linecap: round; stroke-linejoin: round; }
.badge { position: absolute; top: -5px; right: -5px; min-width: 20px; height: 20px; padding: 0 5px; border-radius: 10px;
  background: #c62828; color: #fff; border: 2px solid #fff; font-size: 11px; font-weight: 700; line-height: 16px; text-align: center; }

.panel { position: fixed; right: 20px; bottom: 80px; width: 380px; height: 560px; max-height: calc(100vh - 100px);
  display: flex; flex-direction: column; background: #fff; border: 1px solid rgba(31,35,40,.08); border-radius: 12px;
  box-shadow: 0 16px 48px rgba(31,35,40,.16), 0 2px 8px rgba(31,35,40,.08); overflow: hidden;
  transition: opacity .16s ease, transform .16s ease; }
.panel.entering { opacity: 0; transform: translateY(8px); }
@media (max-width: 480px) {
  .panel { inset: 0; width: auto; height: auto; max-height: none; border-radius: 0; border: 0; }
}
@media (prefers-reduced-motion: reduce) {
  .panel, .launcher { transition: none; }
  .panel.entering { transform: none; }
}

.head { display: flex; align-items: flex-start; gap: 12px; padding: 16px 16px 8px 20px; }
.head-text { flex: 1; min-width: 0; }
.title { margin: 0; font-size: 16px; font-weight: 650; line-height: 1.3; }
.sub { margin: 2px 0 0; color: var(--muted); font-size: 13px; }
.icon-btn { display: inline-flex; align-items: center; justify-content: center; width: 32px; height: 32px; flex: none;
  border: 0; border-radius: 8px; background: transparent; color: var(--muted); }
.icon-btn:hover { background: var(--soft); color: var(--ink); }
.icon-btn svg, .back svg, .newtab svg, .ext svg, .incident svg, .thanks svg { fill: none; stroke: currentColor; stroke-width: 2;
  stroke-linecap: round; stroke-linejoin: round; }

.incident { display: flex; gap: 10px; align-items: flex-start; margin: 4px 16px 8px; padding: 10px 12px;
  border-radius: 8px; background: var(--warn-bg); color: var(--warn-ink); font-size: 13px; }
.incident svg { flex: none; margin-top: 1px; }
.incident a { color: var(--warn-ink); font-weight: 600; text-decoration: underline; }
.incident .state { display: block; font-size: 12px; }

.tabs { display: flex; gap: 4px; padding: 0 16px; border-bottom: 1px solid var(--line); }
.tab { position: relative; padding: 10px 8px; border: 0; background: transparent; color: var(--muted); font-weight: 550; }
.tab:hover { color: var(--ink); }
.tab[aria-selected="true"] { color: var(--ink); }
.tab[aria-selected="true"]::after { content: ""; position: absolute; left: 6px; right: 6px; bottom: -1px; height: 2px;
  border-radius: 2px; background: var(--accent); }
.tab .count { display: inline-block; margin-left: 4px; min-width: 18px; padding: 0 5px; border-radius: 9px;
  background: #e8effc; color: var(--accent-dark); font-size: 11px; line-height: 18px; text-align: center; }

.body { flex: 1; overflow-y: auto; overscroll-behavior: contain; padding: 16px 20px; }
.view { display: block; }
.label { display: block; margin: 0 0 6px; font-size: 13px; font-weight: 600; }
.hint { margin: 6px 0 0; color: var(--muted); font-size: 12.5px; }
.field { margin: 0 0 14px; }
.input, .select, .textarea { display: block; width: 100%; padding: 9px 11px; border: 1px solid #c9ced4; border-radius: 8px;
  background: #fff; line-height: 1.4; }
.textarea { min-height: 110px; resize: vertical; }
.input:focus, .select:focus, .textarea:focus { outline: none; border-color: var(--accent); box-shadow: 0 0 0 3px rgba(47,111,222,.22); }
.input[aria-invalid="true"], .textarea[aria-invalid="true"], .select[aria-invalid="true"] { border-color: var(--bad); }
.field-error { margin: 5px 0 0; color: var(--bad); font-size: 12.5px; }
.search-field { position: relative; }
.search-field svg { position: absolute; left: 11px; top: 50%; transform: translateY(-50%); fill: none; stroke: var(--muted);
  stroke-width: 2; stroke-linecap: round; pointer-events: none; }
.search-field .input { padding-left: 36px; font-size: 15px; }
.search-field .input::-webkit-search-cancel-button { cursor: pointer; }

.results, .deflect ul, .news { list-style: none; margin: 0; padding: 0; }
.results { margin-top: 12px; }
.result { display: block; padding: 10px 12px; margin: 0 -12px; border-radius: 8px; cursor: pointer; }
.result + .result { margin-top: 2px; }
.result:hover, .result.active { background: #eef3fd; }
.result.active { box-shadow: inset 3px 0 0 var(--accent); }
.result-title { display: flex; align-items: baseline; gap: 8px; font-weight: 600; color: var(--ink); }
.result-title .text { flex: 1; min-width: 0; }
.kind { flex: none; padding: 1px 7px; border-radius: 9px; background: var(--soft); color: var(--muted); font-size: 11px;
  font-weight: 600; letter-spacing: .02em; }
.ext { display: inline-flex; vertical-align: -2px; color: var(--muted); }
.snippet { display: block; margin-top: 2px; color: var(--muted); font-size: 13px; overflow: hidden;
  display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; }
mark { background: #fff1b8; color: inherit; border-radius: 2px; padding: 0 1px; }
.note { margin: 14px 0 0; color: var(--muted); font-size: 13px; }
.note.corrected { margin: 10px 0 0; }
.news-intro { margin: 0 0 4px; color: var(--muted); font-size: 12.5px; }
.note .link-btn { font-size: 13px; }
.link-btn { padding: 0; border: 0; background: none; color: var(--accent-dark); font-weight: 600; }
.link-btn:hover { text-decoration: underline; }
.cta { margin-top: 18px; padding: 12px 14px; border-radius: 10px; background: var(--soft); font-size: 13px; color: var(--muted); }

.article-bar { display: flex; align-items: center; justify-content: space-between; gap: 8px; margin: -4px 0 10px; }
.back { display: inline-flex; align-items: center; gap: 2px; padding: 4px 8px 4px 2px; border: 0; border-radius: 6px;
  background: transparent; color: var(--accent); font-weight: 600; }
.back:hover { background: #eef3fd; }
.newtab { display: inline-flex; align-items: center; gap: 4px; font-size: 13px; }
.article-title { margin: 0 0 8px; font-size: 18px; line-height: 1.3; font-weight: 650; }
.article-body { font-size: 14.5px; line-height: 1.6; overflow-wrap: anywhere; }
.article-body > :first-child { margin-top: 0; }
.article-body p, .article-body ul, .article-body ol, .article-body pre, .article-body blockquote, .article-body table { margin: 0 0 12px; }
.article-body h1, .article-body h2, .article-body h3, .article-body h4 { margin: 18px 0 8px; font-size: 15px; line-height: 1.35; }
.article-body ul, .article-body ol { padding-left: 22px; }
.article-body li + li { margin-top: 3px; }
.article-body code { padding: 1px 4px; border-radius: 4px; background: var(--soft); font: 13px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.article-body pre { padding: 10px 12px; border-radius: 8px; background: var(--soft); overflow-x: auto; }
.article-body pre code { padding: 0; background: none; }
.article-body blockquote { padding-left: 12px; border-left: 3px solid var(--line); color: var(--muted); }
.article-body img { max-width: 100%; height: auto; border-radius: 6px; }
.article-body table { border-collapse: collapse; display: block; overflow-x: auto; }
.article-body th, .article-body td { padding: 5px 8px; border: 1px solid var(--line); }
.article-body a { text-decoration: underline; }
.loading { color: var(--muted); }

fieldset { margin: 0 0 14px; padding: 0; border: 0; min-width: 0; }
legend { padding: 0; margin: 0 0 6px; font-size: 13px; font-weight: 600; }
.choices { display: flex; flex-wrap: wrap; gap: 6px; }
.choice { position: relative; }
.choice input { position: absolute; opacity: 0; width: 1px; height: 1px; }
.choice span { display: inline-block; padding: 5px 11px; border: 1px solid #c9ced4; border-radius: 16px; font-size: 13px;
  color: var(--ink); background: #fff; cursor: pointer; }
.choice span:hover { border-color: var(--accent); }
.choice input:checked + span { border-color: var(--accent); background: #e8effc; color: var(--accent-dark); font-weight: 600; }
.choice input:focus-visible + span { outline: 2px solid var(--accent); outline-offset: 2px; }
.optional { color: var(--muted); font-weight: 400; }
.honeypot { position: absolute !important; left: -10000px; top: auto; width: 1px; height: 1px; overflow: hidden; }
.file { display: block; width: 100%; font-size: 13px; color: var(--muted); }
.file::file-selector-button { margin-right: 10px; padding: 6px 10px; border: 1px solid #c9ced4; border-radius: 8px;
  background: #fff; color: var(--ink); font: inherit; cursor: pointer; }

.deflect { margin: 0 0 14px; padding: 12px 14px; border: 1px solid #d6e2f8; border-radius: 10px; background: #f5f8fe; }
.deflect h3 { margin: 0 0 6px; font-size: 13px; font-weight: 650; }
.deflect li + li { margin-top: 4px; }
.deflect .link-btn, .deflect a { font-weight: 500; text-align: left; color: var(--accent-dark); }
.form-error { margin: 0 0 12px; padding: 9px 12px; border-radius: 8px; background: #fdecea; color: var(--bad); font-size: 13px; }
.primary { display: inline-flex; align-items: center; justify-content: center; width: 100%; height: 42px; border: 0;
  border-radius: 8px; background: var(--accent); color: #fff; font-weight: 600; font-size: 15px; }
.primary:hover { background: var(--accent-dark); }
.primary:disabled { opacity: .7; cursor: progress; }
.primary:focus-visible { outline: none; box-shadow: 0 0 0 2px #fff, 0 0 0 4px var(--accent-dark); }
.thanks { padding: 24px 4px; text-align: center; }
.thanks .tick { display: inline-flex; align-items: center; justify-content: center; width: 48px; height: 48px;
  border-radius: 24px; background: #e6f4ea; color: #1a7f37; margin-bottom: 10px; }
.thanks h3 { margin: 0 0 6px; font-size: 17px; }
.thanks p { margin: 0 0 12px; color: var(--muted); }
.secondary { padding: 8px 14px; border: 1px solid #c9ced4; border-radius: 8px; background: #fff; font-weight: 600; }
.secondary:hover { background: var(--soft); }

.news li { padding: 10px 0; border-bottom: 1px solid var(--line); }
.news li:last-child { border-bottom: 0; }
.news a { font-weight: 600; }
.msg-text { white-space: pre-wrap; margin: 4px 0 0; }
.news time { display: block; color: var(--muted); font-size: 12.5px; }

.foot { display: flex; justify-content: center; gap: 18px; padding: 10px 16px; border-top: 1px solid var(--line);
  background: #fbfbfc; font-size: 12.5px; }
.foot a { color: var(--muted); }
.foot a:hover { color: var(--ink); }
`;

  // --- state ---------------------------------------------------------------------------------------
  let config = null; // from config.json; null until loaded (or when the mailbox has no contact form)
  let isOpen = false;
  let view = "search"; // search | article | contact | news | mine
  let articleReturn = null; // {view, focus} to go back to from an article
  let results = []; // current search results
  let active = -1; // highlighted search result
  let searchSeq = 0;
  let searchAbort = null;
  let searchTimer = null;
  let deflectSeq = 0;
  let deflectTimer = null;
  let lastDeflectQuery = "";
  let pendingPrefill = null;

  // --- the element and its shadow root ------------------------------------------------------------
  const hostEl = document.createElement("happydesk-widget");
  // Inline !important as a first line of defence; :host !important in the shadow styles wins over
  // any rule on the page (important declarations of the inner context beat the outer one). Set through
  // the CSSOM, which a host page's Content-Security-Policy allows even without 'unsafe-inline' styles
  // (a style attribute set with setAttribute would be refused).
  hostEl.style.cssText =
    "all: initial !important; position: fixed !important; right: 0 !important; bottom: 0 !important; " +
    "width: 0 !important; height: 0 !important; z-index: 2147483000 !important; display: block !important;";
  const root = hostEl.attachShadow({ mode: "open" });
  // A constructed stylesheet also works under a strict Content-Security-Policy (no 'unsafe-inline').
  let sheet = null;
  try {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
  } catch (e) {
    root.append(h("style", {}, CSS));
  }

  const badge = h("span", { class: "badge", hidden: true, "aria-hidden": "true" });
  const badgeText = h("span", { class: "sr-only" });
  const launcher = h(
    "button",
    { class: "launcher", type: "button", "aria-expanded": "false", "aria-controls": "hd-panel" },
    icon(ICONS.help, 20),
    h("span", {}, launcherLabel),
    badgeText,
    badge
  );

  const titleEl = h("h2", { class: "title", id: "hd-title" }, "How can we help?");
  const subEl = h("p", { class: "sub" }, "Search our answers or write to us.");
  const closeBtn = h("button", { class: "icon-btn", type: "button", "aria-label": "Close help" }, icon(ICONS.close, 18));
  const incidentEl = h("div", { class: "incident", role: "status", hidden: true });

  const tabDefs = [
    { name: "search", label: "Answers" },
    { name: "contact", label: "Write to us" },
    { name: "news", label: "What's new" },
    { name: "mine", label: "Your conversations" },
  ];
  const tabs = {};
  const newsCount = h("span", { class: "count", hidden: true });
  const tablist = h("div", { class: "tabs", role: "tablist", "aria-label": "Help sections" });
  for (const def of tabDefs) {
    const tab = h(
      "button",
      {
        class: "tab",
        type: "button",
        role: "tab",
        id: `hd-tab-${def.name}`,
        "aria-controls": `hd-view-${def.name}`,
        "aria-selected": def.name === "search" ? "true" : "false",
        tabindex: def.name === "search" ? "0" : "-1",
        onclick: () => show(def.name, { focus: false }),
      },
      def.label,
      def.name === "news" ? newsCount : null
    );
    tabs[def.name] = tab;
    tablist.append(tab);
  }
  tabs.news.hidden = true;
  tabs.mine.hidden = true; // until the host page identifies the visitor
  tabs.mine.addEventListener("click", () => loadMine());
  tabs.contact.hidden = true; // until config says the mailbox takes messages
  tablist.addEventListener("keydown", (event) => {
    const visible = tabDefs.map((d) => tabs[d.name]).filter((t) => !t.hidden);
    const at = visible.indexOf(root.activeElement);
    if (at < 0) return;
    let next = null;
    if (event.key === "ArrowRight") next = visible[(at + 1) % visible.length];
    else if (event.key === "ArrowLeft") next = visible[(at - 1 + visible.length) % visible.length];
    else if (event.key === "Home") next = visible[0];
    else if (event.key === "End") next = visible[visible.length - 1];
    if (!next) return;
    event.preventDefault();
    next.focus();
    next.click();
  });

  // Search view
  const searchInput = h("input", {
    class: "input",
    id: "hd-q",
    type: "search",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "e.g. reset my password",
    role: "combobox",
    "aria-autocomplete": "list",
    "aria-expanded": "false",
    "aria-controls": "hd-results",
    "aria-describedby": "hd-q-hint",
  });
  const searchHint = h("p", { class: "hint", id: "hd-q-hint" }, "Answers appear as you type.");
  const resultsEl = h("ul", { class: "results", id: "hd-results", role: "listbox", "aria-label": "Suggested answers" });
  const correctedNote = h("p", { class: "note corrected", hidden: true });
  const searchNote = h("p", { class: "note", hidden: true });
  const searchLive = h("p", { class: "sr-only", "aria-live": "polite" });
  const writeCta = h(
    "p",
    { class: "cta", hidden: true },
    "Can't find what you need? ",
    h("button", { class: "link-btn", type: "button", onclick: () => writeToUs() }, "Write to us"),
    " and we'll get back to you."
  );
  const searchView = h(
    "section",
    { class: "view", id: "hd-view-search", role: "tabpanel", "aria-labelledby": "hd-tab-search" },
    h(
      "form",
      { role: "search", onsubmit: (e) => e.preventDefault() },
      h("label", { class: "label", for: "hd-q" }, "Search for answers"),
      h("div", { class: "search-field" }, icon(ICONS.search, 18), searchInput)
    ),
    searchHint,
    correctedNote,
    resultsEl,
    searchNote,
    searchLive,
    writeCta
  );

  // Article view
  const articleTitle = h("h3", { class: "article-title", tabindex: "-1" });
  const articleBody = h("div", { class: "article-body" });
  const articleNewTab = h(
    "a",
    { class: "newtab", target: "_blank", rel: "noopener" },
    "Open in a new tab",
    icon(ICONS.external, 14)
  );
  const backBtn = h("button", { class: "back", type: "button", onclick: () => goBack() }, icon(ICONS.back, 18), "Back");
  const articleView = h(
    "section",
    { class: "view", id: "hd-view-article", "aria-labelledby": "hd-article-title", hidden: true },
    h("div", { class: "article-bar" }, backBtn, articleNewTab),
    h("article", {}, articleTitle, articleBody)
  );
  articleTitle.id = "hd-article-title";
  articleBody.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("a[href]");
    const m = link && ARTICLE_LINK.exec(link.href);
    if (!m) return; // other links open in a new tab (target=_blank)
    event.preventDefault();
    openArticle({ id: Number(m[1]), title: link.textContent, url: link.href }, { keepReturn: true });
  });

  // Contact view (built once config has arrived)
  const contactView = h("section", {
    class: "view",
    id: "hd-view-contact",
    role: "tabpanel",
    "aria-labelledby": "hd-tab-contact",
    hidden: true,
  });
  let form = null;
  let deflectBox = null;

  // What's new view
  const newsList = h("ul", { class: "news" });
  const newsView = h(
    "section",
    { class: "view", id: "hd-view-news", role: "tabpanel", "aria-labelledby": "hd-tab-news", hidden: true },
    h("p", { class: "news-intro" }, "Published since your last visit"),
    newsList
  );

  // Your conversations view (identified visitors only)
  const mineView = h("section", {
    class: "view",
    id: "hd-view-mine",
    role: "tabpanel",
    "aria-labelledby": "hd-tab-mine",
    hidden: true,
  });

  const statusLink = h("a", { target: "_blank", rel: "noopener", href: api("status/") }, "System status");
  const helpLink = h("a", { target: "_blank", rel: "noopener", href: api("help/") }, "Help centre");
  const bodyEl = h("div", { class: "body" }, searchView, articleView, contactView, newsView, mineView);
  const panel = h(
    "div",
    { class: "panel", id: "hd-panel", role: "dialog", "aria-modal": "false", "aria-label": "Help", hidden: true },
    h("header", { class: "head" }, h("div", { class: "head-text" }, titleEl, subEl), closeBtn),
    incidentEl,
    tablist,
    bodyEl,
    h("footer", { class: "foot" }, statusLink, helpLink)
  );
  const views = { search: searchView, article: articleView, contact: contactView, news: newsView, mine: mineView };

  root.append(h("div", { class: "hd" }, launcher, panel));

  // --- opening, closing, switching -----------------------------------------------------------------
  function markAnnouncementsSeen() {
    if (!config) return;
    local.set(SEEN_KEY, config.now); // the server's clock, so a wrong clock here changes nothing
    badge.hidden = true;
    badgeText.textContent = "";
  }

  function open(name) {
    if (!isOpen) {
      isOpen = true;
      panel.hidden = false;
      panel.classList.add("entering");
      requestAnimationFrame(() => requestAnimationFrame(() => panel.classList.remove("entering")));
      launcher.setAttribute("aria-expanded", "true");
      markAnnouncementsSeen();
    }
    if (name && views[name] && !(tabs[name] && tabs[name].hidden)) show(name, { focus: true });
    else focusView();
  }

  function close() {
    if (!isOpen) return;
    isOpen = false;
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }

  function focusView() {
    if (view === "search") searchInput.focus();
    else if (view === "article") articleTitle.focus();
    else if (view === "contact" && form) {
      const first = form.querySelector("input:not([type=hidden]):not([tabindex='-1']), textarea");
      (first || contactView).focus();
    } else tabs[view] && tabs[view].focus();
  }

  function show(name, { focus } = { focus: true }) {
    if (name !== "article") articleReturn = null;
    view = name;
    for (const [key, el] of Object.entries(views)) el.hidden = key !== name;
    const tabName = name === "article" ? (articleReturn && articleReturn.view) || "search" : name;
    for (const [key, tab] of Object.entries(tabs)) {
      const selected = key === tabName;
      tab.setAttribute("aria-selected", selected ? "true" : "false");
      tab.tabIndex = selected ? 0 : -1;
    }
    bodyEl.scrollTop = 0;
    if (focus) focusView();
  }

  launcher.addEventListener("click", () => (isOpen ? close() : open()));
  closeBtn.addEventListener("click", close);
  root.addEventListener("keydown", (event) => { // in the panel or on the launcher
    if (event.key === "Escape" && isOpen) {
      event.preventDefault();
      event.stopPropagation();
      close();
    }
  });

  // --- search with suggestions as you type -------------------------------------------------------
  function renderResultContent(result) {
    const snippet = h("span", { class: "snippet" });
    snippet.append(cleanHtml(result.snippet || "", MARK_ONLY, base));
    const newTab = !opensInPanel(result);
    return [
      h(
        "span",
        { class: "result-title" },
        h("span", { class: "text" }, result.title, newTab ? h("span", { class: "ext" }, " ", icon(ICONS.external, 13)) : null),
        h("span", { class: "kind" }, result.kind_label || result.kind)
      ),
      newTab ? h("span", { class: "sr-only" }, " (opens in a new tab)") : null,
      snippet,
    ];
  }

  function setActive(index) {
    active = index;
    Array.from(resultsEl.children).forEach((li, i) => {
      li.classList.toggle("active", i === index);
      li.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    if (index >= 0) {
      const li = resultsEl.children[index];
      searchInput.setAttribute("aria-activedescendant", li.id);
      li.scrollIntoView({ block: "nearest" });
    } else {
      searchInput.removeAttribute("aria-activedescendant");
    }
  }

  function renderResults(q, data) {
    results = data.results || [];
    resultsEl.textContent = "";
    setNote(correctedNote, null);
    setNote(searchNote, null);
    active = -1;
    searchInput.removeAttribute("aria-activedescendant");
    results.forEach((result, i) => {
      const li = h(
        "li",
        {
          class: "result",
          role: "option",
          id: `hd-opt-${i}`,
          "aria-selected": "false",
          onclick: () => choose(result, li),
          onmousemove: () => { if (active !== i) setActive(i); },
        },
        renderResultContent(result)
      );
      resultsEl.append(li);
    });
    searchInput.setAttribute("aria-expanded", results.length ? "true" : "false");
    searchHint.hidden = results.length > 0;
    if (results.length) {
      report("shown");
      if (data.corrected) setNote(correctedNote, ["Showing results for ", h("strong", {}, data.corrected)]);
      searchLive.textContent = `${results.length} suggestion${results.length === 1 ? "" : "s"}. Use the arrow keys to choose.`;
    } else {
      setNote(searchNote, [`No answers match “${q}” yet.`]);
      searchLive.textContent = "No suggestions.";
    }
  }

  function setNote(el, parts) {
    el.textContent = "";
    if (parts) el.append(...parts);
    el.hidden = !parts;
  }

  function clearResults() {
    results = [];
    resultsEl.textContent = "";
    setNote(correctedNote, null);
    setNote(searchNote, null);
    searchLive.textContent = "";
    searchHint.hidden = false;
    searchInput.setAttribute("aria-expanded", "false");
    setActive(-1);
  }

  async function suggest(q, limit, signal) {
    return getJson(`search/suggest.json?limit=${limit}&q=${encodeURIComponent(q)}`, signal);
  }

  async function runSearch() {
    const q = searchInput.value.trim();
    if (searchAbort) searchAbort.abort();
    if (q.length < 2) { clearResults(); return; }
    const seq = ++searchSeq;
    searchAbort = typeof AbortController === "function" ? new AbortController() : null;
    try {
      const data = await suggest(keywords(q), 6, searchAbort && searchAbort.signal);
      if (seq === searchSeq) renderResults(q, data);
    } catch (e) {
      if (e && e.name === "AbortError") return;
      if (seq === searchSeq) {
        clearResults();
        setNote(searchNote, ["Search isn't answering right now. Please try again in a moment."]);
      }
    }
  }

  searchInput.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(runSearch, 200);
  });
  searchInput.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" && results.length) {
      event.preventDefault();
      setActive(active < results.length - 1 ? active + 1 : 0);
    } else if (event.key === "ArrowUp" && results.length) {
      event.preventDefault();
      setActive(active > 0 ? active - 1 : results.length - 1);
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (active >= 0 && results[active]) choose(results[active], resultsEl.children[active]);
      else if (results.length) setActive(0);
    }
  });

  function choose(result, fromEl) {
    report("opened");
    if (opensInPanel(result)) {
      articleReturn = { view: view === "article" ? "search" : view, focus: fromEl || null };
      openArticle(result, { keepReturn: true });
    } else {
      window.open(result.url, "_blank", "noopener");
    }
  }

  // --- reading an article in the panel -----------------------------------------------------------
  let articleSeq = 0;
  async function openArticle(result, { keepReturn } = {}) {
    if (!keepReturn || !articleReturn) articleReturn = { view: view === "article" ? "search" : view, focus: null };
    const seq = ++articleSeq;
    articleTitle.textContent = result.title || "";
    articleBody.textContent = "";
    articleBody.append(h("p", { class: "loading" }, "Loading…"));
    articleNewTab.href = result.url || api(`help/articles/${result.id}/`);
    show("article", { focus: false });
    articleTitle.focus();
    try {
      const data = await getJson(`help/articles/${result.id}.json`);
      if (seq !== articleSeq) return;
      articleTitle.textContent = data.title;
      articleNewTab.href = data.url;
      articleBody.textContent = "";
      articleBody.append(cleanHtml(data.html || "", ARTICLE_TAGS, data.url));
    } catch (e) {
      if (seq !== articleSeq) return;
      articleBody.textContent = "";
      articleBody.append(
        h("p", {}, "We couldn't load this article here. ", h("a", { href: articleNewTab.href, target: "_blank", rel: "noopener" }, "Open it in a new tab"), ".")
      );
    }
  }

  function goBack() {
    const target = (articleReturn && articleReturn.view) || "search";
    const focusEl = articleReturn && articleReturn.focus;
    articleReturn = null;
    show(target, { focus: false });
    if (focusEl && focusEl.isConnected && target === "search") {
      searchInput.focus();
      const i = Array.prototype.indexOf.call(resultsEl.children, focusEl);
      if (i >= 0) setActive(i);
    } else if (focusEl && focusEl.isConnected) {
      focusEl.focus();
    } else {
      focusView();
    }
  }

  // --- the contact form --------------------------------------------------------------------------
  const FIELD_ORDER = ["name", "email", "topic", "subject", "message", "feeling", "attachments"];
  let fieldErrors = {};
  let formError = null;
  let sendBtn = null;

  function field(name, label, control, { optional } = {}) {
    const error = h("p", { class: "field-error", id: `hd-err-${name}`, hidden: true });
    fieldErrors[name] = { error, control };
    return h(
      "div",
      { class: "field" },
      h("label", { class: "label", for: `hd-f-${name}` }, label, optional ? h("span", { class: "optional" }, " (optional)") : null),
      control,
      error
    );
  }

  function buildContact() {
    fieldErrors = {};
    const input = (name, type, extra) =>
      h("input", Object.assign({ class: "input", id: `hd-f-${name}`, name, type }, extra || {}));
    const topics = (config.topics || []).filter((t) => String(t).trim());
    const topicSelect = topics.length
      ? h(
          "select",
          { class: "select", id: "hd-f-topic", name: "topic" },
          h("option", { value: "" }, "Choose one…"),
          topics.map((t) => h("option", { value: t }, t))
        )
      : null;
    const feelings = config.feelings || [];
    const feelingSet = feelings.length
      ? h(
          "fieldset",
          { "aria-describedby": "hd-err-feeling" },
          h("legend", {}, "How are you feeling?", h("span", { class: "optional" }, " (optional)")),
          h(
            "div",
            { class: "choices" },
            feelings.map((f) =>
              h("label", { class: "choice" }, h("input", { type: "radio", name: "feeling", value: f.value }), h("span", {}, f.label))
            ),
            h("label", { class: "choice" }, h("input", { type: "radio", name: "feeling", value: "", checked: true }), h("span", {}, "Rather not say"))
          ),
          h("p", { class: "field-error", id: "hd-err-feeling", hidden: true })
        )
      : null;
    if (feelingSet) fieldErrors.feeling = { error: feelingSet.querySelector(".field-error"), control: feelingSet.querySelector("input") };

    const subject = input("subject", "text", { required: true, maxlength: "300", autocomplete: "off" });
    const message = h("textarea", { class: "textarea", id: "hd-f-message", name: "message", required: true, rows: "5" });
    deflectBox = h("aside", { class: "deflect", hidden: true, "aria-live": "polite", "aria-label": "Suggested answers" });
    formError = h("p", { class: "form-error", role: "alert", hidden: true });
    sendBtn = h("button", { class: "primary", type: "submit" }, "Send message");

    form = h(
      "form",
      { novalidate: true, onsubmit: submit },
      field("name", "Your name", input("name", "text", { required: true, maxlength: "200", autocomplete: "name" })),
      field("email", "Email", input("email", "email", { required: true, autocomplete: "email", inputmode: "email" })),
      topicSelect ? field("topic", "What's this about?", topicSelect) : null,
      field("subject", "Subject", subject),
      field("message", "Message", message),
      feelingSet,
      field("attachments", "Attach files", h("input", { class: "file", id: "hd-f-attachments", name: "attachments", type: "file", multiple: true }), { optional: true }),
      h(
        "div",
        { class: "honeypot", "aria-hidden": "true" },
        h("label", { for: "hd-f-website" }, "Leave this empty"),
        h("input", { id: "hd-f-website", name: "website", type: "text", tabindex: "-1", autocomplete: "off" })
      ),
      deflectBox,
      formError,
      sendBtn
    );
    for (const [name, { control }] of Object.entries(fieldErrors)) {
      if (control && name !== "feeling") control.setAttribute("aria-describedby", `hd-err-${name}`);
    }
    subject.addEventListener("input", queueDeflect);
    message.addEventListener("input", queueDeflect);
    contactView.textContent = "";
    contactView.append(form);
    lastDeflectQuery = "";
    if (pendingPrefill) prefill(pendingPrefill);
    else if (identified) prefill(identified);
  }

  // What to ask while they write: the subject's words first; when those find nothing, the first few
  // words of the message (every word must match, so a long query would find nothing).
  function deflectQueries() {
    const subject = keywords(form.elements.subject.value, 6);
    const message = keywords(form.elements.message.value, 4);
    return [subject, message].filter((q, i, all) => q.length >= 3 && all.indexOf(q) === i);
  }

  function queueDeflect() {
    clearTimeout(deflectTimer);
    deflectTimer = setTimeout(runDeflect, 300);
  }

  async function runDeflect() {
    const queries = deflectQueries();
    const key = queries.join("|");
    if (!queries.length || key === lastDeflectQuery) return;
    lastDeflectQuery = key;
    const seq = ++deflectSeq;
    let found = [];
    try {
      for (const q of queries) {
        found = (await suggest(q, 3)).results || [];
        if (found.length || seq !== deflectSeq) break;
      }
    } catch (e) {
      return; // suggestions are a help, not a requirement
    }
    if (seq !== deflectSeq) return;
    deflectBox.textContent = "";
    if (!found.length) { deflectBox.hidden = true; return; }
    deflectBox.append(
      h("h3", {}, "These might answer your question"),
      h(
        "ul",
        {},
        found.map((result) =>
          h(
            "li",
            {},
            opensInPanel(result)
              ? h("button", { class: "link-btn", type: "button", onclick: (e) => choose(result, e.currentTarget) }, result.title)
              : h("a", { href: result.url, target: "_blank", rel: "noopener", onclick: () => report("opened") }, result.title, h("span", { class: "sr-only" }, " (opens in a new tab)"))
          )
        )
      )
    );
    deflectBox.hidden = false;
    report("shown");
  }

  function showErrors(errors) {
    let first = null;
    for (const [name, { error, control }] of Object.entries(fieldErrors)) {
      const messages = errors[name];
      error.hidden = !messages;
      error.textContent = messages ? messages.join(" ") : "";
      if (control && name !== "feeling") control.setAttribute("aria-invalid", messages ? "true" : "false");
      if (messages && !first) first = name;
    }
    const other = Object.keys(errors).filter((k) => !fieldErrors[k]);
    if (other.length) {
      formError.hidden = false;
      formError.textContent = other.map((k) => errors[k].join(" ")).join(" ");
    }
    if (first) {
      const firstInOrder = FIELD_ORDER.find((n) => errors[n] && fieldErrors[n]) || first;
      const target = fieldErrors[firstInOrder].control;
      if (target) target.focus();
    }
  }

  async function submit(event) {
    event.preventDefault();
    formError.hidden = true;
    showErrors({});
    const data = new FormData(form);
    data.set("tz_offset", String(new Date().getTimezoneOffset()));
    try {
      data.set("tz_name", Intl.DateTimeFormat().resolvedOptions().timeZone || "");
    } catch (e) {
      data.set("tz_name", "");
    }
    data.set("session", session);
    const files = form.elements.attachments && form.elements.attachments.files;
    if (files && !files.length) data.delete("attachments"); // an empty file part is not an attachment
    sendBtn.disabled = true;
    sendBtn.textContent = "Sending…";
    let response = null;
    let body = null;
    try {
      // multipart/form-data is a "simple" request: no preflight, and no cookies go with it
      // With an identity the Authorization header makes it a preflighted request; still no cookies.
      response = await fetch(api(`widget/${mailboxId}/contact.json`), {
        method: "POST",
        body: data,
        credentials: "omit",
        headers: authHeaders(),
      });
      body = await response.json().catch(() => ({}));
    } catch (e) {
      response = null;
    }
    sendBtn.disabled = false;
    sendBtn.textContent = "Send message";
    if (response && response.ok && body && body.ok) {
      thanks(body, String(data.get("email") || ""));
      newVisit();
    } else if (response && response.status === 400 && body && body.errors) {
      showErrors(body.errors);
    } else if (response && response.status === 401) {
      forget(); // our identity expired: the message can go unverified, confirmed by email
      formError.hidden = false;
      formError.textContent = "Please send it again: we'll ask you by email to confirm it's you.";
    } else {
      formError.hidden = false;
      formError.textContent =
        (body && body.error) || "Your message couldn't be sent just now. Please check your connection and try again.";
    }
  }

  function thanks(result, email) {
    const heading = h("h3", { tabindex: "-1" }, "Thanks, we've got it");
    contactView.textContent = "";
    contactView.append(
      h(
        "div",
        { class: "thanks", role: "status" },
        h("span", { class: "tick" }, icon(ICONS.check, 24)),
        heading,
        h(
          "p",
          {},
          result.number ? `Your conversation #${result.number} is with our team. ` : "Your message is with our team. ",
          email ? `We'll reply to ${email}.` : "We'll reply by email."
        ),
        // Never a link here: whoever typed the address may not own it. The way in goes by email.
        result.verified
          ? h("p", {}, "You can follow it under Your conversations.")
          : h("p", {}, "We've sent you an email: please confirm there that the message is yours."),
        h("button", { class: "secondary", type: "button", onclick: () => { buildContact(); focusView(); } }, "Write another message")
      )
    );
    heading.focus();
  }

  function writeToUs() {
    if (tabs.contact.hidden) return;
    const q = searchInput.value.trim();
    if (form && q && !form.elements.subject.value) form.elements.subject.value = q;
    show("contact", { focus: true });
  }

  // --- identify: trade the host page's SSO token for our identity, once -------------------------------
  async function identify(token) {
    token = String(token || "").trim();
    if (!token) return false;
    const data = new FormData();
    data.set("jwt", token);
    let body = null;
    try {
      const response = await fetch(api(`widget/${mailboxId}/identify.json`), { method: "POST", body: data, credentials: "omit" });
      body = await response.json().catch(() => ({}));
      if (!response.ok || !body.identity) throw new Error((body && body.error) || `HTTP ${response.status}`);
    } catch (e) {
      console.warn("Happydesk widget: the sign-in token was not accepted", e);
      return false;
    }
    identity = body.identity;
    identified = { name: body.name || "", email: body.email || "" };
    tabs.mine.hidden = false;
    prefill(Object.assign({}, pendingPrefill || {}, identified)); // the identified person writes as themselves
    if (view === "mine") loadMine();
    return true;
  }

  function forget() {
    identity = null;
    identified = null;
    tabs.mine.hidden = true;
    if (view === "mine") show("search", { focus: false });
  }

  async function loadMine() {
    if (!identity) return;
    mineView.textContent = "";
    mineView.append(h("p", { class: "note" }, "Loading…"));
    let data = null;
    try {
      data = await getIdentified(`widget/${mailboxId}/conversations.json`);
    } catch (e) {
      mineView.textContent = "";
      mineView.append(h("p", { class: "note" }, "Your conversations couldn't be loaded just now."));
      return;
    }
    const rows = data.conversations || [];
    mineView.textContent = "";
    mineView.append(
      rows.length
        ? h(
            "ul",
            { class: "news mine" },
            rows.map((c) =>
              h(
                "li",
                {},
                h("button", { class: "link-btn", type: "button", onclick: () => openMine(c.number) }, c.subject || `#${c.number}`),
                h("span", { class: "state" }, ` ${c.status_label} · `),
                h("time", { datetime: c.last_activity_at }, formatDate(c.last_activity_at))
              )
            )
          )
        : h("p", { class: "note" }, "No conversations yet.")
    );
  }

  async function openMine(number) {
    let data = null;
    try {
      data = await getIdentified(`widget/${mailboxId}/conversations/${Number(number)}.json`);
    } catch (e) {
      return;
    }
    const heading = h("h3", { class: "article-title", tabindex: "-1" }, data.subject || `#${data.number}`);
    mineView.textContent = "";
    mineView.append(
      h("div", { class: "article-bar" }, h("button", { class: "back", type: "button", onclick: () => loadMine() }, icon(ICONS.back, 18), "Back")),
      heading,
      h("p", { class: "note" }, `#${data.number} · ${data.status_label}`),
      h(
        "ol",
        { class: "news thread" },
        (data.messages || []).map((m) =>
          h(
            "li",
            { class: `msg kind-${m.kind}` },
            h("strong", {}, m.from === "you" ? "You" : m.from),
            " ",
            h("time", { datetime: m.at }, formatDate(m.at)),
            h("p", { class: "msg-text" }, m.text)
          )
        )
      )
    );
    heading.focus();
  }

  function prefill(values) {
    if (!form) { pendingPrefill = values; return; }
    pendingPrefill = null;
    for (const name of ["name", "email", "subject", "message"]) {
      if (values && values[name] && form.elements[name] && !form.elements[name].value) form.elements[name].value = String(values[name]);
    }
    if (identified && identified.email) form.elements.email.value = identified.email;
  }

  // --- config: names, choices, what's new, incidents ---------------------------------------------
  function applyConfig(data) {
    config = data;
    const name = data.mailbox && data.mailbox.name;
    if (name) {
      titleEl.textContent = name;
      subEl.textContent = "Search our answers or write to us.";
      panel.setAttribute("aria-label", `Help from ${name}`);
    }
    if (data.status_url) statusLink.href = data.status_url;
    if (data.help_url) helpLink.href = data.help_url;

    const incidents = data.incidents || [];
    incidentEl.textContent = "";
    if (incidents.length) {
      const first = incidents[0];
      incidentEl.append(
        icon(ICONS.alert, 16),
        h(
          "div",
          {},
          h("a", { href: first.url, target: "_blank", rel: "noopener" }, first.title),
          h("span", { class: "state" }, incidents.length > 1 ? `${first.state} · and ${incidents.length - 1} more on the status page` : first.state)
        )
      );
    }
    incidentEl.hidden = !incidents.length;

    const news = data.announcements || [];
    newsList.textContent = "";
    for (const item of news) {
      newsList.append(
        h(
          "li",
          {},
          h("a", { href: item.url, target: "_blank", rel: "noopener" }, item.title),
          h("time", { datetime: item.published_at }, formatDate(item.published_at))
        )
      );
    }
    tabs.news.hidden = !news.length;
    newsCount.hidden = !news.length;
    newsCount.textContent = String(news.length);
    if (news.length && !isOpen) {
      badge.hidden = false;
      badge.textContent = String(news.length);
      badgeText.textContent = `, ${news.length} new announcement${news.length === 1 ? "" : "s"}`;
    }
    if (isOpen) markAnnouncementsSeen();

    tabs.contact.hidden = false;
    writeCta.hidden = false;
    buildContact();
  }

  async function loadConfig() {
    // First visit: "new" means the last month, not every announcement ever made.
    const since = local.get(SEEN_KEY) || new Date(Date.now() - 30 * 864e5).toISOString();
    try {
      applyConfig(await getJson(`widget/${mailboxId}/config.json?since=${encodeURIComponent(since)}`));
    } catch (e) {
      // No contact form for this mailbox (or the server is away): search still works on its own.
      console.warn("Happydesk widget: could not load the mailbox settings", e);
    }
  }

  // --- start -----------------------------------------------------------------------------------------
  window.Happydesk = window.HappydeskWidget = Object.freeze({
    open: (name) => open(["contact", "news", "search", "mine"].includes(name) ? name : undefined),
    close,
    prefill,
    identify, // Happydesk.identify(jwt): the signed-in user of the host page, verified by our SSO secret
    search: (q) => { open("search"); searchInput.value = String(q || ""); runSearch(); },
  });

  const mount = () => {
    document.body.append(hostEl);
    loadConfig();
    if (initialJwt) identify(initialJwt);
  };
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount, { once: true });
})();
