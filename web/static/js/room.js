// The live room page: joining, the signaling messages, leaving. The parts are
// grid.js (video tiles), agenda.js, lobby.js and controls.js, sharing room-state.js.
import { nextItemId, refreshAgenda, showCurrent, showSigned, tickTimer } from "./agenda.js";
import { preview, sendsVideo, toggleCamera, toggleMute, toggleShare } from "./controls.js";
import { appendLine, loadChat, wireChat } from "./chat.js";
import { wireDecisions } from "./decision.js";
import { attachRemote, removeParticipant, showPaused, upsertParticipant } from "./grid.js";
import { showDenied, showLobby, showWaiting } from "./lobby.js";
import { Peer } from "./peer.js";
import { $, canAdvance, conferenceId, guestOnly, setStatus, showError, state, token } from "./room-state.js";
import { Signaling } from "./signaling.js";

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
    const message = { type: "join", audio: !state.audioMuted, video: sendsVideo() };
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
    // A guest whose link was revoked or expired, or who may no longer be here, is
    // told so on a page of its own, not sent to a sign-in form.
    if (s.closeCode === 4410 && !guestOnly) {
      state.leaving = true;
      location.href = `/conferences/${conferenceId}?ended=1`;
      return;
    }
    if (guestOnly && [4401, 4403, 4404, 4410].includes(s.closeCode)) {
      ended(s.closeCode === 4401 ? "revoked" : "closed");
      return;
    }
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
      // Moved out while the panel discusses another patient: no media either way.
      if (message.reason) dropPeer();
      showLobby(message.position, message.reason);
      break;
    case "denied":
      showDenied();
      break;
    case "welcome":
      await onWelcome(message);
      break;
    case "tracks":
      for (const [stream, participant] of Object.entries(message.streams)) state.peer?.streams.set(stream, participant);
      break;
    case "video-paused":
      showPaused(message.streams);
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
      // The first case taken up makes the meeting live: the chair may end it now.
      if (message.current_item_id && $("end-meeting")) $("end-meeting").hidden = false;
      showCurrent(message.current_item_id, message.started_at);
      showWaiting();
      break;
    case "lobby-guests":
      showWaiting(message.guests);
      break;
    case "chat":
      appendLine(message.message);
      break;
    case "decision-signed":
      showSigned(message);
      break;
    case "agenda-changed":
      await refreshAgenda();
      break;
    case "reconnect":
      setStatus("Reconnecting…", "status-deferred"); // the server closes; we come back
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
  loadChat().catch(() => {});
  dropPeer();
  const peer = new Peer({
    iceServers: message.ice_servers,
    iceTransportPolicy: message.ice_transport_policy || "all",
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
    mine.classList.toggle("no-video", !sendsVideo());
  }
}

function dropPeer() {
  state.peer?.close();
  state.peer = null;
}

function ended(reason) {
  state.leaving = true;
  location.href = `/meeting-ended?reason=${reason}&conference=${conferenceId}`;
}

function leave() {
  state.leaving = true;
  state.signaling?.send({ type: "leave" });
  state.signaling?.close();
  dropPeer();
  state.local?.getTracks().forEach((t) => t.stop());
  state.screen?.getTracks().forEach((t) => t.stop());
  if (guestOnly) ended("left");
  else location.href = `/conferences/${conferenceId}`;
}

// -- wiring ---------------------------------------------------------------------

$("join").addEventListener("click", join);
$("camera-select").addEventListener("change", preview);
$("mic-select").addEventListener("change", preview);
$("audio-only").addEventListener("change", preview);
$("mute").addEventListener("click", toggleMute);
$("camera").addEventListener("click", toggleCamera);
$("leave").addEventListener("click", leave);
$("lobby-leave").addEventListener("click", leave);
const share = $("share"); // not offered to guests
if (share) {
  share.addEventListener("click", () => toggleShare().catch(reportError));
  if (!navigator.mediaDevices?.getDisplayMedia) share.hidden = true;
}
if (canAdvance) {
  // Delegated: the agenda is re-rendered when it changes.
  $("agenda-panel").addEventListener("click", (event) => {
    const button = event.target.closest("button.advance");
    if (button) state.signaling?.send({ type: "advance", item_id: button.dataset.itemId });
    const next = event.target.closest("button.next-case");
    if (next) state.signaling?.send({ type: "advance", item_id: nextItemId(next.dataset.itemId) });
  });
}
wireDecisions($("agenda-panel"));
wireChat();
setInterval(tickTimer, 5000);
window.addEventListener("beforeunload", () => state.signaling?.close());
// Tests and support staff read the call's statistics from here.
window.casebridgeRoom = { state, stats: () => state.peer?.stats(), tick: tickTimer };
preview();
