#!/usr/bin/python3
"""Writes the fixtures of TorchCheckpointTest and TorchCheckpointHostileTest into this folder.

Run with Debian's PyTorch (apt-get install python3-torch; it lives under /usr/bin/python3):

    /usr/bin/python3 nn/src/test/resources/torch/make_fixtures.py

Valid checkpoints are written by torch.save; for each, <name>.expected.safetensors holds every
tensor the Java reader must find, converted to float32 by torch (t.to(torch.float32)), with the
source dtype in the metadata as "dtype:<name>" and, for checkpoints whose tensors share storages,
nothing else: sharing is asserted in the Java test.

Hostile files are assembled byte by byte (raw pickle opcodes in a zip with torch's layout). This
script never unpickles them: their payloads (touching /tmp/moesr-torch-pwned-*) must never run,
here or in Java.
"""
import collections
import io
import json
import os
import pickle
import struct
import sys
import types
import zipfile
import zlib

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
MARKER = "/tmp/moesr-torch-pwned-"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def path(name):
    return os.path.join(HERE, name)


# ---- expected values ---------------------------------------------------------------------------

def write_expected(name, tensors):
    """A safetensors file of the tensors as float32, written by hand (no safetensors package needed)."""
    header, blobs, offset = {}, [], 0
    meta = {}
    for key, t in tensors.items():
        data = t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[key] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        meta["dtype:" + key] = DTYPE_NAMES[t.dtype]
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = meta
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path(name + ".expected.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


DTYPE_NAMES = {
    torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64", torch.int64: "I64",
    torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8", torch.bool: "BOOL",
}


def save_valid(name, obj, expected, **kwargs):
    torch.save(obj, path(name + ".pt"), **kwargs)
    write_expected(name, expected)
    # A sanity check with torch's own reader (our files only).
    back = torch.load(path(name + ".pt"))
    assert back is not None


# ---- valid checkpoints -------------------------------------------------------------------------

def dtypes():
    nan, inf = float("nan"), float("inf")
    sd = {
        "f32": torch.tensor([[1.5, -2.0, 0.0, -0.0, inf], [-inf, nan, 1e-40, 3.4e38, -1.17549435e-38]], dtype=torch.float32),
        "f16": torch.tensor([1.0, -0.0, 6e-8, 65504.0, -inf, nan, 0.333, 1e-5], dtype=torch.float16),
        "bf16": torch.tensor([[1.0, -3.140625], [1e-38, 3e38], [inf, -0.0]], dtype=torch.bfloat16),
        "f64": torch.tensor([0.1, 1.0 / 3.0, 1e300, -1e-50, 16777217.0, 2.5], dtype=torch.float64),
        "num_batches_tracked": torch.tensor(7, dtype=torch.int64),
        "i64": torch.tensor([2 ** 40 + 1, -3, 2 ** 53 + 1, -(2 ** 62)], dtype=torch.int64),
        "i32": torch.tensor([[-2 ** 31, 2 ** 31 - 1], [16777217, -5]], dtype=torch.int32),
        "i16": torch.tensor([-32768, 32767, 0], dtype=torch.int16),
        "i8": torch.tensor([-128, 127, -1], dtype=torch.int8),
        "u8": torch.tensor([0, 1, 128, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True, True], dtype=torch.bool),
        "empty": torch.zeros(0, 3),
    }
    save_valid("dtypes", sd, sd)


def small_module():
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(4, 2))
    with torch.no_grad():
        m[1].running_mean.uniform_(-1, 1)
        m[1].running_var.uniform_(0.5, 2)
        m[1].num_batches_tracked.fill_(12)
    return m


def module():
    sd = small_module().state_dict()   # an OrderedDict with _metadata: BUILD on an OrderedDict
    save_valid("module", sd, sd)


def module_half_protocol4():
    """Protocol 4: FRAME, MEMOIZE, SHORT_BINUNICODE, STACK_GLOBAL; and an f16 model."""
    sd = small_module().half().state_dict()
    save_valid("proto4", sd, sd, pickle_protocol=4)


def deflated():
    """module.pt with every entry deflated (torch stores them; the reader must handle both)."""
    with zipfile.ZipFile(path("module.pt")) as src, zipfile.ZipFile(path("deflated.pt"), "w") as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename.replace("module/", "deflated/"), ZIP_DATE)
            zi.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(zi, src.read(info.filename))
    write_expected("deflated", small_module().state_dict())


class AttributeDict(dict):
    """Stands in for Lightning's AttributeDict (a dict subclass), pickled under its real name."""


def lightning():
    fake = types.ModuleType("lightning_fabric.utilities.data")
    AttributeDict.__module__ = fake.__name__
    fake.AttributeDict = AttributeDict
    for name in ["lightning_fabric", "lightning_fabric.utilities", "lightning_fabric.utilities.data"]:
        sys.modules.setdefault(name, types.ModuleType(name))
    sys.modules["lightning_fabric.utilities.data"] = fake
    m = small_module()
    sd = collections.OrderedDict(("model." + k, v) for k, v in m.state_dict().items())
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    m(torch.randn(2, 3, 3, 3)).sum().backward()
    opt.step()
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=10)
    ckpt = {
        "epoch": 3,
        "global_step": 120,
        "pytorch-lightning_version": "2.1.3",
        "state_dict": sd,
        "loops": {"fit_loop": {"state_dict": {}, "epoch_progress": {"total": {"ready": 4, "completed": 3}}}},
        "callbacks": {"ModelCheckpoint{'monitor': 'val_loss', 'mode': 'min'}": {
            "best_model_score": torch.tensor(0.25), "best_model_path": "/ckpt/epoch=2.ckpt",
            "best_k_models": {"/ckpt/epoch=2.ckpt": torch.tensor(0.25)}, "dirpath": "/ckpt"}},
        "optimizer_states": [opt.state_dict()],
        "lr_schedulers": [sched.state_dict()],
        "hparams_name": "kwargs",
        "hyper_parameters": AttributeDict(lr=1e-3, betas=(0.9, 0.999), channels=[3, 4], tags={4, 2},
                                          frozen=frozenset({1}), raw=b"\x00\xffbytes", note=None, ema=True),
        "best_val": 0.125,
        "nothing": None,
    }
    save_valid("lightning", ckpt, sd)


def views():
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    flat = torch.arange(12, dtype=torch.float32) * 0.5
    h = (torch.arange(10, dtype=torch.float32) / 3).half()
    d = collections.OrderedDict()
    d["base"] = base
    d["t"] = base.t()                        # transposed: strides (1, 6)
    d["slice"] = base[1:3, 2:5]              # offset 8, strides (6, 1)
    d["row"] = base[2]                       # offset 12
    d["col"] = base[:, 1]                    # offset 1, stride 6
    d["every_other"] = base[:, ::2]          # strides (6, 2)
    d["a"] = flat[:6].view(2, 3)             # two tensors on one storage
    d["b"] = flat[6:].view(3, 2)             # offset 6
    d["half_strided"] = h[3:8:2]             # f16, offset 3, stride 2
    d["expanded"] = torch.tensor([1.0, 2.0, 3.0]).expand(2, 3)   # stride 0
    d["permuted"] = torch.arange(24, dtype=torch.float64).reshape(2, 3, 4).permute(2, 0, 1)
    save_valid("views", d, d)


def nested():
    torch.manual_seed(1)
    d = {"model": {"conv.weight": torch.randn(2, 3), "conv.bias": torch.randn(2)},
         "ema": {"conv.weight": torch.randn(2, 3)}, "step": 5, "name": "moe",
         "scale": torch.nn.Parameter(torch.randn(3))}   # a Parameter: torch._utils._rebuild_parameter
    save_valid("nested", d, {"model.conv.weight": d["model"]["conv.weight"], "model.conv.bias": d["model"]["conv.bias"],
                             "ema.conv.weight": d["ema"]["conv.weight"], "scale": d["scale"]})


def legacy():
    base = torch.arange(6, dtype=torch.float32).reshape(2, 3) - 2.5
    d = collections.OrderedDict()
    d["w"] = base
    d["w_t"] = base.t()
    d["h"] = torch.tensor([0.5, -1.0, 65504.0], dtype=torch.float16)
    d["count"] = torch.tensor(3, dtype=torch.int64)
    d["mask"] = torch.tensor([True, False])
    save_valid("legacy", d, d, _use_new_zipfile_serialization=False)


# ---- hostile files -----------------------------------------------------------------------------

def unicode_op(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def torch_zip(name, pkl, data=None, byteorder="little", prefix="archive", deflate_pkl=False):
    """A zip with torch's layout: <prefix>/data.pkl, <prefix>/data/<key>, <prefix>/byteorder, <prefix>/version."""
    with zipfile.ZipFile(path(name), "w") as z:
        zi = zipfile.ZipInfo(prefix + "/data.pkl", ZIP_DATE)
        zi.compress_type = zipfile.ZIP_DEFLATED if deflate_pkl else zipfile.ZIP_STORED
        z.writestr(zi, pkl, compresslevel=9 if deflate_pkl else None)
        if byteorder is not None:
            z.writestr(zipfile.ZipInfo(prefix + "/byteorder", ZIP_DATE), byteorder)
        for key, blob in (data or {}).items():
            z.writestr(zipfile.ZipInfo(prefix + "/data/" + key, ZIP_DATE), blob)
        z.writestr(zipfile.ZipInfo(prefix + "/version", ZIP_DATE), b"3\n")


def storage_tensor_pkl(storage_numel, size, stride, offset=0, key="0"):
    """{'weight': _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())}, protocol 2, by hand."""
    def ints(vals):
        return b"(" + b"".join(b"J" + struct.pack("<i", v) for v in vals) + b"t"
    pid = b"(" + unicode_op("storage") + b"ctorch\nFloatStorage\n" + unicode_op(key) + unicode_op("cpu") + b"J" + struct.pack("<i", storage_numel) + b"tQ"
    args = b"(" + pid + b"J" + struct.pack("<i", offset) + ints(size) + ints(stride) + b"\x89ccollections\nOrderedDict\n)Rt"
    return b"\x80\x02}" + unicode_op("weight") + b"ctorch._utils\n_rebuild_tensor_v2\n" + args + b"Rs."


def hostile():
    # REDUCE of os.system: the classic pickle exploit, inside an otherwise valid torch zip.
    torch_zip("hostile_os_system.pt",
              b"\x80\x02}" + unicode_op("weight") + b"cos\nsystem\n" + unicode_op("touch " + MARKER + "os-system") + b"\x85Rs.")
    # What pickle.dumps(os.system) writes on Linux.
    torch_zip("hostile_posix_system.pt",
              b"\x80\x02}" + unicode_op("weight") + b"cposix\nsystem\n" + unicode_op("touch " + MARKER + "posix-system") + b"\x85Rs.")
    # builtins.eval, spelt as protocol 2 spells it (__builtin__).
    torch_zip("hostile_builtins_eval.pt",
              b"\x80\x02}" + unicode_op("weight") + b"c__builtin__\neval\n"
              + unicode_op("__import__('os').system('touch " + MARKER + "eval')") + b"\x85Rs.")
    # subprocess.Popen through STACK_GLOBAL (protocol 4).
    torch_zip("hostile_subprocess.pt",
              b"\x80\x04" + unicode_op("subprocess") + unicode_op("Popen") + b"\x93(" + unicode_op("touch")
              + unicode_op(MARKER + "subprocess") + b"l\x85R.")
    # torch.storage._load_from_bytes unpickles nested bytes: refused.
    torch_zip("hostile_load_from_bytes.pt",
              b"\x80\x02}" + unicode_op("weight") + b"ctorch.storage\n_load_from_bytes\nC\x04abcd\x85Rs.")
    # A legacy-format file whose very first pickle is the exploit.
    with open(path("hostile_legacy_os_system.pt"), "wb") as f:
        f.write(b"\x80\x02cos\nsystem\n" + unicode_op("touch " + MARKER + "legacy") + b"\x85R.")

    # Truncated: a valid checkpoint cut short, and a zip whose data.pkl is cut short.
    with open(path("module.pt"), "rb") as f:
        whole = f.read()
    with open(path("truncated_zip.pt"), "wb") as f:
        f.write(whole[: len(whole) * 3 // 5])
    with zipfile.ZipFile(path("module.pt")) as z:
        pkl = z.read("module/data.pkl")
        blobs = {n.split("/data/")[1]: z.read(n) for n in z.namelist() if "/data/" in n}
    torch_zip("truncated_pickle.pt", pkl[: len(pkl) // 2], blobs)
    with open(path("legacy.pt"), "rb") as f:
        legacy_bytes = f.read()
    with open(path("truncated_legacy.pt"), "wb") as f:
        f.write(legacy_bytes[: len(legacy_bytes) - 7])

    # Out of bounds: a view reaching past its storage; a storage larger than its data entry.
    torch_zip("oob_view.pt", storage_tensor_pkl(4, [3], [2]), {"0": struct.pack("<4f", 1, 2, 3, 4)})
    torch_zip("oob_storage.pt", storage_tensor_pkl(100, [100], [1]), {"0": struct.pack("<4f", 1, 2, 3, 4)})
    torch_zip("negative_stride.pt", storage_tensor_pkl(4, [2], [-1], offset=3), {"0": struct.pack("<4f", 1, 2, 3, 4)})
    torch_zip("negative_size.pt", storage_tensor_pkl(4, [-2], [1]), {"0": struct.pack("<4f", 1, 2, 3, 4)})

    # Big-endian: module.pt's entries with byteorder "big".
    torch_zip("big_endian.pt", pkl, blobs, byteorder="big")

    # Nesting without end (deflated: a few hundred bytes on disk).
    n = 100_000
    torch_zip("deep_marks.pt", b"\x80\x02" + b"(" * n + b")" + b"t" * n + b".", deflate_pkl=True)
    torch_zip("deep_lists.pt", b"\x80\x02" + b"]" * n + b"a" * (n - 1) + b".", deflate_pkl=True)
    torch_zip("deep_dicts.pt", b"\x80\x02" + (b"}" + unicode_op("a")) * n + b"}" + b"s" * n + b".", deflate_pkl=True)
    # A memo get of an index never put.
    torch_zip("memo_missing.pt", b"\x80\x02}" + unicode_op("weight") + b"h\x05s.")

    # Zip bombs: a data.pkl inflating to 65 MiB (more than the 64 MiB cap) ...
    torch_zip("zip_bomb.pt", b"\x80\x02N" + b"0N" * ((65 << 20) // 2) + b".", deflate_pkl=True)
    # ... and a data entry whose declared size (4 GiB) no deflate stream of its size can produce.
    numel = 0xFFFFFFF0 // 4
    with zipfile.ZipFile(path("zip_bomb_declared.pt"), "w") as z:
        z.writestr(zipfile.ZipInfo("archive/data.pkl", ZIP_DATE), storage_tensor_pkl(numel, [numel], [1]))
        zi = zipfile.ZipInfo("archive/data/0", ZIP_DATE)
        zi.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(zi, b"\x00" * 4096)
        z.writestr(zipfile.ZipInfo("archive/version", ZIP_DATE), b"3\n")
    patch_declared_size("zip_bomb_declared.pt", "archive/data/0", 0xFFFFFFF0)


def patch_declared_size(name, entry, size):
    """Overwrites the uncompressed size of entry in its local header and the central directory."""
    with open(path(name), "rb") as f:
        b = bytearray(f.read())
    target = entry.encode()
    for sig, size_at, name_len_at, name_at in ((b"PK\x03\x04", 22, 26, 30), (b"PK\x01\x02", 24, 28, 46)):
        i = b.find(sig)
        while i >= 0:
            nlen = struct.unpack_from("<H", b, i + name_len_at)[0]
            if bytes(b[i + name_at:i + name_at + nlen]) == target:
                struct.pack_into("<I", b, i + size_at, size)
            i = b.find(sig, i + 4)
    with open(path(name), "wb") as f:
        f.write(b)


if __name__ == "__main__":
    dtypes()
    module()
    module_half_protocol4()
    deflated()
    lightning()
    views()
    nested()
    legacy()
    hostile()
    total = sum(os.path.getsize(path(f)) for f in os.listdir(HERE))
    print("wrote fixtures into", HERE, "total", total, "bytes")
