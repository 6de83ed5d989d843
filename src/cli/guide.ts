/**
 * `portcullis --help` in the order a newcomer needs the commands — run it, write a config, check it,
 * connect a client, try the policy, read the trail — with one example each. Commands not listed here
 * follow in the order they were added; a test checks that every command has an example.
 */
import type { Command } from 'commander';

export const COMMAND_GUIDE: ReadonlyArray<{ name: string; example: string }> = [
  { name: 'serve', example: 'portcullis serve -c portcullis.yaml' },
  { name: 'init', example: 'portcullis init -o portcullis.yaml' },
  { name: 'config', example: 'portcullis config check -c portcullis.yaml' },
  { name: 'connect', example: 'portcullis connect --client claude-code -c portcullis.yaml' },
  { name: 'stdio', example: 'portcullis stdio -c /abs/path/portcullis.yaml' },
  { name: 'policy', example: 'portcullis policy test -c portcullis.yaml --call \'files.read_text_file {"path":"/etc/passwd"}\'' },
  { name: 'audit', example: 'portcullis audit query -c portcullis.yaml --decision denied --since 1d' },
  { name: 'status', example: 'portcullis status -c portcullis.yaml' },
  { name: 'kill', example: 'portcullis kill --server files --reason "incident 42" -c portcullis.yaml' },
  { name: 'unkill', example: 'portcullis unkill --server files -c portcullis.yaml' },
  { name: 'key', example: 'portcullis key create --agent my-script --expires 30d -c portcullis.yaml' },
  { name: 'agent', example: 'portcullis agent add ci-bot --scopes "mcp files:read" -c portcullis.yaml' },
  { name: 'client', example: 'portcullis client add my-app --redirect-uri http://127.0.0.1:33418/callback -c portcullis.yaml' },
  { name: 'user', example: 'portcullis user signout alice -c portcullis.yaml' },
  { name: 'scan', example: 'portcullis scan --tools-file tools.json' },
  { name: 'pin', example: 'portcullis pin diff -c portcullis.yaml files' },
  { name: 'dlp', example: 'portcullis dlp test --text "key AKIA… in a result" --json' },
  { name: 'discover', example: 'portcullis discover --project ~/src/app --fail-on high' },
  { name: 'import', example: 'portcullis import -o portcullis.yaml' },
  { name: 'install', example: 'portcullis install --client cursor --gateway http://127.0.0.1:8787 -c portcullis.yaml --dry-run' },
  { name: 'credentials', example: 'portcullis credentials -c portcullis.yaml' },
  { name: 'approvals', example: 'portcullis approvals list -c portcullis.yaml' },
  { name: 'alerts', example: 'portcullis alerts list -c portcullis.yaml --open --since 1d' },
];

/** Orders the root command list as the guide says and adds an example to each command's help. */
export function applyGuide(program: Command): void {
  const rank = new Map(COMMAND_GUIDE.map((entry, i) => [entry.name, i]));
  const position = (command: Command): number => rank.get(command.name()) ?? COMMAND_GUIDE.length;
  program.configureHelp({
    visibleCommands: (command) => {
      const visible = command.commands.filter((c) => !(c as Command & { _hidden?: boolean })._hidden);
      return command === program ? [...visible].sort((a, b) => position(a) - position(b)) : visible;
    },
  });
  for (const { name, example } of COMMAND_GUIDE) {
    program.commands.find((c) => c.name() === name)?.addHelpText('after', `\nExample:\n  $ ${example}\n`);
  }
  program.addHelpText('after', ['', 'Start here:', ...COMMAND_GUIDE.slice(0, 7).map((e) => `  $ ${e.example}`), '', 'Reference: the docs/ folder of the package (README.md links every page)', ''].join('\n'));
}
