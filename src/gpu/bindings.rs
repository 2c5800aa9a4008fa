//! What a dispatch binds, made once and reused: the uniform ring (every dispatch's `Params` in
//! a slot of one buffer, bound with a dynamic offset, instead of a uniform buffer per new
//! value) and the bind-group cache (one bind group per kernel, specialisation and storage
//! buffers; the pool hands the same buffers to the same ops step after step, so training
//! loops hit it).
//!
//! The ring's slots are filled on the host while ops record; `Pending::submit` writes the
//! window's slots with one `write_buffer` right before it submits the window's command
//! buffers, so a slot is never rewritten while work that reads it is still unsubmitted.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::kernels::Kernel;
use crate::sync::lock;

/// Slots in the ring: a pending window holds at most this many dispatches (then it is
/// submitted, as after `MAX_PENDING_DISPATCHES` command buffers).
pub(crate) const RING_SLOTS: usize = 1024;
/// Bytes of one dispatch's `Params` (eight words).
pub(crate) const PARAMS_BYTES: u64 = 32;
/// Bind groups kept before the cache is emptied.
const MAX_BIND_GROUPS: usize = 4096;

/// The ring buffer and the distance between its slots (the device's uniform offset alignment).
pub(crate) struct Ring {
    pub(crate) buffer: wgpu::Buffer,
    pub(crate) stride: u64,
}

impl Ring {
    pub(crate) fn new(device: &wgpu::Device) -> Ring {
        let align = u64::from(device.limits().min_uniform_buffer_offset_alignment);
        let stride = PARAMS_BYTES.next_multiple_of(align.max(1));
        let buffer = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("params ring"),
            size: stride * RING_SLOTS as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        Ring { buffer, stride }
    }
}

type Key = (&'static str, &'static str, u32, Vec<wgpu::Buffer>);

/// Bind groups by (kernel, specialisation, storage buffers). Holding a bind group keeps its
/// buffers alive, so the cache empties itself whenever the pool has let buffers go
/// (`released` moved), and when it is full.
pub(crate) struct BindGroups {
    groups: Mutex<(u64, HashMap<Key, wgpu::BindGroup>)>,
    released: Arc<AtomicU64>,
}

impl BindGroups {
    /// `released` counts the buffers the pool has let go of.
    pub(crate) fn new(released: Arc<AtomicU64>) -> BindGroups {
        BindGroups {
            groups: Mutex::new((0, HashMap::new())),
            released,
        }
    }

    /// Drops every bind group (and so its hold on buffers), e.g. when the pool is trimmed.
    pub(crate) fn clear(&self) {
        lock(&self.groups).1.clear();
    }

    /// The bind group of `kernel` (`spec`, `layout`) over the ring and `buffers`, made on a miss.
    pub(crate) fn get(
        &self,
        device: &wgpu::Device,
        (kernel, spec, layout): (&Kernel, u32, &wgpu::BindGroupLayout),
        ring: &wgpu::Buffer,
        buffers: &[&wgpu::Buffer],
    ) -> wgpu::BindGroup {
        let key: Key = (
            kernel.source.name,
            kernel.entry,
            spec,
            buffers.iter().map(|&b| b.clone()).collect(),
        );
        let released = self.released.load(Ordering::Acquire);
        let mut guard = lock(&self.groups);
        let (seen, groups) = &mut *guard;
        if *seen != released || groups.len() >= MAX_BIND_GROUPS {
            groups.clear();
            *seen = released;
        }
        groups
            .entry(key)
            .or_insert_with(|| create(device, kernel, layout, ring, buffers))
            .clone()
    }
}

/// Binding 0 of every bind group: one `Params` slot of the ring (the offset is dynamic).
pub(crate) fn ring_entry(ring: &wgpu::Buffer) -> wgpu::BindGroupEntry<'_> {
    let params = wgpu::BufferBinding {
        buffer: ring,
        offset: 0,
        size: wgpu::BufferSize::new(PARAMS_BYTES),
    };
    wgpu::BindGroupEntry {
        binding: 0,
        resource: wgpu::BindingResource::Buffer(params),
    }
}

fn create(
    device: &wgpu::Device,
    kernel: &Kernel,
    layout: &wgpu::BindGroupLayout,
    ring: &wgpu::Buffer,
    buffers: &[&wgpu::Buffer],
) -> wgpu::BindGroup {
    let mut entries = vec![ring_entry(ring)];
    for (i, b) in buffers.iter().enumerate() {
        entries.push(wgpu::BindGroupEntry {
            binding: i as u32 + 1,
            resource: b.as_entire_binding(),
        });
    }
    device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some(kernel.entry),
        layout,
        entries: &entries,
    })
}
