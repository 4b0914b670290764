// The live room page: device check, joining, the video grid, the agenda and the lobby.
import { listDevices, levelMeter, openMedia } from "./devices.js";
import { Peer } from "./peer.js";
import { Signaling } from "./signaling.js";

const root = document.getElementById("room");
const $ = (id) => document.getElementById(id);
const conferenceId = root.dataset.conferenceId;
const token = root.dataset.token;
const canAdvance = root.dataset.canAdvance === "true";

const state = {
  local: null,        // MediaStream from the camera and microphone
  screen: null,       // MediaStream of a screen share
  stopMeter: () => {},
  signaling: null,
  peer: null,
  me: null,
  participants: new Map(), // participant id -> info
  tiles: new Map(),        // participant id -> tile element
  audioMuted: false,
  cameraOff: false,
  leaving: false,
  denied: false,
  startedAt: null,
  currentItemId: null,
  chain: Promise.resolve(),
};

function setStatus(text, kind = "") {
  const badge = $("connection");
  badge.textContent = text;
  badge.className = `badge ${kind}`;
}

function showError(id, text) {
  const el = $(id);
  el.textContent = text;
  el.hidden = !text;
}

// -- device check ---------------------------------------------------------------

async function preview() {
  state.stopMeter();
  state.local?.getTracks().forEach((t) => t.stop());
  try {
    state.local = await openMedia({
      cameraId: $("camera-select").value, micId: $("mic-select").value,
      video: !$("audio-only").checked,
    });
    $("preview").srcObject = state.local;
    state.stopMeter = levelMeter(state.local, $("mic-level"));
    await listDevices($("camera-select"), $("mic-select"));
    showError("precheck-error", "");
  } catch (error) {
    showError("precheck-error", `Cannot use your camera or microphone (${error.name}). ` +
      "Check the browser's permission, or join with audio only.");
  }
}

// -- joining --------------------------------------------------------------------

function socketUrl() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const query = token ? `?token=${encodeURIComponent(token)}` : "";
  return `${scheme}://${location.host}/ws/conferences/${conferenceId}${query}`;
}

function join() {
  $("join").disabled = true;
  state.signaling = new Signaling(socketUrl());
  const s = state.signaling;
  s.addEventListener("open", () => {
    setStatus("Connected", "status-live");
    const message = { type: "join", audio: !state.audioMuted, video: !state.cameraOff && !$("audio-only").checked };
    const guestName = $("guest-name");
    if (guestName && guestName.value.trim()) message.display_name = guestName.value.trim();
    s.send(message);
  });
  // One message at a time, in arrival order: a browser applies session
  // descriptions on its own operations chain, and so must we.
  s.addEventListener("message", (event) => {
    state.chain = state.chain.then(() => onMessage(event.detail)).catch(reportError);
  });
  s.addEventListener("retry", (event) => {
    dropPeer();
    setStatus(`Connection lost, retrying in ${event.detail} s…`, "status-deferred");
  });
  s.addEventListener("final", (event) => {
    dropPeer();
    setStatus("Disconnected", "status-declined");
    if (state.denied) return; // "not admitted" says it better than the close code
    showError("room-error", event.detail);
    showError("precheck-error", event.detail);
  });
  s.connect();
}

function reportError(error) {
  console.warn("room:", error);
  showError("room-error", `Something went wrong with the call (${error.message || error}). Reconnecting…`);
  state.signaling?.reconnect();
}

async function onMessage(message) {
  switch (message.type) {
    case "lobby":
      $("precheck").hidden = true;
      $("lobby").hidden = false;
      $("lobby-position").textContent = message.position;
      break;
    case "denied":
      state.denied = true;
      $("lobby").hidden = true;
      $("precheck").hidden = false;
      showError("precheck-error", "The chair did not admit you to this meeting.");
      break;
    case "welcome":
      await onWelcome(message);
      break;
    case "tracks":
      for (const [stream, participant] of Object.entries(message.streams)) state.peer?.streams.set(stream, participant);
      break;
    case "offer":
      await state.peer?.onOffer(message.sdp);
      break;
    case "answer":
      await state.peer?.onAnswer(message.sdp);
      break;
    case "participant-joined":
    case "participant-updated":
      upsertParticipant(message.participant);
      break;
    case "participant-left":
      removeParticipant(message.participant_id);
      break;
    case "agenda":
      showCurrent(message.current_item_id, message.started_at);
      break;
    case "lobby-guests":
      showWaiting(message.guests);
      break;
    case "decision-signed":
      showSigned(message);
      break;
    case "agenda-changed":
      await refreshAgenda();
      break;
    case "error":
      if (message.code === "invalid_state" && state.peer?.rolledBack) {
        state.peer.rolledBack = false; // the answer to our rolled-back offer (glare)
        break;
      }
      showError("room-error", message.message);
      break;
  }
}

async function onWelcome(message) {
  $("precheck").hidden = true;
  $("lobby").hidden = true;
  $("stage").hidden = false;
  showError("room-error", "");
  state.me = message.participant_id;
  for (const id of [...state.tiles.keys()]) removeParticipant(id);
  message.participants.forEach(upsertParticipant);
  showCurrent(message.current_item_id, message.started_at);
  dropPeer();
  const peer = new Peer({
    iceServers: message.ice_servers,
    send: (m) => state.signaling.send(m),
    receiveVideo: !$("no-remote-video").checked,
  });
  state.peer = peer;
  peer.addEventListener("remote", (event) => attachRemote(event.detail));
  peer.addEventListener("state", (event) => {
    if (event.detail === "failed") reportError(new Error("media connection failed"));
  });
  const stream = state.local || new MediaStream();
  if (state.cameraOff) stream.getVideoTracks().forEach((t) => { t.enabled = false; });
  await peer.publish(stream, { audioOnly: $("audio-only").checked });
  const mine = state.tiles.get(state.me);
  if (mine) {
    mine.querySelector("video").srcObject = state.screen || state.local;
    mine.classList.toggle("no-video", $("audio-only").checked || state.cameraOff);
  }
}

function dropPeer() {
  state.peer?.close();
  state.peer = null;
}

// -- the grid -------------------------------------------------------------------

const SPECIALTIES = {
  neurosurgery: "Neurosurgery", orthopedic_spine: "Orthopedic spine", pain_medicine: "Pain medicine",
  physical_therapy: "Physical therapy", primary_care: "Primary care", radiology: "Radiology", other: "Other",
};

function upsertParticipant(info) {
  state.participants.set(info.participant_id, info);
  let tile = state.tiles.get(info.participant_id);
  if (!tile) {
    tile = document.createElement("figure");
    tile.className = "video-tile";
    tile.dataset.participantId = info.participant_id;
    const video = document.createElement("video");
    video.autoplay = true;
    video.playsInline = true;
    if (info.participant_id === state.me) video.muted = true;
    const label = document.createElement("figcaption");
    label.className = "label";
    const flag = document.createElement("span");
    flag.className = "muted-flag";
    flag.textContent = "Muted";
    tile.append(video, label, flag);
    $("grid").append(tile);
    state.tiles.set(info.participant_id, tile);
  }
  const you = info.participant_id === state.me ? " (you)" : "";
  const specialty = info.specialty ? ` · ${SPECIALTIES[info.specialty] || info.specialty}` : "";
  const chair = info.conference_role === "chair" ? " · Chair" : info.conference_role === "guest" ? " · Guest" : "";
  tile.querySelector(".label").textContent = `${info.display_name}${you}${specialty}${chair}`;
  tile.querySelector(".muted-flag").hidden = info.audio;
  tile.dataset.initials = info.display_name.replace(/^Dr\.?\s+/, "").split(/\s+/).map((w) => w[0]).join("").slice(0, 2);
  tile.classList.toggle("no-video", !info.video);
  tile.querySelector("video").setAttribute("aria-label", `Video of ${info.display_name}`);
}

function removeParticipant(id) {
  state.participants.delete(id);
  state.tiles.get(id)?.remove();
  state.tiles.delete(id);
}

function attachRemote({ stream, participantId }) {
  const id = participantId || state.peer?.streams.get(stream.id);
  const tile = id && state.tiles.get(id);
  if (!tile) return;
  const video = tile.querySelector("video");
  if (video.srcObject !== stream) video.srcObject = stream;
}

// -- agenda and lobby -----------------------------------------------------------

async function refreshAgenda() {
  // The side panel is rendered by the server (same template as the page): fetch it
  // again and put the current case back on top.
  const query = token ? `?token=${encodeURIComponent(token)}` : "";
  const response = await fetch(`/conferences/${conferenceId}/room/agenda${query}`,
                               { credentials: "same-origin" });
  if (!response.ok) return;
  $("agenda-panel").innerHTML = await response.text();
  showCurrent(state.currentItemId, state.startedAt && state.startedAt.toISOString());
}

function showCurrent(itemId, startedAt) {
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

const OUTCOMES = {
  continue_conservative: "Continue conservative care", physical_therapy: "Physical therapy",
  pain_management: "Pain management", further_imaging: "Further imaging",
  surgical_consult: "Surgical consultation", surgery_recommended: "Surgery recommended",
  co_managed_surgery: "Co-managed surgery", post_operative_rehab: "Post-operative rehabilitation",
  other: "Other",
};

function showSigned({ item_id: itemId, outcome, revision }) {
  const text = `Decision signed${revision > 1 ? ` (revision ${revision})` : ""}: ${OUTCOMES[outcome] || outcome}`;
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

function tickTimer() {
  const el = document.querySelector(".case-brief:not([hidden]) [data-timer]");
  if (!el || !state.startedAt) return;
  const minutes = Math.max(0, Math.floor((Date.now() - state.startedAt) / 60000));
  el.textContent = `Discussed for ${minutes} min`;
}

function showWaiting(guests) {
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

// -- controls -------------------------------------------------------------------

function sendMediaState() {
  const video = !state.cameraOff && !$("audio-only").checked;
  state.signaling?.send({ type: "media", audio: !state.audioMuted, video });
}

function toggleMute() {
  state.audioMuted = !state.audioMuted;
  state.local?.getAudioTracks().forEach((t) => { t.enabled = !state.audioMuted; });
  $("mute").setAttribute("aria-pressed", String(state.audioMuted));
  $("mute").textContent = state.audioMuted ? "Unmute" : "Mute";
  sendMediaState();
}

function toggleCamera() {
  state.cameraOff = !state.cameraOff;
  state.local?.getVideoTracks().forEach((t) => { t.enabled = !state.cameraOff; });
  $("camera").setAttribute("aria-pressed", String(state.cameraOff));
  $("camera").textContent = state.cameraOff ? "Start camera" : "Stop camera";
  state.tiles.get(state.me)?.classList.toggle("no-video", state.cameraOff);
  sendMediaState();
}

async function toggleShare() {
  if (state.screen) return stopShare();
  try {
    state.screen = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: 15 } });
  } catch {
    return; // the person cancelled the picker
  }
  const track = state.screen.getVideoTracks()[0];
  track.addEventListener("ended", stopShare);
  await state.peer?.replaceVideo(track);
  const mine = state.tiles.get(state.me);
  if (mine) mine.querySelector("video").srcObject = state.screen;
  $("share").setAttribute("aria-pressed", "true");
  $("share").textContent = "Stop sharing";
}

async function stopShare() {
  state.screen?.getTracks().forEach((t) => t.stop());
  state.screen = null;
  await state.peer?.replaceVideo(state.local?.getVideoTracks()[0] || null);
  const mine = state.tiles.get(state.me);
  if (mine) mine.querySelector("video").srcObject = state.local;
  $("share").setAttribute("aria-pressed", "false");
  $("share").textContent = "Share screen";
}

function leave() {
  state.leaving = true;
  state.signaling?.send({ type: "leave" });
  state.signaling?.close();
  dropPeer();
  state.local?.getTracks().forEach((t) => t.stop());
  state.screen?.getTracks().forEach((t) => t.stop());
  location.href = token ? "/" : `/conferences/${conferenceId}`;
}

// -- wiring ---------------------------------------------------------------------

$("join").addEventListener("click", join);
$("camera-select").addEventListener("change", preview);
$("mic-select").addEventListener("change", preview);
$("audio-only").addEventListener("change", preview);
$("mute").addEventListener("click", toggleMute);
$("camera").addEventListener("click", toggleCamera);
$("share").addEventListener("click", () => toggleShare().catch(reportError));
$("leave").addEventListener("click", leave);
if (!navigator.mediaDevices?.getDisplayMedia) $("share").hidden = true;
if (canAdvance) {
  // Delegated: the agenda is re-rendered when it changes.
  $("agenda-panel").addEventListener("click", (event) => {
    const button = event.target.closest("button.advance");
    if (button) state.signaling?.send({ type: "advance", item_id: button.dataset.itemId });
  });
}
setInterval(tickTimer, 15000);
window.addEventListener("beforeunload", () => state.signaling?.close());
// Tests and support staff read the call's statistics from here.
window.casebridgeRoom = { state, stats: () => state.peer?.stats() };
preview();
