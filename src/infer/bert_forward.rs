//! The BERT encoder's forward pass over packed sequences: every text's tokens laid end to
//! end with no padding, so a batch costs the tokens it has rather than its longest text
//! times its size. Attention stays within each text (candle's variable-length attention
//! kernel), which is exactly what a padded batch with an attention mask computes for the
//! real tokens; padded positions only ever produced vectors that pooling threw away.
//!
//! Weights are laid out once at load for the CPU matmul: query, key and value projections
//! fused into one matrix (one matmul per layer instead of three) and every projection
//! stored transposed, so the forward pass never transposes or copies a weight.

use candle_core::{D, Device, Result, Tensor};
use candle_nn::VarBuilder;
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

    fn forward(self, xs: &Tensor) -> Result<Tensor> {
        match self {
            Self::Gelu => xs.gelu_erf(),
            Self::GeluTanh => xs.gelu(),
            Self::Relu => xs.relu(),
        }
    }
}

/// `x · Wᵀ + b` with `Wᵀ` stored contiguous, so the matmul reads it row by row.
struct Linear {
    weight_t: Tensor,
    bias: Tensor,
}

impl Linear {
    fn load(vb: &VarBuilder, name: &str, inputs: usize, outputs: usize) -> Result<Self> {
        let weight = vb.get((outputs, inputs), &format!("{name}.weight"))?;
        let bias = vb.get(outputs, &format!("{name}.bias"))?;
        Self::from_weight(&weight, bias)
    }

    fn from_weight(weight: &Tensor, bias: Tensor) -> Result<Self> {
        Ok(Self { weight_t: weight.t()?.contiguous()?, bias })
    }

    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        xs.matmul(&self.weight_t)?.broadcast_add(&self.bias)
    }
}

struct Norm {
    weight: Tensor,
    bias: Tensor,
    eps: f32,
}

impl Norm {
    fn load(vb: &VarBuilder, name: &str, size: usize, eps: f64) -> Result<Self> {
        Ok(Self {
            weight: vb.get(size, &format!("{name}.weight"))?,
            bias: vb.get(size, &format!("{name}.bias"))?,
            eps: eps as f32,
        })
    }

    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        candle_nn::ops::layer_norm(xs, &self.weight, &self.bias, self.eps)
    }
}

struct Layer {
    /// Query, key and value projections stacked along the output: one (hidden, 3 hidden) matmul.
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
            Ok((vb.get((h, h), &format!("attention.self.{name}.weight"))?, vb.get(h, &format!("attention.self.{name}.bias"))?))
        };
        let (q, k, v) = (part("query")?, part("key")?, part("value")?);
        let qkv = Linear::from_weight(&Tensor::cat(&[&q.0, &k.0, &v.0], 0)?, Tensor::cat(&[&q.1, &k.1, &v.1], 0)?)?;
        Ok(Self {
            qkv,
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
    word: Tensor,
    position: Tensor,
    /// Row 0 of the token-type table: sentence embedders encode single segments.
    token_type: Tensor,
    embedding_norm: Norm,
    layers: Vec<Layer>,
    heads: usize,
    activation: Activation,
}

impl Encoder {
    pub fn load(vb: VarBuilder, config: &Config) -> Result<Self> {
        let activation = Activation::parse(&config.hidden_act)
            .ok_or_else(|| candle_core::Error::Msg(format!("unsupported hidden_act {:?}", config.hidden_act)))?;
        if config.num_attention_heads == 0 || config.hidden_size % config.num_attention_heads != 0 {
            return Err(candle_core::Error::Msg(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                config.hidden_size, config.num_attention_heads
            )));
        }
        // Checkpoints name the encoder at the top level, under `bert.`, or under the model type.
        let vb = [Some("bert"), config.model_type.as_deref()]
            .into_iter()
            .flatten()
            .map(|prefix| vb.pp(prefix))
            .find(|p| p.contains_tensor("embeddings.word_embeddings.weight"))
            .unwrap_or(vb);
        let h = config.hidden_size;
        let embeddings = vb.pp("embeddings");
        let token_types = embeddings.get((config.type_vocab_size, h), "token_type_embeddings.weight")?;
        let layers = (0..config.num_hidden_layers)
            .map(|i| Layer::load(&vb.pp(format!("encoder.layer.{i}")), config))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            word: embeddings.get((config.vocab_size, h), "word_embeddings.weight")?,
            position: embeddings.get((config.max_position_embeddings, h), "position_embeddings.weight")?,
            token_type: token_types.narrow(0, 0, 1)?.contiguous()?,
            embedding_norm: Norm::load(&embeddings, "LayerNorm", h, config.layer_norm_eps)?,
            layers,
            heads: config.num_attention_heads,
            activation,
        })
    }

    /// Final hidden states, one row per token of `batch`: (tokens, hidden).
    pub fn forward(&self, batch: &Packed) -> Result<Tensor> {
        let device = Device::Cpu;
        let tokens = batch.ids.len();
        let positions: Vec<u32> = batch.lens.iter().flat_map(|&len| 0..len as u32).collect();
        if positions.len() != tokens {
            return Err(candle_core::Error::Msg(format!("{tokens} ids but lengths sum to {}", positions.len())));
        }
        let ids = Tensor::from_slice(batch.ids, tokens, &device)?;
        let positions = Tensor::from_vec(positions, tokens, &device)?;
        let embedded = (self.word.index_select(&ids, 0)? + self.position.index_select(&positions, 0)?)?
            .broadcast_add(&self.token_type)?;
        let mut xs = self.embedding_norm.forward(&embedded)?;

        let lens: Vec<u32> = batch.lens.iter().map(|&l| l as u32).collect();
        let longest = batch.lens.iter().copied().max().unwrap_or(0);
        let lens = Tensor::from_vec(lens, batch.lens.len(), &device)?;
        for layer in &self.layers {
            xs = self.layer(layer, &xs, &lens, longest)?;
        }
        Ok(xs)
    }

    fn layer(&self, layer: &Layer, xs: &Tensor, lens: &Tensor, longest: usize) -> Result<Tensor> {
        let (tokens, hidden) = xs.dims2()?;
        let head_dim = hidden / self.heads;
        let qkv = layer.qkv.forward(xs)?;
        let split = |i: usize| qkv.narrow(D::Minus1, i * hidden, hidden)?.reshape((tokens, self.heads, head_dim));
        let context = candle_nn::attention::flash_attn_varlen_cpu(
            &split(0)?,
            &split(1)?,
            &split(2)?,
            None,
            lens,
            lens,
            longest,
            longest,
            1.0 / (head_dim as f32).sqrt(),
            false,
            None,
            None,
        )?
        .reshape((tokens, hidden))?;
        let attended = layer.attention_norm.forward(&(layer.attention_out.forward(&context)? + xs)?)?;
        let up = self.activation.forward(&layer.up.forward(&attended)?)?;
        layer.output_norm.forward(&(layer.down.forward(&up)? + attended)?)
    }
}
