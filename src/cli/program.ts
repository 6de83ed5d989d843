/**
 * The command tree of the command line, built for a host: ../main.ts builds it for the process (its
 * streams, environment and exit code); the tests build it with captured output, so a test about a
 * command's logic runs it without starting a Node process each time (test/helpers/cli-here.ts).
 */
import { Command } from 'commander';
import { applyGuide } from './guide.ts';
import { VERSION } from '../version.ts';
import { SERVE_OPTIONS } from './serve-args.ts';
import type { Io } from './serve.ts';

/** What a command needs from where it runs. */
export interface CliHost {
  io: Io;
  /** Records a command's exit code. */
  finish(code: number | Promise<number>): Promise<void>;
  /** The stdio front's streams, and how it ends once its client has gone. */
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  exit(): void;
}

// Commands load their modules when run: `portcullis --help` or `key list` should not pay for the gateway.
type Command_ = (...args: never[]) => unknown;
const lazy = <F extends Command_>(load: () => Promise<F>) => async (...args: Parameters<F>): Promise<Awaited<ReturnType<F>>> => (await load())(...args) as Awaited<ReturnType<F>>;
const check = lazy(async () => (await import('./config.ts')).check);
const configJsonSchema = lazy(async () => (await import('./config.ts')).configJsonSchema);
const init = lazy(async () => (await import('./config.ts')).init);
const serve = lazy(async () => (await import('./serve.ts')).serve);
const stdio = lazy(async () => (await import('./stdio.ts')).stdio);
const exportTrail = lazy(async () => (await import('./audit.ts')).exportTrail);
const keygen = lazy(async () => (await import('./audit.ts')).keygen);
const query = lazy(async () => (await import('./audit.ts')).query);
const tail = lazy(async () => (await import('./audit.ts')).tail);
const verify = lazy(async () => (await import('./audit.ts')).verify);
const scan = lazy(async () => (await import('./scan.ts')).scan);
const pinApprove = lazy(async () => (await import('./pin.ts')).pinApprove);
const pinReject = lazy(async () => (await import('./pin.ts')).pinReject);
const pinDiff = lazy(async () => (await import('./pin.ts')).pinDiff);
const pinList = lazy(async () => (await import('./pin.ts')).pinList);
const pinVerify = lazy(async () => (await import('./pin.ts')).pinVerify);
const pinReseal = lazy(async () => (await import('./pin.ts')).pinReseal);
const pinReset = lazy(async () => (await import('./pin.ts')).pinReset);
const policyExplain = lazy(async () => (await import('./policy.ts')).policyExplain);
const policyTest = lazy(async () => (await import('./policy.ts')).policyTest);
const kill = lazy(async () => (await import('./kill.ts')).kill);
const status = lazy(async () => (await import('./kill.ts')).status);
const unkill = lazy(async () => (await import('./kill.ts')).unkill);
const agentAdd = lazy(async () => (await import('./identity.ts')).agentAdd);
const agentList = lazy(async () => (await import('./identity.ts')).agentList);
const agentRevoke = lazy(async () => (await import('./identity.ts')).agentRevoke);
const keyCreate = lazy(async () => (await import('./identity.ts')).keyCreate);
const keyList = lazy(async () => (await import('./identity.ts')).keyList);
const keyRevoke = lazy(async () => (await import('./identity.ts')).keyRevoke);
const clientAdd = lazy(async () => (await import('./identity.ts')).clientAdd);
const clientList = lazy(async () => (await import('./identity.ts')).clientList);
const clientRemove = lazy(async () => (await import('./identity.ts')).clientRemove);
const userSignout = lazy(async () => (await import('./identity.ts')).userSignout);
const connect = lazy(async () => (await import('./connect.ts')).connect);
const dlpTest = lazy(async () => (await import('./dlp.ts')).dlpTest);
const discover = lazy(async () => (await import('./discover.ts')).discoverCommand);
const importConfig = lazy(async () => (await import('./discover.ts')).importCommand);
const install = lazy(async () => (await import('./install.ts')).installCommand);
const credentials = lazy(async () => (await import('./credentials.ts')).credentialsCommand);
const approvalsList = lazy(async () => (await import('./approvals.ts')).approvalsList);
const approvalsGrant = lazy(async () => (await import('./approvals.ts')).approvalsGrant);
const approvalsDeny = lazy(async () => (await import('./approvals.ts')).approvalsDeny);
const alertsList = lazy(async () => (await import('./alerts.ts')).alertsList);
const alertsAck = lazy(async () => (await import('./alerts.ts')).alertsAck);

/** The command tree; `setup` configures the root before any command is added (commander copies output and exit settings to each). */
export function buildProgram(host: CliHost, setup?: (program: Command) => void): Command {
  const { io, finish } = host;
  const program = new Command('portcullis');
  setup?.(program);
  program
    .description('A security gateway for the Model Context Protocol')
    .version(VERSION)
    .showHelpAfterError();

  const serveCommand = program.command('serve').description('run the gateway (Streamable HTTP, both protocol eras); without -c, the embedded default');
  for (const option of SERVE_OPTIONS) serveCommand.option(option.flags, option.description);
  serveCommand.action(async (options) => finish(await serve(options, io)));

  program
    .command('stdio')
    .description('serve MCP on stdin/stdout, for clients that launch the gateway as their server command')
    .option('-c, --config <file>', 'configuration file (YAML)')
    .option('--data-dir <dir>', 'state directory for the embedded default')
    .option('--server <name>', 'expose this one server unchanged instead of all servers namespaced')
    .action(async (options) => {
      await finish(stdio(options, { ...io, stdin: host.stdin, stdout: host.stdout }));
      host.exit();
    });

  program
    .command('connect')
    .description('print how each MCP client (Claude Code, Claude Desktop, Cursor, VS Code, Windsurf, Codex) reaches this gateway')
    .option('-c, --config <file>', 'configuration file (default: the embedded default)')
    .option('--data-dir <dir>', 'state directory for the embedded default')
    .option('--client <name>', 'only this client: claude-code, claude-desktop, cursor, vscode, windsurf, codex')
    .option('--url <url>', 'the gateway URL clients use (default: identity.publicUrl or the listen address)')
    .action(async (options) => finish(await connect(options, io)));

  program
    .command('init')
    .description('write a commented starter portcullis.yaml')
    .option('-o, --output <file>', 'where to write it', 'portcullis.yaml')
    .option('--force', 'overwrite an existing file')
    .action((options) => finish(init(options, io)));

  program
    .command('scan')
    .description('scan tool definitions for poisoning and shadowing (exit 1 when anything is high)')
    .option('--tools-file <file>', 'offline: JSON array of tool definitions, or of { "server", "tools" } objects')
    .option('-c, --config <file>', 'live: connect to the servers of this config and scan what they list')
    .option('--json', 'machine-readable report')
    .option('--sarif', 'SARIF 2.1.0, for code-scanning dashboards')
    .option('--high-at <p>', 'probability of the signal layer at which a definition is high (default: supply.scanner.highAt, else 0.5)')
    .option('--warn-at <p>', 'probability at which it warns (default: supply.scanner.warnAt, else 0.25)')
    .option('--no-signals', 'only the phrase rules, without the signal layer')
    .action(async (options) => finish(await scan(options, io)));

  const dlp = program.command('dlp').description('data-loss prevention: what would be found and done (docs/dlp.md)');
  dlp
    .command('test')
    .description('show what DLP finds in a text and what the configuration would do (exit 1 when anything is found)')
    .option('--text <text>', 'the text to inspect')
    .option('--file <path>', 'inspect the contents of a file instead')
    .option('-c, --config <file>', 'configuration file (default: the embedded default)')
    .option('--server <name>', 'apply the dlp.servers overrides of this server')
    .option('--tool <name>', 'and of this tool')
    .option('--json', 'machine-readable report')
    .action((options) => finish(dlpTest(options, io)));

  const pin = program.command('pin').description('definition pins: review and approve new or changed definitions and server instructions');
  pin
    .command('list')
    .description('pinned definitions and those waiting for approval')
    .option('-c, --config <file>', 'configuration file (YAML)')
    .option('--data-dir <dir>', 'state directory for the embedded default')
    .action((options) => finish(pinList(options, io)));
  pin
    .command('diff <server>')
    .description('what changed in the definitions waiting for approval (old against new)')
    .option('-c, --config <file>', 'configuration file (YAML)')
    .option('--data-dir <dir>', 'state directory for the embedded default')
    .action((server, options) => finish(pinDiff(options, server, io)));
  pin
    .command('approve <server> [name@hash...]')
    .description('approve exactly the reviewed versions: each a name or key (server:instructions, tools:send) with the hash pin diff showed; recorded with who and when, and in the audit trail with the OS user')
    .option('-c, --config <file>', 'configuration file (YAML)')
    .option('--data-dir <dir>', 'state directory for the embedded default')
    .option('--by <name>', 'who approves (default: $USER)')
    .option('--accept-findings', 'also approve definitions the scanner flagged (poisoning), after reading the findings')
    .action(async (server, items, options) => finish(await pinApprove(options, server, items, io)));
  pin
    .command('reject <server> [name@hash...]')
    .description('drop changed versions waiting for approval (name@hash as pin diff shows them); the approved versions stay pinned')
    .option('-c, --config <file>', 'configuration file (YAML)')
    .option('--data-dir <dir>', 'state directory for the embedded default')
    .option('--by <name>', 'who rejects, for the audit record (default: $USER)')
    .action(async (server, items, options) => finish(await pinReject(options, server, items, io)));
  pin
    .command('verify')
    .description("check the pins file's integrity (HMAC); exit 1 when it was edited, truncated or deleted outside portcullis")
    .option('-c, --config <file>', 'configuration file (YAML)')
    .option('--data-dir <dir>', 'state directory for the embedded default')
    .action((options) => finish(pinVerify(options, io)));
  pin
    .command('reseal')
    .description('accept the pins file as it is now (review it with pin list first) and sign it again')
    .option('-c, --config <file>', 'configuration file (YAML)')
    .option('--data-dir <dir>', 'state directory for the embedded default')
    .action((options) => finish(pinReseal(options, io)));
  pin
    .command('reset [server]')
    .description("forget the pins of one server, or of all (also recovers from a corrupt file): what is listed next is trusted on first use")
    .option('-c, --config <file>', 'configuration file (YAML)')
    .option('--data-dir <dir>', 'state directory for the embedded default')
    .action((server, options) => finish(pinReset(options, server, io)));

  const audit = program.command('audit').description('read and verify the audit trail');
  audit
    .command('verify')
    .description('re-walk the hash chain; report the first edited, deleted, inserted or reordered record (exit 1)')
    .option('-c, --config <file>', 'configuration file (YAML); default: the embedded default')
    .option('--data-dir <dir>', 'state directory for the embedded default')
    .option('--since <when>', 'check only records from then on (e.g. 24h), trusting the first one')
    .option('--witness <file>', 'signed checkpoints published outside the store (audit.witness): a tail cut with its checkpoints fails')
    .option('--live', 'the gateway is still writing: accept fewer than checkpointEvery records after the last signed checkpoint')
    .action(async (options) => finish(await verify(options, io)));
  audit
    .command('tail')
    .description('the latest records; with -f, follow new ones until Ctrl-C')
    .option('-c, --config <file>', 'configuration file (YAML); default: the embedded default')
    .option('--data-dir <dir>', 'state directory for the embedded default')
    .option('-n, --lines <n>', 'how many to show first', '10')
    .option('-f, --follow', 'keep printing new records')
    .option('--json', 'one JSON object per line')
    .action(async (options) => finish(await tail(options, io)));
  audit
    .command('export')
    .description('write records (and checkpoints) to a JSON Lines file that verifies offline')
    .option('-c, --config <file>', 'configuration file (YAML); default: the embedded default')
    .option('--data-dir <dir>', 'state directory for the embedded default')
    .option('--since <when>', 'e.g. 90d or an ISO date')
    .requiredOption('--to <file>', 'output file')
    .action(async (options) => finish(await exportTrail(options, io)));
  audit
    .command('keygen')
    .description('create an Ed25519 key that signs audit checkpoints (audit.signingKey)')
    .requiredOption('-o, --out <file>', 'where to write the private key (PEM, mode 600)')
    .option('--force', 'replace an existing file')
    .action((options) => finish(keygen(options, io)));
  audit
    .command('query')
    .description('list audit records, newest last')
    .option('-c, --config <file>', 'configuration file (YAML); default: the embedded default')
    .option('--data-dir <dir>', 'state directory for the embedded default')
    .option('--agent <name>', 'only this agent')
    .option('--tool <glob>', "only tools/prompts/resources matching this glob, e.g. 'read_*'")
    .option('--server <name>', 'only this server')
    .option('--decision <d>', 'allowed | denied | error | timeout | approval | intent')
    .option('--since <when>', 'e.g. 7d, 12h, 30m or an ISO date')
    .option('--limit <n>', 'the newest n records (shown oldest first)')
    .option('--json', 'one JSON object per line')
    .option('--csv', 'CSV with a header row')
    .action(async (options) => finish(await query(options, io)));

  const policy = program.command('policy').description('try the runtime policy offline: decisions and visible tools');
  const AS_HELP = 'the caller: agent=NAME,subject=USER,roles=R,scopes=S (repeat a key for more values; with roles or scopes the caller holds only those)';
  policy
    .command('test')
    .description('print the decision on one call and the rule that made it (exit 0 allowed, 1 denied)')
    .option('-c, --config <file>', 'configuration file (default: the embedded default)')
    .option('--data-dir <dir>', 'state directory for the embedded default')
    .requiredOption('--call <call>', 'the call: \'server.tool {"arg":"value"}\'')
    .option('--as <principal>', AS_HELP)
    .option('--task <label>', 'the task label the agent declares')
    .option('--at <time>', 'evaluate at this time (ISO 8601) instead of now')
    .option('--live', 'list the servers\' tools live instead of reading the pinned catalog')
    .option('--json', 'print { decision, rule, reason, code }')
    .action(async (options) => finish(await policyTest(options, io)));
  policy
    .command('explain')
    .description('show which tools a caller would see, and why')
    .option('-c, --config <file>', 'configuration file (default: the embedded default)')
    .option('--data-dir <dir>', 'state directory for the embedded default')
    .option('--as <principal>', AS_HELP)
    .option('--task <label>', 'the task label the agent declares')
    .option('--at <time>', 'evaluate at this time (ISO 8601) instead of now')
    .option('--live', 'list the servers\' tools live instead of reading the pinned catalog')
    .option('--json', 'JSON output')
    .action(async (options) => finish(await policyExplain(options, io)));

  const killTargets = (command: Command): Command =>
    command
      .option('-c, --config <file>', 'configuration file (default: the embedded default)')
      .option('--data-dir <dir>', 'state directory for the embedded default')
      .option('--all', 'every call')
      .option('--server <name>', 'every call to this server')
      .option('--tool <name>', 'this tool (a name or server.tool; globs allowed)')
      .option('--agent <name>', 'every call by this agent (globs allowed)')
      .option('--subject <user>', 'every call for this user (the verified subject), by any of its agents; matched exactly');
  killTargets(program.command('kill').description('stop calls at once, until `unkill` (persists across restarts)'))
    .option('--reason <text>', 'told to every caller that is stopped')
    .option('--by <name>', 'who pulled the switch (default: the OS user)')
    .option('--reseal', 'accept the kill-switch file as it is now (after review) and seal it')
    .action((options) => finish(kill(options, io)));
  killTargets(program.command('unkill').description('lift a kill switch'))
    .option('--everything', 'lift every switch')
    .action((options) => finish(unkill(options, io)));
  program
    .command('status')
    .description('kill switches, policy, quarantined definitions and audit store of a configuration')
    .option('-c, --config <file>', 'configuration file (default: the embedded default)')
    .option('--data-dir <dir>', 'state directory for the embedded default')
    .option('--json', 'JSON output')
    .action((options) => finish(status(options, io)));

  const withConfig = (command: Command): Command =>
    command.option('-c, --config <file>', 'configuration file (default: the embedded default)').option('--data-dir <dir>', 'state directory for the embedded default');
  const approvals = program.command('approvals').description('human approval of calls that rules with effect: approve hold (docs/approvals.md)');
  withConfig(approvals.command('list').description('approvals waiting for a decision'))
    .option('--all', 'every approval, whatever its state')
    .option('--json', 'JSON output: [{id, server, tool, principal, argsHash, rule, reason, createdAt, expiresAt, …}]')
    .action((options) => finish(approvalsList(options, io)));
  withConfig(approvals.command('grant <id>').description('let exactly that call run, once (never your own call)'))
    .option('--by <name>', 'who grants it (default: the OS user)')
    .option('--note <text>', 'recorded with the grant')
    .action(async (id, options) => finish(await approvalsGrant(id, options, io)));
  withConfig(approvals.command('deny <id>').description('refuse that call (the caller gets PC_APPROVAL_DENIED)'))
    .option('--by <name>', 'who denies it (default: the OS user)')
    .option('--reason <text>', 'told to the caller')
    .action(async (id, options) => finish(await approvalsDeny(id, options, io)));
  const agent = program.command('agent').description('per-agent client credentials of the embedded authorization server');
  withConfig(agent.command('add <name>').description('issue a client credential for an agent (the secret is shown once)'))
    .option('--scopes <scopes>', 'scopes the agent may ask for, space- or comma-separated')
    .option('--url <url>', 'the gateway URL to print in token_endpoint (default: identity.publicUrl or the listen address)')
    .option('--json', 'print { client_id, client_secret, token_endpoint }')
    .action((name, options) => finish(agentAdd(name, options, io)));
  withConfig(agent.command('list').description('agents and their state'))
    .option('--json', 'JSON output')
    .action((options) => finish(agentList(options, io)));
  withConfig(agent.command('revoke <name>').description('refuse the agent\'s tokens and keys from the next call'))
    .action((name, options) => finish(agentRevoke(name, options, io)));
  const key = program.command('key').description('API keys, for clients that cannot do OAuth');
  withConfig(key.command('create').description('create an API key (shown once, stored as a hash)'))
    .requiredOption('--agent <name>', 'the agent the key acts as')
    .option('--scopes <scopes>', 'scopes the key holds, space- or comma-separated')
    .option('--expires <duration>', 'lifetime: 30d, 12h, 90m (never: only with identity.apiKeys.allowNoExpiry)')
    .option('--json', 'print { id, key, agent, scopes, expires_at }')
    .action((options) => finish(keyCreate(options, io)));
  withConfig(key.command('list').description('keys with expiry and last use (never the keys themselves)'))
    .option('--json', 'JSON output')
    .action((options) => finish(keyList(options, io)));
  withConfig(key.command('revoke <id>').description('revoke a key from the next call'))
    .action((id, options) => finish(keyRevoke(id, options, io)));

  const client = program.command('client').description('OAuth clients an administrator registers with the embedded authorization server');
  withConfig(client.command('add <name>').description('register a public client (authorization code + PKCE); custom schemes allowed here'))
    .requiredOption('--redirect-uri <uri...>', 'where the client receives its code (https, http on loopback, or com.example.app:/path)')
    .option('--json', 'print { client_id, name, redirect_uris }')
    .action((name, options) => finish(clientAdd(name, options, io)));
  withConfig(client.command('list').description('registered clients'))
    .option('--json', 'JSON output')
    .action((options) => finish(clientList(options, io)));
  withConfig(client.command('remove <name>').description('remove a client and revoke its grants'))
    .action((name, options) => finish(clientRemove(name, options, io)));
  const user = program.command('user').description('users of the embedded authorization server');
  withConfig(user.command('signout <name>').description('revoke every grant of a user: their tokens are refused from the next call'))
    .action((name, options) => finish(userSignout(name, options, io)));

  const repeat = (value: string, previous: string[] = []): string[] => [...previous, value];
  const discoveryFlags = (command: Command): Command =>
    command
      .option('--home <dir>', 'the home folder to read (default: $HOME); machine-wide files are then read only with --system')
      .option('--project <dir>', 'a project folder to read too (repeat for more)', repeat)
      .option('--scan <dir>', 'search this folder for project folders (bounded depth; repeat for more)', repeat)
      .option('--system <dir>', 'root of machine-wide managed files (default: / without --home)')
      .option('-c, --config <file>', 'this gateway\'s configuration: which servers it already runs and pins')
      .option('--gateway <url>', 'a URL of this gateway (entries pointing at it count as going through it; repeat for more)', repeat);
  discoveryFlags(program.command('discover').description('inventory every MCP server the clients on this machine are configured with: supply, credentials, findings'))
    .option('--json', 'machine-readable report')
    .option('--sarif', 'SARIF 2.1.0, for code-scanning dashboards')
    .option('--fail-on <severity>', 'exit 1 when a finding is at this severity or above: critical, high, medium, low, info')
    .action((options) => finish(discover(options, io)));
  discoveryFlags(program.command('import').description('write a gateway configuration for the discovered servers (secrets as env: references, pins, a starter policy)'))
    .option('--from-discovery <file>', 'build from a saved `portcullis discover --json` report instead of reading the clients')
    .requiredOption('-o, --output <file>', 'where to write the configuration (mode 600)')
    .option('--force', 'overwrite an existing file')
    .action((options) => finish(importConfig(options, io)));
  program
    .command('install')
    .description("rewrite a client's configuration so its servers are reached through the gateway (with a backup; --undo restores it)")
    .requiredOption('--client <name>', 'claude-code, claude-desktop, cursor, vscode, windsurf, codex, gemini, cline, roo, zed, copilot, amazonq, junie')
    .option('--home <dir>', 'the home folder whose files to change (default: $HOME)')
    .option('--project <dir>', 'also change this project folder\'s files (repeat for more)', repeat)
    .option('-c, --config <file>', 'the gateway configuration the servers are routed to (matched by what they run)')
    .option('--gateway <url>', 'reach the gateway over HTTP at this base URL (each server at <url>/mcp/<name>)')
    .option('--stdio', 'reach the gateway through its stdio front (needs -c)')
    .option('--api-key-env <name>', 'with --gateway: send the API key from this environment variable as a bearer token')
    .option('--allow-plain-http', 'with --api-key-env: allow a plain http --gateway on another machine (the key travels in clear)')
    .option('--dry-run', 'print the change as a diff (secrets masked) and write nothing')
    .option('--undo', 'restore the backup the last install made (refused if the file changed since)')
    .option('--force', 'with --undo: restore even if the file changed since the install')
    .action((options) => finish(install(options, io)));
  withConfig(program.command('credentials').description('the credential register: agents, API keys and upstream secrets, their age and rotation, who can call what'))
    .option('--json', 'JSON output')
    .action((options) => finish(credentials(options, io)));

  const alerts = program.command('alerts').description('behaviour alerts the monitor raised (docs/monitor.md)');
  withConfig(alerts.command('list').description('alerts, oldest first, with what each contained'))
    .option('--since <when>', 'e.g. 7d, 12h, 30m or an ISO date')
    .option('--open', 'only alerts not yet acknowledged')
    .option('--json', 'one JSON object per line')
    .action((options) => finish(alertsList(options, io)));
  withConfig(alerts.command('ack').description('acknowledge an alert (it stays in the file, marked)').argument('<id>', 'the alert id (al_…)'))
    .option('--by <name>', 'who acknowledges (default: the OS user)')
    .action((id, options) => finish(alertsAck(id, options, io)));

  const config = program.command('config').description('work with configuration files');
  config
    .command('check')
    .description('validate a config file and list every problem with its path (exit 2 when invalid)')
    .requiredOption('-c, --config <file>', 'configuration file (YAML)')
    .action((options) => finish(check(options, io)));
  config
    .command('schema')
    .description('print the JSON Schema of the config file')
    .action(async () => finish((io.out(await configJsonSchema()), 0)));

  applyGuide(program);
  return program;
}
