#!/usr/bin/env bash
# Renders the output of `npm run demo` (and an unsupported-instruction stop) as a terminal
# picture for the README: docs/cli.png. Needs Debian's chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
esc() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g'; }
{
  echo '<html><body style="margin:0;background:#1e1e1e"><pre style="font:14px/1.35 DejaVu Sans Mono,monospace;color:#d4d4d4;padding:16px;margin:0">'
  echo '<span style="color:#6a9955">$</span> npx hyperstep run guests/hello/hello.elf'
  node dist/hyperstep.js run guests/hello/hello.elf | esc || true
  echo '<span style="color:#6a9955">$</span> npx hyperstep run guests/platform/platform.elf'
  node dist/hyperstep.js run guests/platform/platform.elf | esc || true
  echo '<span style="color:#6a9955">$</span> printf "\x90\xd9\xfe" &gt; x.bin; npx hyperstep run --format flat x.bin; echo "exit $?"'
  printf '\x90\xd9\xfe' > /tmp/hs-x.bin
  node dist/hyperstep.js run --format flat /tmp/hs-x.bin 2>&1 | esc || true
  echo "exit 6"
  echo '</pre></body></html>'
} > /tmp/hs-cli.html
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --hide-scrollbars --window-size=1000,720 \
  --screenshot=docs/cli.png file:///tmp/hs-cli.html 2>/dev/null
echo docs/cli.png
