#!/usr/bin/python3
"""Writes a random-weight BERT encoder in the shape of all-MiniLM-L6-v2 (by default 6 layers,
hidden 384, 12 heads, intermediate 1536) twice: as a Hugging Face model directory
(model.safetensors, config.json, vocab.txt) that op-dbus loads, and as model.onnx (built node by
node with Debian's python3-onnx) that ONNX Runtime runs. Both hold exactly the same numbers.

The ONNX graph takes input_ids and position_ids (int64, [1, L]) and returns "embedding" (mean
pooled over the tokens and L2-normalised, [1, hidden]) and "hidden" (the last hidden states,
[1, L, hidden]), so windows of a long text can be pooled together outside.

Usage: make_bert_model.py OUT_DIR VOCAB_TXT [--layers N] [--hidden N] [--heads N]
       [--intermediate N] [--positions N] [--seed N]
"""
import argparse
import json
import os
import shutil
import struct

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def parse_arguments():
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir")
    parser.add_argument("vocab")
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--hidden", type=int, default=384)
    parser.add_argument("--heads", type=int, default=12)
    parser.add_argument("--intermediate", type=int, default=1536)
    parser.add_argument("--positions", type=int, default=512)
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


def random_weights(args, vocabulary):
    rng = np.random.default_rng(args.seed)
    h, inner = args.hidden, args.intermediate

    def normal(*shape, scale=0.02):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    def norm(name, tensors):
        tensors[name + ".weight"] = (1 + normal(h, scale=0.1)).astype(np.float32)
        tensors[name + ".bias"] = normal(h, scale=0.1)

    tensors = {
        "embeddings.word_embeddings.weight": normal(vocabulary, h),
        "embeddings.position_embeddings.weight": normal(args.positions, h),
        "embeddings.token_type_embeddings.weight": normal(2, h),
    }
    norm("embeddings.LayerNorm", tensors)
    for layer in range(args.layers):
        prefix = f"encoder.layer.{layer}."
        for name, out, inp in [("attention.self.query", h, h), ("attention.self.key", h, h),
                               ("attention.self.value", h, h), ("attention.output.dense", h, h),
                               ("intermediate.dense", inner, h), ("output.dense", h, inner)]:
            tensors[prefix + name + ".weight"] = normal(out, inp, scale=0.05)
            tensors[prefix + name + ".bias"] = normal(out)
        norm(prefix + "attention.output.LayerNorm", tensors)
        norm(prefix + "output.LayerNorm", tensors)
    return tensors


def write_safetensors(path, tensors):
    header, offset, blobs = {"__metadata__": {"format": "pt"}}, 0, []
    for name, value in tensors.items():
        data = np.ascontiguousarray(value, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(value.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as out:
        out.write(struct.pack("<Q", len(encoded)))
        out.write(encoded)
        for blob in blobs:
            out.write(blob)


class GraphBuilder:
    def __init__(self, tensors, args):
        self.tensors, self.args = tensors, args
        self.nodes, self.initializers, self.count = [], [], 0

    def constant(self, name, value):
        self.initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(self, kind, inputs, **attributes):
        self.count += 1
        output = f"{kind.lower()}_{self.count}"
        self.nodes.append(helper.make_node(kind, inputs, [output], **attributes))
        return output

    def linear(self, x, name):
        weight = self.constant(name + ".weight_t", self.tensors[name + ".weight"].T.copy())
        bias = self.constant(name + ".bias", self.tensors[name + ".bias"])
        return self.op("Add", [self.op("MatMul", [x, weight]), bias])

    def layer_norm(self, x, name):
        return self.op("LayerNormalization", [x, self.constant(name + ".weight", self.tensors[name + ".weight"]),
                                              self.constant(name + ".bias", self.tensors[name + ".bias"])],
                       axis=-1, epsilon=1e-12)

    def heads(self, x, permutation):
        d = self.args.hidden // self.args.heads
        shape = self.constant(f"heads_shape_{self.count}", np.array([1, -1, self.args.heads, d], np.int64))
        return self.op("Transpose", [self.op("Reshape", [x, shape])], perm=permutation)

    def attention(self, x, prefix):
        d = self.args.hidden // self.args.heads
        query = self.heads(self.linear(x, prefix + "attention.self.query"), [0, 2, 1, 3])
        key = self.heads(self.linear(x, prefix + "attention.self.key"), [0, 2, 3, 1])
        value = self.heads(self.linear(x, prefix + "attention.self.value"), [0, 2, 1, 3])
        scale = self.constant(prefix + "scale", np.array(1 / np.sqrt(d), np.float32))
        scores = self.op("Mul", [self.op("MatMul", [query, key]), scale])
        context = self.op("Transpose", [self.op("MatMul", [self.op("Softmax", [scores], axis=-1), value])],
                          perm=[0, 2, 1, 3])
        merged = self.op("Reshape", [context, self.constant(prefix + "merge", np.array([1, -1, self.args.hidden], np.int64))])
        return self.linear(merged, prefix + "attention.output.dense")

    def gelu(self, x, prefix):
        root2 = self.constant(prefix + "sqrt2", np.array(np.sqrt(2), np.float32))
        one = self.constant(prefix + "one", np.array(1, np.float32))
        half = self.constant(prefix + "half", np.array(0.5, np.float32))
        erf = self.op("Erf", [self.op("Div", [x, root2])])
        return self.op("Mul", [self.op("Mul", [x, half]), self.op("Add", [erf, one])])

    def build(self):
        words = self.constant("words", self.tensors["embeddings.word_embeddings.weight"])
        positions = self.constant("positions", self.tensors["embeddings.position_embeddings.weight"])
        token_type = self.constant("token_type", self.tensors["embeddings.token_type_embeddings.weight"][0])
        x = self.op("Add", [self.op("Add", [self.op("Gather", [words, "input_ids"]),
                                            self.op("Gather", [positions, "position_ids"])]), token_type])
        x = self.layer_norm(x, "embeddings.LayerNorm")
        for layer in range(self.args.layers):
            prefix = f"encoder.layer.{layer}."
            x = self.layer_norm(self.op("Add", [x, self.attention(x, prefix)]), prefix + "attention.output.LayerNorm")
            inner = self.gelu(self.linear(x, prefix + "intermediate.dense"), prefix)
            x = self.layer_norm(self.op("Add", [x, self.linear(inner, prefix + "output.dense")]), prefix + "output.LayerNorm")
        self.nodes.append(helper.make_node("Identity", [x], ["hidden"]))
        pooled = self.op("ReduceMean", [x], axes=[1], keepdims=0)
        self.nodes.append(helper.make_node("LpNormalization", [pooled], ["embedding"], axis=-1, p=2))
        ids = [helper.make_tensor_value_info(n, TensorProto.INT64, [1, "L"]) for n in ("input_ids", "position_ids")]
        outputs = [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [1, self.args.hidden]),
                   helper.make_tensor_value_info("hidden", TensorProto.FLOAT, [1, "L", self.args.hidden])]
        graph = helper.make_graph(self.nodes, "bert_encoder", ids, outputs, self.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        onnx.checker.check_model(model)
        return model


def main():
    args = parse_arguments()
    os.makedirs(args.out_dir, exist_ok=True)
    with open(args.vocab, encoding="utf-8") as vocab:
        vocabulary = sum(1 for _ in vocab)
    tensors = random_weights(args, vocabulary)
    write_safetensors(os.path.join(args.out_dir, "model.safetensors"), tensors)
    shutil.copyfile(args.vocab, os.path.join(args.out_dir, "vocab.txt"))
    config = {"architectures": ["BertModel"], "model_type": "bert", "hidden_act": "gelu",
              "hidden_size": args.hidden, "num_hidden_layers": args.layers,
              "num_attention_heads": args.heads, "intermediate_size": args.intermediate,
              "max_position_embeddings": args.positions, "vocab_size": vocabulary,
              "type_vocab_size": 2, "layer_norm_eps": 1e-12}
    with open(os.path.join(args.out_dir, "config.json"), "w") as out:
        json.dump(config, out, indent=2)
    onnx.save(GraphBuilder(tensors, args).build(), os.path.join(args.out_dir, "model.onnx"))


if __name__ == "__main__":
    main()
