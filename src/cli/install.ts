import type { Io } from './serve.ts';
export function installCommand(_options: Record<string, unknown>, _io: Pick<Io, 'out' | 'err' | 'secrets'>): number {
  return 2;
}
