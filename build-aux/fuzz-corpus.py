#!/usr/bin/env python3
"""Seeds libFuzzer corpora from the conformance vectors.

usage: fuzz-corpus.py VECTORS_DIR PATCH_CORPUS_DIR DELTA_CORPUS_DIR
"""
import json
import os
import sys

vectors, patch_dir, delta_dir = sys.argv[1:4]
os.makedirs(patch_dir, exist_ok=True)
os.makedirs(delta_dir, exist_ok=True)

def write(directory, n, value):
    with open(os.path.join(directory, "seed-%05d.json" % n), "w") as f:
        json.dump(value, f, separators=(",", ":"), ensure_ascii=False)

n = 0
transform = json.load(open(os.path.join(vectors, "transform.json")))
docs = transform.get("docs", {})
for case in transform["cases"]:
    doc = case.get("doc", docs.get(case.get("doc_ref"), {}))
    write(patch_dir, n, [doc, case["committed"], case["incoming"]])
    n += 1
for case in json.load(open(os.path.join(vectors, "apply.json")))["cases"]:
    write(patch_dir, n, [case.get("doc"), case["ops"], case["ops"]])
    n += 1

n = 0
for case in json.load(open(os.path.join(vectors, "delta.json")))["cases"]:
    a, b = case.get("a", []), case.get("b", [])
    if not isinstance(b, list):
        b = []
    write(delta_dir, n, [a, b, [{"insert": "Hello world\n"}]])
    n += 1
print("seeded", len(os.listdir(patch_dir)), "patch and", n, "delta inputs")
