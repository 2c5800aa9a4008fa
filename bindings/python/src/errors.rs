//! Rust `Err`s as Python exceptions: `ValueError` for shapes, arguments and file contents,
//! `RuntimeError` for the device and for calls in the wrong order, `MemoryError` for out of GPU
//! memory, `TimeoutError` for a GPU that did not finish in time, `OSError` for files. The
//! message is the Rust one, which names the op and the shapes.

use pyo3::exceptions::{PyMemoryError, PyOSError, PyRuntimeError, PyTimeoutError, PyValueError};
use pyo3::PyErr;
use wgpu_backprop::Error;

/// The Python exception for a Rust error.
pub fn to_py(e: Error) -> PyErr {
    let message = e.to_string();
    match e {
        Error::NoAdapter { .. }
        | Error::DeviceRequest { .. }
        | Error::Device { .. }
        | Error::Validation { .. }
        | Error::DeviceLost { .. }
        | Error::BackwardBeforeForward { .. } => PyRuntimeError::new_err(message),
        Error::OutOfMemory { .. } => PyMemoryError::new_err(message),
        Error::Timeout { .. } => PyTimeoutError::new_err(message),
        Error::Io { .. } => PyOSError::new_err(message),
        _ => PyValueError::new_err(message),
    }
}

/// `.py()?` turns a crate `Result` into a `PyResult`.
pub trait PyResultExt<T> {
    fn py(self) -> pyo3::PyResult<T>;
}

impl<T> PyResultExt<T> for wgpu_backprop::Result<T> {
    fn py(self) -> pyo3::PyResult<T> {
        self.map_err(to_py)
    }
}

/// A `ValueError` with the given message.
pub fn value_error(message: impl Into<String>) -> PyErr {
    PyValueError::new_err(message.into())
}
