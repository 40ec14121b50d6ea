#!/usr/bin/env python3
"""Seeds libFuzzer corpora from the conformance vectors.

usage: fuzz-corpus.py VECTORS_DIR PATCH_CORPUS_DIR DELTA_CORPUS_DIR
       fuzz-corpus.py --frames TRANSCRIPTS_DIR FRAME_CORPUS_DIR

The second form seeds fuzz-frame from the reference transcripts
(tests/server/transcripts): each input is the frames clients sent, one per
line, with "#N" lines switching between three clients.
"""
import json
import os
import sys

if len(sys.argv) == 4 and sys.argv[1] == "--frames":
    transcripts, frame_dir = sys.argv[2:4]
    os.makedirs(frame_dir, exist_ok=True)
    n = 0
    for name in sorted(os.listdir(transcripts)):
        if not name.endswith(".jsonl"):
            continue
        conns, lines, per_conn = {}, [], {}
        for line in open(os.path.join(transcripts, name)):
            event = json.loads(line)
            if event.get("dir") != "in":
                continue
            client = conns.setdefault(event["conn"], len(conns) % 3)
            text = json.dumps(event["frame"], separators=(",", ":"), ensure_ascii=False)
            lines += ["#%d" % client, text]
            per_conn.setdefault(client, []).append(text)
        for seed in [lines] + [["#%d" % c] + f for c, f in per_conn.items()] + [[l] for l in lines if l[0] != "#"]:
            with open(os.path.join(frame_dir, "seed-%05d.txt" % n), "w") as f:
                f.write("\n".join(seed))
            n += 1
    print("seeded", n, "frame inputs")
    sys.exit(0)

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
