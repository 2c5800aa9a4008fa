//! Define-by-run autograd over GPU tensors. A [`Var`] is a tensor that may take part in a
//! graph: an op on vars (`graph::ops`, re-exported here) computes its value with the crate's
//! kernels and, when an input requires a gradient and gradients are on, records a backward
//! closure holding what that backward needs. [`Var::backward`] on a scalar walks the recorded
//! nodes newest first (a node is always newer than its inputs, so creation order is a
//! topological order), summing the gradients of a var used more than once, and adds each
//! leaf's gradient to [`Var::grad`]. A node's closure, and with it what it saved, is dropped
//! as soon as it has run. [`no_grad`] records nothing (evaluation, sampling).
//!
//! ```no_run
//! use wgpu_backprop::graph::{self, Var};
//! use wgpu_backprop::{Gpu, Tensor};
//! # fn main() -> wgpu_backprop::Result<()> {
//! let gpu = Gpu::new()?;
//! let w = Var::parameter(Tensor::from_slice(&gpu, &[1.0, 2.0, 3.0, 4.0], &[2, 2])?);
//! let x = Var::constant(Tensor::from_slice(&gpu, &[1.0, 1.0], &[1, 2])?);
//! let h = graph::matmul(&x, &w)?;
//! let y = graph::add(&h, &graph::matmul(&h, &w)?)?; // w used twice: its gradients add
//! graph::sum(&y)?.backward()?;
//! println!("{:?}", w.grad().expect("a gradient").to_vec()?);
//! # Ok(()) }
//! ```

mod adamw;
mod ops;
mod params;

pub(crate) use adamw::KERNELS;
pub use adamw::{AdamW, ClipReport};
pub use ops::*;
pub use params::Parameters;

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::sync::lock;
use crate::tensor::Tensor;

/// A backward: dL/d(output) → dL/d(each input), `None` where an input gets none.
type BackwardFn = Box<dyn FnOnce(&Tensor) -> Result<Vec<Option<Tensor>>> + Send + Sync>;

/// What a recorded node keeps until its backward has run.
struct Recorded {
    inputs: Vec<Var>,
    backward: BackwardFn,
}

struct Node {
    /// Creation order: inputs are always older than the nodes made from them.
    id: u64,
    /// Replaced in place only by optimizers (copy-on-write: clones taken before keep theirs).
    value: Mutex<Tensor>,
    shape: Vec<usize>,
    requires_grad: bool,
    /// Made by an op (not a leaf): its gradient goes to its inputs, not to `grad`.
    recorded: bool,
    grad: Mutex<Option<Tensor>>,
    backward: Mutex<Option<Recorded>>,
}

/// A tensor in a define-by-run graph: a leaf (a parameter or a constant), or the output of an
/// op on vars. Clones share the node.
#[derive(Clone)]
pub struct Var(Arc<Node>);

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// Runs `f` with gradients off on this thread: ops record nothing and keep nothing for a
/// backward (evaluation, sampling). Nests; restores the previous mode after.
pub fn no_grad<R>(f: impl FnOnce() -> R) -> R {
    let before = GRAD_ENABLED.with(|g| g.replace(false));
    let out = f();
    GRAD_ENABLED.with(|g| g.set(before));
    out
}

/// Turns gradients on or off on this thread (what [`no_grad`] does around a closure, for
/// bindings whose scopes are not closures); returns the previous mode.
pub fn set_grad_enabled(on: bool) -> bool {
    GRAD_ENABLED.with(|g| g.replace(on))
}

/// Whether ops on this thread record their backward now.
pub fn grad_enabled() -> bool {
    GRAD_ENABLED.with(Cell::get)
}

impl Var {
    fn new(value: Tensor, requires_grad: bool, backward: Option<Recorded>) -> Var {
        Var(Arc::new(Node {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            shape: value.shape().to_vec(),
            value: Mutex::new(value),
            requires_grad,
            recorded: backward.is_some(),
            grad: Mutex::new(None),
            backward: Mutex::new(backward),
        }))
    }

    /// A leaf whose gradient is wanted: a trainable parameter.
    pub fn parameter(value: Tensor) -> Var {
        Var::new(value, true, None)
    }

    /// A leaf with no gradient: data, targets, masks.
    pub fn constant(value: Tensor) -> Var {
        Var::new(value, false, None)
    }

    /// The output of an op: `value`, with `backward` recorded against `inputs` when one of them
    /// requires a gradient and gradients are on; otherwise a constant (nothing kept).
    pub fn record(
        value: Tensor,
        inputs: &[&Var],
        backward: impl FnOnce(&Tensor) -> Result<Vec<Option<Tensor>>> + Send + Sync + 'static,
    ) -> Var {
        if !grad_enabled() || !inputs.iter().any(|v| v.requires_grad()) {
            return Var::constant(value);
        }
        let recorded = Recorded {
            inputs: inputs.iter().map(|&v| v.clone()).collect(),
            backward: Box::new(backward),
        };
        Var::new(value, true, Some(recorded))
    }

    /// The tensor (a snapshot: an optimizer's later in-place update does not reach it).
    pub fn value(&self) -> Tensor {
        lock(&self.0.value).clone()
    }

    /// Runs `f` on the var's own tensor, for in-place writers (optimizers), which must call
    /// [`Tensor::make_unique`] first so that snapshots keep their values.
    pub(crate) fn with_value_mut<R>(&self, f: impl FnOnce(&mut Tensor) -> R) -> R {
        f(&mut lock(&self.0.value))
    }

    /// Its shape.
    pub fn shape(&self) -> &[usize] {
        &self.0.shape
    }

    /// Elements.
    pub fn len(&self) -> usize {
        self.0.shape.iter().product()
    }

    /// Always false: tensors hold at least one element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether gradients flow to (or through) this var.
    pub fn requires_grad(&self) -> bool {
        self.0.requires_grad
    }

    /// The gradient summed into this leaf by the backward passes since the last
    /// [`Var::zero_grad`]; `None` before any.
    pub fn grad(&self) -> Option<Tensor> {
        lock(&self.0.grad).clone()
    }

    /// Forgets the gradient (the next backward starts from zero).
    pub fn zero_grad(&self) {
        *lock(&self.0.grad) = None;
    }

    /// Whether two vars are the same node.
    pub fn same(&self, other: &Var) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Backpropagates from this scalar (one element): every leaf that requires a gradient and
    /// took part gets dL/d(leaf) added to its [`Var::grad`]. The graph's saved tensors are
    /// released as their nodes' backwards run, so a graph goes backward once.
    pub fn backward(&self) -> Result<()> {
        const OP: &str = "Var::backward";
        if self.len() != 1 {
            return Err(Error::ShapeMismatch {
                op: OP,
                expected: "a scalar loss (one element)".into(),
                got: self.shape().to_vec(),
            });
        }
        if !self.requires_grad() {
            return Err(Error::InvalidArgument {
                op: OP,
                message: "the loss does not depend on any var that requires a gradient".into(),
            });
        }
        let order = self.reachable();
        let seed = Tensor::from_slice(self.value().gpu(), &[1.0], self.shape())?;
        let mut grads: HashMap<u64, Tensor> = HashMap::from([(self.0.id, seed)]);
        for var in order {
            let Some(g) = grads.remove(&var.0.id) else {
                continue;
            };
            if !var.0.recorded {
                let mut slot = lock(&var.0.grad);
                *slot = Some(match slot.take() {
                    Some(old) => crate::ops::add(&old, &g)?,
                    None => g,
                });
                continue;
            }
            let Some(rec) = lock(&var.0.backward).take() else {
                return Err(Error::InvalidArgument {
                    op: OP,
                    message: "backward already ran through this graph (it frees what it saved)"
                        .into(),
                });
            };
            let input_grads = (rec.backward)(&g)?;
            for (input, gi) in rec.inputs.iter().zip(input_grads) {
                let Some(gi) = gi.filter(|_| input.requires_grad()) else {
                    continue;
                };
                let sum = match grads.remove(&input.0.id) {
                    Some(prev) => crate::ops::add(&prev, &gi)?,
                    None => gi,
                };
                grads.insert(input.0.id, sum);
            }
        }
        Ok(())
    }

    /// Every var that requires a gradient reachable from this one through recorded inputs,
    /// newest first.
    fn reachable(&self) -> Vec<Var> {
        let mut seen: HashMap<u64, Var> = HashMap::new();
        let mut stack = vec![self.clone()];
        while let Some(v) = stack.pop() {
            if !v.requires_grad() || seen.contains_key(&v.0.id) {
                continue;
            }
            if let Some(rec) = lock(&v.0.backward).as_ref() {
                stack.extend(rec.inputs.iter().cloned());
            }
            seen.insert(v.0.id, v);
        }
        let mut order: Vec<Var> = seen.into_values().collect();
        order.sort_by_key(|v| std::cmp::Reverse(v.0.id));
        order
    }
}

impl std::fmt::Debug for Var {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Var")
            .field("shape", &self.shape())
            .field("requires_grad", &self.requires_grad())
            .finish()
    }
}
