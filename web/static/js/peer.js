// The one peer connection to the server, with the "perfect negotiation" roles of
// the CONTRACT: the server is impolite, so on glare this (polite) side rolls back
// its own offer, answers the server's, then offers again.

export class Peer extends EventTarget {
  constructor({ iceServers, iceTransportPolicy = "all", send, receiveVideo }) {
    super();
    this.send = send;
    this.receiveVideo = receiveVideo;
    this.streams = new Map(); // stream id -> participant id (from "tracks")
    this.pc = new RTCPeerConnection({ iceServers, iceTransportPolicy, bundlePolicy: "max-bundle" });
    this.makingOffer = false;
    this.wantOffer = false;
    this.rolledBack = false;
    this.pc.addEventListener("track", (event) => this.onTrack(event));
    this.pc.addEventListener("connectionstatechange", () => {
      this.dispatchEvent(new CustomEvent("state", { detail: this.pc.connectionState }));
    });
  }

  publish(stream, { audioOnly }) {
    const audio = stream.getAudioTracks()[0];
    const video = audioOnly ? null : stream.getVideoTracks()[0];
    this.audioSender = this.pc.addTransceiver(audio || "audio", { direction: "sendonly", streams: [stream] }).sender;
    this.videoSender = addVideo(this.pc, video, { direction: video ? "sendonly" : "inactive", streams: [stream] });
    preferCodec(this.pc, "video", "video/VP8");
    return this.offer();
  }

  async offer() {
    if (this.makingOffer || this.pc.signalingState !== "stable") {
      this.wantOffer = true;
      return;
    }
    this.makingOffer = true;
    try {
      await this.pc.setLocalDescription(await this.pc.createOffer());
      this.send({ type: "offer", sdp: this.pc.localDescription.sdp });
    } finally {
      this.makingOffer = false;
    }
  }

  async onAnswer(sdp) {
    if (this.pc.signalingState !== "have-local-offer") return; // our offer was rolled back
    await this.pc.setRemoteDescription({ type: "answer", sdp });
    this.offerAgainIfWanted();
  }

  async onOffer(sdp) {
    if (this.pc.signalingState !== "stable") {
      // Glare: we are the polite peer. The server refuses the offer we rolled
      // back with an invalid_state error, which is expected, not news.
      await this.pc.setLocalDescription({ type: "rollback" });
      this.wantOffer = true;
      this.rolledBack = true;
    }
    await this.pc.setRemoteDescription({ type: "offer", sdp });
    for (const t of this.pc.getTransceivers()) {
      // Low-bandwidth mode: decline others' video, so the server sends none.
      if (t.receiver.track.kind === "video" && t !== this.videoTransceiver()) {
        const receiving = t.currentDirection !== "inactive" || t.direction !== "inactive";
        if (!this.receiveVideo && receiving) t.direction = "inactive";
        if (this.receiveVideo && t.direction === "inactive") t.direction = "recvonly";
      }
    }
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    this.send({ type: "answer", sdp: this.pc.localDescription.sdp });
    this.offerAgainIfWanted();
  }

  offerAgainIfWanted() {
    if (this.wantOffer && this.pc.signalingState === "stable") {
      this.wantOffer = false;
      this.offer();
    }
  }

  videoTransceiver() {
    return this.pc.getTransceivers().find((t) => t.sender === this.videoSender);
  }

  onTrack(event) {
    const stream = event.streams[0];
    if (!stream) return;
    this.dispatchEvent(new CustomEvent("remote", { detail: { stream, track: event.track, participantId: this.streams.get(stream.id) } }));
  }

  /** Swap what we send on the video m-line (camera, screen, nothing) without renegotiating. */
  async replaceVideo(track) {
    if (!this.videoSender) return;
    const transceiver = this.videoTransceiver();
    if (track && transceiver.direction === "inactive") {
      transceiver.direction = "sendonly";
      await this.videoSender.replaceTrack(track);
      return this.offer();
    }
    return this.videoSender.replaceTrack(track);
  }

  async stats() {
    return this.pc.getStats();
  }

  close() {
    this.pc.close();
  }
}

function preferCodec(pc, kind, mimeType) {
  // Forwarding without transcoding needs one codec per kind (CONTRACT): VP8 video.
  const caps = RTCRtpReceiver.getCapabilities(kind);
  if (!caps) return;
  const preferred = caps.codecs.filter((c) => c.mimeType === mimeType);
  for (const t of pc.getTransceivers()) {
    if (t.receiver.track.kind === kind && preferred.length) {
      try { t.setCodecPreferences(preferred); } catch { /* older browsers: server filters */ }
    }
  }
}

// Video goes out in three temporal layers (VP8 L1T3: 7.5, 15 and 30 frames a second),
// so the server can send a thin link fewer frames instead of freezing it. A browser
// that cannot do so sends one layer, as before.
function addVideo(pc, track, init) {
  try {
    return pc.addTransceiver(track || "video", { ...init, sendEncodings: [{ scalabilityMode: "L1T3" }] }).sender;
  } catch (error) {
    return pc.addTransceiver(track || "video", init).sender;
  }
}
