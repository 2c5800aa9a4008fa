//! Reading results back: a copy into a (reused) staging buffer, recorded after the work it
//! reads and submitted with it, then mapped. The blocking read waits for its own submission
//! only, up to the `Gpu`'s timeout ([`Error::Timeout`] naming the op), asleep: it never spins
//! while other threads record. The async read never blocks: in a browser the page's event
//! loop maps the buffer, natively each poll of the future polls the device once.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use web_time::Instant;

use super::{lock, Gpu};
use crate::error::{Error, Result};

/// Where a `map_async` callback leaves its result for [`Mapping`].
#[derive(Default)]
struct MapState {
    result: Option<std::result::Result<(), wgpu::BufferAsyncError>>,
    waker: Option<Waker>,
}

/// A future for a staging buffer's mapping; the condvar wakes a blocking reader.
struct Mapping {
    /// Polled natively; the browser maps on its own.
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    gpu: Gpu,
    state: Arc<(Mutex<MapState>, Condvar)>,
}

impl Mapping {
    /// Starts mapping `staging` for reading.
    fn start(gpu: &Gpu, staging: &wgpu::Buffer, bytes: u64) -> Mapping {
        let state = Arc::new((Mutex::new(MapState::default()), Condvar::new()));
        let sink = state.clone();
        staging
            .slice(..bytes)
            .map_async(wgpu::MapMode::Read, move |r| {
                let mut s = lock(&sink.0);
                s.result = Some(r);
                sink.1.notify_all();
                if let Some(w) = s.waker.take() {
                    w.wake();
                }
            });
        Mapping {
            gpu: gpu.clone(),
            state,
        }
    }

    /// The mapping's result if it has come (polling the device once, without blocking).
    fn try_take(&self) -> std::result::Result<Option<()>, String> {
        #[cfg(not(target_arch = "wasm32"))]
        self.gpu
            .inner
            .device
            .poll(wgpu::PollType::Poll)
            .map_err(|e| e.to_string())?;
        match lock(&self.state.0).result.take() {
            Some(r) => r.map(Some).map_err(|e| e.to_string()),
            None => Ok(None),
        }
    }
}

impl Mapping {
    /// Blocks until the callback has run, or `timeout`. Call after the device has finished
    /// the work: the callback may then still be running on another thread's poll.
    fn block(&self, timeout: Duration) -> std::result::Result<bool, String> {
        let (state, ready) = &*self.state;
        let deadline = Instant::now() + timeout;
        let mut s = lock(state);
        loop {
            if let Some(r) = s.result.take() {
                return r.map(|()| true).map_err(|e| e.to_string());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(false);
            }
            s = ready
                .wait_timeout(s, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

impl Future for Mapping {
    type Output = std::result::Result<(), String>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.try_take() {
            Ok(Some(())) => return Poll::Ready(Ok(())),
            Err(e) => return Poll::Ready(Err(e)),
            Ok(None) => {}
        }
        lock(&self.state.0).waker = Some(cx.waker().clone());
        // Natively nothing else drives the device's callbacks: ask to be polled again.
        #[cfg(not(target_arch = "wasm32"))]
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl Gpu {
    /// Copies the first `len` floats of `buffer` back to the host (submits pending work).
    pub(crate) fn read_f32(
        &self,
        op: &'static str,
        buffer: &wgpu::Buffer,
        len: usize,
    ) -> Result<Vec<f32>> {
        let bytes = self.read_bytes(op, buffer, (len * 4) as u64)?;
        Ok(bytemuck::pod_collect_to_vec(&bytes))
    }

    /// [`Gpu::read_f32`] without blocking.
    pub(crate) async fn read_f32_async(
        &self,
        op: &'static str,
        buffer: &wgpu::Buffer,
        len: usize,
    ) -> Result<Vec<f32>> {
        let bytes = (len * 4) as u64;
        let (staging, _) = self.stage(op, buffer, bytes)?;
        Mapping::start(self, &staging, bytes)
            .await
            .map_err(|message| self.lost_or(op, message))?;
        let bytes = self.take_mapped(op, staging, bytes)?;
        Ok(bytemuck::pod_collect_to_vec(&bytes))
    }

    /// Copies the first `len` u64 words of `buffer` back to the host (submits pending work).
    pub(crate) fn read_u64(
        &self,
        op: &'static str,
        buffer: &wgpu::Buffer,
        len: usize,
    ) -> Result<Vec<u64>> {
        let bytes = self.read_bytes(op, buffer, (len * 8) as u64)?;
        Ok(bytemuck::pod_collect_to_vec(&bytes))
    }

    /// A staging buffer with a copy of the first `bytes` bytes of `buffer` recorded into it,
    /// and all pending work submitted; with that submission.
    fn stage(
        &self,
        op: &'static str,
        buffer: &wgpu::Buffer,
        bytes: u64,
    ) -> Result<(wgpu::Buffer, Option<wgpu::SubmissionIndex>)> {
        let staging = self.take_staging(op, bytes)?;
        let copy = super::Command::Copy {
            src: buffer.clone(),
            dst: staging.clone(),
            size: bytes,
        };
        self.record(op, copy)?;
        let index = self.flush_op(op)?;
        Ok((staging, index))
    }

    /// The first `bytes` bytes of a mapped staging buffer, which goes back for reuse.
    fn take_mapped(&self, op: &'static str, staging: wgpu::Buffer, bytes: u64) -> Result<Vec<u8>> {
        self.check_errors(op)?;
        let out = staging
            .slice(..bytes)
            .get_mapped_range()
            .map_err(|e| Error::Device {
                op,
                message: e.to_string(),
            })?
            .to_vec();
        staging.unmap();
        self.give_staging(staging);
        Ok(out)
    }

    /// Copies the first `bytes` bytes (a multiple of 4) of `buffer` back to the host.
    fn read_bytes(&self, op: &'static str, buffer: &wgpu::Buffer, bytes: u64) -> Result<Vec<u8>> {
        if cfg!(target_arch = "wasm32") {
            return Err(Error::Blocking {
                op,
                instead: "Tensor::to_vec_async",
            });
        }
        let (staging, index) = self.stage(op, buffer, bytes)?;
        let mapping = Mapping::start(self, &staging, bytes);
        self.wait(op, index)?;
        let mapped = mapping
            .block(self.timeout())
            .map_err(|message| self.lost_or(op, message))?;
        if !mapped {
            return Err(Error::Timeout {
                op,
                seconds: self.timeout().as_secs_f64(),
            });
        }
        self.take_mapped(op, staging, bytes)
    }
}
