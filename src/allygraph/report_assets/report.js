// allygraph report: switch the overview (map, legend, table) between definitions of alliance.
// Inlined into index.html (its hash is in the page's Content-Security-Policy); it reads only data-*
// attributes the report wrote and sets classes and text, never HTML.
(function () {
  "use strict";
  var select = document.getElementById("definition");
  if (!select) {
    return;
  }
  function pick(el, name, i) {
    return el.getAttribute(name).split(" ")[i];
  }
  function apply() {
    var i = Number(select.value);
    document.querySelectorAll("[data-o]").forEach(function (el) {
      var outcome = pick(el, "data-o", i);
      Array.from(el.classList).forEach(function (c) {
        if (c.indexOf("o-") === 0) {
          el.classList.remove(c);
        }
      });
      el.classList.add("o-" + outcome);
      var title = el.querySelector("title");
      if (title) {
        title.textContent = el.getAttribute("data-label") + ": " + outcome.replace(/-/g, " ");
      }
    });
    document.querySelectorAll("[data-n]").forEach(function (el) {
      el.textContent = pick(el, "data-n", i);
    });
    document.querySelectorAll("[data-col]").forEach(function (el) {
      el.classList.toggle("sel", Number(el.getAttribute("data-col")) === i);
    });
    document.querySelectorAll(".definition-statement").forEach(function (el) {
      el.hidden = Number(el.getAttribute("data-def")) !== i;
    });
  }
  select.addEventListener("change", apply);
  apply();
})();
