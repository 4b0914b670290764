// The person's own devices: the check before joining, mute, camera, screen share,
// audio only (the low-bandwidth choice).
import { listDevices, levelMeter, openMedia } from "./devices.js";
import { $, showError, state } from "./room-state.js";

export async function preview() {
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

// Whether this person sends video: camera on, and not joined with audio only.
export function sendsVideo() {
  return !state.cameraOff && !$("audio-only").checked;
}

export function sendMediaState() {
  state.signaling?.send({ type: "media", audio: !state.audioMuted, video: sendsVideo() });
}

export function toggleMute() {
  state.audioMuted = !state.audioMuted;
  state.local?.getAudioTracks().forEach((t) => { t.enabled = !state.audioMuted; });
  $("mute").setAttribute("aria-pressed", String(state.audioMuted));
  $("mute").textContent = state.audioMuted ? "Unmute" : "Mute";
  sendMediaState();
}

export function toggleCamera() {
  state.cameraOff = !state.cameraOff;
  state.local?.getVideoTracks().forEach((t) => { t.enabled = !state.cameraOff; });
  $("camera").setAttribute("aria-pressed", String(state.cameraOff));
  $("camera").textContent = state.cameraOff ? "Start camera" : "Stop camera";
  state.tiles.get(state.me)?.classList.toggle("no-video", state.cameraOff);
  sendMediaState();
}

export async function toggleShare() {
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

export async function stopShare() {
  state.screen?.getTracks().forEach((t) => t.stop());
  state.screen = null;
  await state.peer?.replaceVideo(state.local?.getVideoTracks()[0] || null);
  const mine = state.tiles.get(state.me);
  if (mine) mine.querySelector("video").srcObject = state.local;
  $("share").setAttribute("aria-pressed", "false");
  $("share").textContent = "Share screen";
}
