// Draws every <canvas data-chart='...'> with Chart.js. The spec is either one series,
// {"labels": [...], "values": [...], "label": "..."} (a bar chart), or several,
// {"type": "line", "labels": [...], "datasets": [{"label": "...", "values": [...]}, ...]}.
// Data sits in an attribute, not an inline script, so the content security policy stays strict.
const CHART_COLOURS = ["#1095c1", "#c15a10", "#3a8a3a", "#7a4fb5"];

function chartDatasets(spec, type) {
  const series = spec.datasets || [{ label: spec.label, values: spec.values }];
  return series.map((one, n) => ({
    label: one.label,
    data: one.values.map(Number),
    backgroundColor: CHART_COLOURS[n % CHART_COLOURS.length],
    borderColor: CHART_COLOURS[n % CHART_COLOURS.length],
    fill: false,
    tension: 0,
    pointRadius: type === "line" ? 2 : undefined,
  }));
}

function drawCharts(root) {
  if (typeof Chart === "undefined") return;
  root.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
    if (canvas.dataset.drawn) return;
    const spec = JSON.parse(canvas.dataset.chart);
    const type = spec.type || "bar";
    new Chart(canvas, {
      type,
      data: { labels: spec.labels, datasets: chartDatasets(spec, type) },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: Boolean(spec.datasets) } },
        scales: { y: { beginAtZero: true } },
      },
    });
    canvas.dataset.drawn = "1";
  });
}
document.addEventListener("DOMContentLoaded", () => drawCharts(document));
document.addEventListener("htmx:afterSettle", (event) => drawCharts(event.target));
