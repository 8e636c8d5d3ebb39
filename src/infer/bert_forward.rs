//! The BERT encoder's forward pass over packed sequences: every text's tokens laid end to
//! end with no padding, so a batch costs the tokens it has rather than its longest text
//! times its size. Attention stays within each text, which is exactly what a padded batch
//! with an attention mask computes for the real tokens; padded positions only ever produced
//! rows that pooling threw away.
//!
//! Weights are laid out once at load for the matmul: query, key and value projections fused
//! into one matrix (one product per layer instead of three), every projection stored
//! transposed (inputs × outputs, row-major). Activations are plain `f32` buffers, one row
//! per token; see `kernels` for why.

use super::kernels::{self, for_rows};
use crate::ports::EmbedError;
use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;
use rayon::prelude::*;
use serde::Deserialize;

/// The part of a Hugging Face BERT `config.json` the forward pass uses.
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub hidden_act: String,
    pub max_position_embeddings: usize,
    pub type_vocab_size: usize,
    pub layer_norm_eps: f64,
    pub model_type: Option<String>,
}

#[derive(Debug, Clone, Copy)]
enum Activation {
    /// The exact GELU (`gelu` in transformers).
    Gelu,
    /// The tanh approximation (`gelu_new`, `gelu_pytorch_tanh`, `gelu_fast`).
    GeluTanh,
    Relu,
}

impl Activation {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "gelu" => Some(Self::Gelu),
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => Some(Self::GeluTanh),
            "relu" => Some(Self::Relu),
            _ => None,
        }
    }

    #[inline(always)]
    fn apply(self, xs: &mut [f32]) {
        match self {
            Self::Gelu => kernels::gelu_erf(xs),
            Self::GeluTanh => kernels::gelu_tanh(xs),
            Self::Relu => kernels::relu(xs),
        }
    }
}

fn to_vec(t: &Tensor) -> Result<Vec<f32>> {
    t.contiguous()?.flatten_all()?.to_vec1::<f32>()
}

/// `x · Wᵀ + b`, `Wᵀ` stored row-major (inputs × outputs).
struct Linear {
    weight_t: Vec<f32>,
    bias: Vec<f32>,
    inputs: usize,
    outputs: usize,
}

impl Linear {
    fn load(vb: &VarBuilder, name: &str, inputs: usize, outputs: usize) -> Result<Self> {
        let weight = vb.get((outputs, inputs), &format!("{name}.weight"))?;
        let bias = vb.get(outputs, &format!("{name}.bias"))?;
        Self::new(&weight, &bias)
    }

    fn new(weight: &Tensor, bias: &Tensor) -> Result<Self> {
        let (outputs, inputs) = weight.dims2()?;
        Ok(Self { weight_t: to_vec(&weight.t()?)?, bias: to_vec(bias)?, inputs, outputs })
    }

    /// `rows` rows of `x · Wᵀ + b (+ residual)`: the sum starts from bias and residual so the
    /// matmul accumulates onto it instead of needing passes of its own.
    fn forward(&self, xs: &[f32], rows: usize, residual: Option<&[f32]>) -> Vec<f32> {
        let mut out = match residual {
            Some(r) => {
                let mut out = Vec::with_capacity(r.len());
                for row in r.chunks_exact(self.outputs) {
                    out.extend(row.iter().zip(&self.bias).map(|(r, b)| r + b));
                }
                out
            }
            None => self.bias.repeat(rows),
        };
        kernels::matmul_acc(&mut out, xs, &self.weight_t, rows, self.inputs, self.outputs);
        out
    }
}

struct Norm {
    weight: Vec<f32>,
    bias: Vec<f32>,
    eps: f32,
}

impl Norm {
    fn load(vb: &VarBuilder, name: &str, size: usize, eps: f64) -> Result<Self> {
        Ok(Self {
            weight: to_vec(&vb.get(size, &format!("{name}.weight"))?)?,
            bias: to_vec(&vb.get(size, &format!("{name}.bias"))?)?,
            eps: eps as f32,
        })
    }

    fn apply(&self, xs: &mut [f32]) {
        for_rows(
            xs,
            self.weight.len(),
            #[inline(always)]
            |row| kernels::layer_norm(row, &self.weight, &self.bias, self.eps),
        );
    }
}

struct Layer {
    /// Query, key and value projections stacked along the output: one (hidden → 3·hidden) product.
    qkv: Linear,
    attention_out: Linear,
    attention_norm: Norm,
    up: Linear,
    down: Linear,
    output_norm: Norm,
}

impl Layer {
    fn load(vb: &VarBuilder, config: &Config) -> Result<Self> {
        let (h, i, eps) = (config.hidden_size, config.intermediate_size, config.layer_norm_eps);
        let part = |name: &str| -> Result<(Tensor, Tensor)> {
            let prefix = format!("attention.self.{name}");
            Ok((vb.get((h, h), &format!("{prefix}.weight"))?, vb.get(h, &format!("{prefix}.bias"))?))
        };
        let (q, k, v) = (part("query")?, part("key")?, part("value")?);
        Ok(Self {
            qkv: Linear::new(&Tensor::cat(&[&q.0, &k.0, &v.0], 0)?, &Tensor::cat(&[&q.1, &k.1, &v.1], 0)?)?,
            attention_out: Linear::load(vb, "attention.output.dense", h, h)?,
            attention_norm: Norm::load(vb, "attention.output.LayerNorm", h, eps)?,
            up: Linear::load(vb, "intermediate.dense", h, i)?,
            down: Linear::load(vb, "output.dense", i, h)?,
            output_norm: Norm::load(vb, "output.LayerNorm", h, eps)?,
        })
    }
}

/// A batch of token sequences packed end to end.
pub struct Packed<'a> {
    /// Every sequence's token ids, one after another.
    pub ids: &'a [u32],
    /// Each sequence's length, in order; they sum to `ids.len()`.
    pub lens: &'a [usize],
}

pub struct Encoder {
    hidden: usize,
    heads: usize,
    word: Vec<f32>,
    position: Vec<f32>,
    /// Row 0 of the token-type table: sentence embedders encode single segments.
    token_type: Vec<f32>,
    embedding_norm: Norm,
    layers: Vec<Layer>,
    activation: Activation,
}

impl Encoder {
    pub fn load(vb: VarBuilder, config: &Config) -> Result<Self> {
        let activation = Activation::parse(&config.hidden_act)
            .ok_or_else(|| candle_core::Error::Msg(format!("unsupported hidden_act {:?}", config.hidden_act)))?;
        let (h, heads) = (config.hidden_size, config.num_attention_heads);
        if heads == 0 || h % heads != 0 {
            return Err(candle_core::Error::Msg(format!(
                "hidden_size {h} is not a multiple of num_attention_heads {heads}"
            )));
        }
        // Checkpoints name the encoder at the top level, under `bert.`, or under the model type.
        let vb = [Some("bert"), config.model_type.as_deref()]
            .into_iter()
            .flatten()
            .map(|prefix| vb.pp(prefix))
            .find(|p| p.contains_tensor("embeddings.word_embeddings.weight"))
            .unwrap_or(vb);
        let embeddings = vb.pp("embeddings");
        let token_types = embeddings.get((config.type_vocab_size, h), "token_type_embeddings.weight")?;
        Ok(Self {
            hidden: h,
            heads,
            word: to_vec(&embeddings.get((config.vocab_size, h), "word_embeddings.weight")?)?,
            position: to_vec(&embeddings.get((config.max_position_embeddings, h), "position_embeddings.weight")?)?,
            token_type: to_vec(&token_types.narrow(0, 0, 1)?)?,
            embedding_norm: Norm::load(&embeddings, "LayerNorm", h, config.layer_norm_eps)?,
            layers: (0..config.num_hidden_layers)
                .map(|i| Layer::load(&vb.pp(format!("encoder.layer.{i}")), config))
                .collect::<Result<Vec<_>>>()?,
            activation,
        })
    }

    /// Final hidden states, one row of `hidden` per token of `batch`, row-major.
    pub fn forward(&self, batch: &Packed) -> std::result::Result<Vec<f32>, EmbedError> {
        let tokens = batch.ids.len();
        if batch.lens.iter().sum::<usize>() != tokens {
            return Err(EmbedError::Inference(format!("{tokens} ids but the lengths say otherwise")));
        }
        let mut xs = self.embed(batch)?;
        for layer in &self.layers {
            xs = self.layer(layer, &xs, batch.lens);
        }
        Ok(xs)
    }

    /// Word + position + token-type embeddings, normalised.
    fn embed(&self, batch: &Packed) -> std::result::Result<Vec<f32>, EmbedError> {
        let h = self.hidden;
        let positions = batch.lens.iter().flat_map(|&len| 0..len);
        let mut xs = Vec::with_capacity(batch.ids.len() * h);
        for (&id, position) in batch.ids.iter().zip(positions) {
            let word = self.word.get(id as usize * h..(id as usize + 1) * h);
            let place = self.position.get(position * h..(position + 1) * h);
            let (Some(word), Some(place)) = (word, place) else {
                return Err(EmbedError::Inference(format!(
                    "token {id} at position {position} is outside the model's tables"
                )));
            };
            xs.extend(word.iter().zip(place).zip(&self.token_type).map(|((w, p), t)| w + p + t));
        }
        self.embedding_norm.apply(&mut xs);
        Ok(xs)
    }

    fn layer(&self, layer: &Layer, xs: &[f32], lens: &[usize]) -> Vec<f32> {
        let (h, tokens) = (self.hidden, xs.len() / self.hidden);
        let qkv = layer.qkv.forward(xs, tokens, None);
        let context = self.attention(&qkv, lens);
        let mut attended = layer.attention_out.forward(&context, tokens, Some(xs));
        layer.attention_norm.apply(&mut attended);
        let mut up = layer.up.forward(&attended, tokens, None);
        for_rows(
            &mut up,
            layer.up.outputs,
            #[inline(always)]
            |row| self.activation.apply(row),
        );
        let mut out = layer.down.forward(&up, tokens, Some(&attended));
        layer.output_norm.apply(&mut out);
        debug_assert_eq!(out.len(), tokens * h);
        out
    }

    /// Each sequence attends only to itself; sequences run in parallel.
    fn attention(&self, qkv: &[f32], lens: &[usize]) -> Vec<f32> {
        let h = self.hidden;
        let mut context = vec![0.0; qkv.len() / 3];
        let mut parts = Vec::with_capacity(lens.len());
        let (mut qkv_rest, mut out_rest) = (qkv, context.as_mut_slice());
        for &len in lens {
            let (q, qr) = qkv_rest.split_at(len * 3 * h);
            let (o, or) = std::mem::take(&mut out_rest).split_at_mut(len * h);
            parts.push((q, o, len));
            (qkv_rest, out_rest) = (qr, or);
        }
        parts
            .into_par_iter()
            .filter(|&(_, _, len)| len > 0)
            .for_each_init(Vec::new, |scores, (q, o, len)| kernels::attention(q, o, scores, len, self.heads));
        context
    }
}
