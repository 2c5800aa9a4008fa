//! Device errors, attributed to the op and the thread that caused them, and typed.
//!
//! Every call the crate makes on the device (allocation, upload, launch, submit) runs inside
//! wgpu error scopes, which are per thread: an op's validation or out-of-memory error comes
//! back as that op's `Err` ([`Error::Validation`], [`Error::OutOfMemory`]) and never as another
//! thread's. Errors raised outside any scope (say, by work a user makes on the raw device) land
//! in a list of the thread that raised them, which only that thread's next check drains. A lost
//! device is remembered: from then on every call returns [`Error::DeviceLost`].

use std::cell::RefCell;
use std::sync::{Arc, Mutex};

use super::{lock, Gpu};
use crate::error::{Error, Result};

/// The kinds of device error wgpu reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    OutOfMemory,
    Validation,
    Internal,
}

thread_local! {
    /// Errors raised on this thread outside any scope: (Gpu id, kind, message).
    static UNCAPTURED: RefCell<Vec<(u64, Kind, String)>> = const { RefCell::new(Vec::new()) };
}

fn kind_of(e: &wgpu::Error) -> Kind {
    match e {
        wgpu::Error::OutOfMemory { .. } => Kind::OutOfMemory,
        wgpu::Error::Validation { .. } => Kind::Validation,
        _ => Kind::Internal,
    }
}

fn typed(op: &'static str, kind: Kind, message: String) -> Error {
    match kind {
        Kind::OutOfMemory => Error::OutOfMemory { op, message },
        Kind::Validation => Error::Validation { op, message },
        Kind::Internal => Error::Device { op, message },
    }
}

/// The message of a wgpu error with its sources (wgpu's own `Display` is often terse).
fn describe(e: &wgpu::Error) -> String {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !message.contains(&text) {
            message = format!("{message}: {text}");
        }
        source = s.source();
    }
    message
}

/// Installs the handlers that feed [`Gpu::check_errors`] and [`Gpu::is_lost`] on `device`;
/// returns where the lost reason will be kept.
pub(super) fn install(device: &wgpu::Device, gpu_id: u64) -> Arc<Mutex<Option<String>>> {
    device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
        let entry = (gpu_id, kind_of(&e), describe(&e));
        UNCAPTURED.with(|list| list.borrow_mut().push(entry));
    }));
    let lost = Arc::new(Mutex::new(None));
    let sink = lost.clone();
    device.set_device_lost_callback(move |reason, msg| {
        lock(&sink).get_or_insert(format!("{reason:?}: {msg}"));
    });
    lost
}

/// A scope's result. wgpu-core (every native backend) resolves it at once; a pending one (the
/// browser's WebGPU, which has no scopes here) counts as no error.
#[cfg(not(target_arch = "wasm32"))]
fn resolve(future: impl std::future::Future<Output = Option<wgpu::Error>>) -> Option<wgpu::Error> {
    use std::task::{Context, Poll, Waker};
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(e) => e,
        Poll::Pending => None,
    }
}

impl Gpu {
    /// Whether the device has been lost; if so every call returns [`Error::DeviceLost`].
    pub fn is_lost(&self) -> bool {
        lock(&self.inner.lost).is_some()
    }

    /// `Err(DeviceLost)` once the device is lost.
    pub(crate) fn check_lost(&self, op: &'static str) -> Result<()> {
        match lock(&self.inner.lost).as_ref() {
            Some(message) => Err(Error::DeviceLost {
                op,
                message: message.clone(),
            }),
            None => Ok(()),
        }
    }

    /// The error for a failed wait or mapping: `DeviceLost` if that is what happened (the
    /// usual reason), else `Device` with `message`.
    pub(crate) fn lost_or(&self, op: &'static str, message: String) -> Error {
        self.check_lost(op)
            .err()
            .unwrap_or(Error::Device { op, message })
    }

    /// Runs `f`, which calls the device, inside this thread's error scopes: its value, or the
    /// first error it raised, typed and blamed on `op`.
    pub(crate) fn scoped<T>(&self, op: &'static str, f: impl FnOnce() -> T) -> Result<T> {
        self.check_lost(op)?;
        #[cfg(target_arch = "wasm32")]
        let value = f();
        #[cfg(not(target_arch = "wasm32"))]
        let value = {
            let device = &self.inner.device;
            let oom = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
            let validation = device.push_error_scope(wgpu::ErrorFilter::Validation);
            let internal = device.push_error_scope(wgpu::ErrorFilter::Internal);
            let value = f();
            let raised = [internal.pop(), validation.pop(), oom.pop()]
                .into_iter()
                .filter_map(resolve)
                .next();
            if let Some(e) = raised {
                self.check_lost(op)?;
                return Err(typed(op, kind_of(&e), describe(&e)));
            }
            value
        };
        self.check_errors(op)?;
        Ok(value)
    }

    /// `Err` if the device is lost or this thread raised errors on it outside any scope since
    /// its last check (those are drained; other threads' stay theirs).
    pub(crate) fn check_errors(&self, op: &'static str) -> Result<()> {
        self.check_lost(op)?;
        let id = self.inner.id;
        let mine: Vec<(Kind, String)> = UNCAPTURED.with(|list| {
            let mut list = list.borrow_mut();
            let (mine, others) = list.drain(..).partition(|(gpu, _, _)| *gpu == id);
            *list = others;
            mine.into_iter().map(|(_, k, m)| (k, m)).collect()
        });
        match mine.first() {
            None => Ok(()),
            Some(&(kind, _)) => {
                let messages: Vec<String> = mine.into_iter().map(|(_, m)| m).collect();
                Err(typed(op, kind, messages.join("; ")))
            }
        }
    }
}
