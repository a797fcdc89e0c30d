// The pose drawn over the live video from the `landmarks` extension: 33 BlazePose
// landmarks, each [x, y, z, visibility] with x and y as fractions of the frame.

/** BlazePose body edges (the same list as inference/analyze_cli.py's EDGES). */
const EDGES = [
  [11, 12], [11, 13], [13, 15], [12, 14], [14, 16], [11, 23], [12, 24], [23, 24],
  [23, 25], [25, 27], [24, 26], [26, 28], [27, 29], [29, 31], [27, 31], [28, 30],
  [30, 32], [28, 32],
];
const VISIBLE = 0.5;

/** Size the overlay to the video's own pixels (CSS scales both the same way). */
export function fitOverlay(canvas, video) {
  if (video.videoWidth && canvas.width !== video.videoWidth) canvas.width = video.videoWidth;
  if (video.videoHeight && canvas.height !== video.videoHeight) canvas.height = video.videoHeight;
}

/** Draw ``landmarks`` (or clear the overlay when null: nobody found). */
export function drawSkeleton(canvas, landmarks) {
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!landmarks) return;
  const w = canvas.width;
  const h = canvas.height;
  const scale = Math.max(2, Math.round(Math.min(w, h) / 160));
  ctx.lineWidth = scale;
  ctx.strokeStyle = "#22e06b";
  ctx.beginPath();
  for (const [a, b] of EDGES) {
    const p = landmarks[a];
    const q = landmarks[b];
    if (p[3] < VISIBLE || q[3] < VISIBLE) continue;
    ctx.moveTo(p[0] * w, p[1] * h);
    ctx.lineTo(q[0] * w, q[1] * h);
  }
  ctx.stroke();
  ctx.fillStyle = "#ff3b30";
  for (let i = 11; i < landmarks.length; i += 1) {
    const p = landmarks[i];
    if (p[3] < VISIBLE) continue;
    ctx.beginPath();
    ctx.arc(p[0] * w, p[1] * h, scale * 1.5, 0, 2 * Math.PI);
    ctx.fill();
  }
}
