// The room's WebSocket: JSON messages in and out, reconnecting with backoff.
// Close codes 4001/4401/4403/4404/4409/4410/4429 are final (replaced by a newer
// connection, not signed in, not a member, no such conference, hosted elsewhere, over,
// full): retrying by itself would not help, so we stop and say why.

const FINAL_CODES = new Map([
  [4001, "You joined this room from another window or device, so this one has left."],
  [4401, "You are signed out. Sign in again to rejoin."],
  [4403, "You are not a member of this conference."],
  [4404, "This conference does not exist."],
  [4409, "This room is hosted by another server; ask IT to check the load balancer."],
  [4410, "The meeting has ended."],
  [4429, "This room is full. Try again when someone leaves, or ask the chair."],
]);

export class Signaling extends EventTarget {
  constructor(url) {
    super();
    this.url = url;
    this.socket = null;
    this.attempt = 0;
    this.stopped = false;
    this.timer = null;
  }

  connect() {
    this.stopped = false;
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.attempt = 0;
      this.dispatchEvent(new CustomEvent("open"));
    });
    socket.addEventListener("message", (event) => {
      let message;
      try { message = JSON.parse(event.data); } catch { return; }
      this.dispatchEvent(new CustomEvent("message", { detail: message }));
    });
    socket.addEventListener("close", (event) => this.closed(socket, event.code));
  }

  closed(socket, code) {
    if (socket !== this.socket) return;
    this.socket = null;
    if (FINAL_CODES.has(code)) {
      this.stopped = true;
      this.closeCode = code;
      this.dispatchEvent(new CustomEvent("final", { detail: FINAL_CODES.get(code) }));
      return;
    }
    if (this.stopped) return;
    // Exponential backoff with jitter, capped: rural links drop and come back.
    const delay = Math.min(15000, 1000 * 2 ** this.attempt) * (0.75 + Math.random() / 2);
    this.attempt += 1;
    this.dispatchEvent(new CustomEvent("retry", { detail: Math.round(delay / 1000) }));
    this.timer = setTimeout(() => this.connect(), delay);
  }

  /** Drop the socket on purpose (the peer connection failed): reconnect soon. */
  reconnect() {
    if (this.socket) this.socket.close(4000, "reconnect");
  }

  send(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(message));
      return true;
    }
    return false;
  }

  close() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close(1000, "leave");
  }
}
