//! GPU memory: storage buffers from the pool (under an optional budget, with one retry after
//! releasing idle buffers when the device runs out), uploads and clears recorded in order, and
//! the reusable staging buffers that readbacks map.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use super::{lock, Gpu};
use crate::error::{Error, Result};
use crate::pool::{rounded_class, size_class, MemoryStats, Pool, Pooled, PooledBuffer};

/// Idle staging bytes kept for reuse; beyond that, returned ones are dropped.
const MAX_STAGING_BYTES: u64 = 256 << 20;

/// Mappable readback buffers by size, each idle and unmapped.
#[derive(Default)]
pub(crate) struct Staging {
    free: HashMap<u64, Vec<wgpu::Buffer>>,
    bytes: u64,
}

impl Gpu {
    /// GPU memory held by tensors and by the buffer pool.
    pub fn memory_stats(&self) -> MemoryStats {
        Pool::stats(&self.inner.pool)
    }

    /// Frees the idle buffers the pool (and the readback staging) keep for reuse.
    pub fn trim_pool(&self) {
        Pool::trim(&self.inner.pool);
        self.inner.bind_groups.clear();
        *lock(&self.inner.staging) = Staging::default();
    }

    /// Caps the bytes of storage buffers this `Gpu` holds (live tensors and idle pooled ones);
    /// `None` (the default) leaves it to the device. An allocation that would pass the cap
    /// first releases the idle buffers, then fails with [`Error::OutOfMemory`].
    pub fn set_memory_budget(&self, bytes: Option<u64>) {
        let value = bytes.unwrap_or(u64::MAX);
        self.inner.budget.store(value, Ordering::Relaxed);
    }

    /// The budget set by [`Gpu::set_memory_budget`].
    pub fn memory_budget(&self) -> Option<u64> {
        Some(self.inner.budget.load(Ordering::Relaxed)).filter(|&b| b != u64::MAX)
    }

    /// The largest storage buffer one binding takes on this device, in bytes: the smaller of
    /// the device's buffer size and storage-binding size (a tensor, a chunk of columns and a
    /// pass of predictions stay within it).
    pub(crate) fn max_binding_bytes(&self) -> u64 {
        let limits = self.limits();
        limits
            .max_buffer_size
            .min(limits.max_storage_buffer_binding_size)
    }

    /// A storage buffer of at least `bytes` bytes from the pool (or new), checked against the
    /// device's limits and the budget. Its contents are whatever the last user left.
    pub(crate) fn storage_buffer(&self, op: &'static str, bytes: u64) -> Result<PooledBuffer> {
        self.storage_buffer_init(op, bytes, &[]).map(|(b, _)| b)
    }

    /// [`Gpu::storage_buffer`] that starts with `init` where it can: a new buffer is created
    /// mapped and `init` written into it (one copy, no staging buffer); then the flag is
    /// `true`. A recycled buffer must be written in recording order: the flag is `false`
    /// and the caller records an upload.
    pub(crate) fn storage_buffer_init(
        &self,
        op: &'static str,
        bytes: u64,
        init: &[u8],
    ) -> Result<(PooledBuffer, bool)> {
        self.check_lost(op)?;
        let limit = self.max_binding_bytes();
        if bytes > limit {
            return Err(Error::TooLarge {
                op,
                what: "bytes in one storage buffer",
                requested: bytes,
                limit,
            });
        }
        let class = size_class(bytes, limit);
        if let Some(buffer) = Pool::take(&self.inner.pool, class, class) {
            return Ok((buffer, init.is_empty()));
        }
        self.within_budget(op, class)?;
        let mapped = !init.is_empty() && init.len() as u64 <= class;
        let create = || {
            self.scoped(op, || {
                let buffer = self.inner.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some(op),
                    size: class,
                    usage: wgpu::BufferUsages::STORAGE
                        | wgpu::BufferUsages::COPY_SRC
                        | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: mapped,
                });
                let mut wrote = false;
                if mapped {
                    let end = init.len() as u64;
                    if let Ok(mut view) = buffer.slice(..end).get_mapped_range_mut() {
                        view.copy_from_slice(init);
                        wrote = true;
                    }
                    buffer.unmap();
                }
                (buffer, wrote)
            })
        };
        let buffer = match create() {
            Err(Error::OutOfMemory { .. }) => {
                self.trim_pool();
                create()?
            }
            other => other?,
        };
        let (buffer, wrote) = buffer;
        Ok((
            Pool::adopt(&self.inner.pool, buffer, class, class),
            wrote || init.is_empty(),
        ))
    }

    /// An `rgba32float` storage texture `width` texels wide and at least `rows` high (rows
    /// rounded up to a class: a power of 2 or 1.5 times one, within the device's limit), from
    /// the pool or new, under the budget: the texture matmul's operands. Rows past `rows` are
    /// whatever the last user left.
    pub(crate) fn operand_texture(
        &self,
        op: &'static str,
        width: u32,
        rows: u32,
    ) -> Result<Pooled<wgpu::Texture>> {
        self.check_lost(op)?;
        let limit = self.limits().max_texture_dimension_2d;
        let height = texture_rows_class(rows, limit);
        let class = (u64::from(width) << 32) | u64::from(height);
        let bytes = u64::from(width) * u64::from(height) * 16;
        if let Some(texture) = Pool::take(&self.inner.pool, class, bytes) {
            return Ok(texture);
        }
        self.within_budget(op, bytes)?;
        let create = || {
            self.scoped(op, || {
                self.inner.device.create_texture(&wgpu::TextureDescriptor {
                    label: Some(op),
                    size: wgpu::Extent3d {
                        width,
                        height,
                        depth_or_array_layers: 1,
                    },
                    mip_level_count: 1,
                    sample_count: 1,
                    dimension: wgpu::TextureDimension::D2,
                    format: wgpu::TextureFormat::Rgba32Float,
                    usage: wgpu::TextureUsages::TEXTURE_BINDING
                        | wgpu::TextureUsages::STORAGE_BINDING,
                    view_formats: &[],
                })
            })
        };
        let texture = match create() {
            Err(Error::OutOfMemory { .. }) => {
                self.trim_pool();
                create()?
            }
            other => other?,
        };
        Ok(Pool::adopt(&self.inner.pool, texture, class, bytes))
    }

    /// `Ok` if `class` more bytes fit the budget, after releasing idle buffers if need be.
    fn within_budget(&self, op: &'static str, class: u64) -> Result<()> {
        let Some(budget) = self.memory_budget() else {
            return Ok(());
        };
        let held = |s: MemoryStats| s.live_bytes + s.pooled_bytes;
        if held(self.memory_stats()).saturating_add(class) > budget {
            self.trim_pool();
        }
        let stats = self.memory_stats();
        if held(stats).saturating_add(class) > budget {
            return Err(Error::OutOfMemory {
                op,
                message: format!(
                    "{class} more bytes would pass the memory budget of {budget} bytes \
                     ({} bytes are held by live tensors)",
                    stats.live_bytes
                ),
            });
        }
        Ok(())
    }

    /// Records a copy of `data` into `dst` (in order with all other recorded work, so a
    /// recycled buffer is never written before earlier work on it has run).
    pub(crate) fn upload(&self, op: &'static str, dst: &wgpu::Buffer, data: &[u8]) -> Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        let staging = self.scoped(op, || {
            use wgpu::util::DeviceExt;
            self.inner
                .device
                .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some("upload"),
                    contents: data,
                    usage: wgpu::BufferUsages::COPY_SRC,
                })
        })?;
        let copy = super::Command::Copy {
            src: staging,
            dst: dst.clone(),
            size: data.len() as u64,
        };
        self.record(op, copy)
    }

    /// Records zero-filling `dst`.
    pub(crate) fn clear(&self, op: &'static str, dst: &wgpu::Buffer) -> Result<()> {
        self.record(op, super::Command::Clear(dst.clone()))
    }

    /// An idle mappable buffer of `bytes` bytes (reused, or new).
    pub(crate) fn take_staging(&self, op: &'static str, bytes: u64) -> Result<wgpu::Buffer> {
        let class = size_class(bytes, u64::MAX);
        {
            let mut staging = lock(&self.inner.staging);
            if let Some(buffer) = staging.free.get_mut(&class).and_then(Vec::pop) {
                staging.bytes -= class;
                return Ok(buffer);
            }
        }
        self.scoped(op, || {
            self.inner.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("readback"),
                size: class,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })
        })
    }

    /// Returns an unmapped staging buffer for reuse.
    pub(crate) fn give_staging(&self, buffer: wgpu::Buffer) {
        let class = buffer.size();
        let mut staging = lock(&self.inner.staging);
        if staging.bytes + class <= MAX_STAGING_BYTES {
            staging.bytes += class;
            staging.free.entry(class).or_default().push(buffer);
        }
    }
}

/// The rows of a pooled texture holding `rows`: the next of 2^k or 1.5·2^k (at most a third
/// wasted), or exactly `rows` where that class would pass the device's `limit`.
pub(crate) fn texture_rows_class(rows: u32, limit: u32) -> u32 {
    // At most max(rows, limit): a u32.
    rounded_class(u64::from(rows), 1, u64::from(limit)) as u32
}

#[cfg(test)]
mod tests {
    use super::texture_rows_class;

    #[test]
    fn texture_classes_hold_their_rows_within_the_limit() {
        assert_eq!(texture_rows_class(1, 8192), 1);
        assert_eq!(texture_rows_class(3, 8192), 3);
        assert_eq!(texture_rows_class(5, 8192), 6);
        assert_eq!(texture_rows_class(7, 8192), 8);
        assert_eq!(texture_rows_class(8000, 8192), 8192);
        assert_eq!(
            texture_rows_class(8100, 8150),
            8100,
            "past the limit: exact"
        );
        for rows in 1..2000u32 {
            let c = texture_rows_class(rows, 16384);
            assert!(
                c >= rows && c as f64 <= rows as f64 * 1.5 + 1.0,
                "{rows} -> {c}"
            );
        }
    }
}
