#!/bin/sh
# Renders an invrecon HTML report in headless Chromium and saves a screenshot, to check that it
# displays offline in a real browser. Installs nothing; needs chromium on the PATH or /usr/bin/chromium.
#   scripts/check-report.sh report.html [screenshot.png]
set -eu
report=${1:?usage: scripts/check-report.sh REPORT.html [SCREENSHOT.png]}
shot=${2:-${report%.html}.png}
browser=""
for candidate in "${CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser "$(command -v chromium 2>/dev/null || true)" "$(command -v google-chrome 2>/dev/null || true)"; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then browser=$candidate; break; fi
done
if [ -z "$browser" ]; then
  echo "check-report: no chromium found (set CHROMIUM=/path/to/chromium); nothing checked" >&2
  exit 77
fi
case $report in /*) ;; *) report=$(pwd)/$report ;; esac
case $shot in /*) ;; *) shot=$(pwd)/$shot ;; esac
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
# No network: the report must render from the file alone.
"$browser" --headless --no-sandbox --disable-gpu --disable-background-networking --no-first-run \
  --user-data-dir="$profile" --proxy-server=127.0.0.1:9 --window-size=1200,1800 \
  --screenshot="$shot" "file://$report" >/dev/null 2>&1
# The DOM after scripts ran: the embedded data parsed and the chart is there.
dom=$("$browser" --headless --no-sandbox --disable-gpu --disable-background-networking --no-first-run \
  --user-data-dir="$profile" --proxy-server=127.0.0.1:9 --dump-dom "file://$report" 2>/dev/null)
runs=$(printf '%s' "$dom" | sed -n 's/.*<body data-runs="\([^"]*\)".*/\1/p' | head -n 1)
if [ -z "$runs" ] || [ "$runs" = error ]; then
  echo "check-report: the embedded report data did not parse in $browser (data-runs=${runs:-missing})" >&2
  exit 1
fi
if ! printf '%s' "$dom" | grep -q 'id="drift-chart"' && ! printf '%s' "$dom" | grep -q 'No sync has planned yet'; then
  echo "check-report: no drift chart in the rendered page" >&2
  exit 1
fi
[ -s "$shot" ] || { echo "check-report: no screenshot written" >&2; exit 1; }
echo "check-report: rendered in $("$browser" --version 2>/dev/null | head -n 1): $runs runs in the data, screenshot $shot"
