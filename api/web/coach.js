// One live coaching session: the camera, the WebSocket and the frames between them.
//
// Frames go as binary JPEG messages at the chosen rate, never more than one unanswered:
// a tick that finds the previous frame still out sends nothing, and its answer then
// captures a fresh picture at once (latest frame wins, as on the server; the rate stays
// at most the chosen one, and at most one frame per round trip). Binary frames are numbered by the
// server 1, 2, ... in arrival order, so the n-th frame sent is answered with frame_id n.

import { ApiError } from "./api.js";

/** A frame unanswered for this long is given up (the server may have dropped it). */
const ANSWER_TIMEOUT_MS = 3000;
/** Frames are scaled so their longer side is at most this many pixels. */
const MAX_SIDE = 640;
const JPEG_QUALITY = 0.8;
/** Waits between reconnection attempts, in ms; the last repeats. */
const BACKOFF_MS = [500, 1000, 2000, 4000, 8000];
const MAX_ATTEMPTS = 8;
/** The server's close code when it goes away (scale-down, upgrade): it saved the session. */
const RESTART_CODE = 1012;
/** How long an unasked summary waits for the close that says why (a restart). */
const RESTART_WAIT_MS = 2000;

/** Close codes the server ends a session with on purpose (API.md, api/errors.py). */
const REFUSALS = {
  1008: "the server refused the session",
  1009: "a message was too large",
  1013: "the pose service is unavailable; try again later",
  4401: "the sign-in was refused",
  4403: "this page's origin is not allowed",
  4404: "unknown exercise",
  4408: "the session was idle too long and ended",
  4429: "too many sessions; try again later",
};

function socketUrl(exercise, token) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const query = new URLSearchParams({ token });
  return `${scheme}//${location.host}/ws/exercise/${encodeURIComponent(exercise)}/?${query}`;
}

export class CoachSession {
  /**
   * @param {object} options api (Api), exercise, fps, video (HTMLVideoElement) and the
   *   callbacks onStarted, onFrame(message), onNotice(text, isError), onStatus(text),
   *   onSummary(message), onEnded().
   */
  constructor(options) {
    Object.assign(this, options);
    this.canvas = document.createElement("canvas");
    this.ws = null;
    this.timer = null;
    this.stream = null;
    this.sent = 0;
    this.answered = 0;
    this.outstanding = null;
    this.sentAt = 0;
    this.latencies = [];
    this.attempt = 0;
    this.opened = false;
    this.capturing = false;
    this.tickMissed = false;
    this.summaryReceived = false;
    this.stopping = false;
    this.ended = false;
    this.serverEnded = null;
    this.serverEndedTimer = null;
  }

  /** Camera first (the person sees themselves), then the socket. */
  async start() {
    if (!navigator.mediaDevices?.getUserMedia) {
      throw new Error("this browser cannot use a camera here (it needs https or localhost)");
    }
    this.stream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: "user", width: { ideal: 640 }, height: { ideal: 480 } },
      audio: false,
    });
    this.video.srcObject = this.stream;
    await this.video.play();
    await this.connect();
  }

  async connect() {
    let token;
    try {
      token = await this.api.freshAccess();
    } catch (error) {
      this.end(error instanceof ApiError ? error.message : String(error));
      return;
    }
    const ws = new WebSocket(socketUrl(this.exercise, token));
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: "start_exercise", extensions: ["landmarks", "stats"] }));
    };
    ws.onmessage = (event) => this.receive(JSON.parse(event.data));
    ws.onclose = (event) => this.closed(ws, event);
  }

  receive(message) {
    switch (message.type) {
      case "exercise_started":
        this.opened = true;
        this.sent = this.answered = 0;
        this.outstanding = null;
        this.tickMissed = false;
        this.onStatus(this.attempt ? "Reconnected: live again (a new set started)." : "Live.");
        this.attempt = 0;
        this.setRate(this.fps);
        if (this.onStarted) this.onStarted(message);
        break;
      case "frame_processed":
        this.answered += 1;
        if (message.frame_id === this.outstanding) {
          this.latencies.push(performance.now() - this.sentAt);
          if (this.latencies.length > 200) this.latencies.shift();
          this.answeredOutstanding();
        }
        this.onFrame(message, this);
        break;
      case "error":
        if (message.frame_id !== undefined && message.frame_id === this.outstanding) {
          this.answeredOutstanding();
        }
        this.onNotice(`Server: ${message.error}`, true);
        break;
      case "exercise_completed":
        if (!this.stopping) {
          // Unasked: the server ended the session. A restart (close 1012) follows at once,
          // after which a new session starts elsewhere; otherwise this is the summary.
          this.serverEnded = message;
          this.serverEndedTimer = setTimeout(() => this.finishWith(message), RESTART_WAIT_MS);
          break;
        }
        this.finishWith(message);
        break;
      default:
        break;
    }
  }

  /** Frames per second from now on (the rate can change during a session). */
  setRate(fps) {
    this.fps = Math.min(30, Math.max(1, Number(fps) || 15));
    clearInterval(this.timer);
    this.timer = setInterval(() => this.tick(), 1000 / this.fps);
  }

  answeredOutstanding() {
    this.outstanding = null;
    if (this.tickMissed) {
      this.tickMissed = false;
      this.tick();
    }
  }

  tick() {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || this.stopping) return;
    if (this.outstanding !== null && performance.now() - this.sentAt < ANSWER_TIMEOUT_MS) {
      this.tickMissed = true;
      return;
    }
    if (this.capturing || !this.video.videoWidth) return;
    this.capturing = true;
    const scale = Math.min(1, MAX_SIDE / Math.max(this.video.videoWidth, this.video.videoHeight));
    this.canvas.width = Math.round(this.video.videoWidth * scale);
    this.canvas.height = Math.round(this.video.videoHeight * scale);
    this.canvas.getContext("2d").drawImage(this.video, 0, 0, this.canvas.width, this.canvas.height);
    this.canvas.toBlob(
      async (blob) => {
        try {
          if (!blob) return;
          const bytes = await blob.arrayBuffer();
          // Checked after the await: the socket may have closed while the bytes were read.
          if (ws !== this.ws || ws.readyState !== WebSocket.OPEN || this.stopping) return;
          ws.send(bytes);
          this.sent += 1;
          this.outstanding = this.sent;
          this.sentAt = performance.now();
        } finally {
          this.capturing = false;
        }
      },
      "image/jpeg",
      JPEG_QUALITY,
    );
  }

  /** p50 of the recent answers' round trips, in ms (null before the first). */
  latencyP50() {
    if (!this.latencies.length) return null;
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return sorted[Math.floor((sorted.length - 1) / 2)];
  }

  finishWith(message) {
    clearTimeout(this.serverEndedTimer);
    this.summaryReceived = true;
    this.onSummary(message);
    this.end(null);
  }

  /** The person pressed Stop: ask for the summary (the socket stays until it comes). */
  stop() {
    this.stopping = true;
    clearInterval(this.timer);
    if (this.ws && this.ws.readyState === WebSocket.OPEN && this.opened) {
      this.onStatus("Finishing: waiting for the summary…");
      this.ws.send(JSON.stringify({ type: "stop_exercise" }));
    } else {
      this.end(null);
    }
  }

  async closed(ws, event) {
    if (ws !== this.ws || this.ended) return;
    clearInterval(this.timer);
    const wasOpen = this.opened;
    this.opened = false;
    if (this.stopping) {
      this.end(this.summaryReceived ? null : "the connection closed before the summary arrived");
      return;
    }
    if (event.code === RESTART_CODE) {
      clearTimeout(this.serverEndedTimer);
      const reps = this.serverEnded ? ` (${this.serverEnded.reps} reps)` : "";
      this.serverEnded = null;
      this.reconnect(
        "Server restarting",
        `The server is restarting; your session so far is saved${reps}. Reconnecting.`,
      );
      return;
    }
    const refusal = REFUSALS[event.code];
    if (refusal) {
      this.end(event.reason ? `${refusal}: ${event.reason}` : refusal);
      return;
    }
    if (!wasOpen) {
      // A socket refused before it opened shows no reason to a page: ask over REST,
      // where the server answers in words (an expired or revoked sign-in, say).
      const reason = await this.whyRefused();
      if (reason) {
        this.end(reason);
        return;
      }
    }
    this.reconnect();
  }

  async whyRefused() {
    try {
      await fetch("/healthz", { cache: "no-store" });
    } catch {
      return null; // the server is away: keep trying
    }
    try {
      await this.api.stats(); // renews the sign-in when it has expired
    } catch (error) {
      return error instanceof ApiError ? error.message : String(error);
    }
    if (this.attempt + 1 >= MAX_ATTEMPTS) {
      return (
        "the server keeps refusing the live session: too many open sessions for this " +
        "account, the pose service down, or this page's origin not allowed"
      );
    }
    return null;
  }

  reconnect(
    why = "Connection lost",
    notice = "Connection lost; reconnecting. Reps so far are saved.",
  ) {
    this.attempt += 1;
    if (this.attempt > MAX_ATTEMPTS) {
      this.end(`the connection was lost and ${MAX_ATTEMPTS} attempts to reconnect failed`);
      return;
    }
    const wait = BACKOFF_MS[Math.min(this.attempt - 1, BACKOFF_MS.length - 1)];
    this.onStatus(
      `${why}. Reconnecting in ${(wait / 1000).toFixed(1)} s (attempt ${this.attempt} of ${MAX_ATTEMPTS})…`,
    );
    this.onNotice(notice, false);
    setTimeout(() => {
      if (!this.ended && !this.stopping) this.connect();
    }, wait);
  }

  /** Release the camera and the socket; ``error`` (words) when it ended badly. */
  end(error) {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.timer);
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) this.ws.close(1000);
    for (const track of this.stream ? this.stream.getTracks() : []) track.stop();
    this.video.srcObject = null;
    if (error) this.onNotice(error[0].toUpperCase() + error.slice(1), true);
    this.onStatus(error ? "Stopped." : "Session finished.");
    this.onEnded();
  }
}
