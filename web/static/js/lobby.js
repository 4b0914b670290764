// The lobby: a guest waiting to be admitted (or refused, or sent back while the
// panel discusses another patient), and, for the chair, who waits, for which case,
// with Admit and Deny.
import { $, showError, state } from "./room-state.js";

const REASONS = {
  another_case: "The panel is not discussing your patient right now. You will be brought " +
    "in when your case comes up; keep this page open.",
};

export function showLobby(position, reason) {
  $("precheck").hidden = true;
  $("stage").hidden = true;
  $("lobby").hidden = false;
  $("lobby-position").textContent = position;
  $("lobby-title").textContent = reason ? "Your case is not being discussed now" : "Waiting for the chair to let you in";
  $("lobby-reason").textContent = REASONS[reason] || "The chair lets you in when your case comes up.";
}

export function showDenied() {
  state.denied = true;
  $("lobby").hidden = true;
  $("stage").hidden = true;
  $("precheck").hidden = false;
  showError("precheck-error", "The chair did not admit you to this meeting.");
}

// Which case a waiting guest came for: the agenda's own patient reference.
function caseOf(guest) {
  const refs = (guest.item_ids || []).map((id) => {
    const li = document.querySelector(`.room-agenda li[data-item-id="${id}"]`);
    return li ? li.dataset.patientRef : null;
  }).filter(Boolean);
  return refs.length ? refs.join(", ") : "";
}

function isCurrent(guest) {
  return (guest.item_ids || []).includes(String(state.currentItemId));
}

export function showWaiting(guests = state.waiting || []) {
  state.waiting = guests;
  const list = $("waiting");
  if (!list) return;
  list.replaceChildren();
  // Shown above the case, only while someone waits: a chair must not miss them.
  $("waiting-section").hidden = guests.length === 0;
  for (const guest of guests) {
    const li = document.createElement("li");
    const who = document.createElement("span");
    const name = document.createElement("strong");
    name.textContent = guest.display_name;
    who.append(name);
    const forCase = caseOf(guest);
    const detail = document.createElement("span");
    detail.className = "muted";
    if (!forCase) detail.textContent = " · has no case on this agenda";
    else detail.textContent = isCurrent(guest) ? ` · for ${forCase}, under discussion now` : ` · waits for ${forCase}`;
    who.append(detail);
    li.append(who);
    const actions = document.createElement("span");
    actions.className = "waiting-actions";
    // A guest takes part only while their case is current: admitting earlier is
    // refused by the server, so the button is offered only then.
    if (isCurrent(guest)) {
      const admit = document.createElement("button");
      admit.type = "button";
      admit.textContent = "Admit";
      admit.addEventListener("click", () => state.signaling.send({ type: "admit", participant_id: guest.participant_id }));
      actions.append(admit);
    }
    const deny = document.createElement("button");
    deny.type = "button";
    deny.className = "danger";
    deny.textContent = "Deny";
    deny.addEventListener("click", () => state.signaling.send({ type: "deny", participant_id: guest.participant_id }));
    actions.append(deny);
    li.append(actions);
    list.append(li);
  }
}
