/* The CLB pages' small enhancements; without JavaScript everything works the same.
   - A form that comes back with errors puts the keyboard focus on their summary.
   - The issue form hides the type and opleidingsvorm fields where they do not apply
     (without JavaScript every field shows and the server checks the same rules). */
(function () {
  "use strict";
  var summary = document.querySelector(".error-summary");
  if (summary) {
    summary.focus();
  }
  var form = document.querySelector("form[data-report-form]");
  if (!form) {
    return;
  }
  var kind = form.elements.namedItem("kind");
  var level = form.elements.namedItem("level");
  var WITH_TYPE = ["IAC", "OV4", "V"];

  function show(name, applies) {
    var input = form.elements.namedItem(name);
    if (!input) {
      return;
    }
    var field = input.closest(".field");
    if (field.classList.contains("field--error")) {
      applies = true; // an error stays in sight
    }
    // A hidden field is not sent either, so it cannot break a rule nobody can see.
    field.hidden = !applies;
    input.disabled = !applies;
  }

  function update() {
    var withType = kind.value === "" || WITH_TYPE.indexOf(kind.value) >= 0;
    var secondary = level.value === "" || level.value === "secondary";
    show("type", withType);
    show("opleidingsvorm", withType && secondary);
  }

  kind.addEventListener("change", update);
  level.addEventListener("change", update);
  update();
})();
