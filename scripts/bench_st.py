"""sentence-transformers (PyTorch, CPU) on the same texts `clerk bench embed` uses, so the
two can be compared side by side in one run. Prints one JSON object.

Usage: python3 scripts/bench_st.py MODEL_DIR TEXTS_JSON
TEXTS_JSON: {"queries": [...], "passages": [...]}
"""
import json
import statistics
import sys
import time

from sentence_transformers import SentenceTransformer

model_dir, texts_path = sys.argv[1], sys.argv[2]
with open(texts_path) as f:
    texts = json.load(f)
model = SentenceTransformer(model_dir, device="cpu")
queries, passages = texts["queries"], texts["passages"]
for q in queries[:20]:
    model.encode([q])
samples = []
for q in queries[20:]:
    t = time.perf_counter()
    model.encode([q])
    samples.append((time.perf_counter() - t) * 1000)
samples.sort()


def throughput(batch, items):
    t = time.perf_counter()
    for i in range(0, len(items), batch):
        model.encode(items[i : i + batch], batch_size=batch)
    return len(items) / (time.perf_counter() - t)


print(json.dumps({
    "query_p50_ms": statistics.median(samples),
    "query_p95_ms": samples[int(0.95 * (len(samples) - 1))],
    "batch1_texts_per_s": throughput(1, passages[:64]),
    "batch32_texts_per_s": throughput(32, passages),
    "batch64_texts_per_s": throughput(64, passages),
}))
