// Tint, the WGSL compiler inside Chrome and Dawn, validates every pipeline this crate can
// build: the JSON of `wgpu-backprop kernels` (each source composed as the registry composes it
// for a browser, every kernel × specialisation with its override values and bindings) goes
// through Dawn's Node bindings (the `webgpu` package pinned in package-lock.json) on Dawn's
// null backend, where nothing runs and Tint checks everything. Each source becomes a shader
// module and each pipeline a compute pipeline with an explicit layout mirroring the crate's,
// on a device with WebGPU's default limits. A source that declares more workgroup memory than
// the device has (`workgroup_bytes`: the 128×128 tile with K slices of 16 needs 32 KiB, and
// the crate runs it only where the device has them, `Takes::Storage32K`) has its module
// validated and its pipelines counted apart, their one allowed error being that limit.
// Prints the counts; exits 1 on any other error.
//
//   cargo run --release --quiet -- kernels > /tmp/kernels.json
//   (cd scripts/tint && npm ci && node check.mjs /tmp/kernels.json)
import { readFileSync } from 'node:fs';
import { create, globals } from 'webgpu';

Object.assign(globalThis, globals);
const inventory = JSON.parse(readFileSync(process.argv[2] ?? 0, 'utf8'));
const gpu = create(['backend=null']); // kept: the instance must outlive its devices
const adapter = await gpu.requestAdapter();
if (!adapter) {
  console.error('no adapter on Dawn\'s null backend');
  process.exit(2);
}
const device = await adapter.requestDevice({
  requiredFeatures: adapter.features.has('subgroups') ? ['subgroups'] : [],
  requiredLimits: {
    maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
  },
});

const errors = [];
const modules = new Map();
for (const [name, { wgsl }] of Object.entries(inventory.sources)) {
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ label: name, code: wgsl });
  const info = await module.getCompilationInfo();
  for (const m of info.messages.filter((m) => m.type === 'error')) {
    errors.push(`${name}:${m.lineNum}:${m.linePos}: ${m.message}`);
  }
  const scoped = await device.popErrorScope();
  if (scoped && info.messages.every((m) => m.type !== 'error')) {
    errors.push(`${name}: ${scoped.message}`);
  }
  modules.set(name, module);
}

function layoutEntry(kind, binding) {
  const entry = { binding, visibility: GPUShaderStage.COMPUTE };
  switch (kind) {
    case 'uniform': return { ...entry, buffer: { type: 'uniform', hasDynamicOffset: true } };
    case 'read': return { ...entry, buffer: { type: 'read-only-storage' } };
    case 'read_write': return { ...entry, buffer: { type: 'storage' } };
    case 'texture': return { ...entry, texture: { sampleType: 'unfilterable-float' } };
    case 'write_texture':
      return { ...entry, storageTexture: { access: 'write-only', format: 'rgba32float' } };
    default: throw new Error(`unknown binding kind ${kind}`);
  }
}

const storage = device.limits.maxComputeWorkgroupStorageSize;
const overLimit = (message) => /workgroup storage .* larger than the maximum allowed/.test(message);
let pipelines = 0;
let beyond = 0; // pipelines of sources over this device's workgroup storage, refused for it
for (const p of inventory.pipelines) {
  const what = `${p.source} ${p.entry} ${JSON.stringify(p.constants)}`;
  const big = inventory.sources[p.source].workgroup_bytes > storage;
  const push = (message) => {
    if (big && overLimit(message)) beyond += 1;
    else errors.push(`${what}: ${message}`);
  };
  device.pushErrorScope('validation');
  try {
    const bindGroupLayout = device.createBindGroupLayout({
      entries: p.bindings.map(layoutEntry),
    });
    const layout = device.createPipelineLayout({ bindGroupLayouts: [bindGroupLayout] });
    await device.createComputePipelineAsync({
      label: p.entry,
      layout,
      compute: { module: modules.get(p.source), entryPoint: p.entry, constants: p.constants },
    });
  } catch (e) {
    push(e.message);
  }
  const scoped = await device.popErrorScope();
  if (scoped) push(scoped.message);
  pipelines += 1;
}

const sources = Object.keys(inventory.sources).length;
console.log(`Tint: ${sources} sources, ${pipelines} kernel × specialisation pipelines, ` +
  `${errors.length} errors; ${beyond} need more than this device's ${storage} bytes of ` +
  `workgroup storage (their modules validated)`);
for (const e of errors) console.log(`  ${e.split('\n')[0]}`);
process.exit(errors.length ? 1 : 0);
