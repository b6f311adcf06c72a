// Process entry of the language server (dist/language-server.js in the extension;
// `node out/language-server/main.js --stdio` from a checkout).
import { runLanguageServer } from './index';

const status = runLanguageServer(process.argv.slice(2));
if (status >= 0) process.exit(status);
