/* The pupil checklist of the grant form, filtered by name as a person types. Without
   JavaScript the filter stays hidden and every registered pupil is listed. A ticked pupil
   stays ticked (and is sent) while the filter hides it. */
(function () {
  "use strict";
  var filter = document.querySelector("[data-pupil-filter]");
  var list = document.querySelector(".pupil-choices");
  if (!filter || !list) {
    return;
  }
  var input = filter.querySelector("input");
  var status = filter.querySelector("[role=status]");
  var items = Array.prototype.slice.call(list.querySelectorAll("li"));

  function plain(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function apply() {
    var wanted = plain(input.value.trim());
    var shown = 0;
    items.forEach(function (item) {
      var match = plain(item.textContent).indexOf(wanted) !== -1;
      item.hidden = !match;
      shown += match ? 1 : 0;
    });
    status.textContent = wanted
      ? filter.dataset.shown.replace("{shown}", shown).replace("{total}", items.length)
      : "";
  }

  filter.hidden = false;
  input.addEventListener("input", apply);
})();
