//! The pipeline cache persisted on disk (where the adapter has `PIPELINE_CACHE`), so a second
//! process skips shader compilation. Best effort: any I/O failure just means no cache.
//!
//! Location: `$WGPU_BACKPROP_CACHE_DIR`, else `$XDG_CACHE_HOME/wgpu-backprop`, else
//! `$HOME/.cache/wgpu-backprop`; one file per adapter and driver (wgpu's cache key).
//! `WGPU_BACKPROP_PIPELINE_CACHE=off` turns it off. The file is written once, when the `Gpu`
//! goes away, if any pipeline was compiled meanwhile.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

pub(crate) struct DiskCache {
    pub(crate) cache: wgpu::PipelineCache,
    path: PathBuf,
    /// A pipeline was compiled since the file was read.
    dirty: AtomicBool,
}

/// The folder of the on-disk caches (pipelines, autotuning).
pub(crate) fn cache_dir() -> Option<PathBuf> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    env("WGPU_BACKPROP_CACHE_DIR")
        .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("wgpu-backprop")))
        .or_else(|| env("HOME").map(|d| d.join(".cache").join("wgpu-backprop")))
}

impl DiskCache {
    /// Opens (or starts) the cache for this device, or `None` where there is none to have.
    pub(crate) fn open(device: &wgpu::Device, info: &wgpu::AdapterInfo) -> Option<DiskCache> {
        if std::env::var("WGPU_BACKPROP_PIPELINE_CACHE").is_ok_and(|v| v == "off" || v == "0") {
            return None;
        }
        if !device.features().contains(wgpu::Features::PIPELINE_CACHE) {
            return None;
        }
        let path = cache_dir()?.join(wgpu::util::pipeline_cache_key(info)?);
        let data = std::fs::read(&path).ok();
        // SAFETY: the data was written by `save` from `get_data` of a cache on an adapter with
        // the same key (wgpu's key names the vendor, device and driver); with `fallback` a
        // stale or damaged file is ignored and an empty cache made instead.
        let cache = unsafe {
            device.create_pipeline_cache(&wgpu::PipelineCacheDescriptor {
                label: Some("wgpu-backprop"),
                data: data.as_deref(),
                fallback: true,
            })
        };
        Some(DiskCache {
            cache,
            path,
            dirty: AtomicBool::new(false),
        })
    }

    /// Notes that the cache has new contents to write.
    pub(crate) fn mark_dirty(&self) {
        self.dirty.store(true, Ordering::Relaxed);
    }

    /// Writes the cache's current contents (to a temporary file, then renamed into place).
    fn save(&self) {
        let Some(data) = self.cache.get_data() else {
            return;
        };
        let Some(dir) = self.path.parent() else {
            return;
        };
        let tmp = self
            .path
            .with_extension(format!("tmp{}", std::process::id()));
        let written = std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&tmp, &data));
        if written
            .and_then(|()| std::fs::rename(&tmp, &self.path))
            .is_err()
        {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

impl Drop for DiskCache {
    fn drop(&mut self) {
        if self.dirty.load(Ordering::Relaxed) {
            self.save();
        }
    }
}
