//! The one error type of the crate. Every variant names the operation that failed and, where
//! shapes are involved, the shapes it saw, so a message alone tells what went wrong.

/// How to get an adapter when none is found; shown in [`Error::NoAdapter`].
pub const INSTALL_HINT: &str = "install a GPU driver with Vulkan, Metal or DX12 support, or the \
software Vulkan device (Mesa lavapipe) with `sudo apt-get install -y mesa-vulkan-drivers` on \
Debian/Ubuntu; WGPU_BACKEND and WGPU_ADAPTER_NAME select among several";

/// What a web page's user needs when the browser offers no WebGPU; shown in
/// [`Error::NoWebGpu`].
pub const WEBGPU_HINT: &str = "use a browser with WebGPU (Chrome or Edge 113 and later, Safari \
26, Firefox 141 on Windows) with hardware acceleration on; on Linux, Chrome needs \
chrome://flags/#enable-unsafe-webgpu (or --enable-unsafe-webgpu), and Firefox \
dom.webgpu.enabled in about:config";

/// Errors returned by every fallible call in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No GPU adapter could be found for the requested backends.
    #[error("no GPU adapter found (backends: {backends}); {INSTALL_HINT}")]
    NoAdapter {
        /// The backends searched (and the adapter name asked for, if any).
        backends: String,
    },

    /// The adapter exists but the device could not be opened.
    #[error("could not open a device on adapter '{adapter}': {message}")]
    DeviceRequest {
        /// The adapter's name.
        adapter: String,
        /// wgpu's reason.
        message: String,
    },

    /// A tensor had a shape the operation cannot take.
    #[error("{op}: shape mismatch: expected {expected}, got {got:?}")]
    ShapeMismatch {
        /// The operation, e.g. `"Linear::forward"`.
        op: &'static str,
        /// What it takes, in words and shapes.
        expected: String,
        /// The shape it was given.
        got: Vec<usize>,
    },

    /// `backward` (or `jacobian`) was called before any `forward`.
    #[error("{op}: called before forward")]
    BackwardBeforeForward {
        /// The operation.
        op: &'static str,
    },

    /// A shape of a rank the op does not take (tensors have rank 1 to 4; most ops take 1 or 2).
    #[error("{op}: rank {} is not taken here (shape {shape:?})", shape.len())]
    BadRank {
        /// The operation.
        op: &'static str,
        /// The shape given.
        shape: Vec<usize>,
    },

    /// A dimension of size zero; tensors with no elements are rejected.
    #[error(
        "{op}: shape {shape:?} has a zero-size dimension; tensors must hold at least one element"
    )]
    ZeroSize {
        /// The operation.
        op: &'static str,
        /// The shape given.
        shape: Vec<usize>,
    },

    /// The data handed in does not fill the shape exactly.
    #[error("{op}: data length {len} does not match shape {shape:?} ({expected} elements)")]
    DataLength {
        /// The operation.
        op: &'static str,
        /// How many values were given.
        len: usize,
        /// The shape asked for.
        shape: Vec<usize>,
        /// How many values that shape holds.
        expected: usize,
    },

    /// A tensor created on another [`crate::Gpu`] was passed in.
    #[error("{op}: tensor belongs to another Gpu instance (each Gpu owns its own device)")]
    DifferentGpu {
        /// The operation.
        op: &'static str,
    },

    /// The request exceeds a device limit or a limit of this crate.
    #[error("{op}: {what} needs {requested} but the limit is {limit}")]
    TooLarge {
        /// The operation.
        op: &'static str,
        /// What was counted, e.g. `"bytes in one storage buffer"`.
        what: &'static str,
        /// How many were needed.
        requested: u64,
        /// How many the device (or this crate) allows.
        limit: u64,
    },

    /// An argument that is not a tensor was out of range.
    #[error("{op}: invalid argument: {message}")]
    InvalidArgument {
        /// The operation.
        op: &'static str,
        /// What was wrong.
        message: String,
    },

    /// A file could not be read or written.
    #[error("{op}: {path}: {message}")]
    Io {
        /// The operation.
        op: &'static str,
        /// The file.
        path: String,
        /// The system's reason.
        message: String,
    },

    /// Data or a saved model is malformed (truncated, wrong magic, inconsistent shapes).
    #[error("{op}: invalid format: {message}")]
    Format {
        /// The operation.
        op: &'static str,
        /// What was wrong.
        message: String,
    },

    /// The device ran out of memory for this op (after the crate released its idle buffers
    /// and tried once more), or the op would exceed the budget set with
    /// [`crate::Gpu::set_memory_budget`].
    #[error("{op}: out of GPU memory: {message}")]
    OutOfMemory {
        /// The operation whose allocation failed.
        op: &'static str,
        /// What was asked for and what is held.
        message: String,
    },

    /// The device rejected this op's own work (a bug in the crate, or in work recorded with
    /// [`crate::Gpu::encode`]). Nothing of the op was run.
    #[error("{op}: GPU validation error: {message}")]
    Validation {
        /// The operation that made the invalid call.
        op: &'static str,
        /// wgpu's description.
        message: String,
    },

    /// The device is lost (destroyed, reset, or its driver crashed). Sticky: every later call
    /// on the same [`crate::Gpu`] returns this; open a new one.
    #[error("{op}: GPU device lost: {message}")]
    DeviceLost {
        /// The operation that noticed it.
        op: &'static str,
        /// The reason the driver gave.
        message: String,
    },

    /// In a browser: `navigator.gpu` is missing, or it gives no adapter.
    #[error("this browser offers no WebGPU ({why}); {WEBGPU_HINT}")]
    NoWebGpu {
        /// Which of the two it was.
        why: &'static str,
    },

    /// The device did not finish the work a call waits for within the [`crate::Gpu`]'s
    /// timeout ([`crate::Gpu::set_timeout`]); the work may still finish later.
    #[error("{op}: the GPU did not finish within {seconds} s")]
    Timeout {
        /// The operation that waited.
        op: &'static str,
        /// The timeout, in seconds.
        seconds: f64,
    },

    /// A blocking call in a browser, whose page cannot wait for the GPU: the async version
    /// (named here) does the same without blocking.
    #[error("{op}: blocks until the GPU is done, which a web page cannot do; use {instead}")]
    Blocking {
        /// The blocking call.
        op: &'static str,
        /// The async call to use instead.
        instead: &'static str,
    },

    /// Any other device error (an internal error of the driver, a failed mapping).
    #[error("{op}: GPU device error: {message}")]
    Device {
        /// The operation during which it was noticed.
        op: &'static str,
        /// The device's message.
        message: String,
    },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
