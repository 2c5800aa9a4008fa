//! Named parameters: a model's trainable vars by name (`blocks.0.attn.q.weight`), in the order
//! they were added. Optimizers keep their state by name and files store by name, so a model
//! whose parameters are added in another order still loads.

use std::collections::HashMap;

use crate::checkpoint::NamedTensor;
use crate::error::{Error, Result};
use crate::graph::Var;
use crate::tensor::Tensor;

/// A model's parameters by name, in insertion order.
#[derive(Clone, Debug, Default)]
pub struct Parameters {
    order: Vec<(String, Var)>,
    index: HashMap<String, usize>,
}

impl Parameters {
    /// None yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `value` as the trainable parameter `name` and returns its var; a name given twice
    /// is an error.
    pub fn add(&mut self, name: &str, value: Tensor) -> Result<Var> {
        let var = Var::parameter(value);
        self.insert(name, var.clone())?;
        Ok(var)
    }

    /// Adds an existing var under `name` (a var made elsewhere, e.g. by the Python bindings);
    /// a name given twice is an error.
    pub fn insert(&mut self, name: &str, var: Var) -> Result<()> {
        if self.index.contains_key(name) {
            return Err(Error::InvalidArgument {
                op: "Parameters::insert",
                message: format!("a parameter is already named '{name}'"),
            });
        }
        self.index.insert(name.to_string(), self.order.len());
        self.order.push((name.to_string(), var));
        Ok(())
    }

    /// The parameter `name`.
    pub fn get(&self, name: &str) -> Option<&Var> {
        self.index.get(name).map(|&i| &self.order[i].1)
    }

    /// (name, var) in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Var)> {
        self.order.iter().map(|(n, v)| (n.as_str(), v))
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Scalars in all the parameters.
    pub fn count(&self) -> usize {
        self.order.iter().map(|(_, v)| v.len()).sum()
    }

    /// Forgets every gradient.
    pub fn zero_grad(&self) {
        for (_, v) in &self.order {
            v.zero_grad();
        }
    }

    /// Every parameter read back, by name: for safetensors and checkpoints.
    pub fn to_host(&self) -> Result<Vec<NamedTensor>> {
        self.order
            .iter()
            .map(|(n, v)| Ok((n.clone(), v.shape().to_vec(), v.value().to_vec()?)))
            .collect()
    }

    /// Replaces every parameter's value with the tensor of the same name in `tensors` (each
    /// must be there, with the same shape); the vars are new (gradients forgotten).
    pub fn load(&mut self, tensors: &HashMap<String, Tensor>) -> Result<()> {
        const OP: &str = "Parameters::load";
        for (name, var) in &mut self.order {
            let t = tensors.get(name.as_str()).ok_or_else(|| Error::Format {
                op: OP,
                message: format!("no tensor named '{name}'"),
            })?;
            crate::ops::expect_shape(OP, t, var.shape())?;
            *var = Var::parameter(t.clone());
        }
        Ok(())
    }
}
