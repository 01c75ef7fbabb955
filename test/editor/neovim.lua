-- Drives FUSE Lens's language server from a real Neovim (0.7, Debian 12's), headless:
-- the configuration docs/editor.md gives, then diagnostics, hover, completion and a
-- quick fix on the scenario named by FUSELENS_FILE. Writes what it saw as JSON to
-- FUSELENS_OUT and quits; test/editor/neovim.test.ts reads it.
local out = {}
local function finish()
  local f = io.open(vim.env.FUSELENS_OUT, 'w')
  f:write(vim.fn.json_encode(out))
  f:close()
  vim.cmd('qall!')
end

vim.cmd('autocmd BufRead,BufNewFile *.fusesim setfiletype fusesim')
vim.cmd('edit ' .. vim.fn.fnameescape(vim.env.FUSELENS_FILE))
local client = vim.lsp.start_client({
  name = 'fuselens',
  cmd = { vim.env.FUSELENS_CLI, 'lsp', '--stdio' },
  root_dir = vim.fn.fnamemodify(vim.env.FUSELENS_FILE, ':h'),
  settings = { fuselens = { kernel = { defaultVersion = '' } } },
})
vim.lsp.buf_attach_client(0, client)

out.diagnosed = vim.wait(20000, function() return #vim.diagnostic.get(0) > 0 end, 50)
out.diagnostics = vim.tbl_map(function(d)
  return { lnum = d.lnum, message = d.message, code = d.code, severity = d.severity }
end, vim.diagnostic.get(0))

local doc = vim.lsp.util.make_text_document_params()
local function ask(method, params)
  local answers = vim.lsp.buf_request_sync(0, method, params, 10000) or {}
  for _, a in pairs(answers) do
    if a.result then return a.result end
    local err = a.error or a.err
    if err then out.errors = out.errors or {}; table.insert(out.errors, method .. ': ' .. vim.inspect(err)) end
  end
  return {}
end

out.hover = ask('textDocument/hover', { textDocument = doc, position = { line = 11, character = 1 } })
local completion = ask('textDocument/completion', { textDocument = doc, position = { line = 12, character = 0 } })
out.completion = vim.tbl_map(function(i) return i.label end, completion.items or completion)

-- As Neovim's own vim.lsp.buf.code_action() gathers them: whole LSP diagnostics (range, message, data).
local lsp_diagnostics = vim.lsp.diagnostic.get_line_diagnostics(0, 11)
local actions = ask('textDocument/codeAction', {
  textDocument = doc,
  range = { start = { line = 11, character = 0 }, ['end'] = { line = 11, character = 0 } },
  context = { diagnostics = lsp_diagnostics },
})
out.actions = vim.tbl_map(function(a) return a.title end, actions)
if actions[1] and actions[1].edit then
  vim.lsp.util.apply_workspace_edit(actions[1].edit, 'utf-16')
  out.fixed = vim.wait(20000, function() return #vim.diagnostic.get(0, { severity = vim.diagnostic.severity.ERROR }) == 0 end, 50)
  out.line12 = vim.api.nvim_buf_get_lines(0, 11, 12, false)[1]
end
finish()
