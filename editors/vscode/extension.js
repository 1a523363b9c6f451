// The Dana extension: the language (grammar, brackets, indentation) is declared in
// package.json; this starts `dana lsp` (setting `dana.server.command`) as the language
// client for every Dana file, so diagnostics, hover, completion, navigation, rename and
// formatting come from the project's own parser, checker and formatter.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const [command, ...args] = vscode.workspace
    .getConfiguration("dana")
    .get("server.command", ["dana", "lsp"]);
  const server = { command, args, transport: TransportKind.stdio };
  client = new LanguageClient("dana", "Dana language server", server, {
    documentSelector: [{ scheme: "file", language: "dana" }, { scheme: "untitled", language: "dana" }],
  });
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
