// Progress: reps, minutes and form per day, the days active (streaks) and each exercise,
// from GET /api/exercises/progress/. Charts are uPlot (vendored, loaded by index.html as
// the global `uPlot`); each chart has a text alternative: a sentence anyone can read and a
// table for screen readers (the canvas itself is hidden from them).

const CHART_HEIGHT = 170;
const DAY_S = 86400;
/** Series colours: readable on light and dark backgrounds. */
const PALETTE = ["#0b6bcb", "#2e7d32", "#c2410c", "#7e22ce", "#0e7490", "#a16207", "#be185d"];

/** A DOM element with ``class``, ``text`` or attributes, and children. */
export function element(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

/** A table with a caption, column headings and rows of text. */
export function textTable(caption, headings, rows, className = "") {
  const head = element("tr", {}, headings.map((h) => element("th", { scope: "col", text: h })));
  // Each cell names its column (data-label): a narrow screen shows a row as a card.
  const body = rows.map((cells) =>
    element(
      "tr",
      {},
      cells.map((c, i) => element("td", { text: c, "data-label": headings[i] })),
    ),
  );
  return element("table", { class: className }, [
    element("caption", { text: caption }),
    element("thead", {}, [head]),
    element("tbody", {}, body),
  ]);
}

function dayLabel(isoDate) {
  return new Date(`${isoDate}T00:00:00Z`).toLocaleDateString(undefined, {
    timeZone: "UTC",
    weekday: "short",
    month: "short",
    day: "numeric",
  });
}

function unixDay(isoDate) {
  return Date.parse(`${isoDate}T00:00:00Z`) / 1000;
}

function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

function textColour() {
  return getComputedStyle(document.body).color || "#222";
}

/** One uPlot chart of daily values, sized to its box and resized with it. */
function dailyChart(box, xs, series, { yRange = null, bars = true } = {}) {
  const UPlot = window.uPlot;
  if (!UPlot) {
    box.textContent = "The chart library did not load.";
    return null;
  }
  const ink = textColour();
  const width = Math.max(200, box.clientWidth || 300);
  const options = {
    width,
    height: CHART_HEIGHT,
    tzDate: (ts) => UPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
    legend: { show: series.length > 1 },
    cursor: { show: false },
    scales: {
      x: { time: true, range: [xs[0] - DAY_S / 2, xs[xs.length - 1] + DAY_S / 2] },
      y: yRange ? { range: yRange } : { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] },
    },
    axes: [
      { stroke: ink, grid: { stroke: "#8883" }, ticks: { stroke: "#8886" } },
      { stroke: ink, grid: { stroke: "#8883" }, ticks: { stroke: "#8886" }, size: 44 },
    ],
    series: [
      {},
      ...series.map((s, i) => {
        const colour = PALETTE[i % PALETTE.length];
        return bars
          ? {
              label: s.label,
              stroke: colour,
              fill: `${colour}cc`,
              paths: UPlot.paths.bars({ size: [0.7, 40] }),
              points: { show: false },
            }
          : {
              label: s.label,
              stroke: colour,
              width: 2,
              spanGaps: true,
              points: { show: true, size: 7, fill: colour },
            };
      }),
    ],
  };
  const plot = new UPlot(options, [xs, ...series.map((s) => s.values)], box);
  if ("ResizeObserver" in window) {
    new ResizeObserver(() => {
      const w = Math.max(200, box.clientWidth);
      if (w !== plot.width) plot.setSize({ width: w, height: CHART_HEIGHT });
    }).observe(box);
  }
  return plot;
}

/** A chart: caption, the plot (hidden from screen readers), a sentence, a table. */
function chartFigure(id, caption) {
  const plot = element("div", { class: "plot", "aria-hidden": "true" });
  const sentence = element("p", { class: "chart-text" });
  const alt = element("div", { class: "chart-alt" });
  const figure = element("figure", { class: "chart", id }, [
    element("figcaption", { text: caption }),
    plot,
    sentence,
    alt,
  ]);
  return { figure, plot, sentence, alt };
}

export class ProgressView {
  /** @param {object} options api, label(exercise) -> words, notice(text). */
  constructor({ api, label, notice }) {
    this.api = api;
    this.label = label;
    this.notice = notice;
    this.plots = [];
    this.days = document.getElementById("progress-days");
    this.charts = document.getElementById("progress-charts");
    this.summary = document.getElementById("progress-summary");
    this.days.addEventListener("change", () => this.refresh());
  }

  async refresh() {
    let data;
    try {
      data = await this.api.progress(this.days.value);
    } catch (error) {
      if (this.api.signedIn) this.notice(`Could not load progress: ${error.message}`);
      return;
    }
    this.show(data);
  }

  clear() {
    for (const plot of this.plots) plot.destroy();
    this.plots = [];
    this.charts.replaceChildren();
    this.summary.textContent = "";
  }

  show(data) {
    this.clear();
    const daily = data.daily;
    const xs = daily.map((d) => unixDay(d.date));
    const active = daily.filter((d) => d.sessions > 0);
    const total = (key) => daily.reduce((sum, d) => sum + d[key], 0);
    const period = `the last ${plural(data.days, "day")}`;
    this.summary.textContent =
      `${plural(total("sessions"), "session")} on ${plural(data.active_days, "day")} of ${period}. ` +
      `Current streak: ${plural(data.current_streak, "day")}; best: ${plural(data.best_streak, "day")}.`;

    const charts = [
      {
        id: "chart-reps",
        caption: "Reps per day",
        key: "reps",
        heading: "Reps",
        format: (v) => String(v),
        sentence: `${total("reps")} reps in ${period}.`,
      },
      {
        id: "chart-minutes",
        caption: "Minutes per day",
        key: "minutes",
        heading: "Minutes",
        format: (v) => v.toFixed(1),
        sentence: `${total("minutes").toFixed(1)} minutes in ${period}.`,
      },
      {
        id: "chart-form",
        caption: "Form per day (%)",
        key: "form_accuracy",
        heading: "Form (%)",
        format: (v) => String(Math.round(v)),
        line: true,
        sentence: active.length
          ? `Form ranged from ${Math.round(Math.min(...active.map((d) => d.form_accuracy)))} % ` +
            `to ${Math.round(Math.max(...active.map((d) => d.form_accuracy)))} % on the days you trained.`
          : "No form to show yet.",
      },
    ];
    for (const chart of charts) {
      const { figure, plot, sentence, alt } = chartFigure(chart.id, chart.caption);
      sentence.textContent = chart.sentence;
      alt.append(
        textTable(
          `${chart.caption}, days with a session`,
          ["Day", chart.heading, "Sessions"],
          active.map((d) => [dayLabel(d.date), chart.format(d[chart.key]), String(d.sessions)]),
          "sr-only",
        ),
      );
      this.charts.append(figure);
      // A bar of nothing is no bar (a day without a session is a gap, not a line at 0).
      const values = daily.map((d) => (chart.line || d.sessions ? d[chart.key] : null));
      const drawn = dailyChart(plot, xs, [{ label: chart.heading, values }], {
        bars: !chart.line,
        yRange: chart.line ? [0, 100] : null,
      });
      if (drawn) this.plots.push(drawn);
    }
    this.charts.append(this.streakFigure(daily, data));
    this.charts.append(this.exerciseFigure(xs, data));
  }

  /** The days active as a row of squares (a sentence says the same in words). */
  streakFigure(daily, data) {
    const squares = element(
      "ol",
      { class: "days", "aria-hidden": "true" },
      daily.map((d) =>
        element("li", {
          class: d.sessions ? "on" : "",
          title: `${dayLabel(d.date)}: ${plural(d.sessions, "session")}`,
        }),
      ),
    );
    const names = daily.filter((d) => d.sessions).map((d) => dayLabel(d.date));
    const sentence = element("p", {
      class: "chart-text",
      text:
        `Active on ${plural(data.active_days, "day")}` +
        (names.length ? `: ${names.join(", ")}.` : ".") +
        ` Current streak ${plural(data.current_streak, "day")}, best ${plural(data.best_streak, "day")}.`,
    });
    return element("figure", { class: "chart", id: "chart-streak" }, [
      element("figcaption", { text: "Days active (streaks)" }),
      squares,
      sentence,
    ]);
  }

  /** Reps per day of each exercise, with a visible table of each exercise's totals. */
  exerciseFigure(xs, data) {
    const { figure, plot, sentence, alt } = chartFigure("chart-exercises", "Each exercise");
    sentence.textContent = data.exercises.length
      ? `${plural(data.exercises.length, "exercise")} in the last ${plural(data.days, "day")}.`
      : "No exercise yet in this period.";
    alt.append(
      element("div", { class: "table-wrap" }, [
        textTable(
          "Each exercise over the period",
          ["Exercise", "Sessions", "Reps", "Minutes", "Form"],
          data.exercises.map((e) => [
            this.label(e.exercise_type),
            String(e.sessions),
            String(e.reps),
            e.minutes.toFixed(1),
            `${Math.round(e.form_accuracy)} %`,
          ]),
          "stack",
        ),
      ]),
    );
    if (data.exercises.length) {
      queueMicrotask(() => {
        const series = data.exercises.map((e) => ({
          label: this.label(e.exercise_type),
          values: e.daily_reps,
        }));
        const drawn = dailyChart(plot, xs, series, { bars: false });
        if (drawn) this.plots.push(drawn);
      });
    } else {
      plot.hidden = true;
    }
    return figure;
  }
}
