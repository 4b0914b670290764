// The decision form inside the room: the panel drafts, saves and (the chair) signs
// without leaving the meeting. It speaks the JSON API the case page's forms stand
// beside (/api/v1/agenda-items/{id}/decision), and shows the server's refusals as
// they come: the quorum, the meeting not started, a colleague's newer draft.
import { $, root, state } from "./room-state.js";

const csrf = root.dataset.csrf;
const versions = new Map(); // item id -> the draft version this page read

function apiPath(itemId, tail = "") {
  return `/api/v1/agenda-items/${itemId}/decision${tail}`;
}

async function call(method, path, body) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: { "content-type": "application/json", "x-csrf-token": csrf },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw Object.assign(new Error(errorText(data, response.status)), { status: response.status, data });
  return data;
}

// Every problem the server named, in its own words.
function errorText(data, status) {
  const error = data?.error;
  if (!error) return `The server refused (${status}).`;
  const listed = error.details?.errors;
  if (Array.isArray(listed) && listed.length > 1) {
    return listed.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)).join(" · ");
  }
  return error.message;
}

function names(ids) {
  const people = state.people || {};
  return ids.length ? ids.map((id) => people[id] || `someone (${id})`).join("; ") : "nobody recorded yet";
}

function show(form, decision) {
  const stateLine = form.querySelector(".decision-state");
  const signed = decision?.status === "signed";
  versions.set(form.dataset.itemId, decision?.version || 0);
  if (decision) {
    form.elements.outcome.value = decision.outcome;
    form.elements.rationale.value = decision.rationale;
    form.elements.plan.value = decision.plan;
    form.elements.follow_up_weeks.value = decision.follow_up_weeks;
    form.elements.responsible_clinician_id.value = decision.responsible_clinician_id ?? "";
    const byHand = decision.present_by_hand || [];
    form.querySelector(".present-names").textContent = names(decision.present_user_ids) +
      (byHand.length ? ` (added by hand: ${names(byHand)})` : "");
  }
  stateLine.textContent = signed
    ? `Signed (revision ${decision.revision ?? 1}). Amendments are made on the case page.`
    : decision ? `Draft v${decision.version}, saved.` : "No draft yet.";
  for (const el of form.querySelectorAll("input, select, textarea, button")) el.disabled = signed;
}

export async function loadDecision(itemId) {
  const form = document.querySelector(`form.room-decision[data-item-id="${itemId}"]`);
  if (!form) return;
  try {
    show(form, await call("GET", apiPath(itemId)));
  } catch (error) {
    if (error.status === 404) show(form, null);
    else report(form, error.message);
  }
}

function report(form, text) {
  const el = form.querySelector(".decision-error");
  el.textContent = text;
  el.hidden = !text;
  if (text) el.focus?.();
}

// What the page can tell before asking: every missing field at once.
function missing(form) {
  const problems = [];
  if (!form.elements.outcome.value) problems.push("Choose the panel's recommendation.");
  if (!form.elements.rationale.value.trim()) problems.push("Write the rationale.");
  if (!form.elements.plan.value.trim()) problems.push("Write the plan.");
  if (form.elements.follow_up_weeks.value === "") problems.push("Give the follow-up in weeks (0 for none).");
  return problems;
}

async function submit(form, action) {
  const itemId = form.dataset.itemId;
  report(form, "");
  const problems = missing(form);
  if (action === "sign" && !form.elements.confirm.checked) {
    problems.push("Tick the confirmation to sign.");
  }
  if (problems.length) return report(form, problems.join(" "));
  const body = {
    outcome: form.elements.outcome.value,
    rationale: form.elements.rationale.value,
    plan: form.elements.plan.value,
    follow_up_weeks: Number(form.elements.follow_up_weeks.value),
    responsible_clinician_id: form.elements.responsible_clinician_id.value
      ? Number(form.elements.responsible_clinician_id.value) : null,
    version: versions.get(itemId) || 0,
  };
  try {
    const saved = await call("PUT", apiPath(itemId), body);
    show(form, saved);
    if (action === "sign") {
      await call("POST", apiPath(itemId, "/sign"), { version: saved.version });
      await loadDecision(itemId);
    }
  } catch (error) {
    report(form, error.message);
    if (error.status === 409 && error.data?.error?.code === "stale_version") await loadDecision(itemId);
  }
}

export function wireDecisions(panel) {
  panel.addEventListener("submit", (event) => {
    const form = event.target.closest("form.room-decision");
    if (!form) return;
    event.preventDefault();
    submit(form, event.submitter?.value || "save");
  });
}
