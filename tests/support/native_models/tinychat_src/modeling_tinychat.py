"""Modelling code of "tinychat": a minimal pre-norm decoder-only transformer without a KV cache.

Every generation step recomputes the whole sequence, which is fine for a model this small. Like ChatGLM's
remote code it offers `quantize(bits)`; here it only records the request, so tests can see it was called.
"""

import torch
import torch.nn.functional as F
from torch import nn
from transformers import GenerationMixin, PreTrainedModel
from transformers.modeling_outputs import CausalLMOutputWithPast

from .configuration_tinychat import TinyChatConfig


class TinyChatBlock(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.num_heads = config.num_attention_heads
        self.input_layernorm = nn.LayerNorm(config.hidden_size, eps=config.layernorm_epsilon)
        self.query_key_value = nn.Linear(config.hidden_size, 3 * config.hidden_size)
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.post_attention_layernorm = nn.LayerNorm(config.hidden_size, eps=config.layernorm_epsilon)
        self.dense_h_to_4h = nn.Linear(config.hidden_size, config.ffn_hidden_size)
        self.dense_4h_to_h = nn.Linear(config.ffn_hidden_size, config.hidden_size)

    def forward(self, hidden_states, attn_mask):
        batch, length, width = hidden_states.shape
        qkv = self.query_key_value(self.input_layernorm(hidden_states))
        qkv = qkv.view(batch, length, 3, self.num_heads, width // self.num_heads).permute(2, 0, 3, 1, 4)
        attended = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], attn_mask=attn_mask)
        hidden_states = hidden_states + self.dense(attended.transpose(1, 2).reshape(batch, length, width))
        feed = self.dense_4h_to_h(F.gelu(self.dense_h_to_4h(self.post_attention_layernorm(hidden_states))))
        return hidden_states + feed


class TinyChatPreTrainedModel(PreTrainedModel):
    config_class = TinyChatConfig
    base_model_prefix = "transformer"
    _no_split_modules = ["TinyChatBlock"]

    def _init_weights(self, module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)
        if isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)


class TinyChatForCausalLM(TinyChatPreTrainedModel, GenerationMixin):
    def __init__(self, config):
        super().__init__(config)
        self.quantized_bits = None
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.position_embeddings = nn.Embedding(config.seq_length, config.hidden_size)
        self.layers = nn.ModuleList(TinyChatBlock(config) for _ in range(config.num_layers))
        self.final_layernorm = nn.LayerNorm(config.hidden_size, eps=config.layernorm_epsilon)
        self.output_layer = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.post_init()

    @classmethod
    def _supports_default_dynamic_cache(cls):
        return False

    def get_input_embeddings(self):
        return self.word_embeddings

    def set_input_embeddings(self, value):
        self.word_embeddings = value

    def get_output_embeddings(self):
        return self.output_layer

    def set_output_embeddings(self, value):
        self.output_layer = value

    def quantize(self, bits, empty_init=False, device=None, **kwargs):
        """ChatGLM-style built-in quantisation: only records the request (4 or 8 bits; 0 does nothing)."""
        if bits == 0:
            return self
        if bits not in (4, 8):
            raise ValueError(f"tinychat can only be quantised to 4 or 8 bits, not {bits}")
        self.quantized_bits = bits
        self.config.quantization_bit = bits
        return self

    def prepare_inputs_for_generation(self, input_ids, attention_mask=None, **kwargs):
        return {"input_ids": input_ids, "attention_mask": attention_mask}

    def forward(self, input_ids=None, attention_mask=None, labels=None, return_dict=None, **kwargs):
        batch, length = input_ids.shape
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        keep = attention_mask.bool()
        positions = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)
        causal = torch.ones(length, length, dtype=torch.bool, device=input_ids.device).tril()
        # Each row may see itself, so a fully padded row never turns into NaNs.
        allowed = (causal[None] & keep[:, None, :]) | torch.eye(length, dtype=torch.bool, device=input_ids.device)[None]
        hidden_states = self.word_embeddings(input_ids) + self.position_embeddings(positions)
        for layer in self.layers:
            hidden_states = layer(hidden_states, allowed[:, None])
        logits = self.output_layer(self.final_layernorm(hidden_states)).float()
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)), labels[:, 1:].reshape(-1), ignore_index=-100)
        return CausalLMOutputWithPast(loss=loss, logits=logits)
