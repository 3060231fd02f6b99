#!/usr/bin/python3
"""Writes a full-size set of files in the layout and format of the authors' released 8x model
(Hugging Face amandaa/moe_sr: Unet/model_stage{0..3}.ckpt, first_stage_models/vq-f4/fa_vae.pth)
with random weights, to measure `sr-app import` on files of the real size.

    java --add-modules jdk.incubator.vector -cp sr-app/target/sr-app.jar tools/ReleasedLayout.java moesr-x8 > /tmp/x8/layout.tsv
    /usr/bin/python3 tools/make-random-released.py /tmp/x8/layout.tsv /tmp/x8

Run with Debian's PyTorch (apt-get install python3-torch). Each model_stage{k}.ckpt is a flat
LatentDiffusion state dict saved by torch.save, as the authors' loader reads it
(model.load_state_dict(torch.load(ckpt))): LDM's schedule buffers, the UNet under
model.diffusion_model.*, LitEma's copy under model_ema.diffusion_model<name without dots>, and the
plain VQ first stage under first_stage_model.*; every tensor float32 with a storage of its own.
fa_vae.pth is a flat VQModelResiUnet state dict. The values are random normals times 0.02: the
files have the real names, shapes, dtype and size, not the real weights.

Memory: the values come from a 256 MB file of random normals (random.bin, written first) mapped
into memory; each tensor is a slice of it at its own offset with a storage of its own, so
torch.save writes every tensor's bytes separately (files of the real size) while this script
holds no more than the mapped file (a 3.6 GB state dict in memory would not fit beside a training run).
"""
import collections
import os
import sys
import time

import torch

EMA_PREFIX = "model_ema.diffusion_model"
MODEL_PREFIX = "model.diffusion_model."
COMPENSATION = ("decoder.fusion_layer_", "decoder.unet_1.")


def layout(path):
    unet, first_stage = [], []
    with open(path) as f:
        for line in f:
            section, name, dims = line.rstrip("\n").split("\t")
            shape = tuple(int(d) for d in dims.split(",")) if dims else ()
            (unet if section == "unet" else first_stage).append((name, shape))
    return unet, first_stage


POOL_FLOATS = 64 << 20


class Pool:
    """Slices of one memory-mapped file of random normals, each a storage of its own (torch.save writes each)."""

    def __init__(self, path, seed):
        if not os.path.exists(path) or os.path.getsize(path) != POOL_FLOATS * 4:
            g = torch.Generator().manual_seed(seed)
            with open(path, "wb") as f:
                for _ in range(POOL_FLOATS // (1 << 22)):
                    f.write((torch.randn(1 << 22, generator=g) * 0.02).numpy().tobytes())
        self.base = torch.from_file(path, shared=False, size=POOL_FLOATS)
        self.untyped = self.base.storage()._storage
        self.i = 0

    def take(self, name, shape):
        if name.endswith("num_batches_tracked"):
            return torch.tensor(0, dtype=torch.int64)
        if name.endswith("running_var"):
            return torch.ones(shape)   # a variance must be positive (random ones would make the decoder's output NaN)
        n = 1
        for d in shape:
            n *= d
        self.i += 1
        off = (self.i * 7919 * 61) % (POOL_FLOATS - n)
        storage = torch.storage.TypedStorage(wrap_storage=self.untyped[off * 4:(off + n) * 4], dtype=torch.float32)
        return torch.tensor([], dtype=torch.float32).set_(storage, 0, shape)


def schedule():
    betas = torch.linspace(0.0015 ** 0.5, 0.0155 ** 0.5, 1000, dtype=torch.float64) ** 2
    alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)
    prev = torch.cat([torch.ones(1, dtype=torch.float64), alphas_cumprod[:-1]])
    return collections.OrderedDict(
        [("betas", betas.float()), ("alphas_cumprod", alphas_cumprod.float()), ("alphas_cumprod_prev", prev.float())])


def main():
    layout_file, out = sys.argv[1], sys.argv[2]
    unet, first_stage = layout(layout_file)
    os.makedirs(out, exist_ok=True)
    pool = Pool(os.path.join(out, "random.bin"), 1000)
    for k in range(4):
        start = time.time()
        sd = schedule()
        for name, shape in unet:
            sd[MODEL_PREFIX + name] = pool.take(name, shape)
        sd["model_ema.decay"] = torch.tensor(0.9999)
        sd["model_ema.num_updates"] = torch.tensor(0, dtype=torch.int32)
        for name, shape in unet:
            sd[EMA_PREFIX + name.replace(".", "")] = pool.take(name, shape)
        for name, shape in first_stage:
            if not name.startswith(COMPENSATION):
                sd["first_stage_model." + name] = pool.take(name, shape)
        path = os.path.join(out, "model_stage%d.ckpt" % k)
        torch.save(sd, path)
        del sd
        print("wrote", path, os.path.getsize(path), "bytes in %.0f s" % (time.time() - start), flush=True)
    vae = collections.OrderedDict((name, pool.take(name, shape)) for name, shape in first_stage)
    path = os.path.join(out, "fa_vae.pth")
    torch.save(vae, path)
    print("wrote", path, os.path.getsize(path), "bytes", flush=True)


if __name__ == "__main__":
    main()
