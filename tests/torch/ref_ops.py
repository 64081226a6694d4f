"""PyTorch reference values for tests/lua/test_vs_torch.lua.

Usage: ref_ops.py IN.safetensors SPEC OUT.safetensors

IN holds every case's inputs as "<case>.<name>" (float32) and the weights
"<case>.w<k>" of its differentiable outputs.  SPEC is a list of records:

    case <case>
    inputs <name> <name> ...
    grad <name> ...          (the names whose gradient is wanted)
    wout <k> ...             (the outputs weighted into the loss, 1-based)
    code
    <python lines, run with torch, F, nn and the inputs as variables;
     they set `out` to a tensor or a list of tensors>
    end

For each case OUT gets "<case>.out<k>" (1-based k), in its metadata
"<case>.requires_grad" ("1" or "0" per output) and, when grad and wout are
not empty, "<case>.grad.<name>": the gradient of sum_k (out_k * w_k).sum() with
respect to the variable <name> as it is bound after the code ran (so a
module case rebinds a name to its parameter, see load).  A case whose code raises
gets "<case>.error" in the metadata instead.  The safetensors reader and
writer are our own (F32 only) so that no extra package is needed.
"""
import json
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise ValueError("%s: dtype %s, expected F32" % (name, info["dtype"]))
        lo, hi = info["data_offsets"]
        buf = bytearray(raw[base + lo:base + hi])
        t = torch.frombuffer(buf, dtype=torch.float32) if buf else torch.zeros(0)
        out[name] = t.reshape(info["shape"]).clone()
    return out


def write_safetensors(path, tensors, metadata):
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name in sorted(tensors):
        t = tensors[name].detach().to(torch.float32).contiguous()
        data = bytes(t.reshape(-1).view(torch.uint8).tolist())   # no numpy needed
        header[name] = {"dtype": "F32", "shape": list(t.shape),
                        "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_spec(path):
    cases, cur, code = [], None, None
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if code is not None:
                if line == "end":
                    cur["code"] = "\n".join(code)
                    cases.append(cur)
                    code = None
                else:
                    code.append(line)
                continue
            if not line.strip():
                continue
            key, _, rest = line.partition(" ")
            if key == "case":
                cur = {"name": rest, "inputs": [], "grad": [], "wout": []}
            elif key in ("inputs", "grad"):
                cur[key] = rest.split()
            elif key == "wout":
                cur["wout"] = [int(k) for k in rest.split()]
            elif key == "code":
                code = []
            else:
                raise ValueError("spec: unknown line %r" % line)
    return cases


def load(m, values):
    """Copies values {"0.weight": tensor} into module m's parameters and
    buffers (dotted names as in its state_dict) and returns m's own tensors
    in the same order."""
    own = dict(m.named_parameters())
    own.update(m.named_buffers())
    with torch.no_grad():
        for k, v in values.items():
            own[k].copy_(v)
    return [own[k] for k in values]


def run_case(case, tensors, results, metadata):
    name = case["name"]
    env = {"torch": torch, "F": F, "nn": nn, "load": load}
    for v in case["inputs"]:
        t = tensors[name + "." + v]
        if v in case["grad"]:
            t.requires_grad_(True)
        env[v] = t
    exec(case["code"], env)
    outs = env["out"]
    if isinstance(outs, torch.Tensor):
        outs = [outs]
    outs = list(outs)
    for k, o in enumerate(outs, 1):
        results["%s.out%d" % (name, k)] = o.detach().float()
    metadata[name + ".requires_grad"] = "".join("1" if o.requires_grad else "0" for o in outs)
    if not case["grad"] or not case["wout"]:
        return
    total = None
    for k in case["wout"]:
        o = outs[k - 1]
        if not o.requires_grad:
            continue
        term = (o * tensors["%s.w%d" % (name, k)]).sum()
        total = term if total is None else total + term
    leaves = [env[g] for g in case["grad"]]
    if total is None:
        grads = [None] * len(leaves)
    else:
        grads = torch.autograd.grad(total, leaves, allow_unused=True)
    for g, leaf, d in zip(case["grad"], leaves, grads):
        results["%s.grad.%s" % (name, g)] = torch.zeros_like(leaf) if d is None else d


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: ref_ops.py IN.safetensors SPEC OUT.safetensors")
    if sys.byteorder != "little":
        sys.exit("ref_ops.py: safetensors is little-endian; this reader assumes a little-endian host")
    torch.set_num_threads(1)
    tensors = read_safetensors(sys.argv[1])
    results, meta = {}, {}
    for case in read_spec(sys.argv[2]):
        try:
            run_case(case, tensors, results, meta)
        except Exception as e:  # reported per case by the Lua side
            meta[case["name"] + ".error"] = "%s: %s" % (type(e).__name__, e)
    write_safetensors(sys.argv[3], results, meta)


if __name__ == "__main__":
    main()
