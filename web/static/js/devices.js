// Camera and microphone: the check before joining, and the tracks we publish.

export async function listDevices(cameraSelect, micSelect) {
  const devices = await navigator.mediaDevices.enumerateDevices();
  for (const [select, kind] of [[cameraSelect, "videoinput"], [micSelect, "audioinput"]]) {
    const current = select.value;
    select.replaceChildren(select.options[0]);
    devices.filter((d) => d.kind === kind).forEach((d, i) => {
      const option = new Option(d.label || `${kind === "videoinput" ? "Camera" : "Microphone"} ${i + 1}`, d.deviceId);
      select.add(option);
    });
    select.value = current;
  }
}

export async function openMedia({ cameraId, micId, video }) {
  const constraints = {
    audio: micId ? { deviceId: { exact: micId } } : true,
    video: video ? { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 30 },
                     ...(cameraId ? { deviceId: { exact: cameraId } } : {}) } : false,
  };
  return navigator.mediaDevices.getUserMedia(constraints);
}

/** Show the microphone level on a <meter>; returns a function that stops it. */
export function levelMeter(stream, meter) {
  const track = stream.getAudioTracks()[0];
  if (!track) return () => {};
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  analyser.fftSize = 512;
  context.createMediaStreamSource(new MediaStream([track])).connect(analyser);
  const samples = new Uint8Array(analyser.fftSize);
  let running = true;
  const tick = () => {
    if (!running) return;
    analyser.getByteTimeDomainData(samples);
    let peak = 0;
    for (const s of samples) peak = Math.max(peak, Math.abs(s - 128) / 128);
    meter.value = peak;
    requestAnimationFrame(tick);
  };
  tick();
  return () => { running = false; context.close(); };
}
