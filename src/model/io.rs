//! Saving and loading a `Sequential` in the safetensors format. The layer stack is written in
//! the metadata (`"layers": "linear(64,128),relu,linear(128,10)"`); tensors are named
//! `layers.{i}.{weight|bias}`. Loading rebuilds the stack and checks every shape against it.

use std::collections::HashMap;
use std::path::Path;

use safetensors::{Dtype, SafeTensors};

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::layer::Layer;
use crate::model::registry;
use crate::model::Sequential;

const FORMAT: &str = "wgpu-backprop/sequential";

/// A tensor to serialize: (name, shape, little-endian f32 bytes).
pub(crate) type RawTensor = (String, Vec<usize>, Vec<u8>);

fn format_err(op: &'static str, message: impl Into<String>) -> Error {
    Error::Format {
        op,
        message: message.into(),
    }
}

impl Sequential {
    /// The model as safetensors bytes (reads the parameters back from the GPU).
    pub fn to_safetensors(&self) -> Result<Vec<u8>> {
        serialize(
            "Sequential::save",
            &self.parameter_tensors()?,
            self.metadata(),
        )
    }

    /// Every parameter as (name, shape, little-endian f32 bytes), read back from the GPU.
    pub(crate) fn parameter_tensors(&self) -> Result<Vec<RawTensor>> {
        let mut tensors = Vec::new();
        for (i, layer) in self.layers().iter().enumerate() {
            for p in layer.parameters() {
                let data = bytemuck::cast_slice(&p.value.to_vec()?).to_vec();
                tensors.push((
                    format!("layers.{i}.{}", p.name),
                    p.value.shape().to_vec(),
                    data,
                ));
            }
        }
        Ok(tensors)
    }

    /// The metadata that names the format and the layer stack.
    pub(crate) fn metadata(&self) -> HashMap<String, String> {
        HashMap::from([
            ("format".to_string(), FORMAT.to_string()),
            ("layers".to_string(), self.config()),
        ])
    }

    /// Writes the model to `path` in the safetensors format, atomically: the bytes go to a
    /// file beside it, are synced to disk, and the file is renamed over `path`, so a crash or a
    /// full disk while saving leaves the previous file whole.
    pub fn save(&self, path: &Path) -> Result<()> {
        let bytes = self.to_safetensors()?;
        crate::files::write_atomically(path, &bytes).map_err(|e| Error::Io {
            op: "Sequential::save",
            path: path.display().to_string(),
            message: e.to_string(),
        })
    }

    /// Reads a model written by [`Sequential::save`].
    pub fn load(gpu: &Gpu, path: &Path) -> Result<Sequential> {
        let bytes = std::fs::read(path).map_err(|e| Error::Io {
            op: "Sequential::load",
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::from_safetensors(gpu, &bytes)
    }

    /// Rebuilds a model from safetensors bytes; any inconsistency is an `Err`.
    pub fn from_safetensors(gpu: &Gpu, bytes: &[u8]) -> Result<Sequential> {
        const OP: &str = "Sequential::load";
        let st = SafeTensors::deserialize(bytes).map_err(|e| format_err(OP, e.to_string()))?;
        let (_, meta) =
            SafeTensors::read_metadata(bytes).map_err(|e| format_err(OP, e.to_string()))?;
        let info = meta
            .metadata()
            .as_ref()
            .ok_or_else(|| format_err(OP, "no metadata"))?;
        if info.get("format").map(String::as_str) != Some(FORMAT) {
            return Err(format_err(OP, format!("not a {FORMAT} file")));
        }
        let layers = info
            .get("layers")
            .ok_or_else(|| format_err(OP, "no layer list in the metadata"))?;
        let as_format = |e: Error| match e {
            Error::InvalidArgument { message, .. } => format_err(OP, message),
            e => e,
        };
        let mut model = Sequential::new();
        for (i, spec) in registry::parse(OP, layers)
            .map_err(as_format)?
            .iter()
            .enumerate()
        {
            let layer = registry::build(gpu, spec, &registry::Init::Saved(&st, i), i);
            model.push(layer.map_err(as_format)?);
        }
        // A checkpoint (crate::checkpoint) also holds the optimizer's tensors.
        let extra = match info.get("checkpoint") {
            Some(_) => st
                .names()
                .iter()
                .filter(|n| n.starts_with("optimizer."))
                .count(),
            None => 0,
        };
        if model.parameters().len() + extra != st.len() {
            return Err(format_err(OP, "the file holds tensors that no layer uses"));
        }
        Ok(model)
    }
}

/// F32 tensors (name, shape, bytes) and metadata as safetensors bytes.
pub(crate) fn serialize(
    op: &'static str,
    tensors: &[RawTensor],
    metadata: HashMap<String, String>,
) -> Result<Vec<u8>> {
    let views = tensors
        .iter()
        .map(|(name, shape, data)| {
            let view = safetensors::tensor::TensorView::new(Dtype::F32, shape.clone(), data)
                .map_err(|e| format_err(op, e.to_string()))?;
            Ok((name.clone(), view))
        })
        .collect::<Result<Vec<_>>>()?;
    safetensors::serialize(views, Some(metadata)).map_err(|e| format_err(op, e.to_string()))
}
