#!/usr/bin/env bash
# Acceptance 1 of issue #5: head-office pages in headless Chromium against the real server.
#
#   tests/browser/run.sh            (needs: apt chromium, node + npm; runs `npm ci` if needed)
#
# 1. builds fieldproof-server and the demo; 2. seeds a data directory with the demo (three
# reps' days with the fraud cases: outside geofence, mock location, clock jump, reused photos,
# a price gap explained later); 3. serves it on a free port and adds a tampered photo (a
# second phone of rep-li attaches a picture whose evidence code it forged: the server marks it
# `code_mismatch` on receipt; see `seed_forged_evidence_code_photo` in sync-server/tests/web.rs);
# `admin revoke` revokes two more phones of rep-li, one from now (its photo "verified, key
# revoked later") and one from before its photo arrived (`revoked_key`: `seed_revoked_phones`);
# 4. creates an admin web user; 5. runs head-office.mjs (Playwright driving /usr/bin/chromium).
# The server draws the day's map over tiles from tiles.mjs, a local tile server started first
# (`--map-tiles http://127.0.0.1:PORT/{z}/{x}/{y}.png`): the map's step checks the browser
# fetched them.
# Screenshots: tests/browser/artifacts/ (every page at 1366 and 390 px in zh-CN and en).
# `--update-docs` copies nine of them to docs/screenshots/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

chromium_bin="${CHROMIUM:-/usr/bin/chromium}"
[ -x "$chromium_bin" ] || { echo "run.sh: $chromium_bin missing (apt-get install -y chromium)" >&2; exit 1; }
[ -d "$here/node_modules/playwright-core" ] || (cd "$here" && npm ci --no-audit --no-fund)

# By target name, without -p: cargo resolves dependency features over the selected packages,
# and the workspace's default members (selected when no -p is given) are what tests/run-all.sh's
# test steps build, so these reuse their dependencies and the web test binary below is theirs.
cargo build -q --bin fieldproof-server --bin fieldproof-demo
target="${CARGO_TARGET_DIR:-$root/target}"
bin="$target/debug/fieldproof-server"

work="$(mktemp -d "${TMPDIR:-/tmp}/fieldproof-browser.XXXXXX")"
server_pid=""
tiles_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [ -n "$tiles_pid" ]; then kill "$tiles_pid" 2>/dev/null || true; wait "$tiles_pid" 2>/dev/null || true; fi
  if [ "${KEEP_DATA:-0}" != 1 ]; then rm -rf "$work"; else echo "data kept in $work"; fi
}
trap cleanup EXIT

echo "== seeding with the demo ($work)"
"$target/debug/fieldproof-demo" --dir "$work" --no-serve > "$work/demo.log" 2>&1 || { cat "$work/demo.log"; exit 1; }
data="$work/server"

echo "== map tiles"
node "$here/tiles.mjs" > "$work/tiles.out" 2> "$work/tiles.log" &
tiles_pid=$!
for _ in $(seq 1 100); do grep -q '^tiles on ' "$work/tiles.out" 2>/dev/null && break; sleep 0.1; done
tiles_url="$(sed -n 's/^tiles on //p' "$work/tiles.out" | head -n1)"
[ -n "$tiles_url" ] || { cat "$work/tiles.log"; exit 1; }
echo "   $tiles_url"

echo "== serving"
"$bin" serve --data-dir "$data" --addr 127.0.0.1:0 \
  --map-tiles "$tiles_url/{z}/{x}/{y}.png" --map-tiles-attribution "Test tiles (tests/browser/tiles.mjs)" \
  > "$work/serve.out" 2> "$work/serve.log" &
server_pid=$!
for _ in $(seq 1 100); do grep -q '^listening on ' "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
url="$(sed -n 's/^listening on //p' "$work/serve.out" | head -n1)"
[ -n "$url" ] || { cat "$work/serve.log"; exit 1; }
echo "   $url"

echo "== seeding a tampered photo"
FP_SEED_DATA_DIR="$data" FP_SEED_ADDR="${url#http://}" \
  cargo test -q --test web -- --ignored --exact seed_forged_evidence_code_photo --nocapture \
  > "$work/seed.log" 2>&1 || { cat "$work/seed.log"; exit 1; }
tampered_visit="$(sed -n 's/^tampered photo [0-9a-f]* on visit //p' "$work/seed.log" | head -n1)"
[ -n "$tampered_visit" ] || { cat "$work/seed.log"; exit 1; }

echo "== seeding two revoked phones (one after its photo arrived, one from before)"
FP_SEED_DATA_DIR="$data" FP_SEED_ADDR="${url#http://}" \
  cargo test -q --test web -- --ignored --exact seed_revoked_phones --nocapture \
  > "$work/seed-revoked.log" 2>&1 || { cat "$work/seed-revoked.log"; exit 1; }
revoked_later_visit="$(sed -n 's/^revoked-later visit //p' "$work/seed-revoked.log" | head -n1)"
revoked_key_visit="$(sed -n 's/^revoked-key visit //p' "$work/seed-revoked.log" | head -n1)"
[ -n "$revoked_later_visit" ] && [ -n "$revoked_key_visit" ] || { cat "$work/seed-revoked.log"; exit 1; }

password="browser-test-$(date +%s)-pw"
printf '%s\n' "$password" | "$bin" admin --data-dir "$data" create-user --id ho-admin --name "Head Office 总部" \
  --role admin --password-stdin > /dev/null

echo "== importing customers, activities and leads (tests/data/pipeline-*.csv), then their later states"
for kind in customers activities leads; do
  "$bin" admin --data-dir "$data" import --kind "$kind" "$root/tests/data/pipeline-$kind.csv" > /dev/null
done
FP_SEED_DATA_DIR="$data" cargo test -q --test web_pipeline -- --ignored --exact seed_browser_states --nocapture \
  > "$work/seed-pipeline.log" 2>&1 || { cat "$work/seed-pipeline.log"; exit 1; }
grep -q '^seeded customers and leads' "$work/seed-pipeline.log" || { cat "$work/seed-pipeline.log"; exit 1; }
# Routing rules and a dry run over the imported leads, for the routing page's report.
cat > "$work/rules.json" <<'RULES'
[
  {"position": 1, "name": "餐饮 · 预算一万元以上", "industries": ["餐饮"], "budget_min_cents": 1000000},
  {"position": 2, "name": "上海西区", "regions": ["shanghai-west"], "max_load": 20}
]
RULES
"$bin" admin --data-dir "$data" pipeline rules "$work/rules.json" > /dev/null
"$bin" admin --data-dir "$data" pipeline dry-run > /dev/null

# Every code the seeding produced must be listed (queried, not hard-coded, and checked non-empty).
codes="$("$bin" admin --data-dir "$data" stats \
  | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(Object.keys(JSON.parse(s).exceptions_by_code).join(",")))')"
for c in outside_geofence mock_location clock_jump possible_reuse price_gap_unexplained code_mismatch; do
  case ",$codes," in *",$c,"*) ;; *) echo "run.sh: seeding did not produce $c (have $codes)" >&2; exit 1;; esac
done

# The English catalogue's fragments, which no zh-CN page may show (written by the real catalogue).
FP_CATALOGUE_OUT="$work/en-catalogue.json" \
  cargo test -q --test web -- --ignored --exact dump_en_catalogue --nocapture \
  > "$work/catalogue.log" 2>&1 || { cat "$work/catalogue.log"; exit 1; }

echo "== browser"
rm -rf "$here/artifacts"
BASE_URL="$url" FP_USER=ho-admin FP_PASSWORD="$password" EXPECT_CODES="$codes" \
  TAMPERED_VISIT="$tampered_visit" REVOKED_LATER_VISIT="$revoked_later_visit" REVOKED_KEY_VISIT="$revoked_key_visit" \
  TILES_URL="$tiles_url" CHROMIUM="$chromium_bin" ARTIFACTS="$here/artifacts" \
  EN_CATALOGUE="$work/en-catalogue.json" REFERENCE_JSON="$root/tests/fixtures/reference.json" \
  node "$here/head-office.mjs"

if [ "${1:-}" = "--update-docs" ]; then
  mkdir -p "$root/docs/screenshots"
  cp "$here"/artifacts/*-exceptions-queue.png "$root/docs/screenshots/exceptions-queue.png"
  cp "$here"/artifacts/*-visit-tampered-photo.png "$root/docs/screenshots/visit-tampered-photo.png"
  cp "$here"/artifacts/*-health-zh-CN.png "$root/docs/screenshots/health-zh-CN.png"
  cp "$here"/artifacts/*-exceptions-open-zh-CN-390.png "$root/docs/screenshots/exceptions-zh-CN-390.png"
  cp "$here"/artifacts/*-today-zh-CN-390.png "$root/docs/screenshots/today-zh-CN-390.png"
  cp "$here"/artifacts/*-enrol-code-zh-CN-390.png "$root/docs/screenshots/enrol-code-zh-CN-390.png"
  cp "$here"/artifacts/*-visit-zh-CN-1366.png "$root/docs/screenshots/visit-zh-CN.png"
  cp "$here"/artifacts/*-gallery-zh-CN-1366.png "$root/docs/screenshots/gallery-zh-CN.png"
  cp "$here"/artifacts/*-map-zh-CN-1366.png "$root/docs/screenshots/map-zh-CN.png"
  echo "== screenshots copied to docs/screenshots/"
fi
