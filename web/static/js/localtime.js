// Times are rendered in UTC by the server; show them in the reader's own zone.
// <time datetime="ISO" data-local="long|short|time|day">
const STYLES = {
  long: { weekday: "short", day: "2-digit", month: "short", year: "numeric",
          hour: "2-digit", minute: "2-digit", timeZoneName: "short" },
  short: { day: "2-digit", month: "short", hour: "2-digit", minute: "2-digit" },
  time: { hour: "2-digit", minute: "2-digit" },
  day: { day: "2-digit", month: "short", year: "numeric" },
};

for (const el of document.querySelectorAll("time[data-local]")) {
  const when = new Date(el.getAttribute("datetime"));
  if (Number.isNaN(when.getTime())) continue;
  const style = STYLES[el.dataset.local] || STYLES.long;
  el.title = el.textContent.trim();
  el.textContent = new Intl.DateTimeFormat(undefined, style).format(when);
}
