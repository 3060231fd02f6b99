#!/usr/bin/python3
"""Writes the fixtures of ImportReleasedFilesTest into this folder: the tiny preset saved by PyTorch
in the layout of the authors' released files (Hugging Face amandaa/moe_sr: Unet/model_stage{x}.ckpt,
first_stage_models/vq-f4/fa_vae.pth).

Run with Debian's PyTorch (apt-get install python3-torch; it lives under /usr/bin/python3):

    /usr/bin/python3 sr-app/src/test/resources/released/make_released.py

The names and shapes come from tiny_layout.tsv, which the Java test writes from the model's own
layout (mvn test -Dtest=ImportReleasedFilesTest -Dmoesr.writeReleasedLayout):
  "unet <TAB> <the released code's UNet name> <TAB> <dims>" and
  "first_stage <TAB> <VQModelResiUnet name> <TAB> <dims>".

What the authors' loader (sr_val_ddim_moe.py) does with the files: model.load_state_dict(torch.load(ckpt))
on a LatentDiffusion, and vae.load_state_dict(torch.load(fa_vae.pth)) on a VQModelResiUnet; so
model_stage{k}.ckpt holds a flat LatentDiffusion state dict (schedule buffers, model.diffusion_model.*,
LitEma's model_ema.*, first_stage_model.*) and fa_vae.pth a flat VQModelResiUnet state dict. Here
model_stage1.ckpt is wrapped in a Lightning checkpoint ({"state_dict": ..., "global_step": ...}) to
cover that form too; the others are flat.

To keep the files small, every tensor of a file is a contiguous window into one random storage
(torch.save writes the storage once and each tensor's offset into it); the windows start at
different offsets, so no two tensors are equal. missing_key.ckpt and wrong_shape.ckpt hold only
EMA entries, broadcast from one zero (a 1-element storage): one key missing, one of the wrong shape.

released_tiny.sums.tsv is torch's own view of what the Java side must find: for each EMA entry of
the experts and each entry of fa_vae.pth, "file <TAB> key <TAB> float64 sum <TAB> first <TAB> last".
"""
import collections
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
EMA_PREFIX = "model_ema.diffusion_model"
MODEL_PREFIX = "model.diffusion_model."
OFFSETS = 1024   # windows start at (i * 61) % OFFSETS
COMPENSATION = ("decoder.fusion_layer_", "decoder.unet_1.")


def path(name):
    return os.path.join(HERE, name)


def layout():
    unet, first_stage = [], []
    with open(path("tiny_layout.tsv")) as f:
        for line in f:
            section, name, dims = line.rstrip("\n").split("\t")
            shape = tuple(int(d) for d in dims.split(",")) if dims else ()
            (unet if section == "unet" else first_stage).append((name, shape))
    return unet, first_stage


def numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


class Windows:
    """Contiguous windows into one random storage, each at another offset."""

    def __init__(self, seed, largest):
        g = torch.Generator().manual_seed(seed)
        self.base = torch.randn(largest + OFFSETS, generator=g) * 0.05
        self.i = 0

    def take(self, name, shape):
        if name.endswith("num_batches_tracked"):
            return torch.tensor(7, dtype=torch.int64)   # BatchNorm's counter, as PyTorch stores it
        off = (self.i * 61) % OFFSETS
        self.i += 1
        return self.base[off:off + numel(shape)].view(shape)


def schedule():
    betas = torch.linspace(0.0015 ** 0.5, 0.0155 ** 0.5, 1000, dtype=torch.float64) ** 2
    alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)
    prev = torch.cat([torch.ones(1, dtype=torch.float64), alphas_cumprod[:-1]])
    return collections.OrderedDict(
        [("betas", betas.float()), ("alphas_cumprod", alphas_cumprod.float()), ("alphas_cumprod_prev", prev.float())])


def expert(k, unet, first_stage, largest):
    """A flat LatentDiffusion state dict, as the authors' model_stage{k}.ckpt is read by their loader."""
    w = Windows(100 + k, largest)
    sd = schedule()
    for name, shape in unet:
        sd[MODEL_PREFIX + name] = w.take(name, shape)
    sd["model_ema.decay"] = torch.tensor(0.9999, dtype=torch.float32)
    sd["model_ema.num_updates"] = torch.tensor(12345, dtype=torch.int32)
    for name, shape in unet:
        sd[EMA_PREFIX + name.replace(".", "")] = w.take(name, shape)
    for name, shape in first_stage:
        if not name.startswith(COMPENSATION):   # LDM's first stage is the plain VQ model
            sd["first_stage_model." + name] = w.take(name, shape)
    return sd


def fa_vae(first_stage, largest):
    """A flat VQModelResiUnet state dict, with two entries of its training loss as a VQ-GAN saves them."""
    w = Windows(200, largest)
    sd = collections.OrderedDict()
    for name, shape in first_stage:
        sd[name] = w.take(name, shape)
    sd["loss.logvar"] = torch.zeros(())
    sd["loss.discriminator.main.0.weight"] = w.take("loss", (4, 3, 4, 4))
    return sd


def broken(unet, drop_first, wrong_first):
    sd = collections.OrderedDict()
    for i, (name, shape) in enumerate(unet):
        if i == 0 and drop_first:
            continue
        sd[EMA_PREFIX + name.replace(".", "")] = torch.zeros(3) if (i == 0 and wrong_first) else torch.zeros(1).expand(shape)
    sd["model_ema.decay"] = torch.tensor(0.9999)
    return sd


def sums_lines(file_name, sd, keys):
    lines = []
    for key in keys:
        t = sd[key].detach().reshape(-1)
        lines.append("\t".join([file_name, key, repr(t.double().sum().item()), repr(float(t[0])), repr(float(t[-1]))]))
    return lines


def main():
    unet, first_stage = layout()
    largest = max(numel(s) for _, s in unet + first_stage)
    sums = []
    for k in range(4):
        sd = expert(k, unet, first_stage, largest)
        name = "model_stage%d.ckpt" % k
        if k == 1:
            obj = {"epoch": 3, "global_step": 1000, "pytorch-lightning_version": "1.4.2", "state_dict": sd,
                   "optimizer_states": [{"state": {0: {"step": 10, "exp_avg": torch.zeros(4), "exp_avg_sq": torch.zeros(4)}},
                                         "param_groups": [{"lr": 1e-4, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0,
                                                           "amsgrad": False, "params": [0]}]}],
                   "lr_schedulers": [], "callbacks": {}}
        else:
            obj = sd
        torch.save(obj, path(name))
        back = torch.load(path(name))
        assert set((back["state_dict"] if k == 1 else back).keys()) == set(sd.keys())
        sums += sums_lines(name, sd, [EMA_PREFIX + n.replace(".", "") for n, _ in unet])
    vae = fa_vae(first_stage, largest)
    torch.save(vae, path("fa_vae.pth"))
    sums += sums_lines("fa_vae.pth", vae, [n for n, _ in first_stage])
    torch.save(broken(unet, True, False), path("missing_key.ckpt"))
    torch.save(broken(unet, False, True), path("wrong_shape.ckpt"))
    with open(path("released_tiny.sums.tsv"), "w") as f:
        f.write("\n".join(sums) + "\n")
    names = ["model_stage%d.ckpt" % k for k in range(4)] + ["fa_vae.pth", "missing_key.ckpt", "wrong_shape.ckpt", "released_tiny.sums.tsv"]
    print("wrote", ", ".join(names), "into", HERE, "total", sum(os.path.getsize(path(n)) for n in names), "bytes")


if __name__ == "__main__":
    main()
