//! Launching kernels: [`Gpu::launch`] records one dispatch (the pipeline from the kernel
//! cache, a cached bind group, its `Params` in a slot of the uniform ring, a compute pass) into
//! the pending work, inside the op's error scopes (`launch_bound`: the same over textures); `grid_1d` and `grid_2d` fold big grids
//! under the device's per-dimension limit.

use super::bindings::ring_entry;
use super::window::Dispatched;
use super::{lock, Gpu, MAX_PENDING_DISPATCHES};
use crate::error::{Error, Result};
use crate::kernels::{Compiled, Decl, Kernel, Spec, Uniform, Work};

/// One dispatch: which kernel, its specialisation, its uniform's words, storage buffers, grid.
struct Dispatch<'a> {
    kernel: &'static Kernel,
    spec: u32,
    params: [u32; 8],
    buffers: &'a [&'a wgpu::Buffer],
    grid: [u32; 3],
}

impl<P: Uniform, S: Spec, const N: usize> Decl<P, S, N> {
    /// Records one dispatch of this kernel over `buffers` (bindings 1..N in order), its grid
    /// worked out from `work` (nothing is submitted here).
    pub(crate) fn launch(
        &'static self,
        gpu: &Gpu,
        op: &'static str,
        (spec, params): (S, P),
        buffers: [&wgpu::Buffer; N],
        work: Work,
    ) -> Result<()> {
        let grid = gpu.grid_of(op, &self.kernel, work)?;
        let d = Dispatch {
            kernel: &self.kernel,
            spec: spec.bits(),
            params: params.words(),
            buffers: &buffers,
            grid,
        };
        gpu.launch(op, d)
    }

    /// [`Decl::launch`] over any bindings (textures too), in a bind group made for this
    /// dispatch alone (not cached: the texture kernels' textures are new each time).
    pub(crate) fn launch_bound(
        &'static self,
        gpu: &Gpu,
        op: &'static str,
        (spec, params): (S, P),
        resources: [wgpu::BindingResource<'_>; N],
        work: Work,
    ) -> Result<()> {
        let grid = gpu.grid_of(op, &self.kernel, work)?;
        let kernel = (&self.kernel, spec.bits());
        gpu.launch_bound(op, kernel, params.words(), &resources, grid)
    }
}

impl Gpu {
    /// Records one dispatch into the pending work (nothing is submitted here).
    fn launch(&self, op: &'static str, d: Dispatch<'_>) -> Result<()> {
        if !self.dispatchable(op, d.kernel, d.buffers.len(), d.grid)? {
            return Ok(());
        }
        // Everything that touches the device happens inside error scopes, so a failure here
        // is this op's `Err`.
        let device = &self.inner.device;
        let (compiled, bind_group) = self.scoped(op, || {
            let compiled = self.inner.kernels.compiled(device, d.kernel, d.spec);
            let bind_group = self.inner.bind_groups.get(
                device,
                (d.kernel, d.spec, &compiled.layout),
                &self.inner.ring.buffer,
                d.buffers,
            );
            (compiled, bind_group)
        })?;
        self.record_dispatch(op, (d.kernel, &compiled), &bind_group, d.params, d.grid)?;
        self.trace_mark(op, d.kernel.entry)
    }

    /// For tests of what follows a rejected dispatch (the device validates a window's pass only
    /// when the window is submitted): records a ReLU dispatch at a misaligned uniform offset,
    /// which the device rejects then. The window's other work still runs; the submitting call
    /// gets this op's `Err`.
    #[doc(hidden)]
    pub fn record_rejected_dispatch(&self, op: &'static str) -> Result<()> {
        let kernel = crate::ops::activation::relu().forward_kernel();
        let buffers = (0..3)
            .map(|_| self.storage_buffer(op, 16))
            .collect::<Result<Vec<_>>>()?;
        let refs: Vec<&wgpu::Buffer> = buffers.iter().map(|b| b.buffer()).collect();
        let device = &self.inner.device;
        let (pipeline, bind_group) = self.scoped(op, || {
            let compiled = self.inner.kernels.compiled(device, kernel, 0);
            let layout = (kernel, 0, &compiled.layout);
            let ring = &self.inner.ring.buffer;
            let bind_group = self.inner.bind_groups.get(device, layout, ring, &refs);
            (compiled.pipeline.clone(), bind_group)
        })?;
        let _recording = self.recording();
        let rejected = Dispatched {
            pipeline,
            bind_group,
            offset: 4, // dynamic uniform offsets must be multiples of 256
            grid: [1, 1, 1],
        };
        lock(&self.inner.pending).dispatch(device, op, rejected);
        Ok(())
    }

    /// [`Gpu::launch`] over any bindings (textures too), in a bind group made for this
    /// dispatch alone.
    fn launch_bound(
        &self,
        op: &'static str,
        (kernel, spec): (&'static Kernel, u32),
        params: [u32; 8],
        resources: &[wgpu::BindingResource<'_>],
        grid: [u32; 3],
    ) -> Result<()> {
        if !self.dispatchable(op, kernel, resources.len(), grid)? {
            return Ok(());
        }
        let device = &self.inner.device;
        let (compiled, bind_group) = self.scoped(op, || {
            let compiled = self.inner.kernels.compiled(device, kernel, spec);
            let mut entries = vec![ring_entry(&self.inner.ring.buffer)];
            entries.extend(
                resources
                    .iter()
                    .enumerate()
                    .map(|(i, r)| wgpu::BindGroupEntry {
                        binding: i as u32 + 1,
                        resource: r.clone(),
                    }),
            );
            let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(kernel.entry),
                layout: &compiled.layout,
                entries: &entries,
            });
            (compiled, bind_group)
        })?;
        self.record_dispatch(op, (kernel, &compiled), &bind_group, params, grid)?;
        self.trace_mark(op, kernel.entry)
    }

    /// Whether a dispatch of `kernel` with `bindings` resources over `grid` has work: `Err`
    /// for a wrong number of bindings or a grid over the device's limit.
    fn dispatchable(
        &self,
        op: &'static str,
        kernel: &Kernel,
        bindings: usize,
        grid: [u32; 3],
    ) -> Result<bool> {
        if bindings != kernel.bindings.len() {
            return Err(Error::InvalidArgument {
                op,
                message: format!(
                    "kernel {} takes {} bindings, got {bindings}",
                    kernel.entry,
                    kernel.bindings.len(),
                ),
            });
        }
        if grid.contains(&0) {
            return Ok(false);
        }
        let max = self.limits().max_compute_workgroups_per_dimension;
        if let Some(&too_many) = grid.iter().find(|&&g| g > max) {
            return Err(Error::TooLarge {
                op,
                what: "workgroups along one dimension of a dispatch",
                requested: u64::from(too_many),
                limit: u64::from(max),
            });
        }
        Ok(true)
    }

    /// Records one dispatch and its `params` (a ring slot) into the pending window's open
    /// compute pass. The device validates it when the window is submitted (see `window.rs`).
    fn record_dispatch(
        &self,
        op: &'static str,
        (_kernel, compiled): (&Kernel, &Compiled),
        bind_group: &wgpu::BindGroup,
        params: [u32; 8],
        grid: [u32; 3],
    ) -> Result<()> {
        // The ring slot and the dispatch join the pending window together (under its lock), so
        // the slot is written before the submit that runs the dispatch.
        let stride = self.inner.ring.stride;
        let _recording = self.recording();
        let mut pending = lock(&self.inner.pending);
        // A full window is submitted first; should the device reject an op of it, this op is
        // still recorded (into the next window) and the rejected op's error returned after.
        let submitted = if pending.full(stride, MAX_PENDING_DISPATCHES) {
            self.submit_locked(op, &mut pending).map(drop)
        } else {
            Ok(())
        };
        let offset = pending.params.len();
        let dispatched = Dispatched {
            pipeline: compiled.pipeline.clone(),
            bind_group: bind_group.clone(),
            offset: offset as u32,
            grid,
        };
        pending.dispatch(&self.inner.device, op, dispatched);
        pending
            .params
            .extend_from_slice(bytemuck::cast_slice(&params));
        pending.params.resize(offset + stride as usize, 0);
        submitted
    }

    /// The grid of `work` for `kernel`: items over its workgroup size, folded (see
    /// [`Gpu::grid_1d`], [`Gpu::grid_2d`]).
    pub(crate) fn grid_of(
        &self,
        op: &'static str,
        kernel: &Kernel,
        work: Work,
    ) -> Result<[u32; 3]> {
        match work {
            Work::Items(n) => self.grid_1d(op, (n as u64).div_ceil(kernel.invocations())),
            Work::Groups(n) => self.grid_1d(op, n as u64),
            Work::Tiles(x, y) => self.grid_2d(op, x as u64, y as u64),
            Work::Layers(items, layers) => {
                let [x, y, _] = self.grid_1d(op, (items as u64).div_ceil(kernel.invocations()))?;
                let max = self.limits().max_compute_workgroups_per_dimension;
                match u32::try_from(layers) {
                    Ok(z) if z <= max => Ok([x, y, z]),
                    _ => Err(Error::TooLarge {
                        op,
                        what: "workgroups along one dimension of a dispatch",
                        requested: layers as u64,
                        limit: u64::from(max),
                    }),
                }
            }
        }
    }

    /// A grid of `groups` workgroups folded into x and y so that no dimension exceeds the
    /// device's limit. Kernels rebuild the linear index as `wg.y * num_workgroups.x + wg.x` and
    /// ignore indices past their work.
    pub(crate) fn grid_1d(&self, op: &'static str, groups: u64) -> Result<[u32; 3]> {
        let max = u64::from(self.limits().max_compute_workgroups_per_dimension.max(1));
        let x = groups.clamp(1, max);
        let y = groups.div_ceil(x);
        if y > max {
            return Err(Error::TooLarge {
                op,
                what: "workgroups in one dispatch",
                requested: groups,
                limit: max * max,
            });
        }
        Ok([x as u32, y as u32, 1])
    }
}

impl Gpu {
    /// A grid of `nx` × `ny` workgroups with y folded into y and z so that no dimension
    /// exceeds the device's limit. Kernels rebuild the y index as
    /// `wg.z * num_workgroups.y + wg.y` and skip indices past their work.
    pub(crate) fn grid_2d(&self, op: &'static str, nx: u64, ny: u64) -> Result<[u32; 3]> {
        let max = u64::from(self.limits().max_compute_workgroups_per_dimension.max(1));
        let y = ny.clamp(1, max);
        let z = ny.div_ceil(y);
        if nx > max || z > max {
            return Err(Error::TooLarge {
                op,
                what: "workgroups in one dispatch",
                requested: nx.saturating_mul(ny),
                limit: max * max * max,
            });
        }
        Ok([nx.max(1) as u32, y as u32, z as u32])
    }
}
