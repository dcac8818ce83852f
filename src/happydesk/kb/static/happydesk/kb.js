// Knowledge base editor: "Copy link for replies" puts the article's public URL on the clipboard.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const field = document.querySelector(button.dataset.copy);
  const status = document.getElementById("kb-copy-status");
  field.select();
  try {
    await navigator.clipboard.writeText(field.value);
  } catch {
    document.execCommand("copy"); // plain http or an older browser: the selected text is copied instead
  }
  button.textContent = "Copied";
  if (status) status.textContent = "Copied. Paste it into your reply.";
  setTimeout(() => { button.textContent = "Copy link for replies"; }, 2000);
});
