#!/usr/bin/python3
"""Golden fixtures for the first stage, the frequency-compensated decoder, the PatchGAN
discriminator and LPIPS, made with PyTorch as an independent reference.

The modules below are written from the published definitions (taming-transformers' VQModel,
StableSR's CFW fusion, ESRGAN's RRDB, AFFNet's adaptive frequency filter and AFF block, the
released refinement UNet's wiring, pix2pix's PatchGAN, LPIPS-VGG), with the same state-dict
names as the reference code, on tiny widths so the fixtures stay small. Each fixture is a
safetensors file (written by the few lines of `save` below) holding the module state, the
inputs, the outputs and selected gradients; the Java tests load the state into their own
modules and compare.

Run from the repository root (needs Debian's python3-torch):
    /usr/bin/python3 diffusion/src/test/python/make_autoencoder_fixtures.py
"""
import json
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
RESOURCES = os.path.join(HERE, "..", "resources")


def save(relpath, tensors, metadata=None):
    """Writes float32 tensors as a safetensors file: u64 header length, JSON header, raw data."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    for key, t in tensors.items():
        raw = t.detach().contiguous().cpu().float().numpy().astype("<f4").tobytes()
        header[key] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    path = os.path.join(RESOURCES, relpath + ".safetensors")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    print(f"{path}: {offset / 1024:.0f} KiB")


def state(module, prefix="module."):
    """A module's state dict under a prefix; BatchNorm's int64 counters become floats."""
    return {prefix + k: v.detach().clone().float() for k, v in module.state_dict().items()}


# ---- VQ-GAN first stage ---------------------------------------------------------------------

def swish(x):
    return x * torch.sigmoid(x)


class ResBlock(nn.Module):
    """norm1 -> swish -> conv1 -> norm2 -> swish -> conv2, plus the input (1x1-projected when widths differ)."""

    def __init__(self, cin, cout, groups, eps=1e-6, shortcut="nin_shortcut"):
        super().__init__()
        self.cin, self.cout, self.shortcut = cin, cout, shortcut
        self.norm1 = nn.GroupNorm(groups, cin, eps=eps)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2 = nn.GroupNorm(groups, cout, eps=eps)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        if cin != cout:
            self.add_module(shortcut, nn.Conv2d(cin, cout, 1))

    def forward(self, x):
        h = self.conv2(swish(self.norm2(self.conv1(swish(self.norm1(x))))))
        skip = getattr(self, self.shortcut)(x) if self.cin != self.cout else x
        return skip + h


class Attention(nn.Module):
    """Single-head self-attention over all positions with 1x1 q, k, v, proj_out; scores / sqrt(C)."""

    def __init__(self, c, groups, eps=1e-6):
        super().__init__()
        self.norm = nn.GroupNorm(groups, c, eps=eps)
        self.q, self.k, self.v, self.proj_out = (nn.Conv2d(c, c, 1) for _ in range(4))

    def forward(self, x):
        n, c, h, w = x.shape
        y = self.norm(x)
        q = self.q(y).flatten(2)          # n c hw
        k = self.k(y).flatten(2)
        v = self.v(y).flatten(2)
        scores = torch.einsum("nci,ncj->nij", q, k) / (c ** 0.5)   # query i, key j
        attn = scores.softmax(dim=-1)
        out = torch.einsum("nij,ncj->nci", attn, v).reshape(n, c, h, w)
        return x + self.proj_out(out)


class Mid(nn.Module):
    def __init__(self, c, groups):
        super().__init__()
        self.block_1 = ResBlock(c, c, groups)
        self.attn_1 = Attention(c, groups)
        self.block_2 = ResBlock(c, c, groups)

    def forward(self, x):
        return self.block_2(self.attn_1(self.block_1(x)))


class PadConvDown(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, stride=2)

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1)))


class NearestConvUp(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Level(nn.Module):
    pass


class VqEncoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        ch, mult, nrb, g = cfg["ch"], cfg["ch_mult"], cfg["num_res_blocks"], cfg["groups"]
        self.conv_in = nn.Conv2d(3, ch, 3, padding=1)
        self.down = nn.ModuleList()
        cin = ch
        for i, m in enumerate(mult):
            lvl = Level()
            lvl.block = nn.ModuleList()
            for _ in range(nrb):
                lvl.block.append(ResBlock(cin, ch * m, g))
                cin = ch * m
            if i != len(mult) - 1:
                lvl.downsample = PadConvDown(cin)
            self.down.append(lvl)
        self.mid = Mid(cin, g)
        self.norm_out = nn.GroupNorm(g, cin, eps=1e-6)
        self.conv_out = nn.Conv2d(cin, cfg["z_channels"], 3, padding=1)

    def forward(self, x, feature_levels=()):
        feats = []
        h = self.conv_in(x)
        for i, lvl in enumerate(self.down):
            for b in lvl.block:
                h = b(h)
            if i in feature_levels:
                feats.append(h)
            if hasattr(lvl, "downsample"):
                h = lvl.downsample(h)
        h = self.conv_out(swish(self.norm_out(self.mid(h))))
        return h, feats


class VqDecoder(nn.Module):
    def __init__(self, cfg, fc=None):
        super().__init__()
        ch, mult, nrb, g = cfg["ch"], cfg["ch_mult"], cfg["num_res_blocks"], cfg["groups"]
        self.fusion_w = 1.0
        cin = ch * mult[-1]
        self.conv_in = nn.Conv2d(cfg["z_channels"], cin, 3, padding=1)
        self.mid = Mid(cin, g)
        levels = [None] * len(mult)
        for i in reversed(range(len(mult))):
            lvl = Level()
            lvl.block = nn.ModuleList()
            for _ in range(nrb + 1):
                lvl.block.append(ResBlock(cin, ch * mult[i], g))
                cin = ch * mult[i]
            if i != 0:
                lvl.upsample = NearestConvUp(cin)
            levels[i] = lvl
        self.up = nn.ModuleList(levels)
        self.fusion_levels = list(range(1, len(mult) - 1)) if fc else []
        for i in self.fusion_levels:
            setattr(self, f"fusion_layer_{i}", Cfw(ch * mult[i], fc["rrdb_blocks"], fc["growth"], g))
        if fc:
            self.unet_1 = AffUNet(cin, fc)
        self.norm_out = nn.GroupNorm(g, cin, eps=1e-6)
        self.conv_out = nn.Conv2d(cin, 3, 3, padding=1)

    def forward(self, z, lr_feats=()):
        h = self.mid(self.conv_in(z))
        for i in reversed(range(len(self.up))):
            for b in self.up[i].block:
                h = b(h)
            if i in self.fusion_levels:
                h = getattr(self, f"fusion_layer_{i}")(lr_feats[self.fusion_levels.index(i)], h, self.fusion_w)
            if hasattr(self.up[i], "upsample"):
                h = self.up[i].upsample(h)
        if hasattr(self, "unet_1"):
            h = self.unet_1(h)
        return self.conv_out(swish(self.norm_out(h)))


class Quantizer(nn.Module):
    """Nearest codebook entry; straight-through output; legacy loss (beta on the codebook term)."""

    def __init__(self, n, d, beta=0.25):
        super().__init__()
        self.beta = beta
        self.embedding = nn.Embedding(n, d)
        self.embedding.weight.data.uniform_(-1.0 / n, 1.0 / n)

    def forward(self, z):
        zl = z.permute(0, 2, 3, 1)
        flat = zl.reshape(-1, zl.shape[-1])
        e = self.embedding.weight
        dist = (flat ** 2).sum(1, keepdim=True) + (e ** 2).sum(1) - 2 * flat @ e.t()
        idx = dist.argmin(1)
        zq = e[idx].view(zl.shape)
        loss = ((zq.detach() - zl) ** 2).mean() + self.beta * ((zq - zl.detach()) ** 2).mean()
        out = zl + (zq - zl).detach()
        return out.permute(0, 3, 1, 2), loss, idx.view(zl.shape[:-1]), dist

class VqModel(nn.Module):
    def __init__(self, cfg, fc=None):
        super().__init__()
        self.encoder = VqEncoder(cfg)
        self.decoder = VqDecoder(cfg, fc)
        self.quantize = Quantizer(cfg["n_embed"], cfg["embed_dim"])
        self.quant_conv = nn.Conv2d(cfg["z_channels"], cfg["embed_dim"], 1)
        self.post_quant_conv = nn.Conv2d(cfg["embed_dim"], cfg["z_channels"], 1)


# ---- CFW fusion ------------------------------------------------------------------------------

class DenseBlock(nn.Module):
    """Five 3x3 convs with dense connections, LeakyReLU 0.2 after the first four; 0.2 * out + x."""

    def __init__(self, c, g):
        super().__init__()
        for i in range(5):
            setattr(self, f"conv{i + 1}", nn.Conv2d(c + i * g, c if i == 4 else g, 3, padding=1))

    def forward(self, x):
        feats = [x]
        for i in range(4):
            feats.append(F.leaky_relu(getattr(self, f"conv{i + 1}")(torch.cat(feats, 1)), 0.2))
        return 0.2 * self.conv5(torch.cat(feats, 1)) + x


class RRDB(nn.Module):
    def __init__(self, c, g):
        super().__init__()
        self.rdb1, self.rdb2, self.rdb3 = DenseBlock(c, g), DenseBlock(c, g), DenseBlock(c, g)

    def forward(self, x):
        return 0.2 * self.rdb3(self.rdb2(self.rdb1(x))) + x


class Cfw(nn.Module):
    """F_d + w * ResBlock(c->c)(RRDBs(ResBlock(2c->c)(cat(F_lr, F_d))))."""

    def __init__(self, c, n_rrdb, growth, groups):
        super().__init__()
        self.encode_enc_1 = ResBlock(2 * c, c, groups, shortcut="conv_out")
        self.encode_enc_2 = nn.Sequential(*[RRDB(c, growth) for _ in range(n_rrdb)])
        self.encode_enc_3 = ResBlock(c, c, groups, shortcut="conv_out")

    def forward(self, f_lr, f_d, w):
        return f_d + w * self.encode_enc_3(self.encode_enc_2(self.encode_enc_1(torch.cat([f_lr, f_d], 1))))


# ---- AFF blocks and the refinement UNet ------------------------------------------------------------

class FreqFilter(nn.Module):
    """y = irfft2(X * M) + x, X = rfft2(x, ortho), M = softshrink(complex block-diagonal 2-layer MLP of X)."""

    def __init__(self, c, blocks, factor, lam=0.01, scale=0.02):
        super().__init__()
        self.blocks, self.lam = blocks, lam
        s = c // blocks
        self.w1 = nn.Parameter(scale * torch.randn(2, blocks, s, s * factor))
        self.b1 = nn.Parameter(scale * torch.randn(2, blocks, s * factor))
        self.w2 = nn.Parameter(scale * torch.randn(2, blocks, s * factor, s))
        self.b2 = nn.Parameter(scale * torch.randn(2, blocks, s))

    @staticmethod
    def complex_layer(z, w, b):
        # z: n k i h w (complex); w: k i o as a complex matrix; out[o] = sum_i z[i] w[i, o] + b[o]
        wc = torch.complex(w[0], w[1])
        bc = torch.complex(b[0], b[1])
        return torch.einsum("nkihw,kio->nkohw", z, wc) + bc[None, :, :, None, None]

    def forward(self, x):
        n, c, h, w = x.shape
        spec = torch.fft.rfft2(x.float(), norm="ortho")
        z = spec.reshape(n, self.blocks, c // self.blocks, h, spec.shape[-1])
        hid = self.complex_layer(z, self.w1, self.b1)
        hid = torch.complex(F.leaky_relu(hid.real, 0.1), F.leaky_relu(hid.imag, 0.1))
        out = self.complex_layer(hid, self.w2, self.b2)
        mask = torch.complex(F.softshrink(out.real, self.lam), F.softshrink(out.imag, self.lam)).reshape(spec.shape)
        return torch.fft.irfft2(spec * mask, s=(h, w), norm="ortho") + x


class ConvBn(nn.Module):
    def __init__(self, cin, cout, k, groups=1, act=True):
        super().__init__()
        self.block = nn.Sequential()
        self.block.add_module("conv", nn.Conv2d(cin, cout, k, padding=k // 2, groups=groups, bias=False))
        self.block.add_module("norm", nn.BatchNorm2d(cout))
        if act:
            self.block.add_module("act", nn.LeakyReLU(0.1))

    def forward(self, x):
        return self.block(x)


def hidden_width(c, ratio, divisor=8):
    v = c * ratio
    r = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return r + divisor if r < 0.9 * v else r


class InvRes(nn.Module):
    def __init__(self, cin, cout, ratio=4):
        super().__init__()
        hid = hidden_width(cin, ratio)
        self.residual = cin == cout
        self.block = nn.Sequential()
        self.block.add_module("exp_1x1", ConvBn(cin, hid, 1))
        self.block.add_module("conv_3x3", ConvBn(hid, hid, 3, groups=hid))
        self.block.add_module("red_1x1", ConvBn(hid, cout, 1, act=False))

    def forward(self, x):
        y = self.block(x)
        return x + y if self.residual else y


class AffBlock(nn.Module):
    """h = mlp(norm1(x)) + up_dim(x); y = filter(norm2(h)) + h (drop path omitted: these fixtures have it off)."""

    def __init__(self, cin, cout, fc):
        super().__init__()
        self.norm1 = nn.GroupNorm(fc["aff_groups"], cin)
        self.filter = FreqFilter(cout, fc["filter_blocks"], fc["filter_factor"], scale=fc.get("filter_scale", 0.02))
        self.norm2 = nn.GroupNorm(fc["aff_groups"], cout)
        self.up_dim = nn.Conv2d(cin, cout, 1)
        self.mlp = InvRes(cin, cout)

    def forward(self, x):
        h = self.mlp(self.norm1(x)) + self.up_dim(x)
        return self.filter(self.norm2(h)) + h


class AffUNet(nn.Module):
    def __init__(self, c, fc):
        super().__init__()
        c2 = 2 * c
        self.conv1 = AffBlock(c, c, fc)
        self.conv2 = AffBlock(c, c2, fc)
        self.conv3 = AffBlock(c2, c2, fc)
        self.context_refine = nn.ModuleList([AffBlock(c2, c2, fc) for _ in range(fc["context_blocks"])])
        self.up_conv3 = AffBlock(2 * c2, c2, fc)
        self.up_conv2 = AffBlock(2 * c, c, fc)
        self.up3 = nn.Sequential(nn.Conv2d(c2, 4 * c2, 1), nn.PixelShuffle(2))
        self.up2 = nn.Sequential(nn.Conv2d(c2, 4 * c, 1), nn.PixelShuffle(2))

    def forward(self, x):
        x1 = self.conv1(x)
        x2 = self.conv2(F.max_pool2d(x1, 2))
        x3 = self.conv3(F.max_pool2d(x2, 2))
        for b in self.context_refine:
            x3 = b(x3)
        d3 = self.up_conv3(torch.cat([x2, self.up3(x3)], 1))
        return self.up_conv2(torch.cat([x1, self.up2(d3)], 1))


# ---- discriminator and LPIPS -----------------------------------------------------------------------

class PatchGan(nn.Module):
    def __init__(self, cin=3, ndf=64, n_layers=3):
        super().__init__()
        layers = [nn.Conv2d(cin, ndf, 4, 2, 1), nn.LeakyReLU(0.2)]
        mult = 1
        for n in range(1, n_layers + 1):
            prev, mult = mult, min(2 ** n, 8)
            layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, 2 if n < n_layers else 1, 1, bias=False),
                       nn.BatchNorm2d(ndf * mult), nn.LeakyReLU(0.2)]
        layers.append(nn.Conv2d(ndf * mult, 1, 4, 1, 1))
        self.main = nn.Sequential(*layers)

    def forward(self, x):
        return self.main(x)


class Lpips(nn.Module):
    """LPIPS-VGG16: scaling, VGG16 relu1_2..relu5_3, unit-normalised channel differences, 1x1 heads, spatial mean."""

    def __init__(self, widths):
        super().__init__()
        self.scaling_layer = nn.Module()
        self.scaling_layer.register_buffer("shift", torch.tensor([-.030, -.088, -.188]).view(1, 3, 1, 1))
        self.scaling_layer.register_buffer("scale", torch.tensor([.458, .448, .450]).view(1, 3, 1, 1))
        self.net = nn.Module()
        convs = [2, 2, 3, 3, 3]
        index, cin = 0, 3
        for s in range(5):
            seq = nn.Sequential()
            if s > 0:
                seq.add_module(str(index), nn.MaxPool2d(2, 2))
                index += 1
            for j in range(convs[s]):
                seq.add_module(str(index), nn.Conv2d(cin if j == 0 else widths[s], widths[s], 3, padding=1))
                seq.add_module(str(index + 1), nn.ReLU())
                index += 2
            cin = widths[s]
            setattr(self.net, f"slice{s + 1}", seq)
        for s in range(5):
            head = nn.Module()
            head.model = nn.Sequential(nn.Dropout(), nn.Conv2d(widths[s], 1, 1, bias=False))
            setattr(self, f"lin{s}", head)

    def forward(self, a, b):
        sl = self.scaling_layer
        ha, hb = (a - sl.shift) / sl.scale, (b - sl.shift) / sl.scale
        total = 0
        for s in range(5):
            sliced = getattr(self.net, f"slice{s + 1}")
            ha, hb = sliced(ha), sliced(hb)
            na = ha / (ha.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
            nb = hb / (hb.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
            total = total + getattr(self, f"lin{s}").model((na - nb) ** 2).mean([2, 3], keepdim=True)
        return total.flatten()


# ---- helpers ---------------------------------------------------------------------------------

def randomise_norms(module):
    """Non-trivial affine parameters and running statistics, so the tests see them used."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, (nn.GroupNorm, nn.BatchNorm2d)):
                m.weight.copy_(1 + 0.3 * torch.randn_like(m.weight))
                m.bias.copy_(0.2 * torch.randn_like(m.bias))
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(0.2 * torch.randn_like(m.running_mean))
                m.running_var.copy_(0.5 + torch.rand_like(m.running_var))


def codebook_margin(dist):
    """Smallest gap between the nearest and the second-nearest code over all positions."""
    two = dist.topk(2, dim=1, largest=False).values
    return (two[:, 1] - two[:, 0]).min().item()


def grads(module, names, prefix="grad."):
    params = dict(module.named_parameters())
    return {prefix + n: params[n].grad for n in names}


def count(module):
    return sum(p.numel() for p in module.parameters())


# ---- fixtures --------------------------------------------------------------------------------

TINY_VQ = dict(ch=8, ch_mult=[1, 2], num_res_blocks=2, groups=4, z_channels=3, embed_dim=3, n_embed=16)
TINY_FC_VQ = dict(ch=8, ch_mult=[1, 2, 2], num_res_blocks=1, groups=4, z_channels=3, embed_dim=3, n_embed=16)
TINY_FC = dict(rrdb_blocks=1, growth=4, context_blocks=1, aff_groups=4, filter_blocks=4, filter_factor=1, filter_scale=0.2)


def vq_metadata(cfg):
    return {"ch": cfg["ch"], "ch_mult": ",".join(map(str, cfg["ch_mult"])), "num_res_blocks": cfg["num_res_blocks"],
            "groups": cfg["groups"], "z_channels": cfg["z_channels"], "embed_dim": cfg["embed_dim"], "n_embed": cfg["n_embed"]}


def fixture_vq():
    """The tiny VQ model: encode, quantise, decode, loss, gradients."""
    for attempt in range(100):
        model = VqModel(TINY_VQ)
        randomise_norms(model)
        x = torch.rand(2, 3, 12, 16) * 2 - 1
        with torch.no_grad():
            h = model.quant_conv(model.encoder(x)[0])
            # codes spread like the latents, so every position has a clear nearest one
            model.quantize.embedding.weight.copy_(h.mean() + h.std() * torch.randn_like(model.quantize.embedding.weight))
            margin = codebook_margin(model.quantize(h)[3])
        if margin > 1e-3:
            break
    x.requires_grad_(True)
    h = model.quant_conv(model.encoder(x)[0])
    zq, qloss, idx, _ = model.quantize(h)
    rec = model.decoder(model.post_quant_conv(zq))
    g = torch.randn_like(rec)
    ((rec * g).sum() + qloss).backward()
    names = ["encoder.conv_in.weight", "encoder.mid.attn_1.q.weight", "encoder.down.1.block.0.nin_shortcut.weight",
             "quantize.embedding.weight", "quant_conv.weight", "decoder.up.0.block.0.nin_shortcut.weight",
             "decoder.up.1.upsample.conv.weight", "decoder.conv_out.bias"]
    save("autoencoder/vq_tiny", {**state(model), "input": x, "latent": h, "quantized": zq, "indices": idx.float(),
                                 "qloss": qloss.reshape(()), "reconstruction": rec, "grad_output": g, "grad.input": x.grad,
                                 **grads(model, names)},
         {**vq_metadata(TINY_VQ), "grad_names": ",".join(names)})


def fixture_filter():
    """One adaptive frequency filter with hidden factor 2 on an odd width; output and all gradients."""
    filt = FreqFilter(8, 4, 2, scale=0.3)
    x = torch.randn(2, 8, 6, 5, requires_grad=True)
    y = filt(x)
    g = torch.randn_like(y)
    (y * g).sum().backward()
    save("decoder/filter", {**state(filt), "input": x, "output": y, "grad_output": g, "grad.input": x.grad,
                            **grads(filt, ["w1", "b1", "w2", "b2"])},
         {"channels": 8, "blocks": 4, "factor": 2, "lambda": 0.01})


def fixture_aff_blocks():
    """AFF blocks with in != out and in == out: training-mode (batch statistics) and evaluation outputs."""
    tensors = {}
    for tag, cin, cout in (("widen", 8, 16), ("same", 16, 16)):
        block = AffBlock(cin, cout, dict(aff_groups=4, filter_blocks=4, filter_factor=1, filter_scale=0.2))
        randomise_norms(block)
        tensors.update(state(block, f"{tag}.module."))
        x = torch.randn(2, cin, 8, 6, requires_grad=True)
        block.train()
        y = block(x)
        g = torch.randn_like(y)
        (y * g).sum().backward()
        names = ["filter.w1", "up_dim.weight", "mlp.block.conv_3x3.block.conv.weight", "norm1.weight", "mlp.block.red_1x1.block.norm.bias"]
        tensors.update({f"{tag}.input": x, f"{tag}.train_output": y, f"{tag}.grad_output": g, f"{tag}.grad.input": x.grad,
                        **grads(block, names, f"{tag}.grad.")})
        tensors.update(state(block, f"{tag}.after."))
        block.eval()
        with torch.no_grad():
            tensors[f"{tag}.eval_output"] = block(x)
    save("decoder/aff_block", tensors, {"groups": 4, "blocks": 4, "factor": 1, "grad_names": ",".join(names)})


def fixture_cfw():
    """CFW fusion alone, w = 0.7."""
    cfw = Cfw(8, 2, 4, 4)
    randomise_norms(cfw)
    f_lr = torch.randn(2, 8, 6, 5, requires_grad=True)
    f_d = torch.randn(2, 8, 6, 5, requires_grad=True)
    y = cfw(f_lr, f_d, 0.7)
    g = torch.randn_like(y)
    (y * g).sum().backward()
    names = ["encode_enc_1.conv1.weight", "encode_enc_1.conv_out.weight", "encode_enc_1.norm2.bias",
             "encode_enc_2.1.rdb3.conv5.weight", "encode_enc_2.0.rdb1.conv1.bias", "encode_enc_3.conv2.weight"]
    save("decoder/cfw", {**state(cfw), "lr_features": f_lr, "decoder_features": f_d, "output": y, "grad_output": g,
                         "grad.lr_features": f_lr.grad, "grad.decoder_features": f_d.grad, **grads(cfw, names)},
         {"channels": 8, "rrdb_blocks": 2, "growth": 4, "groups": 4, "w": 0.7, "grad_names": ",".join(names)})


def fixture_fc_model():
    """The tiny frequency-compensated model: LR features, decode with w = 1 and 0.5, stage-2 gradients."""
    for attempt in range(100):
        model = VqModel(TINY_FC_VQ, TINY_FC)
        randomise_norms(model)
        model.eval()
        lr_up = torch.rand(1, 3, 16, 12) * 2 - 1
        latent = torch.randn(1, 3, 4, 3)
        with torch.no_grad():
            model.quantize.embedding.weight.copy_(torch.randn_like(model.quantize.embedding.weight))
            margin = codebook_margin(model.quantize(latent)[3])
        if margin > 1e-3:
            break
    for name, p in model.named_parameters():   # stage 2: only the fusion layers and the refinement UNet train
        p.requires_grad_("fusion_layer" in name or "unet" in name)
    latent.requires_grad_(True)
    _, feats = model.encoder(lr_up, feature_levels=model.decoder.fusion_levels)
    zq, qloss, idx, _ = model.quantize(latent)
    out = model.decoder(model.post_quant_conv(zq), feats)
    g = torch.randn_like(out)
    (out * g).sum().backward()
    with torch.no_grad():
        model.decoder.fusion_w = 0.5
        out_half = model.decoder(model.post_quant_conv(zq), feats)
    names = ["decoder.fusion_layer_1.encode_enc_1.conv_out.weight", "decoder.fusion_layer_1.encode_enc_2.0.rdb2.conv3.weight",
             "decoder.unet_1.conv1.filter.w2", "decoder.unet_1.context_refine.0.mlp.block.exp_1x1.block.conv.weight",
             "decoder.unet_1.up3.0.weight", "decoder.unet_1.up_conv2.norm2.bias"]
    save("decoder/fc_tiny", {**state(model), "lr_upscaled": lr_up, "latent": latent, "lr_features": feats[0], "output": out,
                             "output_w05": out_half, "grad_output": g, "grad.latent": latent.grad, **grads(model, names)},
         {**vq_metadata(TINY_FC_VQ), "rrdb_blocks": 1, "growth": 4, "context_blocks": 1, "aff_groups": 4, "filter_blocks": 4,
          "filter_factor": 1, "grad_names": ",".join(names), "trainable_parameters": sum(p.numel() for p in model.parameters() if p.requires_grad)})


def fixture_discriminator():
    """PatchGAN with 8 filters: a training step's output and running statistics, then evaluation."""
    d = PatchGan(3, 8, 3)
    randomise_norms(d)
    before = state(d)
    x = torch.randn(2, 3, 32, 32, requires_grad=True)
    y = d(x)
    g = torch.randn_like(y)
    (y * g).sum().backward()
    after = {k: v for k, v in state(d, "after.").items() if "running" in k or "num_batches" in k}
    d.eval()
    x_eval = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        y_eval = d(x_eval)
    names = ["main.0.weight", "main.0.bias", "main.2.weight", "main.6.weight", "main.11.weight"]
    save("autoencoder/discriminator", {**before, **after, "input": x, "output": y, "grad_output": g, "grad.input": x.grad,
                                       **grads(d, names), "eval_input": x_eval, "eval_output": y_eval},
         {"ndf": 8, "n_layers": 3, "grad_names": ",".join(names)})


def fixture_lpips():
    """LPIPS on a narrow VGG16-shaped backbone with random weights; distances and the gradient of the first image."""
    widths = [4, 8, 8, 16, 16]
    net = Lpips(widths).eval()
    with torch.no_grad():
        for s in range(5):   # LPIPS heads are non-negative
            head = getattr(net, f"lin{s}").model[1]
            head.weight.copy_(head.weight.abs())
    a = (torch.rand(2, 3, 32, 24) * 2 - 1).requires_grad_(True)
    b = torch.rand(2, 3, 32, 24) * 2 - 1
    d = net(a, b)
    d.sum().backward()
    save("autoencoder/lpips_tiny", {**state(net), "a": a, "b": b, "distance": d, "grad.a": a.grad},
         {"widths": ",".join(map(str, widths))})


def full_size_counts():
    """Parameter counts of the real models (built here, never saved)."""
    f4 = dict(ch=128, ch_mult=[1, 2, 4], num_res_blocks=2, groups=32, z_channels=3, embed_dim=3, n_embed=8192)
    released = dict(rrdb_blocks=2, growth=32, context_blocks=4, aff_groups=32, filter_blocks=8, filter_factor=1)
    paper = dict(released, context_blocks=1)
    plain = VqModel(f4)
    fc = VqModel(f4, released)
    counts = {"f4_encoder": count(plain.encoder), "f4_decoder": count(plain.decoder), "f4_quant_conv": count(plain.quant_conv),
              "f4_codebook": count(plain.quantize), "f4_total": count(plain), "fc_released_decoder": count(fc.decoder),
              "fc_paper_decoder": count(VqDecoder(f4, paper))}
    print(counts)
    return counts


def main():
    torch.manual_seed(20240611)
    fixture_vq()
    fixture_filter()
    fixture_aff_blocks()
    fixture_cfw()
    fixture_fc_model()
    fixture_discriminator()
    fixture_lpips()
    save("decoder/parameter_counts", {"unused": torch.zeros(1)}, full_size_counts())


if __name__ == "__main__":
    main()
