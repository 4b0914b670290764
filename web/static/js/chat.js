// The room's chat: the current case's thread beside the video. A line typed here is
// sent over the room's socket; the server stores it in the case's thread and sends
// it to everyone present. Text only: every line is put in as text nodes, and https
// links become links that open in a new tab.
import { $, conferenceId, guestOnly, state } from "./room-state.js";

let loads = 0; // the newest load wins: the agenda may move while one is on its way
const HTTPS = /https:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g;

function shownCase() {
  const brief = document.querySelector(".case-brief:not([hidden])");
  return brief ? Number(brief.dataset.caseId) : null;
}

function textWithLinks(text) {
  const out = document.createDocumentFragment();
  let last = 0;
  for (const match of text.matchAll(HTTPS)) {
    out.append(text.slice(last, match.index));
    const a = document.createElement("a");
    a.href = match[0];
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    a.textContent = match[0];
    out.append(a);
    last = match.index + match[0].length;
  }
  out.append(text.slice(last));
  return out;
}

export function appendLine(message) {
  const list = $("chat-lines");
  if (!list || (message.case_id ?? null) !== shownCase()) return;
  const li = document.createElement("li");
  li.className = "chat-line";
  const who = document.createElement("strong");
  who.textContent = message.author_name;
  const when = document.createElement("time");
  when.className = "muted";
  when.dateTime = message.created_at;
  when.textContent = ` ${new Date(message.created_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}`;
  const body = document.createElement("p");
  body.append(textWithLinks(message.body));
  li.append(who, when, body);
  list.append(li);
  $("chat-empty").hidden = true;
  list.scrollTop = list.scrollHeight;
}

// The thread of the case now current (or, with none, the room's own lines).
export async function loadChat() {
  const list = $("chat-lines");
  if (!list) return;
  list.replaceChildren();
  $("chat-empty").hidden = false;
  if (guestOnly) return; // a guest sees what is said while they are in the room
  const caseId = shownCase();
  const load = ++loads;
  const path = caseId ? `/api/v1/cases/${caseId}/messages` : `/api/v1/conferences/${conferenceId}/messages`;
  const response = await fetch(path, { credentials: "same-origin" });
  if (!response.ok || load !== loads) return;
  for (const message of await response.json()) appendLine({ ...message, case_id: message.case_id ?? null });
}

export function wireChat() {
  const form = $("chat-form");
  if (!form) return;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const input = form.elements.body;
    const body = input.value.trim();
    if (!body) return;
    if (state.signaling?.send({ type: "chat", body })) input.value = "";
  });
}
