// The reader pages' one script (the copy buttons), inlined whole by _layout.html; its CSP
// hash is taken from these bytes (feedsvc.pages.inline).
document.addEventListener("click", function (e) {
  var b = e.target.closest ? e.target.closest("button[data-copy]") : null;
  if (!b) return;
  var input = document.getElementById(b.getAttribute("data-copy"));
  input.select();
  var said = document.getElementById("copy-status");
  var done = function () {
    var words = b.getAttribute("data-done");
    b.textContent = words;
    // changed text is what a live region says: a second copy ends in a no-break space
    said.textContent = said.textContent === words ? words + "\u00a0" : words;
  };
  if (navigator.clipboard) navigator.clipboard.writeText(input.value).then(done, done);
  else { document.execCommand("copy"); done(); }
});
