/* The inspection dates follow the chosen year and quarter: a date still at the previous
   period's default, empty, or outside the new period moves to the new period's default
   (lottery.periods.default_inspection_period: the 11th of the first month to the 25th of the
   last). A date the clerk chose inside the period stays. The server checks the rule anyway. */
(function () {
  var form = document.querySelector('[data-testid="plan-form"]');
  if (!form) return;
  var kind = form.elements.kind, year = form.elements.year, quarter = form.elements.quarter;
  var start = form.elements.planned_start, end = form.elements.planned_end;
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function period() {
    var y = parseInt(year.value, 10);
    if (!(y >= 2000 && y <= 2100)) return null;
    if (kind.value !== "quarterly") {
      return {first: y + "-01-01", last: y + "-12-31", start: y + "-01-11", end: y + "-12-25"};
    }
    var q = parseInt(quarter.value, 10);
    if (!(q >= 1 && q <= 4)) return null;
    var m = 3 * (q - 1) + 1, lastDay = (q === 1 || q === 4) ? 31 : 30;
    return {
      first: y + "-" + pad(m) + "-01", last: y + "-" + pad(m + 2) + "-" + lastDay,
      start: y + "-" + pad(m) + "-11", end: y + "-" + pad(m + 2) + "-25"
    };
  }
  /* The title follows too while it is still the default one (of the previous choice). */
  var title = form.elements.title;
  function defaultTitle() {
    var template = kind.value === "quarterly" ? form.dataset.titleQuarterly : form.dataset.titleAnnual;
    return template.replace("{year}", year.value).replace("{quarter}", quarter.value);
  }
  var previousTitle = defaultTitle();
  var previous = period();
  function follow() {
    if (title && (!title.value || title.value === previousTitle)) title.value = defaultTitle();
    previousTitle = defaultTitle();
    var next = period();
    if (!next) return;
    [[start, "start"], [end, "end"]].forEach(function (pair) {
      var input = pair[0], value = input.value;
      var stale = !value || (previous && value === previous[pair[1]]);
      if (stale || value < next.first || value > next.last) input.value = next[pair[1]];
    });
    previous = next;
  }
  [kind, year, quarter].forEach(function (el) { el.addEventListener("change", follow); });
})();
