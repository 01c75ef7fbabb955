#!/usr/bin/env bash
# `npm start`: builds and packages the extension, installs code-server (VS
# Code's workbench served over HTTP, with a real Node extension host) into
# .cache/ the first time, installs the .vsix into it and serves it on
# 127.0.0.1 with examples/ open, trusted: you started it on the project's own
# files, and Restricted Mode would hide "Run Scenario on This Kernel". Prints
# the URL; Ctrl-C stops it.
#
#   FUSELENS_PORT=8080        port (default 8080)
#   FUSELENS_CACHE=.cache     where code-server, Node 24 and the editor profile live
#
# With a desktop VS Code instead: `npm run package && code --install-extension fuse-lens-*.vsix`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
port="${FUSELENS_PORT:-8080}"
cache="${FUSELENS_CACHE:-$root/.cache}"
profile="$cache/code-server-profile"

npm run --silent package
vsix=$(ls -t "$root"/fuse-lens-*.vsix | head -1)

read -r node entry < <(FUSELENS_CACHE="$cache" bash scripts/code-server.sh)

mkdir -p "$profile/user-data/User" "$profile/extensions"
settings="$profile/user-data/User/settings.json"
[ -f "$settings" ] || cat > "$settings" <<'JSON'
{
  "workbench.startupEditor": "none",
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoCheckUpdates": false,
  "workbench.tips.enabled": false,
  "security.workspace.trust.startupPrompt": "never",
  "workbench.secondarySideBar.defaultVisibility": "hidden",
  "chat.disableAIFeatures": true
}
JSON

"$node" "$entry" --user-data-dir "$profile/user-data" --extensions-dir "$profile/extensions" \
  --install-extension "$vsix" --force >/dev/null

url="http://127.0.0.1:$port/?folder=$root/examples"
echo
if command -v code >/dev/null 2>&1; then
  echo "A desktop VS Code is on PATH too; to use it instead: code --install-extension $vsix"
fi
echo "FUSE Lens is running in code-server: $url"
echo "(open a .fusesim file, or the FUSE Lens view in the activity bar; Ctrl-C stops the server)"
echo "(the folder is trusted: this code-server runs with --disable-workspace-trust, so Run Scenario on This Kernel is available)"
echo
exec "$node" "$entry" --auth none --bind-addr "127.0.0.1:$port" --disable-telemetry --disable-update-check --disable-workspace-trust \
  --user-data-dir "$profile/user-data" --extensions-dir "$profile/extensions" "$root/examples"
