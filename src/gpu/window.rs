//! The pending window: what the ops of every thread have recorded and not yet submitted. Its
//! dispatches go into one shared encoder and one open compute pass (an op costs the host a
//! `set_pipeline`, a `set_bind_group` and a `dispatch`, not an encoder, a pass and a `finish`
//! of its own); copies, clears and timestamps end the pass and go into the same encoder. A
//! user's own encoding (`Gpu::encode`) stays a command buffer of its own, after the open
//! segment, which it seals.
//!
//! Validation inside a pass is deferred by wgpu to `finish`, so an op cannot get its own
//! `Err` when it records. Ops are checked on the host first (bindings, grid, sizes), and every
//! recorded command is logged: if a segment's `finish` fails, it is replayed command by command,
//! each in an encoder of its own inside error scopes, the valid ones kept in order and the first
//! invalid one named in the submitting call's `Err` (`Error::Validation { op, .. }`).

use crate::error::{Error, Result};

use super::Gpu;

/// One recorded command other than a dispatch, with the handles it needs (kept for a replay).
pub(crate) enum Command {
    /// `copy_buffer_to_buffer(src, 0, dst, 0, size)`.
    Copy {
        src: wgpu::Buffer,
        dst: wgpu::Buffer,
        size: u64,
    },
    /// `clear_buffer(buffer)`: zeros.
    Clear(wgpu::Buffer),
    /// An empty compute pass writing timestamp `index` of `queries` at its start.
    Timestamp(wgpu::QuerySet, u32),
    /// `resolve_query_set(queries, 0..count, dst, 0)`.
    Resolve(wgpu::QuerySet, wgpu::Buffer, u32),
}

impl Command {
    fn encode(&self, enc: &mut wgpu::CommandEncoder) {
        match self {
            Command::Copy { src, dst, size } => enc.copy_buffer_to_buffer(src, 0, dst, 0, *size),
            Command::Clear(buffer) => enc.clear_buffer(buffer, 0, None),
            Command::Timestamp(queries, index) => {
                enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("timestamp"),
                    timestamp_writes: Some(wgpu::ComputePassTimestampWrites {
                        query_set: queries,
                        beginning_of_pass_write_index: Some(*index),
                        end_of_pass_write_index: None,
                    }),
                });
            }
            Command::Resolve(queries, dst, count) => {
                enc.resolve_query_set(queries, 0..*count, dst, 0)
            }
        }
    }
}

/// One dispatch: pipeline, bind group at its ring slot's offset, grid.
pub(crate) struct Dispatched {
    pub(crate) pipeline: wgpu::ComputePipeline,
    pub(crate) bind_group: wgpu::BindGroup,
    pub(crate) offset: u32,
    pub(crate) grid: [u32; 3],
}

impl Dispatched {
    fn encode(&self, pass: &mut wgpu::ComputePass<'_>) {
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &self.bind_group, &[self.offset]);
        pass.dispatch_workgroups(self.grid[0], self.grid[1], self.grid[2]);
    }
}

/// What a segment holds, in order, for a replay.
enum Logged {
    Dispatch(&'static str, Dispatched),
    Command(&'static str, Command),
}

/// The open segment: the shared encoder, its open pass, and its log.
struct Open {
    encoder: wgpu::CommandEncoder,
    pass: Option<wgpu::ComputePass<'static>>,
    log: Vec<Logged>,
}

/// Everything recorded and not yet submitted, in recording order, and the ring slots its
/// dispatches read (`params`, one stride apart, written to the ring just before the submit).
#[derive(Default)]
pub(crate) struct Pending {
    /// Sealed segments and users' own command buffers.
    buffers: Vec<wgpu::CommandBuffer>,
    open: Option<Open>,
    /// Ops recorded in this window.
    ops: usize,
    pub(crate) params: Vec<u8>,
    /// What the ring holds (wgpu zero-fills new buffers): a window whose slots are the same as
    /// the last one's (a training step repeats its shapes) writes nothing.
    ring_shadow: Vec<u8>,
}

impl Pending {
    /// Whether no further op fits before a submit.
    pub(crate) fn full(&self, stride: u64, max_ops: usize) -> bool {
        self.ops >= max_ops
            || self.params.len() as u64 >= stride * super::bindings::RING_SLOTS as u64
    }

    /// Whether nothing is waiting to be submitted.
    pub(crate) fn is_empty(&self) -> bool {
        self.buffers.is_empty() && self.open.is_none()
    }

    fn open(&mut self, device: &wgpu::Device) -> &mut Open {
        self.open.get_or_insert_with(|| Open {
            encoder: device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("wgpu-backprop window"),
            }),
            pass: None,
            log: Vec::new(),
        })
    }

    /// Records a dispatch into the open pass (beginning one if need be).
    pub(crate) fn dispatch(&mut self, device: &wgpu::Device, op: &'static str, d: Dispatched) {
        let open = self.open(device);
        let pass = open.pass.get_or_insert_with(|| {
            open.encoder
                .begin_compute_pass(&wgpu::ComputePassDescriptor::default())
                .forget_lifetime()
        });
        d.encode(pass);
        open.log.push(Logged::Dispatch(op, d));
        self.ops += 1;
    }

    /// Records a command (the open pass ends first).
    pub(crate) fn command(&mut self, device: &wgpu::Device, op: &'static str, c: Command) {
        let open = self.open(device);
        open.pass = None;
        c.encode(&mut open.encoder);
        open.log.push(Logged::Command(op, c));
        self.ops += 1;
    }

    /// Appends a command buffer of the caller's own, after everything recorded so far.
    pub(crate) fn push_buffer(&mut self, gpu: &Gpu, buffer: wgpu::CommandBuffer) -> Result<()> {
        let sealed = self.seal(gpu);
        self.buffers.push(buffer);
        self.ops += 1;
        sealed
    }

    /// Finishes the open segment into a command buffer. If the device rejects it, replays it
    /// command by command: the valid ones are kept (in order), the first invalid one's error
    /// is returned.
    fn seal(&mut self, gpu: &Gpu) -> Result<()> {
        let Some(mut open) = self.open.take() else {
            return Ok(());
        };
        open.pass = None;
        let Open { encoder, log, .. } = open;
        match gpu.scoped("submit", || encoder.finish()) {
            Ok(buffer) => {
                self.buffers.push(buffer);
                Ok(())
            }
            Err(_) => self.replay(gpu, log),
        }
    }

    fn replay(&mut self, gpu: &Gpu, log: Vec<Logged>) -> Result<()> {
        let mut first: Option<Error> = None;
        for entry in log {
            let recorded = match &entry {
                Logged::Dispatch(op, d) => gpu.scoped(op, || {
                    encode_alone(gpu, |e| {
                        d.encode(&mut e.begin_compute_pass(&Default::default()))
                    })
                }),
                Logged::Command(op, c) => gpu.scoped(op, || encode_alone(gpu, |e| c.encode(e))),
            };
            match recorded {
                Ok(buffer) => self.buffers.push(buffer),
                Err(e) => {
                    first.get_or_insert(e);
                }
            }
        }
        first.map_or(Ok(()), Err)
    }

    /// Seals the open segment and hands over everything to submit, with the ring's bytes to
    /// write first (`None`: it holds them already) and the window's params; the window is empty
    /// after. A segment the device rejected is in the `Result` (the rest is still returned).
    pub(crate) fn take(&mut self, gpu: &Gpu) -> (Window, Result<()>) {
        let sealed = self.seal(gpu);
        let ring = self.ring_changes();
        let window = Window {
            buffers: std::mem::take(&mut self.buffers),
            params: std::mem::take(&mut self.params),
            ring,
        };
        self.ops = 0;
        (window, sealed)
    }

    /// The byte range of the ring that must be written for this window's slots (`None`: the
    /// ring already holds them), with the shadow brought up to date.
    fn ring_changes(&mut self) -> Option<std::ops::Range<usize>> {
        let params = &self.params;
        if self.ring_shadow.len() < params.len() {
            self.ring_shadow.resize(params.len(), 0);
        }
        let shadow = &mut self.ring_shadow[..params.len()];
        let first = params.iter().zip(shadow.iter()).position(|(a, b)| a != b)?;
        let last = params
            .iter()
            .zip(shadow.iter())
            .rposition(|(a, b)| a != b)?;
        // write_buffer takes whole words.
        let range = first / 4 * 4..(last / 4 + 1) * 4;
        shadow[range.clone()].copy_from_slice(&params[range.clone()]);
        Some(range)
    }
}

/// A window ready to submit.
pub(crate) struct Window {
    pub(crate) buffers: Vec<wgpu::CommandBuffer>,
    pub(crate) params: Vec<u8>,
    pub(crate) ring: Option<std::ops::Range<usize>>,
}

/// One command in an encoder of its own, finished.
fn encode_alone(gpu: &Gpu, f: impl FnOnce(&mut wgpu::CommandEncoder)) -> wgpu::CommandBuffer {
    let mut encoder = gpu
        .device()
        .create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("replay"),
        });
    f(&mut encoder);
    encoder.finish()
}
