//! Data sets for training: the embedded digits set, MNIST-style IDX files, seeded stratified
//! splits, and shuffled mini-batches. Features are f32 rows scaled to [0, 1]; labels are u32.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};
use crate::rng::Rng;

/// The digits set (1,797 images of 8×8 pixels, values 0..16, label last), gzip'd CSV.
const DIGITS_CSV_GZ: &[u8] = include_bytes!("../data/digits.csv.gz");

/// Rows of features with a class label each.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    features: Vec<f32>,
    labels: Vec<u32>,
    dim: usize,
    classes: usize,
    /// Each sample as an image [C, H, W], where the data are images.
    image: Option<[usize; 3]>,
}

fn format_err(op: &'static str, message: impl Into<String>) -> Error {
    Error::Format {
        op,
        message: message.into(),
    }
}

impl Dataset {
    /// `features` holds `labels.len()` rows of `dim` values. Classes are 0..=max label.
    pub fn new(features: Vec<f32>, labels: Vec<u32>, dim: usize) -> Result<Dataset> {
        if dim == 0 || labels.is_empty() || features.len() != labels.len() * dim {
            return Err(format_err(
                "Dataset::new",
                format!(
                    "{} features do not form {} rows of {dim}",
                    features.len(),
                    labels.len()
                ),
            ));
        }
        let classes = labels.iter().copied().max().unwrap_or(0) as usize + 1;
        Ok(Dataset {
            features,
            labels,
            dim,
            classes,
            image: None,
        })
    }

    /// The same data with each sample seen as an image [C, H, W] (C·H·W must be the row
    /// length): what models that start with `Conv2d` or a pooling layer take.
    pub fn with_image_shape(mut self, [c, h, w]: [usize; 3]) -> Result<Dataset> {
        if c * h * w != self.dim {
            return Err(Error::InvalidArgument {
                op: "Dataset::with_image_shape",
                message: format!("[{c}, {h}, {w}] is not an image of {} values", self.dim),
            });
        }
        self.image = Some([c, h, w]);
        Ok(self)
    }

    /// One sample's shape: `[C, H, W]` for images, else `[dim]`.
    pub fn sample_shape(&self) -> Vec<usize> {
        self.image.map_or_else(|| vec![self.dim], |i| i.to_vec())
    }

    /// Each sample as an image [C, H, W], if the data are images.
    pub fn image_shape(&self) -> Option<[usize; 3]> {
        self.image
    }

    /// The embedded digits set, pixels scaled from 0..16 to [0, 1]; 8×8 images of one
    /// channel.
    pub fn digits() -> Result<Dataset> {
        const OP: &str = "Dataset::digits";
        let bytes = gunzip(DIGITS_CSV_GZ, MAX_INFLATED_BYTES)?;
        let text = String::from_utf8(bytes).map_err(|e| format_err(OP, e.to_string()))?;
        Self::parse_csv(&text, 1.0 / 16.0)?.with_image_shape([1, 8, 8])
    }

    /// Parses CSV rows of numeric features followed by an integer label, scaling features.
    pub fn parse_csv(text: &str, scale: f32) -> Result<Dataset> {
        const OP: &str = "Dataset::parse_csv";
        let (mut features, mut labels, mut dim) = (Vec::new(), Vec::new(), 0);
        for (line_no, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let bad = |what: &str| format_err(OP, format!("line {}: {what}", line_no + 1));
            let cells: Vec<&str> = line.split(',').map(str::trim).collect();
            let (label, row) = cells.split_last().ok_or_else(|| bad("empty"))?;
            if dim == 0 {
                dim = row.len();
            } else if row.len() != dim {
                return Err(bad(&format!("{} features, expected {dim}", row.len())));
            }
            for c in row {
                features.push(
                    c.parse::<f32>()
                        .map_err(|_| bad(&format!("'{c}' is not a number")))?
                        * scale,
                );
            }
            labels.push(
                label
                    .parse::<u32>()
                    .map_err(|_| bad(&format!("label '{label}'")))?,
            );
        }
        Self::new(features, labels, dim)
    }

    /// Images and labels in the IDX format of MNIST (unsigned bytes), pixels scaled to [0, 1].
    pub fn from_idx(images: &[u8], labels: &[u8]) -> Result<Dataset> {
        const OP: &str = "Dataset::from_idx";
        let (idims, pixels) = parse_idx(images)?;
        let (ldims, labs) = parse_idx(labels)?;
        if idims.len() < 2 || ldims.len() != 1 || idims[0] != ldims[0] {
            return Err(format_err(
                OP,
                format!("images {idims:?} do not match labels {ldims:?}"),
            ));
        }
        let dim = idims[1..].iter().product();
        let features = pixels.iter().map(|&p| f32::from(p) / 255.0).collect();
        let data = Self::new(features, labs.iter().map(|&l| u32::from(l)).collect(), dim)?;
        match idims[1..] {
            [h, w] => data.with_image_shape([1, h, w]),
            _ => Ok(data),
        }
    }

    /// Reads IDX images and labels from files (plain, or gzip'd when the name ends in `.gz`).
    pub fn load_idx(images: &Path, labels: &Path) -> Result<Dataset> {
        Self::from_idx(&read_maybe_gz(images)?, &read_maybe_gz(labels)?)
    }

    /// The MNIST layout in a directory: `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
    /// `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, each also accepted with a dot before
    /// the `idx` part (`train-images.idx3-ubyte`, as some copies name them) and with `.gz` at
    /// the end. Returns (train, test).
    pub fn load_mnist_dir(dir: &Path) -> Result<(Dataset, Dataset)> {
        let find = |set: &str, kind: &str| -> Result<std::path::PathBuf> {
            let names = [format!("{set}-{kind}"), format!("{set}.{kind}")];
            names
                .iter()
                .flat_map(|n| [n.clone(), format!("{n}.gz")])
                .map(|n| dir.join(n))
                .find(|p| p.is_file())
                .ok_or_else(|| Error::Io {
                    op: "Dataset::load_mnist_dir",
                    path: dir.join(&names[0]).display().to_string(),
                    message: format!("not found (nor {}, nor either with .gz)", names[1]),
                })
        };
        let train = Self::load_idx(
            &find("train-images", "idx3-ubyte")?,
            &find("train-labels", "idx1-ubyte")?,
        )?;
        let test = Self::load_idx(
            &find("t10k-images", "idx3-ubyte")?,
            &find("t10k-labels", "idx1-ubyte")?,
        )?;
        Ok((train, test))
    }

    /// Rows (samples).
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Always false: a data set holds at least one row.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Features per row.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of classes (largest label + 1).
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// All features, row-major (len × dim).
    pub fn features(&self) -> &[f32] {
        &self.features
    }

    /// The class of each row.
    pub fn labels(&self) -> &[u32] {
        &self.labels
    }

    /// The rows at `idx`, in that order.
    pub fn subset(&self, idx: &[usize]) -> Dataset {
        let mut features = Vec::with_capacity(idx.len() * self.dim);
        for &i in idx {
            features.extend_from_slice(&self.features[i * self.dim..(i + 1) * self.dim]);
        }
        Dataset {
            features,
            labels: idx.iter().map(|&i| self.labels[i]).collect(),
            dim: self.dim,
            classes: self.classes,
            image: self.image,
        }
    }

    /// A seeded split that keeps each class's share: `test_fraction` of every class (rounded)
    /// goes to the test set. Returns (train, test).
    pub fn stratified_split(&self, test_fraction: f64, seed: u64) -> (Dataset, Dataset) {
        let mut rng = Rng::new(seed);
        let (mut train, mut test) = (Vec::new(), Vec::new());
        for class in 0..self.classes as u32 {
            let mut idx: Vec<usize> = (0..self.len())
                .filter(|&i| self.labels[i] == class)
                .collect();
            rng.shuffle(&mut idx);
            let n_test = (idx.len() as f64 * test_fraction).round() as usize;
            test.extend_from_slice(&idx[..n_test]);
            train.extend_from_slice(&idx[n_test..]);
        }
        rng.shuffle(&mut train);
        rng.shuffle(&mut test);
        (self.subset(&train), self.subset(&test))
    }

    /// Mini-batches of up to `batch` rows in a fresh random order: (features, labels) each.
    pub fn batches(&self, batch: usize, rng: &mut Rng) -> Vec<(Vec<f32>, Vec<u32>)> {
        let mut order: Vec<usize> = (0..self.len()).collect();
        rng.shuffle(&mut order);
        order
            .chunks(batch.max(1))
            .map(|idx| {
                let d = self.subset(idx);
                (d.features, d.labels)
            })
            .collect()
    }
}

/// Encodes unsigned-byte data with its dimensions as an IDX file.
pub fn encode_idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

/// Decodes an IDX file of unsigned bytes: (dimensions, data).
pub fn parse_idx(bytes: &[u8]) -> Result<(Vec<usize>, &[u8])> {
    const OP: &str = "parse_idx";
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        return Err(format_err(OP, "not an IDX file (bad magic)"));
    }
    if bytes[2] != 0x08 {
        return Err(format_err(
            OP,
            format!(
                "element type {:#04x}; only unsigned bytes (0x08) are read",
                bytes[2]
            ),
        ));
    }
    let nd = bytes[3] as usize;
    let header = 4 + 4 * nd;
    if nd == 0 || bytes.len() < header {
        return Err(format_err(OP, "truncated header"));
    }
    let dims: Vec<usize> = bytes[4..header]
        .chunks(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let n = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    match n {
        Some(n) if bytes.len() - header == n => Ok((dims, &bytes[header..])),
        _ => Err(format_err(
            OP,
            format!(
                "dimensions {dims:?} do not match {} data bytes",
                bytes.len() - header
            ),
        )),
    }
}

/// The most bytes a gzip'd input may inflate to (1 GiB; MNIST's largest file is 47 MB): a
/// larger result, a gzip bomb say, is an `Err` instead of exhausting memory.
pub const MAX_INFLATED_BYTES: u64 = 1 << 30;

/// Inflates gzip data, refusing to produce more than `cap` bytes: at most `cap + 1` bytes are
/// ever held, whatever the header or the stream claims.
pub fn gunzip(bytes: &[u8], cap: u64) -> Result<Vec<u8>> {
    const OP: &str = "gunzip";
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .take(cap.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| format_err(OP, e.to_string()))?;
    if out.len() as u64 > cap {
        return Err(Error::TooLarge {
            op: OP,
            what: "bytes inflated from gzip data",
            requested: out.len() as u64,
            limit: cap,
        });
    }
    Ok(out)
}

fn read_maybe_gz(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).map_err(|e| Error::Io {
        op: "Dataset::load_idx",
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    if path.extension().is_some_and(|e| e == "gz") {
        gunzip(&raw, MAX_INFLATED_BYTES).map_err(|e| match e {
            Error::Format { message, .. } => Error::Io {
                op: "Dataset::load_idx",
                path: path.display().to_string(),
                message,
            },
            other => other,
        })
    } else {
        Ok(raw)
    }
}
