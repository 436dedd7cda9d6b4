"""Configuration of "tinychat", a tiny causal LM loaded through remote code (in the spirit of ChatGLM2/3)."""

from transformers import PretrainedConfig


class TinyChatConfig(PretrainedConfig):
    model_type = "tinychat"

    def __init__(
        self,
        vocab_size=512,
        hidden_size=64,
        num_layers=2,
        num_attention_heads=4,
        ffn_hidden_size=128,
        seq_length=2048,
        layernorm_epsilon=1e-5,
        quantization_bit=0,
        use_cache=False,
        tie_word_embeddings=False,
        pad_token_id=None,
        bos_token_id=None,
        eos_token_id=None,
        **kwargs,
    ):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.num_attention_heads = num_attention_heads
        self.ffn_hidden_size = ffn_hidden_size
        self.seq_length = seq_length
        self.layernorm_epsilon = layernorm_epsilon
        # ChatGLM records the bits of its built-in quantisation in the config; 0 means "not quantised".
        self.quantization_bit = quantization_bit
        # No KV cache: generation recomputes the whole sequence at each step.
        self.use_cache = use_cache
        self.tie_word_embeddings = tie_word_embeddings
        super().__init__(pad_token_id=pad_token_id, bos_token_id=bos_token_id, eos_token_id=eos_token_id, **kwargs)
