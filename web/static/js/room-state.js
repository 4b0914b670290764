// What every part of the live room shares: the page's data, the call's state,
// the labels the server sends (never copied here), and two small helpers.

export const root = document.getElementById("room");
export const $ = (id) => document.getElementById(id);
export const conferenceId = root.dataset.conferenceId;
export const token = root.dataset.token;
export const canAdvance = root.dataset.canAdvance === "true";
// A guest (by link, or a member whose conference role is guest): in the room only
// while their own case is current.
export const guestOnly = root.dataset.guest === "true";
// Human names of specialties, outcomes and conference roles, from the server's tables.
export const labels = JSON.parse($("room-labels").textContent);
// Names of the conference's members by user id: the room never shows "#4".
const people = JSON.parse($("room-people").textContent);

export const state = {
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
  people,
  waiting: [],             // guests in the lobby (chairs)
  pausedStreams: {},       // stream id -> why the server is not sending it ("video-paused")
};

export function setStatus(text, kind = "") {
  const badge = $("connection");
  badge.textContent = text;
  badge.className = `badge ${kind}`;
}

export function showError(id, text) {
  const el = $(id);
  el.textContent = text;
  el.hidden = !text;
}
