"""The sentence-transformers peer of `shardlab bench text`, run as a script in a subprocess so
torch never enters shardlab's process. Reads words (one per line) on stdin, prints JSON."""

import json
import sys
import time

from sentence_transformers import SentenceTransformer


def main() -> None:
    folder = sys.argv[1]
    words = sys.stdin.read().split("\n")
    model = SentenceTransformer(folder, device="cpu", local_files_only=True)
    model.encode(words, batch_size=128)  # warm-up pass, as for shardlab's encoders
    start = time.perf_counter()
    model.encode(words, batch_size=128)
    print(json.dumps({"words_per_s": len(words) / (time.perf_counter() - start)}))


if __name__ == "__main__":
    main()
