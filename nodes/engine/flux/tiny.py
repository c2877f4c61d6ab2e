"""A tiny FLUX.1 built in code: a real diffusers `FluxPipeline` with random weights.

Every component has FLUX.1-dev's layout at toy size -- a dual-stream
transformer with guidance embedding, a 16-channel VAE that downsamples by 8,
CLIP and T5 text encoders, tokenizers built here from a few sentences, and
the flow-matching scheduler with FLUX's resolution-dependent shift -- so the
backend, the nodes and the demo run end to end on a bare CPU machine with
nothing downloaded. It draws noise, not pictures.

>>> pipe = build_tiny_flux_pipeline(seed=0)
>>> save_tiny_flux("models/diffusers/tiny-flux")    # a diffusers folder with model_index.json
"""

from __future__ import annotations

import os

import torch

from .. import prompt as _prompt
from .imports import flux_pipeline_class

# FLUX.1's own VAE latent normalisation (comfy/latent_formats.py Flux; the FLUX.1 vae/config.json).
FLUX_SCALING_FACTOR = 0.3611
FLUX_SHIFT_FACTOR = 0.1159

# FLUX.1-dev's scheduler/scheduler_config.json: the shift grows with the image's token count.
FLUX_SCHEDULER_CONFIG = dict(
    num_train_timesteps=1000,
    shift=3.0,
    use_dynamic_shifting=True,
    base_shift=0.5,
    max_shift=1.15,
    base_image_seq_len=256,
    max_image_seq_len=4096,
)

TEXT_DIM = 32  # hidden size of both tiny text encoders (FLUX: CLIP 768, T5 4096)

# The words the tokenizers know whole: the pack's own prompt wording plus a few subjects. Anything
# else still tokenizes (CLIP: byte by byte; T5: letter by letter), so every prompt works.
_CORPUS = [
    _prompt.DEFAULT_TEMPLATE.format(frames=16, rows=4, cols=4, subject=_prompt.DEFAULT_SUBJECT),
    "Generate a 16-frame video arranged in a 16x1 grid, where the blocks represent a blue car driving on Mars.",
    "Generate a 32-frame video arranged in a 8x4 grid, where the blocks represent continuous scenes of waves rolling onto a beach.",
    "Generate a 16-frame video arranged in a 16x1 grid of a cat walking through a city street at night.",
    "a photo of a dog running in a park, sunny day, high quality, detailed, cinematic lighting",
]

# Both vocabularies are built by rule, not by tokenizers' trainers: those break ties in hash order,
# so two builds would number tokens differently and the same seed would draw different grids.
# Both tokenizers are assembled from `tokenizers` parts and handed to the Fast classes as
# `tokenizer_object`, the one constructor that transformers 4.x (ComfyUI's >=4.50) and 5.x share:
# 4.x's slow classes want vocab files, 5.x's classes take `vocab=`/`merges=` that 4.x lacks.

CLIP_BOS, CLIP_EOS = "<|startoftext|>", "<|endoftext|>"
T5_PAD, T5_EOS, T5_UNK = "<pad>", "</s>", "<unk>"


def _special(*tokens):
    """Special tokens as the backend must hold them: matched verbatim, never split or lower-cased."""
    from tokenizers import AddedToken

    return [AddedToken(t, special=True, normalized=False) for t in tokens]


def _clip_backend():
    """CLIP's text pipeline around a placeholder BPE (`_clip_tokenizer` puts the real model in).

    The same normaliser, pre-tokeniser and decoder as transformers' CLIP conversion
    (openai/clip-vit-large-patch14's tokenizer.json): lower-cased NFC text, CLIP's word regex,
    byte-level symbols.
    """
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers

    backend = Tokenizer(models.BPE(vocab={CLIP_BOS: 0, CLIP_EOS: 1}, merges=[]))
    backend.normalizer = normalizers.Sequence(
        [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()]
    )
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(
                Regex(r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""),
                behavior="removed",
                invert=True,
            ),
            pre_tokenizers.ByteLevel(add_prefix_space=False),
        ]
    )
    backend.decoder = decoders.ByteLevel()
    return backend


def _clip_tokenizer():
    """Byte-level BPE in CLIP's layout (`</w>` word ends, <|startoftext|> / <|endoftext|>).

    Vocab: the 256 byte symbols, each also as a word end, then every corpus word built up by one
    merge per letter, left to right ("v i", "vi d", "vid e", "vide o</w>").
    """
    from tokenizers import models, pre_tokenizers, processors
    from transformers import CLIPTokenizerFast

    backend = _clip_backend()
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {CLIP_BOS: 0, CLIP_EOS: 1}
    for symbol in alphabet + [a + "</w>" for a in alphabet]:
        vocab[symbol] = len(vocab)
    merges, seen = [], set()
    words = {w for text in _CORPUS for w, _ in backend.pre_tokenizer.pre_tokenize_str(backend.normalizer.normalize_str(text))}
    for word in sorted(words):
        symbols = list(word[:-1]) + [word[-1] + "</w>"]
        built = symbols[0]
        for symbol in symbols[1:]:
            if (built, symbol) not in seen:
                seen.add((built, symbol))
                merges.append((built, symbol))
            built += symbol
            vocab.setdefault(built, len(vocab))
    backend.model = models.BPE(
        vocab=vocab,
        merges=merges,
        dropout=None,
        continuing_subword_prefix="",
        end_of_word_suffix="</w>",
        fuse_unk=False,
        unk_token=CLIP_EOS,
    )
    backend.add_special_tokens(_special(CLIP_BOS, CLIP_EOS))
    backend.post_processor = processors.RobertaProcessing(  # (sep, cls): <|startoftext|> text <|endoftext|>
        (CLIP_EOS, vocab[CLIP_EOS]), (CLIP_BOS, vocab[CLIP_BOS]), trim_offsets=False, add_prefix_space=False
    )
    return CLIPTokenizerFast(
        tokenizer_object=backend,
        bos_token=CLIP_BOS,
        eos_token=CLIP_EOS,
        unk_token=CLIP_EOS,
        pad_token=CLIP_EOS,
        model_max_length=77,
    )


def _t5_tokenizer():
    """Unigram (SentencePiece-style) in T5's layout: <pad>=0, </s>=1, <unk>=2, `▁` marks a word start.

    Corpus words are single pieces (log-prob -1); single characters, with and without `▁`, cost -8
    each, so known words stay whole and others are spelled out. Text is split at whitespace, `▁` is
    put before every word (Metaspace), and </s> is appended, as in T5's tokenizer.json.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import T5TokenizerFast

    words = sorted({w for text in _CORPUS for w in text.split()})
    chars = sorted(set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,-'") | set("".join(words)))
    pieces = {"\u2581": -8.0}
    pieces.update({"\u2581" + w: -1.0 for w in words})
    for c in chars:
        pieces.setdefault(c, -8.0)
        pieces.setdefault("\u2581" + c, -8.0)
    vocab = [(T5_PAD, 0.0), (T5_EOS, 0.0), (T5_UNK, 0.0)] + list(pieces.items())

    backend = Tokenizer(models.Unigram(vocab, unk_id=2, byte_fallback=False))
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)]
    )
    backend.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    backend.add_special_tokens(_special(T5_PAD, T5_EOS, T5_UNK))
    backend.post_processor = processors.TemplateProcessing(
        single=["$A", T5_EOS], pair=["$A", T5_EOS, "$B", T5_EOS], special_tokens=[(T5_EOS, 1)]
    )
    # extra_ids=0: no <extra_id_N> sentinels (T5's span-corruption pretraining), which would grow the
    # tokenizer past the text encoder's embedding table.
    return T5TokenizerFast(
        tokenizer_object=backend,
        eos_token=T5_EOS,
        unk_token=T5_UNK,
        pad_token=T5_PAD,
        extra_ids=0,
        model_max_length=512,
    )


def _text_encoders(tokenizer, tokenizer_2, clip_dim: int = TEXT_DIM, t5_dim: int = TEXT_DIM):
    """One-layer CLIP and T5 (v1.1) text encoders of the given widths (FLUX.1: 768 and 4096)."""
    from transformers import CLIPTextConfig, CLIPTextModel, T5Config, T5EncoderModel

    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(tokenizer),
            hidden_size=clip_dim,
            intermediate_size=64,
            projection_dim=clip_dim,
            num_hidden_layers=1,
            num_attention_heads=2,
            max_position_embeddings=77,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
    )
    text_encoder_2 = T5EncoderModel(
        T5Config(
            vocab_size=len(tokenizer_2),
            d_model=t5_dim,
            d_kv=16,
            d_ff=64,
            num_layers=1,
            num_heads=2,
            feed_forward_proj="gated-gelu",  # T5 v1.1, as FLUX's t5-xxl
            pad_token_id=tokenizer_2.pad_token_id,
            eos_token_id=tokenizer_2.eos_token_id,
        )
    )
    return text_encoder, text_encoder_2


def _tiny_vae():
    from diffusers import AutoencoderKL

    return AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,  # 4 blocks: 3 halvings = 8x
        up_block_types=("UpDecoderBlock2D",) * 4,
        # Full-resolution convs dominate a decode's CPU time: 4 channels throughout, and no resnets
        # beyond the decoder's one per level (equal widths make that valid), halve it against (4, 4, 8, 16) x 1.
        block_out_channels=(4, 4, 4, 4),
        layers_per_block=0,
        latent_channels=16,
        norm_num_groups=4,
        sample_size=1024,
        scaling_factor=FLUX_SCALING_FACTOR,
        shift_factor=FLUX_SHIFT_FACTOR,
        use_quant_conv=False,  # FLUX's VAE has neither quant conv
        use_post_quant_conv=False,
        mid_block_add_attention=False,  # FLUX's has it; at 1280x768 it would cost seconds here
    )


def build_tiny_flux_pipeline(seed: int = 0):
    """A FluxPipeline of random weights, ~27k transformer parameters; same `seed`, same weights."""
    from diffusers import FlowMatchEulerDiscreteScheduler, FluxTransformer2DModel

    FluxPipeline = flux_pipeline_class()

    tokenizer, tokenizer_2 = _clip_tokenizer(), _t5_tokenizer()

    torch.manual_seed(seed)
    transformer = FluxTransformer2DModel(
        patch_size=1,
        in_channels=64,  # 16 latent channels x a 2x2 patch
        num_layers=1,
        num_single_layers=1,
        attention_head_dim=8,  # 2 heads x 8 = 16 wide: attention over 3840+512 tokens is most of a step
        num_attention_heads=2,
        joint_attention_dim=TEXT_DIM,
        pooled_projection_dim=TEXT_DIM,
        guidance_embeds=True,  # FLUX.1-dev is guidance-distilled
        axes_dims_rope=(2, 2, 4),  # sums to attention_head_dim, like FLUX's (16, 56, 56)
    )
    vae = _tiny_vae()
    text_encoder, text_encoder_2 = _text_encoders(tokenizer, tokenizer_2)
    for model in (transformer, vae, text_encoder, text_encoder_2):
        model.eval()
    return FluxPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(**FLUX_SCHEDULER_CONFIG),
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        text_encoder_2=text_encoder_2,
        tokenizer_2=tokenizer_2,
        transformer=transformer,
    )


def save_tiny_flux_for_transformer(folder: str, transformer_config: dict, seed: int = 0) -> str:
    """A diffusers folder for a single-file transformer of `transformer_config` (FluxTransformer2DModel
    arguments): the tiny VAE, scheduler and tokenizers, text encoders as wide as that transformer wants
    (joint_attention_dim, pooled_projection_dim), and transformer/config.json without weights -- pass the
    file as `transformer_file`. E.g. for the 3072-wide tiny FLUX a real ComfyUI accepts (tests/integration).
    """
    import json

    from diffusers import FlowMatchEulerDiscreteScheduler, FluxTransformer2DModel

    tokenizer, tokenizer_2 = _clip_tokenizer(), _t5_tokenizer()
    torch.manual_seed(seed)
    text_encoder, text_encoder_2 = _text_encoders(
        tokenizer, tokenizer_2, transformer_config["pooled_projection_dim"], transformer_config["joint_attention_dim"]
    )
    parts = {"vae": _tiny_vae(), "text_encoder": text_encoder, "text_encoder_2": text_encoder_2}
    for name, model in parts.items():
        model.save_pretrained(os.path.join(folder, name), safe_serialization=True)
    tokenizer.save_pretrained(os.path.join(folder, "tokenizer"))
    tokenizer_2.save_pretrained(os.path.join(folder, "tokenizer_2"))
    FlowMatchEulerDiscreteScheduler(**FLUX_SCHEDULER_CONFIG).save_pretrained(os.path.join(folder, "scheduler"))
    with torch.device("meta"):
        FluxTransformer2DModel(**transformer_config).save_config(os.path.join(folder, "transformer"))
    index = {
        "_class_name": "FluxPipeline",
        "scheduler": ["diffusers", "FlowMatchEulerDiscreteScheduler"],
        "text_encoder": ["transformers", "CLIPTextModel"],
        "text_encoder_2": ["transformers", "T5EncoderModel"],
        "tokenizer": ["transformers", type(tokenizer).__name__],
        "tokenizer_2": ["transformers", type(tokenizer_2).__name__],
        "transformer": ["diffusers", "FluxTransformer2DModel"],
        "vae": ["diffusers", "AutoencoderKL"],
    }
    with open(os.path.join(folder, "model_index.json"), "w", encoding="utf-8") as f:
        json.dump(index, f, indent=1)
    return os.path.abspath(folder)


def save_tiny_flux(folder: str, seed: int = 0) -> str:
    """Build the tiny FLUX and write it to `folder` as a diffusers folder (model_index.json inside)."""
    pipe = build_tiny_flux_pipeline(seed)
    pipe.save_pretrained(folder, safe_serialization=True)
    return os.path.abspath(folder)


def parameter_counts(pipe) -> dict[str, int]:
    """Parameters per model component, e.g. {'transformer': 1.2e5, ...}."""
    return {
        name: sum(p.numel() for p in getattr(pipe, name).parameters())
        for name in ("transformer", "vae", "text_encoder", "text_encoder_2")
    }
