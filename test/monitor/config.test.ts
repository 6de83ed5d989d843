/**
 * The `monitor` section at load: bad values are refused with their path, references that do not
 * resolve are errors, and settings an attacker could turn around are warned about.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateConfig } from '../../src/config/load.ts';
import { processSecretSource } from '../../src/config/secrets.ts';

const base = { servers: { files: { command: 'node' } }, policy: { rules: [{ name: 'r', effect: 'allow' }] } };
const paths = (result: ReturnType<typeof validateConfig>) => (result.ok ? [] : result.problems.map((p) => p.path));

describe('monitor configuration', () => {
  it('refuses malformed durations, rates, actions, time zones and webhook URLs, naming each path', () => {
    const result = validateConfig({
      ...base,
      monitor: {
        learningPeriod: '7 days',
        detectors: { volume: { min: '50 per minute' }, denials: { action: 'shutdown' }, offHours: { timeZone: 'Mars/Olympus' } },
        sinks: [{ type: 'webhook', url: 'ftp://example.com' }],
      },
    });
    assert.equal(result.ok, false);
    assert.deepEqual(paths(result).sort(), ['monitor.detectors.denials.action', 'monitor.detectors.offHours.timeZone', 'monitor.detectors.volume.min', 'monitor.learningPeriod', 'monitor.sinks[0].url'].sort());
  });

  it('refuses an unknown key (strict) and a reference that does not resolve', () => {
    assert.deepEqual(paths(validateConfig({ ...base, monitor: { detectors: { volume: { factr: 5 } } } })), ['monitor.detectors.volume']);
    const unresolved = validateConfig({ ...base, monitor: { sinks: [{ type: 'webhook', url: 'env:PC_NO_SUCH_URL', secret: 'env:PC_NO_SUCH_KEY' }] } }, processSecretSource({}));
    assert.deepEqual(paths(unresolved), ['monitor.sinks[0].url', 'monitor.sinks[0].secret']);
  });

  it('parses durations and rates, and warns about containment a caller could turn against others', () => {
    const result = validateConfig({
      ...base,
      monitor: { learningPeriod: '2d', detectors: { volume: { min: '2/s', action: 'kill-agent', for: '30m' }, denials: { action: 'kill-tool' }, stepUp: { action: 'require-approval', for: '5m' } }, sinks: [{ type: 'webhook', url: 'https://hooks.example.com/x' }] },
    });
    assert.equal(result.ok, true);
    if (!result.ok) return;
    const monitor = result.config.monitor!;
    assert.equal(monitor.learningPeriod, 2 * 86_400_000);
    assert.equal(monitor.detectors.volume.min, 120);
    assert.equal(monitor.detectors.volume.for, 30 * 60_000);
    const warned = result.warnings.map((w) => w.path);
    assert.ok(warned.includes('monitor.detectors.volume.action'), warned.join());
    assert.ok(warned.includes('monitor.detectors.denials.action'), warned.join());
    assert.ok(warned.includes('monitor.detectors.stepUp.action'), 'require-approval on a self-declared agent name is warned about too');
    assert.equal(monitor.detectors.stepUp.action, 'require-approval');
    assert.ok(warned.includes('monitor.sinks[0].secret'), warned.join());
  });

  it('warns that a monitor without an audit trail watches nothing', () => {
    const result = validateConfig({ ...base, audit: { store: 'off' }, monitor: {} });
    assert.equal(result.ok, true);
    if (result.ok) assert.ok(result.warnings.some((w) => w.path === 'monitor'));
  });
});
