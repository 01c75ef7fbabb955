// Pages shipped in the .vsix (docs/rules/<code>.md, docs/inspect.md) open
// rendered, in VS Code's Markdown preview beside the current editor, never as
// raw source. The server links a diagnostic's rule as a file: URI (other
// editors open that); in VS Code the client turns it into the openRule command.

import * as vscode from 'vscode';

export const OPEN_RULE_COMMAND = 'fuselens.openRule';

/** Opens docs/<page> of the installed extension rendered. */
export async function openDocPage(extensionUri: vscode.Uri, page: string): Promise<void> {
  await vscode.commands.executeCommand('markdown.showPreviewToSide', vscode.Uri.joinPath(extensionUri, 'docs', page));
}

export function registerDocPages(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand(OPEN_RULE_COMMAND, async (code: unknown) => {
      if (typeof code !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(code)) return;
      await openDocPage(context.extensionUri, `rules/${code}.md`);
    }),
  );
}

/**
 * The command link for a rule page's file: URI under this extension's docs/rules/, or
 * undefined for any other target. Problems and the hover open command links (their
 * Link widget allows commands), so the page opens rendered.
 */
export function ruleCommandUri(extensionUri: vscode.Uri, target: vscode.Uri): vscode.Uri | undefined {
  const rules = vscode.Uri.joinPath(extensionUri, 'docs', 'rules').path + '/';
  if (target.scheme !== 'file' || !target.path.startsWith(rules)) return undefined;
  const code = /^([a-z0-9][a-z0-9-]*)\.md$/.exec(target.path.slice(rules.length))?.[1];
  if (!code) return undefined;
  return vscode.Uri.parse(`command:${OPEN_RULE_COMMAND}?${encodeURIComponent(JSON.stringify([code]))}`);
}

/**
 * A hover's Markdown with its rule-page links (file: URIs under docs/rules/) turned into the
 * openRule command, trusted for that one command only.
 */
export function ruleLinksRendered(extensionUri: vscode.Uri, content: vscode.MarkdownString): vscode.MarkdownString {
  let changed = false;
  const value = content.value.replace(/\]\((file:[^)\s]+)\)/g, (whole, href: string) => {
    const target = ruleCommandUri(extensionUri, vscode.Uri.parse(href));
    if (!target) return whole;
    changed = true;
    return `](${target.toString()})`;
  });
  if (!changed) return content;
  const out = new vscode.MarkdownString(value, content.supportThemeIcons);
  out.isTrusted = { enabledCommands: [OPEN_RULE_COMMAND] };
  return out;
}
