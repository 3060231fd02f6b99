#!/usr/bin/python3
"""Golden fixture for the denoising UNet with Space-MoE (diffusion/src/test/resources/unet/).

An independent PyTorch implementation of the blocks, written from the LDM definitions
(CompVis latent-diffusion, openaimodel.py: ResBlock, legacy AttentionBlock, Downsample,
Upsample, timestep_embedding) and the paper's Space-MoE, with the state-dict names the Java
UNet uses. It builds the `tiny` configuration, gives every parameter a random non-trivial value
(the zero-initialised convolutions would otherwise hide most of the network), rounds the weights
to float16 (so the file stays small; they are exact in float32), and writes:

  model.<name>         the state dict (F16)
  input, output        x (B, 6, H, W) and the output in training mode: Space-MoE routes tokens by
                       a permutation drawn from a Philox4x32-10 stream (seed in the metadata), the
                       same generator and shuffle rule as dev.moesr.tensor.Philox.permutation
  output_averaged      the output in inference mode, each Space-MoE layer one FFN of averaged weights
  grad_output          a weight for the loss sum(output * grad_output) of the training forward
  grad.<name>          its gradients for the input and a few parameters

The metadata also holds the parameter counts of the moesr-x8 and moesr-x4 shapes this
implementation builds, with their space experts and without MoE layers.

Run from the repository root (needs python3-torch, e.g. Debian's 1.13):
    /usr/bin/python3 diffusion/src/test/python/make_unet_fixtures.py
"""
import json
import math
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resources", "unet")

MASK32 = 0xFFFFFFFF


# ---- Philox4x32-10 and the permutation rule of dev.moesr.tensor.Philox ----------------------

def philox_block(counter, seed):
    """The four 32-bit words of block (lo(counter), hi(counter), 0, 0) under key (lo(seed), hi(seed))."""
    c0, c1, c2, c3 = counter & MASK32, (counter >> 32) & MASK32, 0, 0
    k0, k1 = seed & MASK32, (seed >> 32) & MASK32
    for _ in range(10):
        p0 = 0xD2511F53 * c0
        p1 = 0xCD9E8D57 * c2
        c0, c1, c2, c3 = ((p1 >> 32) ^ c1 ^ k0) & MASK32, p1 & MASK32, ((p0 >> 32) ^ c3 ^ k1) & MASK32, p0 & MASK32
        k0 = (k0 + 0x9E3779B9) & MASK32
        k1 = (k1 + 0xBB67AE85) & MASK32
    return c0, c1, c2, c3


class PhiloxStream:
    def __init__(self, seed):
        self.seed = seed
        self.counter = 0

    def permutation(self, n):
        """Fisher-Yates: for s = 0..n-2, i = n-1-s, v = word(2s) * 2^32 + word(2s+1), j = floor(v (i+1) / 2^64), swap p[i], p[j]."""
        p = list(range(n))
        if n < 2:
            return p
        c = self.counter
        self.counter += (2 * (n - 1) + 3) // 4
        words = {}

        def word(i):
            b = i // 4
            if b not in words:
                words[b] = philox_block(c + b, self.seed)
            return words[b][i % 4]

        for s in range(n - 1):
            i = n - 1 - s
            v = (word(2 * s) << 32) | word(2 * s + 1)
            j = (v * (i + 1)) >> 64
            p[i], p[j] = p[j], p[i]
        return p


# ---- the blocks -------------------------------------------------------------------------------

def timestep_embedding(t, dim, max_period=10000):
    """LDM: cos of the first half of the frequencies, then sin; float32 throughout."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(0, half, dtype=torch.float32) / half)
    args = t[:, None].float() * freqs[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    if dim % 2:
        emb = torch.cat([emb, torch.zeros_like(emb[:, :1])], dim=-1)
    return emb


def group_norm(c):
    return nn.GroupNorm(32, c)


class ResBlock(nn.Module):
    def __init__(self, cin, emb, cout, dropout):
        super().__init__()
        self.in_layers = nn.Sequential(group_norm(cin), nn.SiLU(), nn.Conv2d(cin, cout, 3, padding=1))
        self.emb_layers = nn.Sequential(nn.SiLU(), nn.Linear(emb, cout))
        self.out_layers = nn.Sequential(group_norm(cout), nn.SiLU(), nn.Dropout(dropout), nn.Conv2d(cout, cout, 3, padding=1))
        self.skip_connection = nn.Identity() if cin == cout else nn.Conv2d(cin, cout, 1)

    def forward(self, x, emb):
        h = self.in_layers(x)
        h = h + self.emb_layers(emb)[:, :, None, None]
        return self.skip_connection(x) + self.out_layers(h)


class AttentionBlock(nn.Module):
    """Legacy order: qkv (B, 3C, L) is split into heads first, each head holding its q, k, v rows."""

    def __init__(self, c, head_channels):
        super().__init__()
        self.heads = c // head_channels
        self.norm = group_norm(c)
        self.qkv = nn.Conv1d(c, 3 * c, 1)
        self.proj_out = nn.Conv1d(c, c, 1)

    def forward(self, x):
        b, c, hh, ww = x.shape
        x = x.reshape(b, c, -1)
        qkv = self.qkv(self.norm(x))
        length = qkv.shape[-1]
        ch = c // self.heads
        q, k, v = qkv.reshape(b * self.heads, 3 * ch, length).split(ch, dim=1)
        scale = 1 / math.sqrt(math.sqrt(ch))
        w = torch.einsum("bct,bcs->bts", q * scale, k * scale).softmax(dim=-1)
        a = torch.einsum("bts,bcs->bct", w, v).reshape(b, c, length)
        return (x + self.proj_out(a)).reshape(b, c, hh, ww)


class SpaceMoE(nn.Module):
    """LayerNorm over channels, then N expert FFNs on a random split of the tokens, plus the input."""

    def __init__(self, c, experts):
        super().__init__()
        self.norm = nn.LayerNorm(c)
        self.experts = nn.ModuleList([nn.Sequential(nn.Linear(c, 4 * c), nn.GELU(), nn.Linear(4 * c, c)) for _ in range(experts)])
        self.rng = None          # a PhiloxStream while routing
        self.averaged = False    # inference: one FFN with the experts' mean weights

    def forward(self, x):
        b, c, hh, ww = x.shape
        tokens = self.norm(x.reshape(b, c, hh * ww).transpose(1, 2))
        if self.averaged:
            mean = {k: torch.stack([e.state_dict()[k] for e in self.experts]).mean(0) for k in self.experts[0].state_dict()}
            h = F.gelu(F.linear(tokens, mean["0.weight"], mean["0.bias"]))
            y = F.linear(h, mean["2.weight"], mean["2.bias"])
        else:
            n = len(self.experts)
            perm = torch.tensor(self.rng.permutation(hh * ww))
            groups = perm.reshape(n, -1)
            y = torch.empty_like(tokens)
            for i in range(n):
                y[:, groups[i]] = self.experts[i](tokens[:, groups[i]])
        return x + y.transpose(1, 2).reshape(b, c, hh, ww)


class Block(nn.Module):
    """LDM's TimestepEmbedSequential with children 0, 1, ...; a Space-MoE (child "moe") runs right after the attention."""

    def __init__(self, layers, moe=None):
        super().__init__()
        for i, layer in enumerate(layers):
            self.add_module(str(i), layer)
            if isinstance(layer, AttentionBlock) and moe is not None:
                self.add_module("moe", moe)

    def forward(self, x, emb):
        for layer in self.children():
            x = layer(x, emb) if isinstance(layer, ResBlock) else layer(x)
        return x


class Downsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.op = nn.Conv2d(c, c, 3, stride=2, padding=1)

    def forward(self, x):
        return self.op(x)


class Upsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


class UNet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        mc, experts = cfg["model_channels"], cfg["space_experts"]
        emb = 4 * mc
        self.model_channels = mc

        def attention_layers(c):
            att = AttentionBlock(c, cfg["head_channels"])
            return [att], (SpaceMoE(c, experts) if experts > 0 else None)

        self.time_embed = nn.Sequential(nn.Linear(mc, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.input_blocks = nn.ModuleList([Block([nn.Conv2d(cfg["in_channels"], mc, 3, padding=1)])])
        chans, ch, ds = [mc], mc, 1
        for level, mult in enumerate(cfg["channel_mult"]):
            for _ in range(cfg["num_res_blocks"]):
                layers, moe = [ResBlock(ch, emb, mult * mc, cfg["dropout"])], None
                ch = mult * mc
                if ds in cfg["attention_rates"]:
                    att, moe = attention_layers(ch)
                    layers += att
                self.input_blocks.append(Block(layers, moe))
                chans.append(ch)
            if level != len(cfg["channel_mult"]) - 1:
                self.input_blocks.append(Block([Downsample(ch)]))
                chans.append(ch)
                ds *= 2
        att, moe = attention_layers(ch)
        self.middle_block = Block([ResBlock(ch, emb, ch, cfg["dropout"])] + att + [ResBlock(ch, emb, ch, cfg["dropout"])], moe)
        self.output_blocks = nn.ModuleList()
        for level, mult in list(enumerate(cfg["channel_mult"]))[::-1]:
            for i in range(cfg["num_res_blocks"] + 1):
                layers, moe = [ResBlock(ch + chans.pop(), emb, mc * mult, cfg["dropout"])], None
                ch = mc * mult
                if ds in cfg["attention_rates"]:
                    att, moe = attention_layers(ch)
                    layers += att
                if level and i == cfg["num_res_blocks"]:
                    layers.append(Upsample(ch))
                    ds //= 2
                self.output_blocks.append(Block(layers, moe))
        self.out = nn.Sequential(group_norm(ch), nn.SiLU(), nn.Conv2d(mc, cfg["out_channels"], 3, padding=1))

    def moe_layers(self):
        return [m for m in self.modules() if isinstance(m, SpaceMoE)]

    def forward(self, x, t):
        emb = self.time_embed(timestep_embedding(t, self.model_channels))
        hs, h = [], x
        for block in self.input_blocks:
            h = block(h, emb)
            hs.append(h)
        h = self.middle_block(h, emb)
        for block in self.output_blocks:
            h = block(torch.cat([h, hs.pop()], dim=1), emb)
        return self.out(h)


TINY = dict(in_channels=6, out_channels=3, model_channels=32, channel_mult=[1, 2], num_res_blocks=1, attention_rates=[2],
            head_channels=32, space_experts=4, dropout=0.0)
MOESR_X8 = dict(in_channels=6, out_channels=3, model_channels=160, channel_mult=[1, 2, 2, 4], num_res_blocks=2, attention_rates=[16, 8],
                head_channels=32, space_experts=16, dropout=0.0)
MOESR_X4 = dict(MOESR_X8, channel_mult=[1, 2, 4, 4], space_experts=4)


# ---- writing ------------------------------------------------------------------------------------

def save(path, tensors, metadata, half=()):
    """A safetensors file (a length, a JSON header, raw little-endian data); keys in `half` as F16."""
    header, blobs, offset = {"__metadata__": {k: str(v) for k, v in metadata.items()}}, [], 0
    for key, t in tensors.items():
        t = t.detach().contiguous().cpu()
        if key in half:
            dtype, raw = "F16", t.half().numpy().astype("<f2").tobytes()
        else:
            dtype, raw = "F32", t.float().numpy().astype("<f4").tobytes()
        header[key] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def randomise(model, gen):
    """Every parameter random and non-trivial (norm scales near 1), then rounded to float16 values."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1 and ("norm" in name or name.endswith(("in_layers.0.weight", "out_layers.0.weight", "out.0.weight"))):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=gen))
            elif p.dim() == 1:
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
            else:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=gen) / math.sqrt(fan_in))
            p.copy_(p.half().float())


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(4)
    gen = torch.Generator().manual_seed(20240611)
    model = UNet(TINY)
    randomise(model, gen)
    x = torch.randn(2, TINY["in_channels"], 8, 8, generator=gen).requires_grad_(True)
    t = torch.tensor([3, 917])
    routing_seed = 77

    rng = PhiloxStream(routing_seed)
    for m in model.moe_layers():
        m.rng = rng
    model.train()
    y = model(x, t)
    gy = torch.randn(y.shape, generator=gen)
    (y * gy).sum().backward()
    grads = {"grad.input": x.grad}
    for name in ("time_embed.0.weight", "input_blocks.0.0.weight", "input_blocks.3.1.qkv.weight", "input_blocks.3.moe.norm.weight",
                 "middle_block.moe.experts.1.0.weight", "middle_block.moe.experts.3.2.bias", "output_blocks.1.moe.experts.2.2.weight",
                 "output_blocks.1.2.conv.weight", "out.2.weight"):
        grads["grad." + name] = dict(model.named_parameters())[name].grad

    model.eval()
    for m in model.moe_layers():
        m.averaged = True
    with torch.no_grad():
        y_avg = model(x, t)

    # parameter counts of the large shapes, built by this implementation
    counts = {}
    for name, cfg in (("moesr-x8", MOESR_X8), ("moesr-x4", MOESR_X4)):
        for experts in (cfg["space_experts"], 0):
            counts["parameters.%s.experts_%d" % (name, experts)] = sum(p.numel() for p in UNet(dict(cfg, space_experts=experts)).parameters())
            print("%s UNet with %d space experts: %d parameters" % (name, experts, counts["parameters.%s.experts_%d" % (name, experts)]))

    state = {"model." + k: v for k, v in model.state_dict().items()}
    tensors = {**state, "input": x, "timesteps": t.float(), "output": y, "output_averaged": y_avg, "grad_output": gy, **grads}
    meta = {"config": "tiny", "routing_seed": routing_seed, "torch": torch.__version__, **counts}
    save(os.path.join(OUT, "tiny_unet.safetensors"), tensors, meta, half=set(state))
    print("tiny UNet: %d parameters, output |y| mean %.4f" % (sum(p.numel() for p in model.parameters()), y.abs().mean().item()))


if __name__ == "__main__":
    main()
