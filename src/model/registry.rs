//! The layer registry: every layer a model string or a saved model can name, in one place —
//! `linear(in,out)`, `conv2d(in,out,k[,stride[,padding]])`, `maxpool2d(k[,stride])`,
//! `avgpool2d(k[,stride])` (stride defaults to k), `flatten`, `dropout(p[,seed])`,
//! `layernorm(features)`, `relu`,
//! `softmax`, and every activation of the table in
//! `ops/activation.rs` by its name (`sigmoid`, `gelu_tanh`, `leaky_relu(0.2)`, …: a new
//! activation needs no line here). `Sequential::load`, `Sequential::from_config`, the demo's
//! `--hidden` and the Python package all build layers through [`build`], and every layer writes
//! itself back in the same syntax ([`Layer::config`]).

use safetensors::{SafeTensors, View};

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::layer::Layer;
use crate::neurons::{Conv2d, LayerNorm, Linear};
use crate::nodes::{Activation, AvgPool2d, Dropout, Flatten, MaxPool2d, ReLU, SoftMax};
use crate::ops::ActivationKind;
use crate::tensor::Tensor;

/// One layer of a model string: its name and its arguments, e.g. `linear(64,128)` →
/// (`"linear"`, `["64", "128"]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// The registry name.
    pub name: String,
    /// The arguments between the parentheses, trimmed.
    pub args: Vec<String>,
}

/// Where a layer's parameters come from.
pub enum Init<'a> {
    /// New weights drawn from this seed.
    Fresh(u64),
    /// The tensors `layers.{index}.weight` / `.bias` of a saved model.
    Saved(&'a SafeTensors<'a>, usize),
}

fn err(op: &'static str, message: String) -> Error {
    Error::InvalidArgument { op, message }
}

/// Splits "linear(64,128),relu" at the commas outside parentheses, and each part into its
/// name and arguments.
pub fn parse(op: &'static str, config: &str) -> Result<Vec<Spec>> {
    let (mut parts, mut cur, mut depth) = (Vec::new(), String::new(), 0i32);
    for ch in config.chars() {
        match ch {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(ch);
    }
    if !cur.trim().is_empty() {
        parts.push(cur);
    }
    parts.iter().map(|p| parse_one(op, p.trim())).collect()
}

fn parse_one(op: &'static str, part: &str) -> Result<Spec> {
    let bad = || {
        err(
            op,
            format!("bad layer '{part}' (expected name or name(args))"),
        )
    };
    let (name, args) = match part.split_once('(') {
        Some((name, rest)) => {
            let inner = rest.strip_suffix(')').ok_or_else(bad)?;
            let args = inner.split(',').map(|a| a.trim().to_string()).collect();
            (name.trim(), args)
        }
        None => (part, Vec::new()),
    };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(bad());
    }
    Ok(Spec {
        name: name.to_string(),
        args,
    })
}

/// Every name a model string may use.
pub fn names() -> Vec<&'static str> {
    let mut names = vec![
        "linear",
        "conv2d",
        "maxpool2d",
        "avgpool2d",
        "flatten",
        "dropout",
        "layernorm",
        "relu",
        "softmax",
    ];
    names.extend(
        crate::ops::ACTIVATIONS
            .iter()
            .map(|a| a.name)
            .filter(|n| *n != "relu"),
    );
    names
}

/// The layer `spec` names, its parameters from `init`; layer `index` of the model (for
/// messages).
pub fn build(gpu: &Gpu, spec: &Spec, init: &Init<'_>, index: usize) -> Result<Box<dyn Layer>> {
    const OP: &str = "model layer";
    let no_args = |layer: Box<dyn Layer>| -> Result<Box<dyn Layer>> {
        if spec.args.is_empty() {
            Ok(layer)
        } else {
            let message = format!("layer {index}: '{}' takes no arguments", spec.name);
            Err(err(OP, message))
        }
    };
    match spec.name.as_str() {
        "linear" => linear(gpu, spec, init, index),
        "conv2d" => conv2d(gpu, spec, init, index),
        "maxpool2d" | "avgpool2d" => pooling(spec, index),
        "flatten" => no_args(Box::new(Flatten::new())),
        "dropout" => dropout(spec, init, index),
        "layernorm" => layernorm(gpu, spec, init, index),
        "relu" => no_args(Box::new(ReLU::new())),
        "softmax" => no_args(Box::new(SoftMax::new())),
        name => match ActivationKind::by_name(name) {
            Some(kind) => activation(kind, spec, index),
            None => Err(err(
                OP,
                format!(
                    "layer {index}: unknown layer '{name}' (known: {})",
                    names().join(", ")
                ),
            )),
        },
    }
}

/// The arguments of `spec` as sizes, between `min` and `max` of them (`what` names them).
fn sizes(spec: &Spec, index: usize, (min, max): (usize, usize), what: &str) -> Result<Vec<usize>> {
    const OP: &str = "model layer";
    let bad = || {
        let args = spec.args.join(",");
        err(
            OP,
            format!("layer {index}: {}({args}) needs {what}", spec.name),
        )
    };
    let dims: Vec<usize> = spec
        .args
        .iter()
        .map(|d| d.parse::<usize>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| bad())?;
    if dims.len() < min || dims.len() > max {
        return Err(bad());
    }
    Ok(dims)
}

/// `linear(in,out)`: fresh or from the saved tensors.
fn linear(gpu: &Gpu, spec: &Spec, init: &Init<'_>, index: usize) -> Result<Box<dyn Layer>> {
    let dims = sizes(spec, index, (2, 2), "two sizes (in, out)")?;
    let (k, n) = (dims[0], dims[1]);
    Ok(Box::new(match init {
        Init::Fresh(seed) => Linear::with_seed(gpu, k, n, *seed)?,
        Init::Saved(st, i) => {
            let w = saved_tensor(gpu, st, &format!("layers.{i}.weight"), &[k, n])?;
            let b = saved_tensor(gpu, st, &format!("layers.{i}.bias"), &[n])?;
            Linear::from_parameters(w, b)?
        }
    }))
}

/// `conv2d(in,out,k[,stride[,padding]])` (stride 1, padding 0 by default).
fn conv2d(gpu: &Gpu, spec: &Spec, init: &Init<'_>, index: usize) -> Result<Box<dyn Layer>> {
    let what = "in, out, kernel size[, stride[, padding]]";
    let d = sizes(spec, index, (3, 5), what)?;
    let (cin, out, k) = (d[0], d[1], d[2]);
    let (stride, pad) = (
        d.get(3).copied().unwrap_or(1),
        d.get(4).copied().unwrap_or(0),
    );
    Ok(Box::new(match init {
        Init::Fresh(seed) => Conv2d::with_seed(gpu, cin, out, k, stride, pad, *seed)?,
        Init::Saved(st, i) => {
            let w = saved_tensor(gpu, st, &format!("layers.{i}.weight"), &[out, cin, k, k])?;
            let b = saved_tensor(gpu, st, &format!("layers.{i}.bias"), &[out])?;
            Conv2d::from_parameters(w, b, stride, pad)?
        }
    }))
}

/// `layernorm(features)`: γ = 1, β = 0, or the saved ones.
fn layernorm(gpu: &Gpu, spec: &Spec, init: &Init<'_>, index: usize) -> Result<Box<dyn Layer>> {
    let n = sizes(spec, index, (1, 1), "the number of features")?[0];
    Ok(Box::new(match init {
        Init::Fresh(_) => LayerNorm::new(gpu, n)?,
        Init::Saved(st, i) => {
            let g = saved_tensor(gpu, st, &format!("layers.{i}.weight"), &[n])?;
            let b = saved_tensor(gpu, st, &format!("layers.{i}.bias"), &[n])?;
            LayerNorm::from_parameters(g, b)?
        }
    }))
}

/// `dropout(p[,seed])`: the seed given, or for a fresh model the model's seed.
fn dropout(spec: &Spec, init: &Init<'_>, index: usize) -> Result<Box<dyn Layer>> {
    let bad = || {
        let args = spec.args.join(",");
        err(
            "model layer",
            format!("layer {index}: dropout({args}) needs p[, seed]"),
        )
    };
    let p: f32 = spec
        .args
        .first()
        .and_then(|p| p.parse().ok())
        .ok_or_else(bad)?;
    let seed = match (&spec.args[1..], init) {
        ([], Init::Fresh(seed)) => *seed,
        ([], Init::Saved(..)) => 0,
        ([s], _) => s.parse().map_err(|_| bad())?,
        _ => return Err(bad()),
    };
    Ok(Box::new(Dropout::new(p, seed)?))
}

/// `maxpool2d(k[,stride])`, `avgpool2d(k[,stride])` (stride k by default).
fn pooling(spec: &Spec, index: usize) -> Result<Box<dyn Layer>> {
    let d = sizes(spec, index, (1, 2), "a kernel size[, stride]")?;
    let (k, stride) = (d[0], d.get(1).copied().unwrap_or(d[0]));
    if k == 0 || stride == 0 {
        let message = format!("layer {index}: {} needs sizes of at least 1", spec.name);
        return Err(err("model layer", message));
    }
    Ok(if spec.name == "maxpool2d" {
        Box::new(MaxPool2d::new(k, stride))
    } else {
        Box::new(AvgPool2d::new(k, stride))
    })
}

/// An activation of the table, with its parameter if given: `leaky_relu(0.2)`.
fn activation(kind: &'static ActivationKind, spec: &Spec, index: usize) -> Result<Box<dyn Layer>> {
    const OP: &str = "model layer";
    let layer = match (&spec.args[..], kind.param) {
        ([], _) => Activation::new(kind),
        ([p], Some(_)) => {
            let p: f32 = p.parse().map_err(|_| {
                err(
                    OP,
                    format!("layer {index}: '{p}' is not a number for {}", kind.name),
                )
            })?;
            Activation::with_param(kind, p)
        }
        (args, Some((param, _))) => {
            let message = format!(
                "layer {index}: {} takes one {param}, got {args:?}",
                kind.name
            );
            return Err(err(OP, message));
        }
        (args, None) => {
            let message = format!(
                "layer {index}: {} takes no arguments, got {args:?}",
                kind.name
            );
            return Err(err(OP, message));
        }
    };
    Ok(Box::new(layer))
}

/// A tensor of a saved model, of the expected shape.
fn saved_tensor(gpu: &Gpu, st: &SafeTensors<'_>, name: &str, shape: &[usize]) -> Result<Tensor> {
    const OP: &str = "Sequential::load";
    let format = |message: String| Error::Format { op: OP, message };
    let view = st
        .tensor(name)
        .map_err(|e| format(format!("{name}: {e}")))?;
    if view.dtype() != safetensors::Dtype::F32 || view.shape() != shape {
        return Err(format(format!(
            "{name}: {:?} {:?}, expected F32 {shape:?}",
            view.dtype(),
            view.shape()
        )));
    }
    let data: Vec<f32> = bytemuck::pod_collect_to_vec(&view.data()[..view.data_len()]);
    Tensor::from_slice(gpu, &data, shape)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_strings_parse_into_names_and_arguments() {
        let specs = parse(
            "t",
            "linear(64, 128), leaky_relu(0.2),gelu_tanh,linear(128,10)",
        )
        .unwrap_or_default();
        let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["linear", "leaky_relu", "gelu_tanh", "linear"]);
        assert_eq!(specs[0].args, ["64", "128"]);
        assert_eq!(specs[1].args, ["0.2"]);
        assert!(parse("t", "linear(64,128").is_err());
        assert!(parse("t", "re lu").is_err());
        assert!(names_contain_every_activation());
    }

    fn names_contain_every_activation() -> bool {
        crate::ops::ACTIVATIONS
            .iter()
            .all(|a| names().contains(&a.name))
    }
}
