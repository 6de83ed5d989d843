/** The one logger: pino, JSON lines to stderr (stdout belongs to the stdio front's protocol stream). */
import { pino, type Logger } from 'pino';

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'portcullis' }, redact: { paths: ['*.authorization', '*.Authorization', 'headers', 'env'], censor: '[redacted]' } }, pino.destination(2));
}
