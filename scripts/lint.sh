#!/usr/bin/env sh
# npm run lint: type-aware lint, format check and import layers. Runs all three, so one run shows
# everything to mend; fails if any failed. `npm run format` rewrites what the format check refuses.
cd "$(dirname "$0")/.." || exit 1
status=0
echo '== eslint' >&2
npx --no-install eslint . --max-warnings 0 || status=1
echo '== prettier --check' >&2
npx --no-install prettier --check --log-level warn . || status=1
echo '== dependency-cruiser (import layers)' >&2
npx --no-install depcruise src --config .dependency-cruiser.cjs || status=1
exit $status
