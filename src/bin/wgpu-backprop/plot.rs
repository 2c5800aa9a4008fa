//! `--plot`: the training curves (loss and test accuracy per epoch) as a PNG, drawn with
//! plotters and the embedded DejaVu Sans font (no system fonts needed).

use std::path::Path;

use plotters::prelude::*;
use wgpu_backprop::train::EpochReport;
use wgpu_backprop::{Error, Result};

const FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

fn plot_err(e: impl std::fmt::Display) -> Error {
    Error::InvalidArgument {
        op: "plot",
        message: e.to_string(),
    }
}

/// The largest font size from 20 down to 8 at which `text` fits the image's width (a long
/// model string, say), else 8.
fn title_size<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    text: &str,
) -> f64 {
    let width = root.dim_in_pixel().0.saturating_sub(20);
    (8..=20)
        .rev()
        .map(f64::from)
        .find(|&size| {
            let style = TextStyle::from(("sans-serif", size).into_font());
            root.estimate_text_size(text, &style)
                .is_ok_and(|(w, _)| w <= width)
        })
        .unwrap_or(8.0)
}

/// Draws loss (left) and test accuracy (right) against the epoch.
pub fn curves(path: &Path, reports: &[EpochReport], title: &str) -> Result<()> {
    plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
        .map_err(|_| plot_err("bad font"))?;
    let root = BitMapBackend::new(path, (1000, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_err)?;
    let title = format!("training {title}");
    let size = title_size(&root, &title);
    let root = root
        .titled(&title, ("sans-serif", size))
        .map_err(plot_err)?;
    let (left, right) = root.split_horizontally(500);
    let epochs = reports.len().max(1) as f64;
    let loss: Vec<(f64, f64)> = reports
        .iter()
        .map(|r| (r.epoch as f64, f64::from(r.loss)))
        .collect();
    let acc: Vec<(f64, f64)> = reports
        .iter()
        .map(|r| (r.epoch as f64, 100.0 * r.test_accuracy))
        .collect();
    let max_loss = loss.iter().map(|p| p.1).fold(0.0, f64::max).max(1e-3) * 1.05;
    let min_acc = acc.iter().map(|p| p.1).fold(100.0, f64::min).min(90.0);
    panel(&left, "training loss", (0.0..max_loss, &loss), epochs, &RED)?;
    panel(
        &right,
        "test accuracy (%)",
        (min_acc..100.0, &acc),
        epochs,
        &BLUE,
    )?;
    root.present().map_err(plot_err)
}

fn panel(
    area: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    caption: &str,
    (y_range, points): (std::ops::Range<f64>, &[(f64, f64)]),
    epochs: f64,
    color: &RGBColor,
) -> Result<()> {
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(1.0..epochs.max(2.0), y_range)
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .label_style(("sans-serif", 12))
        .draw()
        .map_err(plot_err)?;
    chart
        .draw_series(LineSeries::new(
            points.iter().copied(),
            color.stroke_width(2),
        ))
        .map_err(plot_err)?;
    Ok(())
}
