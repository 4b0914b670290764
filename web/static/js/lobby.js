// The lobby: a guest waiting to be admitted (or refused), and, for the chair, who
// waits, with Admit and Deny.
import { $, showError, state } from "./room-state.js";

export function showLobby(position) {
  $("precheck").hidden = true;
  $("lobby").hidden = false;
  $("lobby-position").textContent = position;
}

export function showDenied() {
  state.denied = true;
  $("lobby").hidden = true;
  $("precheck").hidden = false;
  showError("precheck-error", "The chair did not admit you to this meeting.");
}

export function showWaiting(guests) {
  const list = $("waiting");
  if (!list) return;
  list.replaceChildren();
  // Shown above the case, only while someone waits: a chair must not miss them.
  $("waiting-section").hidden = guests.length === 0;
  for (const guest of guests) {
    const li = document.createElement("li");
    const name = document.createElement("span");
    name.textContent = guest.display_name;
    const admit = document.createElement("button");
    admit.type = "button";
    admit.textContent = "Admit";
    admit.addEventListener("click", () => state.signaling.send({ type: "admit", participant_id: guest.participant_id }));
    const deny = document.createElement("button");
    deny.type = "button";
    deny.className = "danger";
    deny.textContent = "Deny";
    deny.addEventListener("click", () => state.signaling.send({ type: "deny", participant_id: guest.participant_id }));
    li.append(name, admit, deny);
    list.append(li);
  }
}
