#!/usr/bin/env bash
# Puts the reliability figures of a full conformance run into README.md, so they are never transcribed
# by hand: reliability/target/reliability-figures/summary.md (written by the reliability tests) replaces
# what stands between the markers <!-- reliability-table:begin --> and <!-- reliability-table:end -->.
# It refuses a summary that lacks the conformance ITs (RandomisedIT, ConcurrentEnginesIT,
# LargeMessageIT): those come only from `mvn -B verify -Pconformance` (or .ci/run).
#
# Usage: scripts/reliability-table.sh [SUMMARY] [README]
set -euo pipefail
cd "$(dirname "$0")/.."
summary=${1:-reliability/target/reliability-figures/summary.md}
readme=${2:-README.md}

[[ -f $summary ]] || { echo "reliability-table: no $summary (run mvn -B verify -Pconformance first)" >&2; exit 1; }
for it in RandomisedIT ConcurrentEnginesIT LargeMessageIT; do
  grep -q "^| $it |" "$summary" || { echo "reliability-table: $summary has no $it row: not a full conformance run" >&2; exit 1; }
done
grep -q '<!-- reliability-table:begin -->' "$readme" && grep -q '<!-- reliability-table:end -->' "$readme" || {
  echo "reliability-table: $readme lacks the markers <!-- reliability-table:begin --> / <!-- reliability-table:end -->" >&2
  exit 1
}
awk -v block="$summary" '
  /<!-- reliability-table:begin -->/ { print; print ""; while ((getline line < block) > 0) print line; print ""; skip = 1; next }
  /<!-- reliability-table:end -->/ { skip = 0 }
  !skip { print }
' "$readme" > "$readme.tmp"
mv "$readme.tmp" "$readme"
echo "reliability-table: $readme updated from $summary"
