// Upload a workout video from the page: the bytes go with XMLHttpRequest (fetch cannot
// report upload progress), then the analysis is polled until it is done or failed. A
// refusal shows the server's own words (its `error`).

import { ApiError } from "./api.js";

/** How often the analysis is asked about while it runs. */
const POLL_MS = 1000;

function errorOfXhr(xhr) {
  let message = `${xhr.status} ${xhr.statusText}`.trim();
  try {
    const body = JSON.parse(xhr.responseText);
    if (body && typeof body.error === "string") message = body.error;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(message || "the upload failed", xhr.status);
}

/** POST the video as multipart ``video``; ``onProgress(sent, total)`` as bytes leave. */
function post(path, token, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.responseType = "text";
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(JSON.parse(xhr.responseText));
      else reject(errorOfXhr(xhr));
    });
    xhr.addEventListener("error", () =>
      reject(new ApiError("the server cannot be reached (network error)")),
    );
    xhr.addEventListener("abort", () => reject(new ApiError("the upload was cancelled")));
    const form = new FormData();
    form.append("video", file, file.name);
    xhr.send(form);
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class UploadPanel {
  /**
   * @param {object} options api, label(exercise), onDone(analysis) once a result is in
   *   (history, progress), showSession(id, opener) to open the session's detail.
   */
  constructor({ api, label, onDone, showSession }) {
    Object.assign(this, { api, label, onDone, showSession });
    this.$ = (id) => document.getElementById(id);
    this.busy = false;
    this.sessionId = null;
    this.$("upload-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.start();
    });
    this.$("upload-detail").addEventListener("click", () => {
      if (this.sessionId !== null) this.showSession(this.sessionId, this.$("upload-detail"));
    });
  }

  state(text) {
    this.$("upload-state").textContent = text;
  }

  async start() {
    if (this.busy) return;
    const file = this.$("upload-file").files[0];
    const exercise = this.$("upload-exercise").value;
    if (!file) {
      this.state("Choose a video first.");
      return;
    }
    this.busy = true;
    this.sessionId = null;
    this.$("upload-start").disabled = true;
    this.$("upload-status").hidden = false;
    this.$("upload-result").hidden = true;
    this.$("upload-detail").hidden = true;
    this.$("upload-sent").value = 0;
    this.$("upload-analysed").value = 0;
    this.$("upload-sent-text").textContent = "";
    this.$("upload-frames").textContent = "";
    this.state(`Uploading ${file.name}…`);
    try {
      const answer = await this.send(exercise, file);
      this.state("Uploaded: waiting for the analysis to start…");
      const analysis = await this.follow(answer.analysis_id);
      this.finish(analysis);
    } catch (error) {
      this.state(`Not analysed: ${error.message}`);
    } finally {
      this.busy = false;
      this.$("upload-start").disabled = false;
    }
  }

  /** Send the file; a refused (expired) token is renewed once and the upload retried. */
  async send(exercise, file) {
    const path = `/api/exercises/${encodeURIComponent(exercise)}/upload/`;
    const progress = (sent, total) => {
      this.$("upload-sent").max = total;
      this.$("upload-sent").value = sent;
      this.$("upload-sent-text").textContent =
        `Sent ${Math.round((sent / total) * 100)} % (${(sent / 1e6).toFixed(1)} of ${(total / 1e6).toFixed(1)} MB)`;
    };
    try {
      return await post(path, await this.api.freshAccess(), file, progress);
    } catch (error) {
      if (error.status !== 401 || !this.api.refreshToken) throw error;
      await this.api.renew();
      return post(path, await this.api.freshAccess(), file, progress);
    }
  }

  /** Poll the analysis until it is done or failed, showing frames analysed. */
  async follow(id) {
    let running = false;
    for (;;) {
      const analysis = await this.api.analysis(id);
      const { frames_done: done, frames_total: total } = analysis.progress;
      this.$("upload-analysed").max = Math.max(1, total);
      this.$("upload-analysed").value = done;
      this.$("upload-frames").textContent = `${done} of ${total} frames analysed`;
      if (analysis.status === "done" || analysis.status === "failed") return analysis;
      if (analysis.status === "running" && !running) {
        running = true;
        this.state("Analysing…");
      }
      await sleep(POLL_MS);
    }
  }

  finish(analysis) {
    if (analysis.status === "failed") {
      this.state(`Not analysed: ${analysis.error || "the analysis failed"}`);
      return;
    }
    const summary = analysis.summary || {};
    const pairs = [
      ["Exercise", this.label(analysis.exercise_type)],
      ["Reps", String(summary.reps ?? 0)],
      ["Good reps", String(summary.good_reps ?? 0)],
      ["Form", `${Math.round(summary.form_accuracy ?? 0)} %`],
      ["Duration", `${summary.duration ?? Math.round(analysis.video_duration_s)} s`],
    ];
    this.$("upload-result").replaceChildren(
      ...pairs.map(([label, value]) => {
        const item = document.createElement("div");
        const dt = document.createElement("dt");
        const dd = document.createElement("dd");
        dt.textContent = label;
        dd.textContent = value;
        item.append(dt, dd);
        return item;
      }),
    );
    this.$("upload-result").hidden = false;
    this.state(`Done: ${summary.reps ?? 0} reps counted.`);
    this.sessionId = analysis.session_id;
    this.$("upload-detail").hidden = analysis.session_id === null;
    this.onDone(analysis);
  }
}
