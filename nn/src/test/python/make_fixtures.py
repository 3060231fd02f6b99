#!/usr/bin/env python3
"""Golden fixtures for the nn module, made with PyTorch (an independent reference).

Writes small safetensors files under nn/src/test/resources/fixtures: layer weights, inputs,
outputs and gradients; optimiser trajectories; losses. The safetensors writer below is a
few lines of our own (the format is a length, a JSON header and raw little-endian data), so
the fixtures also check our reader against a second writer.

Run from the repository root with a Python that has torch (Debian: python3-torch):
    /usr/bin/python3 nn/src/test/python/make_fixtures.py
"""
import json
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "fixtures")


def save(name, tensors, metadata=None, dtypes=None):
    """Writes tensors (float32 unless dtypes names F16/BF16 for a key) as safetensors."""
    dtypes = dtypes or {}
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    for key, t in tensors.items():
        t = t.detach().contiguous().cpu()
        dtype = dtypes.get(key, "F32")
        if dtype == "F32":
            raw = t.float().numpy().astype("<f4").tobytes()
        elif dtype == "F16":
            raw = t.half().numpy().astype("<f2").tobytes()
        elif dtype == "BF16":
            raw = t.bfloat16().view(torch.int16).numpy().astype("<i2").tobytes()
        else:
            raise ValueError(dtype)
        header[key] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(os.path.join(OUT, name + ".safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def layer_case(name, module, x, metadata):
    """Forward, then backward of sum(y * grad_output): module state, input, output and gradients."""
    x = x.clone().requires_grad_(True)
    y = module(x)
    gy = torch.randn_like(y)
    (y * gy).sum().backward()
    tensors = {"input": x, "output": y, "grad_output": gy, "grad.input": x.grad}
    for k, v in module.state_dict().items():
        tensors["module." + k] = v
    for k, p in module.named_parameters():
        tensors["grad." + k] = p.grad
    save(name, tensors, metadata)


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(20240501)

    layer_case("linear", nn.Linear(5, 3), torch.randn(2, 4, 5), {"in": 5, "out": 3})

    conv = nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2)
    layer_case("conv2d_s2_g2", conv, torch.randn(2, 4, 7, 6), {"in": 4, "out": 6, "kernel": 3, "stride": 2, "padding": 1, "dilation": 1, "groups": 2})
    conv = nn.Conv2d(3, 2, 3, stride=1, padding=2, dilation=2, bias=False)
    layer_case("conv2d_d2", conv, torch.randn(1, 3, 5, 5), {"in": 3, "out": 2, "kernel": 3, "stride": 1, "padding": 2, "dilation": 2, "groups": 1})

    gn = nn.GroupNorm(2, 4)
    with torch.no_grad():
        gn.weight.copy_(torch.randn(4))
        gn.bias.copy_(torch.randn(4))
    layer_case("group_norm", gn, torch.randn(2, 4, 3, 3) * 2 + 1, {"groups": 2, "channels": 4})

    ln = nn.LayerNorm(6)
    with torch.no_grad():
        ln.weight.copy_(torch.randn(6))
        ln.bias.copy_(torch.randn(6))
    layer_case("layer_norm", ln, torch.randn(3, 2, 6), {"features": 6})

    # BatchNorm2d: one training step (state saved before it, running stats after it), then evaluation
    bn = nn.BatchNorm2d(3)
    with torch.no_grad():
        bn.weight.copy_(torch.randn(3))
        bn.bias.copy_(torch.randn(3))
    before = {"module." + k: v.clone() for k, v in bn.state_dict().items()}
    x = torch.randn(4, 3, 2, 3) * 1.5 + 0.5
    y_train = bn(x)
    bn.eval()
    x_eval = torch.randn(2, 3, 2, 2)
    y_eval = bn(x_eval)
    after = {"after." + k: v for k, v in bn.state_dict().items()}
    save("batch_norm", {**before, **after, "input": x, "output": y_train, "eval_input": x_eval, "eval_output": y_eval}, {"channels": 3})

    x = torch.randn(1, 8, 2, 3)
    save("pixel_shuffle", {"input": x, "output": F.pixel_shuffle(x, 2)}, {"factor": 2})
    x = torch.randn(1, 2, 2, 3)
    save("upsample_nearest", {"input": x, "output": F.interpolate(x, scale_factor=2, mode="nearest")}, {"scale": 2})
    x = torch.randn(1, 2, 5, 4)
    save("avg_pool", {"input": x, "output": F.avg_pool2d(x, kernel_size=2, stride=2)}, {})

    x = torch.randn(3, 5) * 3
    save("activations", {"input": x, "silu": F.silu(x), "gelu": F.gelu(x), "gelu_tanh": F.gelu(x, approximate="tanh"),
                         "leaky_relu": F.leaky_relu(x, 0.2)}, {"slope": 0.2})

    # optimisers: three steps from known gradients
    for name, make in (("adam", lambda ps: torch.optim.Adam(ps, lr=0.01, betas=(0.5, 0.9), eps=1e-8, weight_decay=0.1)),
                       ("adamw", lambda ps: torch.optim.AdamW(ps, lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05))):
        p = torch.randn(3, 4, requires_grad=True)
        q = torch.randn(5, requires_grad=True)
        tensors = {"p0": p.detach().clone(), "q0": q.detach().clone()}
        opt = make([p, q])
        for step in range(1, 4):
            gp, gq = torch.randn(3, 4), torch.randn(5)
            p.grad, q.grad = gp.clone(), gq.clone()
            opt.step()
            tensors.update({f"gp{step}": gp, f"gq{step}": gq, f"p{step}": p.detach().clone(), f"q{step}": q.detach().clone()})
        st = opt.state[p]
        tensors.update({"p.exp_avg": st["exp_avg"], "p.exp_avg_sq": st["exp_avg_sq"]})
        g = opt.param_groups[0]
        save(name, tensors, {"lr": g["lr"], "beta1": g["betas"][0], "beta2": g["betas"][1], "eps": g["eps"], "weight_decay": g["weight_decay"]})

    # gradient clipping
    a = torch.randn(4, 3, requires_grad=True)
    b = torch.randn(6, requires_grad=True)
    ga, gb = torch.randn(4, 3) * 2, torch.randn(6) * 2
    a.grad, b.grad = ga.clone(), gb.clone()
    norm = torch.nn.utils.clip_grad_norm_([a, b], max_norm=1.5)
    save("clip_grad_norm", {"ga": ga, "gb": gb, "clipped_ga": a.grad, "clipped_gb": b.grad, "norm": norm.reshape(())}, {"max_norm": 1.5})

    # losses
    pred, target = torch.randn(2, 3, 4), torch.randn(2, 3, 4)
    real_logits, fake_logits = torch.randn(2, 1, 3, 3), torch.randn(2, 1, 3, 3)
    save("losses", {"pred": pred, "target": target, "mse": F.mse_loss(pred, target).reshape(()), "l1": F.l1_loss(pred, target).reshape(()),
                    "real_logits": real_logits, "fake_logits": fake_logits,
                    "hinge_d": (F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()).reshape(()),
                    "hinge_g": (-fake_logits.mean()).reshape(())}, {})

    # focal frequency loss, following the reference implementation (patch factor 1, per-image weights)
    fake = torch.randn(2, 3, 6, 5, requires_grad=True)
    real = torch.rand(2, 3, 6, 5)
    for alpha, log in ((1.0, False), (2.0, True)):
        ff = torch.fft.fft2(fake, norm="ortho")
        fr = torch.fft.fft2(real, norm="ortho")
        ff = torch.stack([ff.real, ff.imag], -1)
        fr = torch.stack([fr.real, fr.imag], -1)
        tmp = (ff - fr) ** 2
        matrix = torch.sqrt(tmp[..., 0] + tmp[..., 1]) ** alpha
        if log:
            matrix = torch.log(matrix + 1.0)
        matrix = matrix / matrix.max(-1).values.max(-1).values[:, :, None, None]
        matrix[torch.isnan(matrix)] = 0.0
        matrix = torch.clamp(matrix, min=0.0, max=1.0)
        w = matrix.clone().detach()
        loss = torch.mean(w * (tmp[..., 0] + tmp[..., 1]))
        fake.grad = None
        loss.backward()
        tag = "ffl" if not log else "ffl_alpha2_log"
        save(tag, {"fake": fake, "real": real, "loss": loss.reshape(()), "grad.fake": fake.grad}, {"alpha": alpha, "log_matrix": str(log).lower()})

    # reduced-precision storage: the same values stored as F16 and BF16 by torch's own conversions
    v = torch.randn(3, 4) * 10
    save("half_types", {"f32": v, "f16": v, "bf16": v, "f16_as_f32": v.half().float(), "bf16_as_f32": v.bfloat16().float()},
         {"note": "f16 and bf16 hold v rounded by torch"}, dtypes={"f16": "F16", "bf16": "BF16"})


if __name__ == "__main__":
    main()
