#!/usr/bin/env bash
# Evidence capture benchmark, with its floors measured in the same run (issue 3).
#
#   bash bench/evidence.sh [photo.jpg] [runs]      release build, median of 7 runs (~2 min cold)
#   bash bench/evidence.sh --quick [photo.jpg]     smoke run: 1 run each, the dev build the tests
#                                                  already made; seconds, figures not comparable
#
# Default input: tests/data/photo-4000x3000.jpg (12 MP, in this repository). Compares
#   - Fieldproof's full capture (decode → orient → stamp → encode → hash → sign → SQLite + file)
#     at full size and downscaled to <= 2048 px (DCT-domain 1/2 scale),
#   - the floors: `djpeg | cjpeg -quality 85` and `djpeg -scale 1/2 | cjpeg -quality 85`,
#   - ImageMagick `convert` burning a comparable watermark bar,
# and prints medians, ratios and peak memory (max RSS of one capture in its own process).
# Needs: libjpeg-turbo-progs (djpeg, cjpeg), imagemagick, time (GNU /usr/bin/time), bc.
# Honours CARGO_TARGET_DIR. The quick mode runs in tests/run-all.sh (through tests/fresh-clone.sh).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
quick=0
if [[ "${1:-}" == --quick ]]; then
    quick=1
    shift
fi
photo="${1:-$repo/tests/data/photo-4000x3000.jpg}"
if ((quick)); then runs=1; else runs="${2:-7}"; fi
for tool in djpeg cjpeg identify bc /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "bench: $tool missing (apt-get install libjpeg-turbo-progs imagemagick time bc)" >&2; exit 1; }
done
convert -version 2>/dev/null | grep -q ImageMagick || { echo "bench: ImageMagick convert missing (apt-get install imagemagick)" >&2; exit 1; }
[[ -f "$photo" ]] || { echo "bench: no $photo" >&2; exit 1; }

cd "$repo"
target="${CARGO_TARGET_DIR:-$repo/target}"
if ((quick)); then
    cargo build -q --bin evidence-bench
    bin="$target/debug/evidence-bench"
else
    cargo build -q --release --bin evidence-bench
    bin="$target/release/evidence-bench"
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# median of N runs of a shell command, seconds
median() {
    local cmd="$1" t=()
    for _ in $(seq "$runs"); do
        local s e
        s=$(date +%s.%N)
        bash -c "$cmd" >/dev/null 2>&1 || { echo "bench: failed: $cmd" >&2; exit 1; }
        e=$(date +%s.%N)
        t+=("$(echo "$e - $s" | bc -l)")
    done
    printf '%s\n' "${t[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
peak_kib() { /usr/bin/time -f %M bash -c "$1" 2>&1 >/dev/null | tail -1; }

capture() { "$bin" "$photo" "$runs" "$1" 2>"$tmp/bench.err" | awk '/median_s/ {print $2}'; }
full=$(capture full) && [[ -n "$full" ]] || { cat "$tmp/bench.err" >&2; echo "bench: no capture figure" >&2; exit 1; }
half=$(capture 2048) && [[ -n "$half" ]] || { cat "$tmp/bench.err" >&2; echo "bench: no capture figure" >&2; exit 1; }
floor_full=$(median "djpeg '$photo' | cjpeg -quality 85 > '$tmp/f.jpg'")
floor_half=$(median "djpeg -scale 1/2 '$photo' | cjpeg -quality 85 > '$tmp/h.jpg'")
read -r w h < <(identify -format '%w %h\n' "$photo")
bar=$((h / 7))
pt=$((w / 55))
magick_cmd="convert '$photo' -auto-orient -fill '#00000090' -draw 'rectangle 0,$((h - bar)) $w,$h' \
  -fill white -font '$repo/core/fonts/DejaVuSans.ttf' -pointsize $pt -annotate +$((pt / 2))+$((h - bar + pt + 4)) '2026-11-23 09:14:05 UTC+08:00' \
  -annotate +$((pt / 2))+$((h - bar + 2 * pt + 12)) '31.230400N 121.520000E ±8 m' \
  -annotate +$((pt / 2))+$((h - bar + 3 * pt + 20)) 'SH-E-001  Rep rep-li  Device 0b6f5a6e' \
  -annotate +$((pt / 2))+$((h - bar + 4 * pt + 28)) 'Evidence code K7QF-3M2X' -quality 85 '$tmp/m.jpg'"
magick=$(median "$magick_cmd")
mem_full=$(peak_kib "'$bin' '$photo' 1 full")
mem_half=$(peak_kib "'$bin' '$photo' 1 2048")
mem_floor=$(peak_kib "djpeg '$photo' | cjpeg -quality 85 > '$tmp/f2.jpg'")

mode=""
((quick)) && mode=", quick mode (dev build, 1 run: figures not comparable)"
ratio() { printf '%.2f' "$(echo "$1 / $2" | bc -l)"; }
sec() { printf '%.3f' "$1"; }
cat <<OUT
input: $photo (${w}x${h}), median of $runs runs$mode
| measurement | median s | ratio |
|---|---|---|
| Fieldproof capture, full size | $(sec "$full") | $(ratio "$full" "$floor_full")x floor, $(ratio "$full" "$magick")x ImageMagick |
| floor: djpeg \| cjpeg -quality 85 | $(sec "$floor_full") | 1.00 |
| Fieldproof capture, <= 2048 px | $(sec "$half") | $(ratio "$half" "$floor_half")x scaled floor |
| floor: djpeg -scale 1/2 \| cjpeg -quality 85 | $(sec "$floor_half") | 1.00 |
| ImageMagick convert, same stamp | $(sec "$magick") | |
| peak memory, capture full size | $((mem_full / 1024)) MiB | |
| peak memory, capture <= 2048 px | $((mem_half / 1024)) MiB | |
| peak memory, djpeg \| cjpeg (largest process) | $((mem_floor / 1024)) MiB | |
OUT
