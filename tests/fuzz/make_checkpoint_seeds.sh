#!/usr/bin/env bash
# Rewrites tests/fuzz/corpus/checkpoint/ with checkpoints written by CHIPCAST_EXE: rerun it whenever the
# checkpoint format or the tally layout changes (seeds the reader refuses early would leave the payload
# decoder to chance). Tiny scenarios (4 and 8 periods), so each file is a few KB.
#   tests/fuzz/make_checkpoint_seeds.sh build/chipcast
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 CHIPCAST_EXE" >&2
  exit 2
fi
exe=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/chipcast_seeds.XXXXXX")
trap 'rm -rf "$work"' EXIT
minimal=$here/../config/data/minimal.toml
sed -e 's/^horizon_year = 2036.0/horizon_year = 2028.0/' -e 's/^dt = 0.25/dt = 0.5/' "$minimal" > "$work/tiny.toml"
sed -e 's/^horizon_year = 2036.0/horizon_year = 2030.0/' "$minimal" > "$work/small.toml"
cat >> "$work/small.toml" <<'TOML'

[policy]
initial = "a"
[policy.regimes.a]
[policy.regimes.b.domestic]
hbm_mult = { dist = "uniform", low = 0.5, high = 0.9 }
[policy.transitions.a]
b = 0.2
[policy.transitions.b]
a = 0.1
TOML
cd "$work"
"$exe" run tiny.toml -n 64 --seed 1 --threads 1 --quiet --out o1 --checkpoint c1
"$exe" run small.toml -n 2000 --seed 2 --threads 2 --quiet --out o2 --checkpoint c2
# Stopped by the time limit after the first batches: a partial checkpoint (exit status 75).
rc=0
"$exe" run small.toml -n 2000000 --seed 3 --threads 1 --batch 64 --quiet --out o3 --checkpoint c3 \
  --checkpoint-every 0 --time-limit 0.002 || rc=$?
[ "$rc" -eq 75 ] || { echo "$0: the partial run exited $rc, not 75" >&2; exit 1; }
# Named after the format version in their header (bytes 8-11, little-endian): seeds of an older
# version the reader still accepts (kCheckpointOldestReadable, host/run/checkpoint.h) are kept, so
# both decoders stay fuzzed; this script replaces only the seeds of the version it writes.
version=$(od -An -tu4 -j8 -N4 c1/chipcast.ckpt | tr -d ' ')
out=$here/corpus/checkpoint
mkdir -p "$out"
rm -f "$out"/v"$version"_*.ckpt
cp c1/chipcast.ckpt "$out/v${version}_tiny_4_periods_64_done.ckpt"
cp c2/chipcast.ckpt "$out/v${version}_small_8_periods_2000_done.ckpt"
cp c3/chipcast.ckpt "$out/v${version}_small_8_periods_partial.ckpt"
ls -l "$out"
