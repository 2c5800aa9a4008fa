//! Per-dispatch GPU time, for the GPU report: while [`Gpu::dispatch_times`] runs, every
//! dispatch is followed by a timestamp (an empty compute pass that writes it at its start), so
//! each dispatch ends its pass and its time is the difference of consecutive timestamps — the
//! "pass per dispatch" way, which needs only `TIMESTAMP_QUERY`. It costs a pass per dispatch,
//! so nothing but the report and `bench --dispatches` turns it on.

use super::{lock, Command, Gpu};
use crate::error::Result;

/// Timestamps a trace can hold: the first, then one per dispatch.
const CAPACITY: u32 = 256;

/// A trace being taken: its query set and the kernels dispatched so far.
pub(crate) struct Trace {
    queries: wgpu::QuerySet,
    labels: Vec<&'static str>,
}

impl Gpu {
    /// The GPU time of each dispatch `record` records, as (kernel entry point, seconds), in
    /// order (up to 255 dispatches; later ones are not timed). `None` without
    /// `TIMESTAMP_QUERY`. On CPU devices the timestamps may not bracket the work
    /// (`Profile::timestamps`): read them as a rough split only.
    pub fn dispatch_times(
        &self,
        op: &'static str,
        record: impl FnOnce() -> Result<()>,
    ) -> Result<Option<Vec<(String, f64)>>> {
        if !self.features().contains(wgpu::Features::TIMESTAMP_QUERY) {
            return Ok(None);
        }
        self.synchronize()?;
        let queries = self.device().create_query_set(&wgpu::QuerySetDescriptor {
            label: Some(op),
            ty: wgpu::QueryType::Timestamp,
            count: CAPACITY,
        });
        self.timestamp(op, &queries, 0)?;
        *lock(&self.inner.trace) = Some(Trace {
            queries: queries.clone(),
            labels: Vec::new(),
        });
        let recorded = record();
        let labels = lock(&self.inner.trace)
            .take()
            .map_or(Vec::new(), |t| t.labels);
        recorded?;
        let count = labels.len() as u32 + 1;
        let resolved = self.scoped(op, || {
            self.device().create_buffer(&wgpu::BufferDescriptor {
                label: Some(op),
                size: u64::from(count) * 8,
                usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            })
        })?;
        self.record(op, Command::Resolve(queries, resolved.clone(), count))?;
        let ticks = self.read_u64(op, &resolved, count as usize)?;
        let period = self.queue().get_timestamp_period();
        Ok(Some(
            labels
                .iter()
                .zip(ticks.windows(2))
                .map(|(label, w)| {
                    let s = super::tune::ticks_to_seconds(w[0], w[1], period).unwrap_or(0.0);
                    (label.to_string(), s)
                })
                .collect(),
        ))
    }

    /// After a dispatch of `entry`: its timestamp, where a trace is being taken.
    pub(crate) fn trace_mark(&self, op: &'static str, entry: &'static str) -> Result<()> {
        let next = {
            let mut trace = lock(&self.inner.trace);
            match trace.as_mut() {
                Some(t) if (t.labels.len() as u32) + 1 < CAPACITY => {
                    t.labels.push(entry);
                    Some((t.queries.clone(), t.labels.len() as u32))
                }
                _ => None,
            }
        };
        match next {
            Some((queries, index)) => self.timestamp(op, &queries, index),
            None => Ok(()),
        }
    }
}
