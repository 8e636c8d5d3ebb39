"""Writes tests/fixtures/minilm-reference.json: sentence-transformers' own embeddings of a
few texts with all-MiniLM-L6-v2, the oracle the candle embedder is tested against.

Usage: python3 scripts/reference_vectors.py [MODEL_DIR]   (needs sentence-transformers)
"""
import json
import os
import sys

from sentence_transformers import SentenceTransformer

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
model_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "models", "all-MiniLM-L6-v2")
texts = [
    "How do I replace the filter of my air purifier?",
    "robot vacuum E04",
    "The SweepBot R5 stops and shows E-21: the LiDAR cover is blocked. Wipe the cover with a dry cloth and restart.",
    "7-day no-reason returns apply from the day of delivery; socks and unsealed consumables are excluded.",
    "扫地机器人 E04 怎么办",
    "Stride Glide 3 size 9 black",
    " ".join(["Long passages are truncated at the model's maximum sequence length of 256 word pieces."] * 30),
    "a",
]
model = SentenceTransformer(model_dir, device="cpu")
vectors = model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
out = {
    "model": "sentence-transformers/all-MiniLM-L6-v2 via sentence-transformers " + __import__("sentence_transformers").__version__,
    "texts": texts,
    "vectors": [[round(float(x), 7) for x in v] for v in vectors],
}
with open(os.path.join(root, "tests", "fixtures", "minilm-reference.json"), "w") as f:
    json.dump(out, f)
print("wrote", len(texts), "reference vectors")
