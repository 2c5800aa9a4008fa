// The page: opens the browser's GPU through the wasm module (pkg/, built by web/build.sh), then
// runs the lab, training and the self-check on it when asked. `window.wgpuBackprop` exposes the
// same actions (and their results) to the browser test, web/test/page.mjs.
import init, { openGpu, Trainer } from './pkg/wgpu_backprop_web.js';

const $ = (id) => document.getElementById(id);
const fmt = (v) => (Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(8) : v.toExponential(4));
const list = (a) => '[' + a.map(fmt).join(', ') + ']';

let gpu = null;
let busy = false;
let lastReport = null;

/// Runs `f` unless something else is running; buttons are disabled meanwhile.
async function exclusive(f) {
  if (busy) throw new Error('wgpu-backprop: another run is in progress');
  busy = true;
  document.querySelectorAll('button.run').forEach((b) => (b.disabled = true));
  try { return await f(); } finally {
    busy = false;
    document.querySelectorAll('button.run').forEach((b) => (b.disabled = false));
  }
}

function noWebGpu(message) {
  const box = $('nogpu');
  box.hidden = false;
  const missing = !('gpu' in navigator);
  box.innerHTML = `<strong>This page needs WebGPU, and ${missing ? 'this browser has none' : 'this browser offers no WebGPU adapter'}.</strong>
    <p>Use a browser with WebGPU: Chrome or Edge 113 or later, Safari 26, or Firefox 141 on Windows, with hardware acceleration on.
    On Linux, Chrome needs <code>chrome://flags/#enable-unsafe-webgpu</code> (or start it with <code>--enable-unsafe-webgpu</code>);
    Firefox needs <code>dom.webgpu.enabled</code> in <code>about:config</code>.</p>
    <p class="mono">${message}</p>`;
  $('status').textContent = 'No WebGPU.';
  $('status').classList.add('bad');
}

// ---- the lab ----
function showLab(lab) {
  const out = $('lab-out');
  out.innerHTML = '';
  out.className = 'lab';
  for (const part of lab.parts) {
    const h = document.createElement('h3');
    h.textContent = part.layer;
    out.appendChild(h);
    const t = document.createElement('table');
    t.innerHTML = '<tr><th></th><th>GPU (f32)</th><th>f64 reference</th><th>the lab printed</th><th>max |diff|</th></tr>';
    for (const e of part.entries) {
      const tr = document.createElement('tr');
      tr.innerHTML = `<td>${e.name}</td><td>${list(e.gpu)}</td><td>${list(e.reference)}</td>` +
        `<td>${e.lab ? list(e.lab) : '—'}</td><td>${e.max_diff.toExponential(2)}</td>`;
      t.appendChild(tr);
    }
    out.appendChild(t);
  }
  const worst = Math.max(...lab.parts.flatMap((p) => p.entries.map((e) => e.max_diff)));
  const p = document.createElement('p');
  p.className = 'mono';
  p.textContent = `largest difference from the f64 reference: ${worst.toExponential(2)}`;
  out.appendChild(p);
}

async function runLab() {
  return exclusive(async () => {
    const lab = JSON.parse(await gpu.lab());
    showLab(lab);
    return lab;
  });
}

// ---- training ----
let stopRequested = false;

function drawCurves(reports) {
  const c = $('train-curves');
  const g = c.getContext('2d');
  const [w, h, l, r, t, b] = [c.width, c.height, 46, 46, 14, 30];
  g.clearRect(0, 0, w, h);
  g.font = '11px sans-serif';
  g.strokeStyle = '#ccd2da';
  g.strokeRect(l, t, w - l - r, h - t - b);
  const n = Math.max(reports.length, 2);
  const maxLoss = Math.max(0.5, ...reports.map((e) => e.loss));
  const x = (i) => l + ((w - l - r) * i) / (n - 1 || 1);
  const yl = (v) => t + (h - t - b) * (1 - v / maxLoss);
  const ya = (v) => t + (h - t - b) * (1 - v);
  const line = (vals, y, color) => {
    g.strokeStyle = color; g.lineWidth = 2; g.beginPath();
    vals.forEach((v, i) => (i ? g.lineTo(x(i), y(v)) : g.moveTo(x(i), y(v))));
    g.stroke();
  };
  line(reports.map((e) => e.loss), yl, '#d0703a');
  line(reports.map((e) => e.test_accuracy), ya, '#3a6fd0');
  g.fillStyle = '#d0703a'; g.fillText(`loss ${maxLoss.toFixed(2)}`, 2, t + 8); g.fillText('0', 30, h - b);
  g.fillStyle = '#3a6fd0'; g.fillText('100 %', w - r + 4, t + 8); g.fillText('0 %', w - r + 4, h - b);
  g.fillStyle = '#555'; g.fillText(`epoch 1 … ${reports.length}`, l, h - 10);
  g.fillText('— training loss   — test accuracy', l + 120, h - 10);
}

function drawDigits(p) {
  const box = $('train-digits');
  box.innerHTML = '';
  p.images.forEach((img, i) => {
    const d = document.createElement('div');
    const ok = p.predicted[i] === p.labels[i];
    d.className = 'digit ' + (ok ? 'right' : 'wrong');
    const c = document.createElement('canvas');
    c.width = 8; c.height = 8;
    const g = c.getContext('2d');
    const data = g.createImageData(8, 8);
    img.forEach((v, j) => {
      const shade = 255 - Math.round(255 * Math.min(1, Math.max(0, v)));
      data.data.set([shade, shade, shade, 255], 4 * j);
    });
    g.putImageData(data, 0, 0);
    d.appendChild(c);
    d.appendChild(document.createTextNode(ok ? `${p.predicted[i]}` : `${p.predicted[i]} (${p.labels[i]})`));
    box.appendChild(d);
  });
}

async function train({ model = $('train-model').value, epochs = +$('train-epochs').value, seed = 0 } = {}) {
  return exclusive(async () => {
    stopRequested = false;
    $('train-stop').disabled = false;
    const trainer = new Trainer(gpu, model, 0, 0, BigInt(seed));
    const reports = [];
    try {
      for (let e = 0; e < epochs && !stopRequested; e++) {
        const report = JSON.parse(await trainer.epoch((f) => {
          $('train-bar').style.width = `${(100 * (e + f)) / epochs}%`;
        }));
        reports.push(report);
        $('train-line').textContent = `epoch ${report.epoch}/${epochs}  loss ${report.loss.toFixed(4)}  ` +
          `test accuracy ${(100 * report.test_accuracy).toFixed(2)} %  ` +
          `${Math.round(report.samples_per_second).toLocaleString('en')} samples/s`;
        drawCurves(reports);
        drawDigits(JSON.parse(await trainer.predictions(32)));
      }
    } finally {
      $('train-stop').disabled = true;
      trainer.free();
    }
    return reports;
  });
}

// ---- the self-check ----
function addRow(row) {
  const tr = document.createElement('tr');
  if (!row.passed) tr.className = 'fail';
  const verdict = row.error ? `FAIL: ${row.error}` : row.passed ? 'pass' : `FAIL: worst ${row.worst_at}`;
  const worst = row.worst === null ? 'inf' : Number(row.worst).toExponential(2);
  tr.innerHTML = `<td>${row.kernel}</td><td>${row.family}</td><td class="num">${row.cases}</td>` +
    `<td class="num">${worst}</td><td class="num">${row.seconds.toFixed(2)}</td>` +
    `<td class="${row.passed ? 'pass' : 'failed'}">${verdict}</td>`;
  document.querySelector('#selftest-table tbody').appendChild(tr);
}

function reportText(report, info) {
  const lines = [`wgpu-backprop selftest in ${navigator.userAgent}`, `adapter: ${report.adapter}`,
    `info: ${JSON.stringify(info)}`, ''];
  for (const r of report.rows) {
    lines.push(`${r.kernel.padEnd(28)} ${r.family.padEnd(40)} ${String(r.cases).padStart(5)} ` +
      `${String(r.worst).padStart(10)} ${r.seconds.toFixed(2).padStart(7)}  ${r.passed ? 'pass' : 'FAIL ' + (r.error || r.worst_at)}`);
  }
  const failed = report.rows.filter((r) => !r.passed).length;
  lines.push(`${report.rows.length - failed} of ${report.rows.length} rows passed in ${report.seconds.toFixed(1)} s`);
  return lines.join('\n');
}

async function selftest({ full = false } = {}) {
  return exclusive(async () => {
    document.querySelector('#selftest-table tbody').innerHTML = '';
    $('selftest-summary').textContent = full ? 'running the full set…' : 'running the quick set…';
    const report = JSON.parse(await gpu.selftest(full, (row) => addRow(JSON.parse(row))));
    const failed = report.rows.filter((r) => !r.passed).length;
    $('selftest-summary').textContent = `${report.rows.length - failed} of ${report.rows.length} rows passed in ` +
      `${report.seconds.toFixed(1)} s` + (failed ? ' — FAILED' : '');
    lastReport = report;
    $('selftest-copy').disabled = false;
    return report;
  });
}

async function start() {
  await init();
  try {
    gpu = await openGpu();
  } catch (e) {
    noWebGpu(e.message || String(e));
    return { ok: false, error: e.message || String(e) };
  }
  const info = JSON.parse(gpu.info());
  // WebGPU gives wgpu no adapter name; the browser's adapter info says what it is.
  try {
    const a = await navigator.gpu.requestAdapter();
    const i = a && a.info;
    if (i) {
      info.web = { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description, fallback: !!a.isFallbackAdapter };
      if (!info.adapter) info.adapter = [i.vendor, i.architecture, i.description].filter((s) => s).join(' ') || 'WebGPU adapter';
    }
  } catch (e) { console.warn(`adapter info: ${e}`); }
  $('status').textContent = `On ${info.adapter} (${info.backend}${info.driver ? ', ' + info.driver : ''}).`;
  $('adapter-info').textContent = JSON.stringify(info, null, 2);
  $('main').hidden = false;
  for (const b of ['lab-run', 'train-run', 'selftest-quick', 'selftest-full']) $(b).classList.add('run');
  $('lab-run').onclick = () => runLab().catch(showError);
  $('train-run').onclick = () => train().catch(showError);
  $('train-stop').onclick = () => { stopRequested = true; };
  $('selftest-quick').onclick = () => selftest({ full: false }).catch(showError);
  $('selftest-full').onclick = () => selftest({ full: true }).catch(showError);
  $('selftest-copy').onclick = async () => {
    const text = reportText(lastReport, info);
    try { await navigator.clipboard.writeText(text); $('selftest-copy').textContent = 'Copied'; }
    catch { window.prompt('Copy the report:', text); }
  };
  return { ok: true, info };
}

function showError(e) {
  console.error(e);
  $('status').textContent = `Error: ${e.message || e}`;
  $('status').classList.add('bad');
}

window.wgpuBackprop = { ready: start(), lab: runLab, train, selftest };
