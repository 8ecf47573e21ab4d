/** The console's stylesheet, served as /ui/static/console.css: system fonts only, nothing fetched. */
export const CONSOLE_CSS = `
:root { --fg: #1f2937; --muted: #6b7280; --line: #e5e7eb; --bg: #f9fafb; --accent: #2563eb;
  --ok: #15803d; --warn: #b45309; --bad: #b91c1c; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header.top { display: flex; align-items: center; gap: 1.5rem; padding: .6rem 1.5rem; background: #111827; color: #f9fafb; }
header.top a { color: #e5e7eb; text-decoration: none; }
header.top a:hover { text-decoration: underline; }
header.top .brand { font-weight: 700; letter-spacing: .03em; }
header.top .who { margin-left: auto; color: #9ca3af; }
header.top form { margin: 0; }
header.top button { background: transparent; color: #e5e7eb; border: 1px solid #4b5563; }
main { padding: 1rem 1.5rem 3rem; max-width: 1300px; }
h1 { font-size: 1.4rem; margin: .4rem 0 1rem; }
h2 { font-size: 1.1rem; margin: 1.6rem 0 .5rem; }
section.panel { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .8rem 1rem; margin-bottom: 1rem; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: .85rem; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
a { color: var(--accent); }
.muted { color: var(--muted); }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 999px; font-size: .8rem; border: 1px solid currentColor; white-space: nowrap; }
.badge.changed, .badge.active, .badge.finished, .badge.ok { color: var(--ok); }
.badge.held, .badge.pending, .badge.paused, .badge.running, .badge.queued, .badge.fanning-out, .badge.advisory { color: var(--warn); }
.badge.failed, .badge.archived, .badge.cancelled, .badge.fan-out-failed, .badge.gone { color: var(--bad); }
.flash { padding: .6rem .9rem; border-radius: 6px; margin-bottom: 1rem; border: 1px solid; }
.flash.done { background: #f0fdf4; border-color: #86efac; color: #14532d; }
.flash.error { background: #fef2f2; border-color: #fca5a5; color: #7f1d1d; white-space: pre-wrap; }
.warnings li { color: var(--warn); }
form.inline { display: inline; margin: 0; }
form.filters { display: flex; gap: .6rem; align-items: end; flex-wrap: wrap; margin-bottom: .6rem; }
form.filters label, form.stack label { display: flex; flex-direction: column; font-size: .8rem; color: var(--muted); gap: .15rem; }
form.stack { display: flex; flex-direction: column; gap: .6rem; max-width: 28rem; }
input, select, textarea { font: inherit; padding: .3rem .45rem; border: 1px solid #d1d5db; border-radius: 4px; background: #fff; }
button { font: inherit; padding: .3rem .8rem; border-radius: 4px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
button.danger { background: var(--bad); border-color: var(--bad); }
.actions { display: flex; gap: .6rem; flex-wrap: wrap; align-items: end; margin-top: .6rem; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr)); gap: .3rem 1.5rem; }
dl.settings { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; }
dl.settings dt { color: var(--muted); }
dl.settings dd { margin: 0; }
.chart { min-height: 300px; width: 100%; }
.pager { display: flex; gap: 1rem; margin-top: .6rem; }
.login { max-width: 26rem; margin: 5rem auto; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 1.5rem; }
meter { width: 12rem; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .85em; }
ul.reasons { margin: .2rem 0; padding-left: 1.1rem; }
`;
