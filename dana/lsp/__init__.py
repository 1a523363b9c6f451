"""The Dana language server (`dana lsp`): editor features over the project's own parser,
checker and formatter (docs/tools.md). Needs the `lsp` extra (pygls, lsprotocol)."""
