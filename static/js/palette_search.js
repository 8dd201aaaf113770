// Palette search: choosing a colour ticks its slot, so a person does not have to do both.
(function () {
  "use strict";
  var form = document.querySelector("[data-palette-form]");
  if (!form) return;
  form.querySelectorAll("input[type=color][data-slot]").forEach(function (input) {
    input.addEventListener("input", function () {
      var slot = input.closest(".palette-slot");
      var box = slot.querySelector("input[type=checkbox]");
      if (box) box.checked = true;
      var name = slot.querySelector("[data-slot-name]");
      if (name) name.textContent = input.value;
    });
  });
})();
