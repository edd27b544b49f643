#!/usr/bin/env python3
"""Check the committed hf-tiny fixture against itself, with numpy only (no torch):

  * every reference file has the size and SHA-256 that fixture.json records;
  * a plain float64 Llama forward written here in numpy, run on the committed
    model.safetensors, reproduces the committed logits (max |diff| printed);
  * the greedy continuation ids are the argmax of the continuation rows.

    python3 samples/scripts/check_hf_fixture.py [tests/fixtures/hf-tiny]

Exit status 0 when everything matches, 1 otherwise. Needs numpy; if sentencepiece
is importable the stored encodings are re-checked too.
"""
import hashlib
import json
import os
import struct
import sys

import numpy as np

TOLERANCE = 1e-9  # float64 vs float64 with a different summation order


def load_safetensors(path):
    """name -> float64 array; F32 and BF16 only (what the fixture uses)."""
    with open(path, "rb") as f:
        data = f.read()
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + header_len])
    header.pop("__metadata__", None)
    base = 8 + header_len
    tensors = {}
    for name, info in header.items():
        start, end = info["data_offsets"]
        raw = data[base + start:base + end]
        if info["dtype"] == "F32":
            arr = np.frombuffer(raw, dtype="<f4")
        elif info["dtype"] == "BF16":
            arr = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            raise ValueError(f"{path}: unsupported dtype {info['dtype']} for {name}")
        tensors[name] = arr.astype(np.float64).reshape(info["shape"])
    return tensors


def forward(cfg, w, ids):
    """[n][vocab] float64 logits: RMSNorm, RoPE (rotate-half layout), GQA, SwiGLU."""
    n_h, n_kv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg.get("head_dim") or cfg["hidden_size"] // n_h
    eps = cfg["rms_norm_eps"]
    theta = cfg.get("rope_theta") or cfg["rope_parameters"]["rope_theta"]
    n = len(ids)
    x = w["model.embed_tokens.weight"][ids]
    inv = 1.0 / theta ** (np.arange(0, hd, 2, dtype=np.float64) / hd)
    ang = np.outer(np.arange(n, dtype=np.float64), inv)
    cos, sin = np.cos(np.concatenate([ang, ang], 1)), np.sin(np.concatenate([ang, ang], 1))

    def rms(v, g):
        return v / np.sqrt((v * v).mean(-1, keepdims=True) + eps) * g

    def rope(t):  # [heads][n][hd]
        half = np.concatenate([-t[..., hd // 2:], t[..., :hd // 2]], -1)
        return t * cos + half * sin

    causal = np.triu(np.full((n, n), -np.inf), 1)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = rms(x, w[p + "input_layernorm.weight"])
        q = (h @ w[p + "self_attn.q_proj.weight"].T).reshape(n, n_h, hd).transpose(1, 0, 2)
        k = (h @ w[p + "self_attn.k_proj.weight"].T).reshape(n, n_kv, hd).transpose(1, 0, 2)
        v = (h @ w[p + "self_attn.v_proj.weight"].T).reshape(n, n_kv, hd).transpose(1, 0, 2)
        q, k = rope(q), rope(k)
        k, v = np.repeat(k, n_h // n_kv, 0), np.repeat(v, n_h // n_kv, 0)
        s = q @ k.transpose(0, 2, 1) / np.sqrt(hd) + causal
        s = np.exp(s - s.max(-1, keepdims=True))
        att = s / s.sum(-1, keepdims=True)
        x = x + (att @ v).transpose(1, 0, 2).reshape(n, n_h * hd) @ w[p + "self_attn.o_proj.weight"].T
        h = rms(x, w[p + "post_attention_layernorm.weight"])
        g, u = h @ w[p + "mlp.gate_proj.weight"].T, h @ w[p + "mlp.up_proj.weight"].T
        x = x + (g / (1.0 + np.exp(-g)) * u) @ w[p + "mlp.down_proj.weight"].T
    x = rms(x, w["model.norm.weight"])
    return x @ w.get("lm_head.weight", w["model.embed_tokens.weight"]).T


def read_f64(path, shape):
    arr = np.fromfile(path, dtype="<f8")
    if arr.size != shape[0] * shape[1]:
        raise ValueError(f"{path}: {arr.size} values, expected {shape}")
    return arr.reshape(shape)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "hf-tiny")
    with open(os.path.join(root, "fixture.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    failures = []
    models = {}
    for case in manifest["cases"]:
        for key, digest in (("logits_file", "logits_sha256"), ("continuation_logits_file", "continuation_logits_sha256")):
            with open(os.path.join(root, case[key]), "rb") as f:
                if hashlib.sha256(f.read()).hexdigest() != case[digest]:
                    failures.append(f"{case[key]}: sha256 differs from fixture.json")
        model_dir = os.path.join(root, case["model_dir"])
        if model_dir not in models:
            with open(os.path.join(model_dir, "config.json")) as f:
                models[model_dir] = (json.load(f), load_safetensors(os.path.join(model_dir, "model.safetensors")))
        cfg, weights = models[model_dir]
        ref = read_f64(os.path.join(root, case["logits_file"]), case["logits_shape"])
        cont = read_f64(os.path.join(root, case["continuation_logits_file"]), case["continuation_logits_shape"])
        mine = forward(cfg, weights, case["ids"])
        diff = float(np.max(np.abs(mine - ref)))
        argmax_ok = [int(np.argmax(row)) for row in cont] == case["continuation_ids"]
        full = forward(cfg, weights, case["ids"] + case["continuation_ids"][:-1])[len(case["ids"]) - 1:]
        cont_diff = float(np.max(np.abs(full - cont)))
        print(f"{case['name']}: {len(case['ids'])} tokens, logits max|diff| {diff:.3g}, "
              f"continuation max|diff| {cont_diff:.3g}, argmax {'ok' if argmax_ok else 'WRONG'}")
        if diff > TOLERANCE or cont_diff > TOLERANCE or not argmax_ok:
            failures.append(case["name"])
    try:
        import sentencepiece as spm
    except ImportError:
        spm = None
    if spm is not None:
        sp = spm.SentencePieceProcessor(model_file=os.path.join(root, "model", "tokenizer.model"))
        with open(os.path.join(root, manifest["tokenizer_cases_file"]), encoding="utf-8") as f:
            cases = json.load(f)
        cases += [{"text": c["prompt"], "ids": c["sp_ids"]} for c in manifest["cases"]]
        bad = [c["text"] for c in cases if sp.encode(c["text"]) != c["ids"]]
        print(f"sentencepiece {spm.__version__}: {len(cases) - len(bad)}/{len(cases)} encodings match")
        failures += [f"encoding of {t!r}" for t in bad]
    if failures:
        print("FAILED: " + "; ".join(failures))
        return 1
    print("fixture OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
