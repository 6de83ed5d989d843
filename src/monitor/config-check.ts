/**
 * What `config check` (and start-up) says about the `monitor` section beyond its schema: references
 * that do not resolve (errors), and settings that would not do what they seem to (warnings) — a
 * monitor with no audit trail to watch, and containment an attacker could turn against others.
 */
import type { ConfigProblem } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { isSecretRef, resolveValue, type SecretSource } from '../config/secrets.ts';

export function checkMonitor(config: Config, source: SecretSource | undefined, agentsSelfDeclared: boolean): { errors: ConfigProblem[]; warnings: ConfigProblem[] } {
  const errors: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const monitor = config.monitor;
  if (!monitor || !monitor.enabled) return { errors, warnings };
  const ref = (path: string, value: string | undefined) => {
    if (!source || value === undefined || !isSecretRef(value)) return;
    const resolved = resolveValue(value, source);
    if ('problem' in resolved) errors.push({ path, message: resolved.problem, severity: 'error' });
  };
  monitor.sinks.forEach((sink, i) => {
    if (sink.type === 'webhook') {
      ref(`monitor.sinks[${i}].url`, sink.url);
      ref(`monitor.sinks[${i}].secret`, sink.secret);
      if (!sink.secret) warnings.push({ path: `monitor.sinks[${i}].secret`, message: 'missing: the receiver cannot tell alerts from forgeries (X-Portcullis-Signature is not sent)', severity: 'warning' });
    } else if (sink.type === 'otlp') {
      for (const [name, value] of Object.entries(sink.headers)) ref(`monitor.sinks[${i}].headers.${name}`, value);
    }
  });
  if (config.audit.store === 'off') warnings.push({ path: 'monitor', message: 'audit.store is off: there is no decision stream to watch, so nothing is monitored', severity: 'warning' });
  for (const [name, detector] of Object.entries(monitor.detectors)) {
    if (!detector.enabled) continue;
    if ((detector.action === 'kill-agent' || detector.action === 'require-approval') && agentsSelfDeclared) {
      warnings.push({ path: `monitor.detectors.${name}.action`, message: `${detector.action} while agent names are self-declared (identity off, no identity.localAgent): a caller can name itself after another agent and get that agent ${detector.action === 'kill-agent' ? 'stopped' : 'held for approval'}`, severity: 'warning' });
    }
    if (detector.action === 'kill-tool') {
      warnings.push({ path: `monitor.detectors.${name}.action`, message: 'kill-tool: one caller\'s behaviour stops the tool for every caller (for the configured time)', severity: 'warning' });
    }
  }
  return { errors, warnings };
}
