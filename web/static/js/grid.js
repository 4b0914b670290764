// The video grid: one labelled tile per participant, their stream attached.
import { $, labels, state } from "./room-state.js";

export function upsertParticipant(info) {
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
  const specialty = info.specialty ? ` · ${labels.specialties[info.specialty] || info.specialty}` : "";
  const shown = info.conference_role === "chair" || info.conference_role === "guest";
  const chair = shown ? ` · ${labels.conference_roles[info.conference_role]}` : "";
  tile.querySelector(".label").textContent = `${info.display_name}${you}${specialty}${chair}`;
  tile.querySelector(".muted-flag").hidden = info.audio;
  tile.dataset.initials = info.display_name.replace(/^Dr\.?\s+/, "").split(/\s+/).map((w) => w[0]).join("").slice(0, 2);
  tile.classList.toggle("no-video", !info.video);
  tile.querySelector("video").setAttribute("aria-label", `Video of ${info.display_name}`);
  markPaused(tile);
}

// The server stopped sending some video because this connection cannot carry it
// ("video-paused"): say so on those tiles rather than leave a frozen picture.
export function showPaused(streams) {
  state.pausedStreams = streams;
  for (const tile of state.tiles.values()) markPaused(tile);
}

function markPaused(tile) {
  const id = tile.dataset.participantId;
  const paused = Object.keys(state.pausedStreams).some((s) => state.peer?.streams.get(s) === id);
  let flag = tile.querySelector(".paused-flag");
  if (!flag && paused) {
    flag = document.createElement("span");
    flag.className = "paused-flag";
    flag.setAttribute("role", "status");
    flag.textContent = "Video paused: poor connection";
    tile.append(flag);
  }
  if (flag) flag.hidden = !paused;
  tile.classList.toggle("video-paused", paused);
}

export function removeParticipant(id) {
  state.participants.delete(id);
  state.tiles.get(id)?.remove();
  state.tiles.delete(id);
}

export function attachRemote({ stream, participantId }) {
  const id = participantId || state.peer?.streams.get(stream.id);
  const tile = id && state.tiles.get(id);
  if (!tile) return;
  const video = tile.querySelector("video");
  if (video.srcObject !== stream) video.srcObject = stream;
}
