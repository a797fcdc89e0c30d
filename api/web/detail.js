// One session in detail: its reps on a time line (each rep's tempo: down, pause, up), a
// table of the reps (the time line's text alternative: tempo, range, side, set, and each
// fault in words), the sets with their rest, and the fatigue flag. Used for a session
// from history (GET /api/exercises/history/{id}/) and for the live summary
// (exercise_completed), which carry the same summary fields.

import { element, textTable } from "./progress.js";

/** Exercises whose lifting (concentric) phase comes first: the weight goes up, pauses at
 * the top, comes down (inference/analyzers: lifts_toward_work). Their pause in the middle
 * of a rep is `top_pause_s`; the others' (squat: at the bottom) `bottom_pause_s`. */
export const LIFTS_FIRST = new Set(["bicep_curl", "shoulder_press", "jumping_jack"]);

const COLOURS = { down: "#0b6bcb", pause: "#8a8f98", up: "#2e7d32", fault: "#b3261e" };
const LANE_H = 26;
const AXIS_H = 22;
const TOP = 18;

function seconds(value) {
  return typeof value === "number" ? `${value.toFixed(1)} s` : "–";
}

/** A rep's phases in the order they happen, with each one's length (null: not seen). */
export function phases(rep, exercise) {
  if (LIFTS_FIRST.has(exercise)) {
    return [
      ["up", rep.concentric_s],
      ["pause", rep.top_pause_s],
      ["down", rep.eccentric_s],
    ];
  }
  return [
    ["down", rep.eccentric_s],
    ["pause", rep.bottom_pause_s],
    ["up", rep.concentric_s],
  ];
}

/** "down 1.2 s, pause 0.3 s, up 0.9 s" in the order the rep ran. */
export function tempoText(rep, exercise) {
  return phases(rep, exercise)
    .map(([name, value]) => `${name} ${seconds(value)}`)
    .join(", ");
}

function faultWords(rep, words) {
  if (!rep.faults || rep.faults.length === 0) return "Good";
  return rep.faults.map((f) => words[f] || f.replace(/_/g, " ")).join("; ");
}

function lanesOf(reps) {
  const sides = [...new Set(reps.map((r) => r.side).filter((s) => s === "left" || s === "right"))];
  return sides.length ? sides.sort() : ["reps"];
}

function laneOf(rep, lanes) {
  if (lanes.length === 1) return [0];
  if (rep.side === "both" || !lanes.includes(rep.side)) return lanes.map((_, i) => i);
  return [lanes.indexOf(rep.side)];
}

function niceStep(span) {
  for (const step of [1, 2, 5, 10, 15, 30, 60, 120, 300, 600]) if (span / step <= 8) return step;
  return 1200;
}

/** Draw the reps on a canvas as wide as its box: lanes for left and right on unilateral
 * work, each rep split into its phases, a red mark over a rep with a fault, a line where a
 * set ended (with the rest taken). */
export function drawTimeline(canvas, reps, sets, exercise) {
  const lanes = lanesOf(reps);
  const width = Math.max(240, canvas.parentElement?.clientWidth || 320);
  const height = TOP + lanes.length * LANE_H + AXIS_H;
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  if (!reps.length) return;
  const ink = getComputedStyle(canvas).color || "#222";
  const left = lanes.length > 1 ? 44 : 8;
  const right = 8;
  const t0 = Math.min(...reps.map((r) => r.start_s));
  const t1 = Math.max(...reps.map((r) => r.end_s));
  const span = Math.max(1, t1 - t0);
  const x = (t) => left + ((t - t0) / span) * (width - left - right);

  ctx.font = "12px system-ui, sans-serif";
  ctx.fillStyle = ink;
  ctx.textBaseline = "middle";
  if (lanes.length > 1) {
    lanes.forEach((lane, i) => ctx.fillText(lane, 2, TOP + i * LANE_H + LANE_H / 2));
  }
  for (const rep of reps) {
    for (const lane of laneOf(rep, lanes)) {
      const y = TOP + lane * LANE_H + 3;
      const h = LANE_H - 6;
      const known = phases(rep, exercise).filter(([, v]) => typeof v === "number" && v > 0);
      const total = known.reduce((sum, [, v]) => sum + v, 0);
      let at = rep.start_s;
      const length = rep.end_s - rep.start_s;
      if (!known.length || total <= 0) {
        ctx.fillStyle = COLOURS.pause;
        ctx.fillRect(x(rep.start_s), y, Math.max(2, x(rep.end_s) - x(rep.start_s)), h);
      }
      for (const [name, value] of known) {
        const part = (value / total) * length;
        ctx.fillStyle = COLOURS[name];
        ctx.fillRect(x(at), y, Math.max(1, x(at + part) - x(at)), h);
        at += part;
      }
      if (rep.faults && rep.faults.length) {
        ctx.strokeStyle = COLOURS.fault;
        ctx.lineWidth = 2;
        ctx.strokeRect(x(rep.start_s), y, Math.max(2, x(rep.end_s) - x(rep.start_s)), h);
      }
    }
    ctx.fillStyle = ink;
    ctx.textAlign = "center";
    ctx.fillText(String(rep.index), x((rep.start_s + rep.end_s) / 2), TOP - 8);
    ctx.textAlign = "start";
  }
  // Where a set ended: a dashed line in the rest that followed it.
  ctx.setLineDash([4, 3]);
  ctx.strokeStyle = ink;
  ctx.lineWidth = 1;
  for (const set of sets.slice(0, -1)) {
    const next = set.end_s + (set.rest_after_s || 0) / 2;
    ctx.beginPath();
    ctx.moveTo(x(next), TOP - 2);
    ctx.lineTo(x(next), TOP + lanes.length * LANE_H);
    ctx.stroke();
  }
  ctx.setLineDash([]);
  // The time axis, in seconds from the session's start.
  const axisY = TOP + lanes.length * LANE_H + 4;
  ctx.fillStyle = ink;
  ctx.textBaseline = "top";
  const step = niceStep(span);
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
    ctx.fillRect(x(t), axisY - 3, 1, 4);
    ctx.fillText(`${t} s`, Math.min(x(t), width - 30), axisY + 2);
  }
}

function figures(pairs) {
  return element(
    "dl",
    { class: "figures" },
    pairs.map(([label, value]) =>
      element("div", {}, [element("dt", { text: label }), element("dd", { text: value })]),
    ),
  );
}

function fatigueText(sets) {
  const tired = sets.filter((s) => s.fatigue);
  if (!tired.length) return "no";
  return tired
    .map((s) => `set ${s.index}` + (typeof s.slowdown === "number" ? ` (+${Math.round(s.slowdown * 100)} % slower)` : ""))
    .join(", ");
}

/**
 * Show one session in ``target``.
 * @param {object} session exercise_type, reps, good_reps, form_accuracy, duration (s),
 *   ``details`` (the stored summary: rep_details, sets, reps_left, reps_right, hold_s)
 *   and ``fault_words``.
 * @param {(exercise: string) => string} label the exercise in words.
 */
export function renderSession(target, session, label) {
  const details = session.details || {};
  const reps = details.rep_details || [];
  const sets = details.sets || [];
  const words = session.fault_words || {};
  const exercise = session.exercise_type;
  const pairs = [
    ["Exercise", label(exercise)],
    [exercise === "plank" ? "Seconds held" : "Reps", String(session.reps)],
    ["Good reps", String(session.good_reps)],
    ["Form", `${Math.round(session.form_accuracy)} %`],
    ["Duration", `${session.duration} s`],
    ["Sets", String(sets.length || (reps.length ? 1 : 0))],
  ];
  if (details.reps_left !== null && details.reps_left !== undefined) {
    pairs.push(["Left", String(details.reps_left)], ["Right", String(details.reps_right)]);
  }
  pairs.push(["Fatigue", fatigueText(sets)]);
  const parts = [figures(pairs)];

  if (reps.length) {
    const canvas = element("canvas", { class: "timeline", "aria-hidden": "true" });
    const legend = element("p", { class: "legend" }, [
      ...["down", "pause", "up"].map((name) =>
        element("span", { class: `key key-${name}`, text: name }),
      ),
      element("span", { class: "key key-fault", text: "fault" }),
    ]);
    parts.push(
      element("figure", { class: "chart" }, [
        element("figcaption", { text: "Reps on a time line (seconds from the start)" }),
        element("div", { class: "timeline-box" }, [canvas]),
        legend,
      ]),
    );
    const rows = reps.map((rep) => [
      String(rep.index),
      String(rep.set_index ?? 1),
      rep.side || "–",
      seconds(rep.start_s),
      tempoText(rep, exercise),
      typeof rep.range_deg === "number" ? `${Math.round(rep.range_deg)}°` : "–",
      faultWords(rep, words),
    ]);
    parts.push(
      element("div", { class: "table-wrap" }, [
        textTable(
          "Each rep: when, its tempo, its range of motion and its form",
          ["Rep", "Set", "Side", "At", "Tempo", "Range", "Form"],
          rows,
          "reps-table stack",
        ),
      ]),
    );
    target.replaceChildren(...parts);
    drawTimeline(canvas, reps, sets, exercise);
    if ("ResizeObserver" in window) {
      let drawnWidth = canvas.parentElement.clientWidth;
      new ResizeObserver(() => {
        const width = canvas.parentElement?.clientWidth || 0;
        if (width && width !== drawnWidth) {
          drawnWidth = width;
          drawTimeline(canvas, reps, sets, exercise);
        }
      }).observe(canvas.parentElement);
    }
  } else {
    parts.push(
      element("p", {
        text: exercise === "plank" ? `Held ${Math.round(details.hold_s || 0)} s in position.` : "No reps counted.",
      }),
    );
    target.replaceChildren(...parts);
  }
  if (sets.length) {
    target.append(
      element("div", { class: "table-wrap" }, [
        textTable(
          "Sets and rest",
          ["Set", "Reps", "Rest after", "Fatigue"],
          sets.map((s) => [
            String(s.index),
            String(s.reps),
            s.rest_after_s === null || s.rest_after_s === undefined ? "–" : seconds(s.rest_after_s),
            s.fatigue ? s.cue || "slowing down" : "no",
          ]),
        ),
      ]),
    );
  }
}
