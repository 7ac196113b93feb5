"""The response cache's key (`Request.key`) is the same in every process for the same request: a set among the SDK
options counts by its members, not by the hash seed's order; dict keys that are not text do not break it; and a
request of plain JSON data keeps the key it always had (caches written before keep answering)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from igniter_nb.llm.conversation import Message
from igniter_nb.llm.request import Request

ROOT = Path(__file__).resolve().parents[2]
KEY_OF_A_SET = """
from igniter_nb.llm.conversation import Message
from igniter_nb.llm.request import Request
words = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"}
print(Request("openai", "m", (Message("user", "q"),), options={"stop": words, "meta": {3: "x", "k": frozenset({1, 2})}}).key())
"""


def test_a_set_option_has_the_same_key_under_every_hash_seed() -> None:
    keys = set()
    for seed in ("1", "2", "3", "4"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        done = subprocess.run([sys.executable, "-c", KEY_OF_A_SET], capture_output=True, text=True, env=env, cwd=ROOT,
                              timeout=60, check=True)
        keys.add(done.stdout.strip())
    assert len(keys) == 1 and len(next(iter(keys))) == 64


def test_mixed_dict_keys_in_options_give_a_key_and_order_does_not_matter() -> None:
    one = Request("openai", "m", (Message("user", "q"),), options={"extra_body": {1: "a", "b": 2, None: 3}})
    two = Request("openai", "m", (Message("user", "q"),), options={"extra_body": {None: 3, "b": 2, 1: "a"}})
    assert one.key() == two.key()
    assert one.key() != Request("openai", "m", (Message("user", "q"),), options={"extra_body": {1: "b"}}).key()


def test_a_plain_request_keeps_the_key_it_always_had() -> None:
    request = Request("anthropic", "claude", (Message("system", "s"), Message("user", "q")), temperature=0.5,
                      max_tokens=9, options={"extra_body": {"top_k": 2, "tags": ["a", "b"], "n": {"1": 1.5}}})
    before = json.dumps(request.to_dict(), sort_keys=True, ensure_ascii=False, default=repr)
    assert request.key() == hashlib.sha256(before.encode("utf-8", "surrogatepass")).hexdigest()
