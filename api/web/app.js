// The coach page: account forms, the live session, summary, history and stats; the
// progress charts (progress.js), a session in detail (detail.js), uploads (upload.js) and
// the account (account.js). Everything the server says is shown as text (textContent,
// never HTML).

import { AccountPanel } from "./account.js";
import { Api, ApiError } from "./api.js";
import { CoachSession } from "./coach.js";
import { renderSession } from "./detail.js";
import { ProgressView } from "./progress.js";
import { drawSkeleton, fitOverlay } from "./skeleton.js";
import { UploadPanel } from "./upload.js";

const $ = (id) => document.getElementById(id);
const api = new Api();
let session = null;
let lastSpoken = { text: "", at: 0, reps: 0 };

function notice(text, isError = true) {
  const box = $("notice");
  box.textContent = text;
  box.className = isError ? "" : "info";
  box.hidden = !text;
}

function words(error) {
  return error instanceof ApiError ? error.message : String(error.message || error);
}

function setSignedIn(user) {
  if (!user) {
    progress.clear();
    $("detail").hidden = true;
    $("summary").hidden = true;
    $("history").tBodies[0].replaceChildren();
    for (const form of ["password-form", "delete-form"]) $(form).reset();
    $("account-status").textContent = "";
  }
  $("auth").hidden = Boolean(user);
  $("coach").hidden = !user;
  $("logout").hidden = !user;
  $("who").hidden = !user;
  $("who").textContent = user ? `Signed in as ${user.username}` : "";
  if (user) {
    refreshLists();
    $("exercise").focus();
  } else {
    $("login-form").elements.email.focus();
  }
}

api.onSignedOut = (reason) => {
  if (session) session.end(null);
  setSignedIn(null);
  notice(`Signed out: ${reason}. Please log in again.`);
};

function formData(form) {
  return Object.fromEntries(new FormData(form).entries());
}

$("register-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const fields = formData(event.target);
  fields.height = Number(fields.height);
  fields.weight = Number(fields.weight);
  try {
    const answer = await api.register(fields);
    notice("");
    setSignedIn(answer.user);
  } catch (error) {
    notice(`Could not create the account: ${words(error)}`);
  }
});

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const { email, password } = formData(event.target);
  try {
    const answer = await api.login(email, password);
    notice("");
    setSignedIn(answer.user);
  } catch (error) {
    notice(`Could not log in: ${words(error)}`);
  }
});

$("logout").addEventListener("click", () => {
  if (session) session.end(null);
  api.signOut();
  setSignedIn(null);
});

function showFigures(list, pairs) {
  list.replaceChildren(
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
}

function label(exercise) {
  const option = [...$("exercise").options].find((o) => o.value === exercise);
  return option ? option.textContent : exercise;
}

/** Open a session from history in detail; ``opener`` gets the focus back on close. */
async function showSession(id, opener) {
  try {
    const session = await api.session(id);
    $("detail-title").textContent =
      `${label(session.exercise_type)}, ${new Date(session.date).toLocaleString()}`;
    $("detail").hidden = false;
    renderSession($("detail-body"), session, label);
    detailOpener = opener;
    $("detail-title").focus();
  } catch (error) {
    if (api.signedIn) notice(`Could not load the session: ${words(error)}`);
  }
}

let detailOpener = null;
$("detail-close").addEventListener("click", () => {
  $("detail").hidden = true;
  if (detailOpener && detailOpener.isConnected) detailOpener.focus();
  detailOpener = null;
});

function detailButton(item) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "small";
  button.textContent = "Show";
  button.setAttribute(
    "aria-label",
    `Show the ${label(item.exercise_type)} session of ${new Date(item.date).toLocaleString()}`,
  );
  button.addEventListener("click", () => showSession(item.id, button));
  return button;
}

async function refreshLists() {
  progress.refresh();
  try {
    const [history, stats] = await Promise.all([api.history(), api.stats()]);
    const rows = history.map((item) => {
      const row = document.createElement("tr");
      for (const value of [
        new Date(item.date).toLocaleString(),
        label(item.exercise_type),
        String(item.reps),
        `${Math.round(item.form_accuracy)} %`,
        `${item.duration} s`,
      ]) {
        const cell = document.createElement("td");
        cell.textContent = value;
        row.append(cell);
      }
      const cell = document.createElement("td");
      cell.append(detailButton(item));
      row.append(cell);
      return row;
    });
    $("history").tBodies[0].replaceChildren(...rows);
    $("history-empty").hidden = rows.length > 0;
    showFigures($("stats"), [
      ["Sessions", String(stats.total_exercises)],
      ["Minutes", String(stats.total_minutes)],
      ["Streak (days)", String(stats.daily_streak ?? 0)],
      ["Best streak", String(stats.highest_streak)],
      ["Calories", String(Math.round(stats.calories_burned))],
    ]);
  } catch (error) {
    if (api.signedIn) notice(`Could not load history and stats: ${words(error)}`);
  }
}

$("reload").addEventListener("click", refreshLists);

function speak(text) {
  if (!$("speak").checked || !("speechSynthesis" in window) || !text) return;
  window.speechSynthesis.speak(new SpeechSynthesisUtterance(text));
}

/** Change a figure only when its text changes (screen readers announce changes). */
function setText(id, text) {
  const element = $(id);
  if (element.textContent !== text) element.textContent = text;
}

function showFrame(message, current) {
  const m = message.metrics;
  setText("counter", String(m.counter));
  setText("stage", m.stage || "–");
  setText("accuracy", `${Math.round(m.form_accuracy)} %`);
  setText("cue", m.form_feedback || "–");
  const p50 = current.latencyP50();
  setText(
    "frames",
    `${current.sent} sent, ${current.answered} answered` +
      (p50 === null ? "" : `, ${Math.round(p50)} ms round trip`),
  );
  const overlay = $("overlay");
  fitOverlay(overlay, $("video"));
  if ("landmarks" in message) drawSkeleton(overlay, message.landmarks);
  // Spoken cues: each new rep's number, and a changed cue at most every 4 s.
  const now = Date.now();
  if (m.counter > lastSpoken.reps) {
    lastSpoken.reps = m.counter;
    speak(String(m.counter));
  } else if (m.form_feedback && m.form_feedback !== lastSpoken.text && now - lastSpoken.at > 4000) {
    lastSpoken = { ...lastSpoken, text: m.form_feedback, at: now };
    speak(m.form_feedback);
  }
}

function showSummary(message) {
  showFigures($("summary-list"), [
    ["Exercise", label(message.exercise_type)],
    ["Reps", String(message.reps)],
    ["Good reps", String(message.good_reps)],
    ["Form", `${message.form_accuracy} %`],
    ["Duration", `${message.duration} s`],
    ["Calories", String(message.calories)],
    ["Saved", message.saved ? "yes" : "no"],
  ]);
  $("summary").hidden = false;
  renderSession(
    $("summary-detail"),
    {
      exercise_type: message.exercise_type,
      reps: message.reps,
      good_reps: message.good_reps,
      form_accuracy: message.form_accuracy,
      duration: message.duration,
      details: message.summary || {},
      fault_words: message.fault_words || {},
    },
    label,
  );
  $("summary-title").focus();
}

function sessionEnded() {
  session = null;
  $("start").disabled = false;
  $("stop").disabled = true;
  drawSkeleton($("overlay"), null);
  if (api.signedIn) refreshLists();
}

$("session-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (session) return;
  notice("");
  $("summary").hidden = true;
  $("counter").textContent = "0";
  lastSpoken = { text: "", at: 0, reps: 0 };
  $("start").disabled = true;
  $("stop").disabled = false;
  $("connection").textContent = "Starting the camera…";
  session = new CoachSession({
    api,
    exercise: $("exercise").value,
    fps: $("fps").value,
    video: $("video"),
    onFrame: showFrame,
    onNotice: notice,
    onStatus: (text) => {
      $("connection").textContent = text;
    },
    onSummary: showSummary,
    onEnded: sessionEnded,
  });
  $("stop").focus();
  try {
    await session.start();
  } catch (error) {
    const current = session;
    if (current) current.end(`the camera could not start: ${words(error)}`);
  }
});

$("fps").addEventListener("change", () => {
  if (session && session.opened) session.setRate($("fps").value);
});

$("stop").addEventListener("click", () => {
  if (session) session.stop();
});

const progress = new ProgressView({ api, label, notice });
new UploadPanel({ api, label, onDone: () => refreshLists(), showSession });
new AccountPanel({
  api,
  onDeleted: () => {
    if (session) session.end(null);
    setSignedIn(null);
    notice("Your account and everything of it is deleted.", false);
  },
});

setSignedIn(null);
