#!/usr/bin/env bash
# The README's "API walk-through", executable. Each `step NAME <<'SH' … SH`
# body is a command block of the README, character for character (a test,
# tests/api/readme.rs, compares them); `expect` checks what it answered.
#
# Usage: HOST=http://127.0.0.1:8080 TOKEN=<admin token> examples/walkthrough.sh
# against a freshly seeded server (CI: .ci/walkthrough.sh starts one).
set -euo pipefail
: "${HOST:?set HOST, e.g. http://127.0.0.1:8080}" "${TOKEN:?set TOKEN to an admin token}"
API="$HOST/api/v1"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
# WALKTHROUGH_OUT=dir keeps every answer (to refresh the README's examples).
trap '[ -n "${WALKTHROUGH_OUT:-}" ] && mkdir -p "$WALKTHROUGH_OUT" && cp "$work"/*.out "$WALKTHROUGH_OUT"/; rm -rf "$work"' EXIT
cd "$work"

# Runs a README block in this shell (so its variables stay set); its output
# goes to NAME.out.
step() {
    local name="$1" block
    block="$(cat)"
    echo "== $name" >&2
    eval "$block" >"$name.out"
}

# Checks a step's answer with a Python expression over `body` (the JSON
# answer, or None), `text` (the raw answer) and `status` (from headers.txt
# when the step wrote it, else None).
expect() {
    local name="$1" check="$2" status=""
    if [ -f headers.txt ]; then
        status="$(head -n1 headers.txt | cut -d' ' -f2)"
        rm -f headers.txt
    fi
    python3 - "$name.out" "$status" "$check" <<'PY'
import json, sys
path, status, check = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(path, encoding="utf-8").read()
try:
    body = json.loads(text)
except ValueError:
    body = None
status = int(status) if status else None
if not eval(check, {"body": body, "text": text, "status": status, "json": json}):
    sys.exit(f"walk-through step {path[:-4]!r}: expected {check}\n  status {status}\n  got {text[:2000]}")
PY
}

step committees <<'SH'
curl -s "$API/committees"
SH
expect committees '"haiphong-business-bloc" in [c["code"] for c in body] and body[0]["created_at"].endswith("Z")'

step indicators <<'SH'
curl -s "$API/indicators"
SH
expect indicators '{"code": "revenue", "unit": "VND", "scale": 9, "measure_kind": "flow"}.items() <= next(i for i in body if i["code"] == "revenue").items()'

step period <<'SH'
curl -s "$API/periods/qu%C3%BD%20I%2F2022"
SH
expect period 'body["code"] == "2022-Q1" and body["previous_year"] == "2021-Q1" and body["end"] == "2022-03-31"'

step figures <<'SH'
curl -s "$API/observations?committee=haiphong-business-bloc&period=2022-Q1"
SH
expect figures 'len(body["items"]) >= 5 and body["next"] is None and all(o["period"] == "2022-Q1" for o in body["items"]) and any(o["indicator"] == "revenue" and o["value"] == "6619" for o in body["items"])'

step enter <<'SH'
curl -s -D headers.txt -X POST "$API/observations" \
  -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" \
  -d '{"committee": "haiphong-business-bloc", "indicator": "revenue",
       "period": "quý III/2022", "value": 7012.5, "status": "E",
       "reason": "entered from the bloc'\''s Q3 2022 spreadsheet"}'
FIGURE=$(grep -i '^location:' headers.txt | cut -d' ' -f2 | tr -d '\r')
SH
expect enter 'status == 201 and body["period"] == "2022-Q3" and body["value"] == "7012.5" and body["revision"] == 1'
case "$FIGURE" in /api/v1/observations/[0-9]*) ;; *) echo "no figure URL: $FIGURE" >&2; exit 1 ;; esac

step read <<'SH'
curl -s -i "$HOST$FIGURE"
SH
expect read 'text.startswith("HTTP/1.1 200") and "etag: \"1\"" in text.lower() and json.loads(text.split("\n\n", 1)[1])["value"] == "7012.5"'

sleep 1 # so that "before the correction" is a moment of its own
step before_correction <<'SH'
BEFORE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
SH

step correct <<'SH'
curl -s -X PUT "$HOST$FIGURE" \
  -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" -H 'If-Match: "1"' \
  -d '{"value": "7021.5", "status": "A", "reason": "typo: digits swapped; final figure from the bloc report"}'
SH
expect correct 'body["value"] == "7021.5" and body["status"] == "A" and body["revision"] == 2 and body["updated_at"].endswith("Z")'

step stale <<'SH'
curl -s -D headers.txt -X PUT "$HOST$FIGURE" \
  -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" -H 'If-Match: "1"' \
  -d '{"value": "7000", "reason": "made from revision 1"}'
SH
expect stale 'status == 412 and body["status"] == 412 and "revision 2" in body["detail"]'

step history <<'SH'
curl -s "$HOST$FIGURE/revisions"
SH
expect history '[r["revision"] for r in body] == [1, 2] and [r["value"] for r in body] == ["7012.5", "7021.5"] and body[1]["changed_by"] == "lan.nguyen" and body[0]["changed_at"].endswith("Z")'

step as_of <<'SH'
curl -s -G "$API/observations" --data-urlencode 'committee=haiphong-business-bloc' \
  --data-urlencode 'period=quý III/2022' --data-urlencode "as_of=$BEFORE"
SH
expect as_of '[o["value"] for o in body["items"]] == ["7012.5"]'

step batch <<'SH'
curl -s -D headers.txt -X POST "$API/observations/batch" \
  -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" \
  -d '{"observations": [
        {"committee": "haiphong-business-bloc", "indicator": "revenue", "period": "2022-Q3", "value": "7021.5"},
        {"committee": "haiphong-business-bloc", "indicator": "budget_contribution", "period": "2022Q3", "value": "231400", "scale": 6}
      ], "reason": "Q3 2022 spreadsheet"}'
SH
expect batch 'status == 409 and body["errors"][0]["code"] == "already_exists" and body["errors"][0]["index"] == 0'

step batch_upsert <<'SH'
curl -s -X POST "$API/observations/batch?mode=upsert" \
  -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" \
  -d '{"observations": [
        {"committee": "haiphong-business-bloc", "indicator": "revenue", "period": "2022-Q3", "value": "7021.5"},
        {"committee": "haiphong-business-bloc", "indicator": "budget_contribution", "period": "2022Q3", "value": "231400", "scale": 6}
      ], "reason": "Q3 2022 spreadsheet"}'
SH
expect batch_upsert '(body["created"], body["updated"], body["unchanged"]) == (1, 0, 1) and [i["outcome"] for i in body["items"]] == ["unchanged", "created"]'

step invalid <<'SH'
curl -s -D headers.txt -X POST "$API/observations" \
  -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" \
  -d '{"committee": "haiphong-business-bloc", "indicator": "revenue", "period": "quý V/2022", "value": "7021.5", "unit": "USD"}'
SH
expect invalid 'status == 422 and sorted(e["code"] for e in body["errors"]) == ["invalid_period", "unit_mismatch"]'

step targets <<'SH'
curl -s "$API/targets?committee=haiphong-business-bloc"
SH
expect targets 'len(body["items"]) >= 1 and any(t["indicator"] == "new_party_members" and t["value"] == "200" for t in body["items"])'

step group <<'SH'
curl -s "$API/groups/northern-business-blocs"
SH
expect group 'body["member_count"] == 7 and len(body["members"]) == 7'

step yoy <<'SH'
curl -s "$API/comparisons/yoy?committee=haiphong-business-bloc&indicator=revenue&period=2021"
SH
expect yoy 'body["base_period"] == "2020" and body["items"][0]["current"]["value"] == "27701" and body["items"][0]["implied_previous"]["value"] == "25720.5"'

step series <<'SH'
curl -s "$API/series?committee=haiphong-economic-zone&indicator=import_export_value&from=2021&to=2023&frequency=annual"
SH
expect series '[(p["period"], p["value"], p["provenance"]["kind"]) for p in body["points"]] == [("2021", "10", "stored"), ("2022", "10", "stored"), ("2023", "10", "stored")]'

step quarters <<'SH'
curl -s "$API/series?committee=haiphong-business-bloc&indicator=revenue&from=2022-Q1&to=2022-Q3&frequency=quarterly"
SH
expect quarters '[(p["period"], p["value"]) for p in body["points"]] == [("2022-Q1", "6619"), ("2022-Q2", None), ("2022-Q3", "7021.5")]'

step export <<'SH'
curl -s "$API/observations/export?committee=haiphong-business-bloc&period=2022-Q3&format=csv"
SH
expect export 'text.splitlines()[0].startswith("id,revision,committee,indicator,period,breakdown,value") and len(text.splitlines()) == 3'

echo "walk-through: every step answered as the README says" >&2
