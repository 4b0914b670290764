// The agenda panel: which case is current, for how long, and what was decided.
import { $, conferenceId, labels, state, token } from "./room-state.js";

export async function refreshAgenda() {
  // The side panel is rendered by the server (same template as the page): fetch it
  // again and put the current case back on top.
  const query = token ? `?token=${encodeURIComponent(token)}` : "";
  const response = await fetch(`/conferences/${conferenceId}/room/agenda${query}`,
                               { credentials: "same-origin" });
  if (!response.ok) return;
  $("agenda-panel").innerHTML = await response.text();
  showCurrent(state.currentItemId, state.startedAt && state.startedAt.toISOString());
}

export function showCurrent(itemId, startedAt) {
  state.currentItemId = itemId;
  state.startedAt = startedAt ? new Date(startedAt) : null;
  let found = false;
  document.querySelectorAll(".case-brief").forEach((el) => {
    el.hidden = el.dataset.itemId !== String(itemId);
    found = found || !el.hidden;
  });
  document.querySelectorAll(".room-agenda li").forEach((li) => {
    li.classList.toggle("current", li.dataset.itemId === String(itemId));
    if (li.dataset.itemId === String(itemId)) li.setAttribute("aria-current", "step");
    else li.removeAttribute("aria-current");
  });
  $("no-current").hidden = found;
  tickTimer();
}

export function showSigned({ item_id: itemId, outcome, revision }) {
  const text = `Decision signed${revision > 1 ? ` (revision ${revision})` : ""}: ${labels.outcomes[outcome] || outcome}`;
  const brief = document.querySelector(`.case-brief[data-item-id="${itemId}"]`);
  if (brief) {
    let note = brief.querySelector(".signed-note");
    if (!note) {
      note = document.createElement("p");
      note.className = "signed-note notice";
      note.setAttribute("role", "status");
      brief.querySelector("h3").after(note);
    }
    note.textContent = text;
  }
  const li = document.querySelector(`.room-agenda li[data-item-id="${itemId}"] > span`);
  if (li && !li.querySelector(".signed-mark")) {
    const mark = document.createElement("span");
    mark.className = "signed-mark";
    mark.textContent = " ✓ decided";
    li.append(mark);
  }
}

export function tickTimer() {
  const el = document.querySelector(".case-brief:not([hidden]) [data-timer]");
  if (!el || !state.startedAt) return;
  const minutes = Math.max(0, Math.floor((Date.now() - state.startedAt) / 60000));
  el.textContent = `Discussed for ${minutes} min`;
}
