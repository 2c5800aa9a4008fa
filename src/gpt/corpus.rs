//! Text for a character-level language model: the tokenizer (one token per distinct character
//! of the corpus, sorted, as nanoGPT's `shakespeare_char`), the 90 % / 10 % split, and the
//! random windows a batch is made of. The default corpus, tiny Shakespeare, is embedded.

use crate::error::{Error, Result};
use crate::rng::Rng;

/// Tiny Shakespeare (1,115,394 characters, 65 distinct), gzipped.
const SHAKESPEARE_GZ: &[u8] = include_bytes!("../../data/tinyshakespeare.txt.gz");

/// The text of tiny Shakespeare (embedded).
pub fn shakespeare() -> String {
    // The embedded file is valid gzip of UTF-8 text: tests hold it.
    crate::data::gunzip(SHAKESPEARE_GZ, 4 << 20)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default()
}

/// Characters ↔ token ids: the corpus's distinct characters, sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CharTokenizer {
    chars: Vec<char>,
}

impl CharTokenizer {
    /// The tokenizer of `text`: one id per distinct character.
    pub fn from_text(text: &str) -> CharTokenizer {
        let mut chars: Vec<char> = text.chars().collect();
        chars.sort_unstable();
        chars.dedup();
        CharTokenizer { chars }
    }

    /// The tokenizer whose vocabulary is `chars` in order (as saved with a model).
    pub fn from_vocab(chars: &str) -> CharTokenizer {
        CharTokenizer {
            chars: chars.chars().collect(),
        }
    }

    /// The vocabulary as one string (what a model file keeps).
    pub fn vocab(&self) -> String {
        self.chars.iter().collect()
    }

    /// Tokens in the vocabulary.
    pub fn len(&self) -> usize {
        self.chars.len()
    }

    /// Whether the vocabulary is empty.
    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// The ids of `text`; a character outside the vocabulary is an error naming it.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        text.chars()
            .map(|c| {
                self.chars
                    .binary_search(&c)
                    .ok()
                    .or_else(|| self.chars.iter().position(|&x| x == c))
                    .map(|i| i as u32)
                    .ok_or_else(|| Error::InvalidArgument {
                        op: "CharTokenizer::encode",
                        message: format!("{c:?} is not in the model's vocabulary"),
                    })
            })
            .collect()
    }

    /// The text of `ids` (ids past the vocabulary are skipped).
    pub fn decode(&self, ids: &[u32]) -> String {
        ids.iter()
            .filter_map(|&i| self.chars.get(i as usize))
            .collect()
    }
}

/// A tokenized corpus split for training and validation.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// Its tokenizer.
    pub tokenizer: CharTokenizer,
    /// The first 90 % of the tokens.
    pub train: Vec<u32>,
    /// The last 10 %.
    pub val: Vec<u32>,
}

impl Corpus {
    /// `text` tokenized and split 90 % / 10 %.
    pub fn from_text(text: &str) -> Result<Corpus> {
        let tokenizer = CharTokenizer::from_text(text);
        let ids = tokenizer.encode(text)?;
        let cut = ids.len() * 9 / 10;
        let corpus = Corpus {
            tokenizer,
            train: ids[..cut].to_vec(),
            val: ids[cut..].to_vec(),
        };
        if corpus.val.len() < 2 {
            return Err(Error::InvalidArgument {
                op: "Corpus::from_text",
                message: format!(
                    "{} characters are too few to split for validation",
                    ids.len()
                ),
            });
        }
        Ok(corpus)
    }

    /// Tiny Shakespeare, the default corpus (embedded: no file or network needed).
    pub fn shakespeare() -> Result<Corpus> {
        Corpus::from_text(&shakespeare())
    }
}

/// `batch` random windows of `block` tokens from `data` and the same shifted by one (the
/// targets), flattened row by row: (inputs, targets), each `batch · block` ids.
pub fn windows(
    data: &[u32],
    batch: usize,
    block: usize,
    rng: &mut Rng,
) -> Result<(Vec<u32>, Vec<u32>)> {
    if data.len() <= block {
        return Err(Error::InvalidArgument {
            op: "gpt::windows",
            message: format!(
                "{} tokens are too few for windows of {block} and their targets",
                data.len()
            ),
        });
    }
    let (mut x, mut y) = (
        Vec::with_capacity(batch * block),
        Vec::with_capacity(batch * block),
    );
    for _ in 0..batch {
        let i = rng.below(data.len() - block);
        x.extend_from_slice(&data[i..i + block]);
        y.extend_from_slice(&data[i + 1..i + block + 1]);
    }
    Ok((x, y))
}
