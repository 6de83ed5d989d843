// The Node.js version check, in plain JavaScript that any Node runs, so that an old Node gets one line
// saying what is needed instead of a stack trace from deep inside the gateway. Used by the launcher
// (exit 2) and by `npm install` / `npm ci` (a warning: the install itself works on any Node).
export const REQUIRED = { major: 22, minor: 18 };

export function nodeProblem(version = process.versions.node) {
  const [major, minor] = version.split('.').map(Number);
  if (major > REQUIRED.major || (major === REQUIRED.major && minor >= REQUIRED.minor)) return undefined;
  return (
    `portcullis needs Node.js >= ${REQUIRED.major}.${REQUIRED.minor} (Node 24 LTS recommended); this is ${version}. ` +
    'Get it with `nvm install 24`, your distribution\'s nodejs package (>= 22.18), or run once with `npx -y node@24 <path>/bin/portcullis.js …`.'
  );
}

// `node bin/check-node.js --warn` (the package's preinstall): warn, never fail the install.
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href && process.argv.includes('--warn')) {
  const problem = nodeProblem();
  if (problem) console.warn(`warning: ${problem}`);
}
