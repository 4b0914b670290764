// The agenda panel: which case is current, for how long against its planned
// minutes, what was decided, and the chair's "Next case".
import { loadChat } from "./chat.js";
import { loadDecision } from "./decision.js";
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
  const changed = state.currentItemId !== itemId;
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
  const next = document.querySelector(".case-brief:not([hidden]) .next-case");
  if (next) next.textContent = nextItemId(itemId) ? "Next case" : "Finish this case";
  tickTimer();
  if (changed) {
    loadChat().catch(() => {});
    loadSimilar().catch(() => {});
  }
  if (itemId && (changed || !state.decisionLoaded?.has(itemId))) {
    state.decisionLoaded = state.decisionLoaded || new Set();
    state.decisionLoaded.add(itemId);
    loadDecision(itemId);
  }
}

// The item after the current one that is still to be discussed, in agenda order.
export function nextItemId(currentId) {
  const items = [...document.querySelectorAll(".room-agenda li")];
  const at = items.findIndex((li) => li.dataset.itemId === String(currentId));
  const after = items.slice(at + 1).concat(items.slice(0, Math.max(at, 0)));
  const next = after.find((li) => li.dataset.status === "pending" && li.dataset.itemId !== String(currentId));
  return next ? next.dataset.itemId : null;
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
  const li = document.querySelector(`.room-agenda li[data-item-id="${itemId}"]`);
  if (li) li.dataset.status = "decided";
  const span = li?.querySelector(":scope > span");
  if (span && !span.querySelector(".signed-mark")) {
    const mark = document.createElement("span");
    mark.className = "signed-mark";
    mark.textContent = " ✓ decided";
    span.append(mark);
  }
  if (String(itemId) === String(state.currentItemId)) loadDecision(itemId);
}

// "4 of 10 min", amber from three quarters of the planned time, red past it: the
// words say it too, for whoever cannot tell the colours apart.
export function timerText(elapsedMinutes, planned) {
  if (!planned) return { text: `Discussed for ${elapsedMinutes} min`, level: "" };
  if (elapsedMinutes > planned) return { text: `Over time: ${elapsedMinutes} of ${planned} min`, level: "over" };
  const left = planned - elapsedMinutes;
  if (elapsedMinutes >= planned * 0.75) return { text: `${left} min left · ${elapsedMinutes} of ${planned} min`, level: "late" };
  return { text: `${elapsedMinutes} of ${planned} min`, level: "" };
}

export function tickTimer() {
  const brief = document.querySelector(".case-brief:not([hidden])");
  const el = brief?.querySelector("[data-timer]");
  if (!el || !state.startedAt) return;
  const minutes = Math.max(0, Math.floor((Date.now() - state.startedAt) / 60000));
  const { text, level } = timerText(minutes, Number(brief.dataset.planned));
  el.textContent = text;
  el.dataset.level = level;
}

// Past decided cases like the current one, with what was decided (members only: the
// placeholder is not on a guest's page). Fetched when the case becomes current.
export async function loadSimilar() {
  const brief = document.querySelector(".case-brief:not([hidden])");
  const box = brief?.querySelector(".brief-similar");
  if (!box || box.dataset.loaded) return;
  box.dataset.loaded = "1";
  const response = await fetch(`/api/v1/cases/${brief.dataset.caseId}/similar?limit=3`,
                               { credentials: "same-origin" });
  if (!response.ok) return;
  const hits = await response.json();
  const list = box.querySelector("ul");
  for (const hit of hits) {
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.href = `/cases/${hit.case_id}`;
    a.target = "_blank";
    a.rel = "noopener";
    a.textContent = hit.patient_ref;
    li.append(a, `: ${(hit.outcome || "").replaceAll("_", " ")}`);
    list.append(li);
  }
  box.querySelector(".similar-count").textContent = String(hits.length);
  box.hidden = hits.length === 0;
}
