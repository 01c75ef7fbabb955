// The HTML shell of a webview: a strict Content-Security-Policy with a nonce
// for the one script (webview-sample's form), the stylesheet from media/, no
// remote content. Everything else is drawn by the script from typed messages.

import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

export function webviewHtml(
  webview: vscode.Webview,
  extensionUri: vscode.Uri,
  page: {
    title: string;
    script: string;
    stylesheet: string;
    /** The CSS esbuild emitted beside the script (from a library's stylesheet import), in dist/webview/. */
    scriptStylesheet?: string;
  },
): string {
  const nonce = randomBytes(16).toString('base64');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', page.script));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', page.stylesheet));
  const scriptStyle = page.scriptStylesheet
    ? `<link rel="stylesheet" href="${String(webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', page.scriptStylesheet)))}">\n`
    : '';
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${webview.cspSource}`,
    `img-src ${webview.cspSource}`,
    `font-src ${webview.cspSource}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${scriptStyle}<link rel="stylesheet" href="${String(style)}">
<title>${escapeHtml(page.title)}</title>
</head>
<body>
<main id="app" aria-live="polite"><p class="placeholder">Loading…</p></main>
<script nonce="${nonce}" src="${String(script)}"></script>
</body>
</html>`;
}

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    retainContextWhenHidden: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
