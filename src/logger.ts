/**
 * The one logger: pino, JSON lines to stderr (stdout belongs to the stdio front's protocol stream).
 *
 * Every log line passes one screen before it is written: its message and each string (and number) of
 * its fields, at any depth, go through the secret test, and one holding a secret is written as
 * `[redacted]` — a client's agent name, a JSON-RPC id, a method or tool name, or a server's error text
 * quoted in a line is the client's or server's own text (docs/audit.md "Redaction"). Until the gateway
 * hands its DLP-backed test over (`screenLogs`), DLP's built-in rules are used.
 */
import { pino, type Logger } from 'pino';
import { MASK, type SecretTest } from './audit/redact.ts';
import { holdsBuiltInSecret } from './dlp/create.ts';

/** The test in force per logger made here (children share their root's hook, and so its holder). */
const screens = new WeakMap<Logger, { test: SecretTest }>();

export function createLogger(level: string): Logger {
  const screen: { test: SecretTest } = { test: holdsBuiltInSecret };
  const logger = pino(
    {
      level,
      base: { service: 'portcullis' },
      redact: { paths: ['*.authorization', '*.Authorization', 'headers', 'env'], censor: '[redacted]' },
      hooks: {
        // Called only for levels that are on: lines not written cost nothing.
        logMethod(args, method) {
          method.apply(this, screenArgs(args, screen.test) as Parameters<typeof method>);
        },
      },
    },
    pino.destination(2),
  );
  screens.set(logger, screen);
  return logger;
}

/** Makes `test` the screen of a logger made by createLogger (a no-op for any other logger). */
export function screenLogs(logger: Logger, test: SecretTest): void {
  const screen = screens.get(logger);
  if (screen) screen.test = test;
}

/** A log call's arguments (`[fields?, message?, ...interpolation]`) with every secret-holding text masked. */
export function screenArgs(args: readonly unknown[], test: SecretTest): unknown[] {
  return args.map((arg) => screenValue(arg, test, 0));
}

function screenValue(value: unknown, test: SecretTest, depth: number): unknown {
  if (typeof value === 'string') return test(value) ? MASK : value;
  if (typeof value === 'number') return test(String(value)) ? MASK : value;
  if (value === null || typeof value !== 'object') return value;
  if (depth >= 8) return value instanceof Error ? screenValue(value.message, test, depth) : MASK;
  // An error logged as a field: its message and stack are text like any other (pino's serializer reads them).
  if (value instanceof Error) {
    const copy = { type: value.name, message: screenValue(value.message, test, depth + 1), stack: screenValue(value.stack ?? '', test, depth + 1) };
    return copy;
  }
  if (Array.isArray(value)) return value.map((item) => screenValue(item, test, depth + 1));
  const out: Record<string, unknown> = {};
  let n = 0;
  for (const [key, item] of Object.entries(value)) {
    out[test(key) ? `${MASK}#${++n}` : key] = screenValue(item, test, depth + 1);
  }
  return out;
}
