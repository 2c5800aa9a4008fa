// The page in a real browser: Debian's Chromium, headless, on its own WebGPU (Dawn + Tint +
// SwiftShader, which share no code with wgpu, naga and lavapipe). Serves web/ on loopback,
// then checks, failing (exit 1) on any of them and printing the browser's console:
//   - the page opens a WebGPU adapter and names it;
//   - the lab's numbers: SoftMax within 3 f32 ulps of what the lab printed, every quantity
//     within f32 rounding of the f64 reference;
//   - the self-check (quick; --full for every row): every row passes;
//   - training the digits MLP (--epochs, default 15) reaches ≥ 90 % test accuracy;
//   - no page error, no uncaught rejection, no console error;
//   - in a Chromium without WebGPU the page says what the user needs, not a blank page.
//
//   node web/test/page.mjs [--full] [--epochs N] [--model mlp|cnn] [--screenshot FILE] [--json FILE]
//                          [--no-selftest]   (the lab and training only: a quick look at a change)
import { spawn } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';

const args = process.argv.slice(2);
const opt = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const full = args.includes('--full');
const selftest = !args.includes('--no-selftest');
const epochs = Number(opt('--epochs', '15'));
const model = opt('--model', 'mlp');
const screenshot = opt('--screenshot', null);
const jsonOut = opt('--json', null);
const webDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const chromium = process.env.CHROMIUM || '/usr/bin/chromium';

const failures = [];
const fail = (what) => { failures.push(what); console.log(`FAIL: ${what}`); };

// Flags as the machine's notes say: no sandbox as root, no background networking (the network
// is closed), a fresh profile; WebGPU on Chromium's own Vulkan (SwiftShader).
const BASE = ['--headless=new', '--no-sandbox', '--disable-gpu-sandbox', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-quic', '--disable-dev-shm-usage'];
const WEBGPU = ['--enable-unsafe-webgpu', '--enable-features=Vulkan,WebGPU', '--use-vulkan=native'];

function serve() {
  return new Promise((resolve, reject) => {
    const server = spawn('python3', ['-m', 'http.server', '--bind', '127.0.0.1', '0', '-d', webDir],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    const onData = (d) => {
      const m = /port (\d+)/.exec(String(d));
      if (m) resolve({ server, url: `http://127.0.0.1:${m[1]}/index.html` });
    };
    server.stdout.on('data', onData);
    server.stderr.on('data', () => {});
    server.on('error', reject);
    setTimeout(() => reject(new Error('http.server did not start in 20 s')), 20000);
  });
}

async function open(url, flags, log) {
  const browser = await puppeteer.launch({
    executablePath: chromium, args: [...BASE, ...flags],
    userDataDir: mkdtempSync(join(tmpdir(), 'wgpu-backprop-chromium-')),
    protocolTimeout: 1_800_000, defaultViewport: { width: 1180, height: 900 },
  });
  const page = await browser.newPage();
  page.setDefaultTimeout(1_800_000);
  page.on('console', (m) => {
    log.push(`[${m.type()}] ${m.text()}`);
    if (m.type() === 'error') log.errors.push(m.text());
  });
  page.on('pageerror', (e) => { log.push(`[pageerror] ${e.message}`); log.errors.push(e.message); });
  await page.evaluateOnNewDocument(() => {
    window.addEventListener('unhandledrejection', (e) => console.error(`uncaught rejection: ${e.reason}`));
  });
  await page.goto(url, { waitUntil: 'load' });
  return { browser, page };
}

/// Distance in f32 ulps between two numbers, each rounded to f32.
function ulps(a, b) {
  const f = new Float32Array([a, b]);
  const i = new Int32Array(f.buffer);
  const ord = (x) => (x < 0 ? -2147483648 - x : x);
  return Math.abs(ord(i[0]) - ord(i[1]));
}

function checkLab(lab) {
  for (const part of lab.parts) {
    for (const e of part.entries) {
      const where = `${part.layer} ${e.name}`;
      const scale = Math.max(1, ...e.reference.map(Math.abs));
      e.gpu.forEach((g, i) => {
        if (Math.abs(g - e.reference[i]) > 4e-7 * scale) fail(`lab ${where}[${i}]: GPU ${g}, f64 ${e.reference[i]}`);
        if (e.lab && ulps(g, e.lab[i]) > 3) fail(`lab ${where}[${i}]: GPU ${g} is ${ulps(g, e.lab[i])} ulps from the lab's ${e.lab[i]}`);
      });
    }
  }
}

async function main() {
  const { server, url } = await serve();
  const results = { url };
  const log = []; log.errors = [];
  let browser;
  try {
    ({ browser } = await open(url, WEBGPU, log).then((o) => { results.page = o.page; return o; }));
    const page = results.page;
    const ready = await page.evaluate(() => window.wgpuBackprop.ready);
    if (!ready.ok) throw new Error(`the page opened no WebGPU adapter: ${ready.error}`);
    results.adapter = ready.info.adapter;
    results.info = ready.info;
    console.log(`adapter: ${ready.info.adapter} (${ready.info.backend}); features ${ready.info.features.join(', ')}`);

    const lab = await page.evaluate(() => window.wgpuBackprop.lab());
    checkLab(lab);
    const softmax = lab.parts[0].entries[0];
    console.log(`lab: softmax y = [${softmax.gpu.join(', ')}]`);

    let t = Date.now();
    if (selftest) {
      const report = await page.evaluate((full) => window.wgpuBackprop.selftest({ full }), full);
      results.selftest_wall_s = (Date.now() - t) / 1e3;
      const failed = report.rows.filter((r) => !r.passed);
      failed.forEach((r) => fail(`selftest ${r.kernel} / ${r.family}: ${r.error || r.worst_at}`));
      console.log(`selftest (${full ? 'full' : 'quick'}): ${report.rows.length - failed.length} of ${report.rows.length} rows passed in ${report.seconds.toFixed(1)} s`);
      if (report.rows.length === 0) fail('selftest ran no row');
      results.selftest = { full, rows: report.rows.length, failed: failed.length, seconds: report.seconds };
    }

    t = Date.now();
    const reports = await page.evaluate((o) => window.wgpuBackprop.train(o), { model, epochs });
    results.train_wall_s = (Date.now() - t) / 1e3;
    const last = reports[reports.length - 1];
    const sps = reports.map((r) => r.samples_per_second).sort((a, b) => a - b);
    results.train = { model, epochs: reports.length, loss: last.loss, test_accuracy: last.test_accuracy,
      median_samples_per_second: sps[Math.floor(sps.length / 2)] };
    console.log(`training ${model}: ${reports.length} epochs, loss ${last.loss.toFixed(4)}, test accuracy ` +
      `${(100 * last.test_accuracy).toFixed(2)} %, median ${Math.round(results.train.median_samples_per_second)} samples/s`);
    if (!(last.test_accuracy >= 0.9)) fail(`training reached ${(100 * last.test_accuracy).toFixed(2)} % test accuracy, below 90 %`);

    if (screenshot) {
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: screenshot, fullPage: true });
      console.log(`screenshot: ${screenshot}`);
    }
    await browser.close();
    browser = null;

    // Without WebGPU: the page must say what is needed.
    const log2 = []; log2.errors = [];
    const o2 = await open(url, ['--disable-features=WebGPU'], log2);
    browser = o2.browser;
    const r2 = await o2.page.evaluate(() => window.wgpuBackprop.ready);
    const text = await o2.page.$eval('#nogpu', (e) => (e.hidden ? '' : e.innerText));
    if (r2.ok) fail('with WebGPU disabled the page still opened an adapter');
    if (!/needs WebGPU/.test(text) || !/enable-unsafe-webgpu/.test(text)) fail(`without WebGPU the page said: ${JSON.stringify(text)}`);
    else console.log(`without WebGPU the page says: ${text.split('\n')[0]}`);
    log2.errors.forEach((e) => fail(`console error without WebGPU: ${e}`));
  } catch (e) {
    fail(`${e.stack || e}`);
  } finally {
    if (browser) await browser.close().catch(() => {});
    server.kill();
  }
  log.errors.forEach((e) => fail(`console error: ${e}`));
  delete results.page;
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify(results, null, 2));
  if (failures.length) {
    console.log('--- the browser console ---');
    log.forEach((l) => console.log(l));
    console.log(`${failures.length} failure(s)`);
    process.exit(1);
  }
  console.log('page test: every check passed');
}

main();
