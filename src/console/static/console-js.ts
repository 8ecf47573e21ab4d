/**
 * The console's only script, served as /ui/static/console.js (the CSP allows scripts from the
 * server alone, none inline). It draws the charts whose data a page carries in
 * `<script type="application/json" data-chart="...">` blocks, and asks before the forms marked
 * `data-confirm` are sent.
 */
export const CONSOLE_JS = `'use strict';
(function () {
  var PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777',
    '#65a30d', '#ea580c', '#4f46e5', '#0d9488', '#9333ea', '#b91c1c', '#15803d', '#a16207'];

  function percent(v) { return v == null ? '-' : (v * 100).toFixed(1) + '%'; }

  function weightsChart(block) {
    var data = JSON.parse(block.textContent || '{}');
    var target = document.getElementById(block.getAttribute('data-target'));
    if (!target || !window.uPlot || !data.x || data.x.length === 0) return;
    var series = [{ label: 'version time' }];
    var columns = [data.x];
    data.series.forEach(function (s, i) {
      series.push({
        label: s.label,
        stroke: PALETTE[i % PALETTE.length],
        width: 2,
        value: function (u, v) { return percent(v); },
        paths: window.uPlot.paths.stepped({ align: 1 }),
        points: { show: true, size: 5 },
        spanGaps: false,
      });
      columns.push(s.values);
    });
    var width = Math.max(320, Math.min(target.clientWidth || 800, 1100));
    var chart = new window.uPlot({
      width: width,
      height: 280,
      series: series,
      scales: { y: { range: [0, 1] } },
      axes: [{}, { values: function (u, vals) { return vals.map(function (v) { return Math.round(v * 100) + '%'; }); } }],
    }, columns, target);
    target.setAttribute('data-drawn', String(data.series.length));
    window.addEventListener('resize', function () {
      chart.setSize({ width: Math.max(320, Math.min(target.clientWidth || 800, 1100)), height: 280 });
    });
  }

  function charts() {
    document.querySelectorAll('script[type="application/json"][data-chart="weights"]').forEach(weightsChart);
  }

  function confirms() {
    document.querySelectorAll('form[data-confirm]').forEach(function (form) {
      form.addEventListener('submit', function (event) {
        if (!window.confirm(form.getAttribute('data-confirm'))) event.preventDefault();
      });
    });
  }

  function start() {
    confirms();
    try { charts(); } catch (err) { console.error('chart', err); }
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
`;
