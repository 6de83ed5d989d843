/**
 * The poisoning evaluation sets of issue 14 (`poisoning-dev.json`, `-dev2.json` … `-dev4.json`: tuned on;
 * `poisoning-heldout.json`: written after the signals and weights were frozen, reported once): each set is a catalogue of
 * servers connected to one agent — the ordinary `context` servers and a server per item — scanned
 * together, as the gateway scans what is connected, so that references to other servers' tools show.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Sample } from '../../src/inspect/logistic.ts';
import { catalogue, walkDefinition, type Definition, type ServerTools } from '../../src/inspect/scanner.ts';
import { definitionSignals, type Feature } from '../../src/inspect/signals.ts';

interface Compact {
  name: string;
  description?: string;
  params?: Record<string, string | Record<string, unknown>>;
  outputSchema?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
}
interface Item extends Compact {
  kind: string;
  server: string;
  /** Other tools of the item's server (stubs), so that references to them are known. */
  siblings?: string[];
}

export interface EvalItem {
  kind: string;
  server: string;
  name: string;
}

export interface EvalSet {
  servers: ServerTools[];
  items: EvalItem[];
}

/** A compact item as the tool definition a server lists. */
export function expand(c: Compact): Definition {
  const properties = Object.fromEntries(Object.entries(c.params ?? {}).map(([k, v]) => [k, typeof v === 'string' ? { type: 'string', description: v } : v]));
  const tool: Definition = { name: c.name };
  if (c.description !== undefined) tool.description = c.description;
  tool.inputSchema = { type: 'object', properties };
  if (c.outputSchema) tool.outputSchema = c.outputSchema;
  if (c.annotations) tool.annotations = c.annotations;
  return tool;
}

export function loadSet(file: URL | string): EvalSet {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as { context?: Record<string, Compact[]>; items: Item[] };
  const servers = new Map<string, ServerTools>();
  const server = (name: string): ServerTools => {
    let s = servers.get(name);
    if (!s) servers.set(name, (s = { server: name, tools: [] }));
    return s;
  };
  for (const [name, tools] of Object.entries(raw.context ?? {})) for (const t of tools) server(name).tools.push(expand(t));
  for (const item of raw.items) {
    const s = server(item.server);
    s.tools.push(expand(item));
    for (const sibling of item.siblings ?? []) if (!s.tools.some((t) => t.name === sibling)) s.tools.push({ name: sibling, description: 'A tool of the same server.' });
  }
  return { servers: [...servers.values()], items: raw.items.map((i) => ({ kind: i.kind, server: i.server, name: i.name })) };
}

export const DEV = new URL('./poisoning-dev.json', import.meta.url);
export const DEV2 = new URL('./poisoning-dev2.json', import.meta.url);
export const DEV3 = new URL('./poisoning-dev3.json', import.meta.url);
export const DEV4 = new URL('./poisoning-dev4.json', import.meta.url);
export const HELDOUT = new URL('./poisoning-heldout.json', import.meta.url);
/**
 * The independent development set: written by two other authors (not the scanner engineer) in their
 * own words, given to us after the rules of 35d3cc3; measured once on first contact, then tuned on.
 */
export const INDEP_DEV = new URL('./poisoning-indep-dev.json', import.meta.url);
/**
 * Two more independent sets (other authors again, never seen while the families of 76810a0 were
 * written); measured once at first contact (docs/supply-chain.md), then tuned on (its rules, not
 * the trained layer: retrained with them, the layer lost 3 attacks of indep-dev and gained a real-benign alarm).
 */
export const INDEP_DEV2 = new URL('./poisoning-indep-dev2.json', import.meta.url);
export const INDEP_DEV3 = new URL('./poisoning-indep-dev3.json', import.meta.url);
/**
 * Two more independent sets of the third round (outside authors writer-ember and writer-quill): measured once
 * untouched at first contact (docs/supply-chain.md), then tuned on.
 */
export const INDEP_DEV5 = new URL('./poisoning-indep-dev5.json', import.meta.url);
export const INDEP_DEV6 = new URL('./poisoning-indep-dev6.json', import.meta.url);
/**
 * The final frozen set of the second round: a third independent author, written while the rules of this
 * round were being tuned and kept from the scanner engineers; scanned once at e565406 (its figure then, 97/130 high each server alone, is in docs/supply-chain.md). Tuned on
 * since the third round: a development set now, reported as such.
 */
export const INDEP_FROZEN = new URL('./poisoning-indep-frozen.json', import.meta.url);
/**
 * The frozen sets of the third round: two more outside authors (writer-basalt: data, cloud, legal/HR;
 * writer-lark: education, media, commerce, support, IoT, written to evade a structural scanner), kept from
 * the scanner engineer and scanned once by the lead at the round's final rules (3f624e8), each server alone.
 * Their figures are in docs/supply-chain.md; tuning on them from now on makes them development sets.
 */
export const FROZEN3_BASALT = new URL('./poisoning-frozen3-basalt.json', import.meta.url);
export const FROZEN3_LARK = new URL('./poisoning-frozen3-lark.json', import.meta.url);
/** The fourth round's frozen sets (writer-cobalt, writer-flint): kept from the engineer tuning the scanner, scanned once at 2006e7f; development sets from the fifth round on. */
export const FROZEN4_COBALT = new URL('./poisoning-frozen4-cobalt.json', import.meta.url);
export const FROZEN4_FLINT = new URL('./poisoning-frozen4-flint.json', import.meta.url);
/**
 * The fifth round's frozen sets (writer-dune, writer-ember; docs/supply-chain.md, "The frozen figure
 * (fifth round)"): written from a brief alone, kept from the engineer tuning the scanner, scanned once
 * by the lead, each server alone, at the round's start (676fdac: 113 and 118 of 130 high, 14 and 18 of
 * 100 hard benign; re-measured at 676fdac in the sixth round, the same) and its final rules (e96dd9f: 113
 * and 119, 13 and 18). Development sets since the sixth round: its purpose/demand signals were written
 * after reading their misses and false alarms (docs/supply-chain.md).
 */
export const FROZEN5_DUNE = new URL('./poisoning-frozen5-dune.json', import.meta.url);
export const FROZEN5_EMBER = new URL('./poisoning-frozen5-ember.json', import.meta.url);
/**
 * The sixth round's frozen sets (writer-fjord, writer-garnet; docs/supply-chain.md, "The frozen figure
 * (sixth round)"): written from the same brief, never shown to the engineer tuning the scanner, scanned
 * by the lead, each server alone, at the round's start (c7f9cf0: 119 and 119 of 130 high, 7 and 5 of 100
 * hard benign) and after the round's scanner changes were merged (120 and 119, 8 and 5).
 */
export const FROZEN6_FJORD = new URL('./poisoning-frozen6-fjord.json', import.meta.url);
export const FROZEN6_GARNET = new URL('./poisoning-frozen6-garnet.json', import.meta.url);
/**
 * The seventh round's frozen sets (writer-heron: 69 % of items in eleven languages other than English;
 * writer-ibis: terse developer-tool definitions, attacks in single clauses and schema fields): never shown
 * to the engineer tuning the scanner, scanned by the lead, each server alone, at the round's start
 * (e02d0cc: 107 and 107 of 130 high, 10 and 4 of 100 hard benign) and after the round's scanner changes
 * were merged (fe2ea6b: 108 and 108, 8 and 4).
 */
export const FROZEN7_HERON = new URL('./poisoning-frozen7-heron.json', import.meta.url);
export const FROZEN7_IBIS = new URL('./poisoning-frozen7-ibis.json', import.meta.url);
/**
 * The eighth round's frozen sets (writer-jade: vendor-documentation voice, attacks buried in Notes and
 * Setup paragraphs; writer-kestrel: declarative policy voice, 44 % of items in ten languages the lists did
 * not cover): never shown to anyone tuning the scanner, scanned by the lead, each server alone, at the
 * round's start (cb8873c: 119 and 88 of 130 high, 14 and 6 of 100 hard benign); no scanner change of the
 * round was merged (docs/supply-chain.md, "The frozen figure (eighth round)"). Development sets since: the
 * mood- and language-independent signals of voice.ts were written after reading their misses
 * (docs/supply-chain.md, "Eighth round: mood and language").
 */
export const FROZEN8_JADE = new URL('./poisoning-frozen8-jade.json', import.meta.url);
export const FROZEN8_KESTREL = new URL('./poisoning-frozen8-kestrel.json', import.meta.url);
/**
 * The ninth round's frozen sets (writer-lumen: changelogs, error tables, manifests, legalese, 15 languages
 * besides English; writer-moss: changelogs, API reference, man pages, runbooks, marketing copy, 25
 * languages besides English): written from the brief alone while the round's scanner changes were made,
 * never shown to anyone tuning the scanner, scanned by the lead, each server alone, at the round's start
 * (017d29d: 110 and 114 of 130 high, 5 and 8 of 100 hard benign) and after its scanner changes were merged
 * (115 and 118, 6 and 8; docs/supply-chain.md, "The frozen figure (ninth round)"). Development sets from
 * the tenth round on.
 */
export const FROZEN9_LUMEN = new URL('./poisoning-frozen9-lumen.json', import.meta.url);
export const FROZEN9_MOSS = new URL('./poisoning-frozen9-moss.json', import.meta.url);
export const FROZEN10_NOVA = new URL('./poisoning-frozen10-nova.json', import.meta.url);
export const FROZEN10_OPAL = new URL('./poisoning-frozen10-opal.json', import.meta.url);

const CORPORA = new URL('../../../shared/corpora/', import.meta.url).pathname;

/** The 1,282 real benign definitions of ../shared/corpora, read in place, by source. */
export function benignCorpora(): { livemcpbench: ServerTools[]; docker: ServerTools[] } {
  const livemcpbench: ServerTools[] = [];
  const live = JSON.parse(readFileSync(join(CORPORA, 'livemcpbench/tools/LiveMCPTool/tools.json'), 'utf8')) as Array<{ tools?: Record<string, { tools?: object[] }> }>;
  for (const s of live) for (const [key, v] of Object.entries(s.tools ?? {})) livemcpbench.push({ server: `live:${key}`, tools: (v.tools ?? []) as ServerTools['tools'] });
  const docker: ServerTools[] = [];
  const dir = join(CORPORA, 'docker-mcp-registry/servers');
  for (const name of readdirSync(dir)) {
    const tools = JSON.parse(readFileSync(join(dir, name, 'tools.json'), 'utf8')) as Array<Record<string, unknown>>;
    docker.push({
      server: `docker:${name}`,
      // The registry lists arguments as [{ name, type, desc }]: shown to the model as an input schema.
      tools: tools.map((t) => (Array.isArray(t.arguments) ? { ...t, inputSchema: { type: 'object', properties: Object.fromEntries((t.arguments as Array<{ name: string; type?: string; desc?: string }>).map((a) => [a.name, { type: a.type, description: a.desc }])) } } : t)),
    });
  }
  return { livemcpbench, docker };
}

/** The project's earlier malicious corpus (test/corpus/malicious-tools.json), by split; `context` entries are benign victims. */
export function ownCorpus(splits: readonly string[]): EvalSet {
  const raw = JSON.parse(readFileSync(new URL('./malicious-tools.json', import.meta.url), 'utf8')) as { tools: Array<{ server: string; covers: string; split: string; tool: Definition }> };
  const servers = new Map<string, ServerTools>();
  const items: EvalItem[] = [];
  for (const e of raw.tools) {
    if (e.split !== 'context' && !splits.includes(e.split)) continue;
    const s = servers.get(e.server) ?? { server: e.server, tools: [] };
    s.tools.push(e.tool);
    servers.set(e.server, s);
    if (e.split !== 'context') items.push({ kind: e.covers.split('.')[0]!, server: e.server, name: String(e.tool.name) });
  }
  return { servers: [...servers.values()], items };
}

/**
 * Signal features of every tool of a catalogue, as the scanner computes them; `alone`: each server
 * scanned by itself, as when one server's listing is checked with nothing else connected (references
 * to other servers' tools are then not known to be such).
 */
export function featuresOf(set: EvalSet, alone = false): Map<string, Record<Feature, number>> {
  const byServer = catalogue(set.servers);
  const out = new Map<string, Record<Feature, number>>();
  for (const s of set.servers) {
    const others = alone ? new Map([[s.server, byServer.get(s.server) ?? new Set<string>()]]) : byServer;
    for (const t of s.tools) {
      const r = definitionSignals(t, walkDefinition(t).texts, { server: s.server, siblings: byServer.get(s.server) ?? new Set(), others });
      out.set(`${s.server}\0${String(t.name)}`, r.features);
    }
  }
  return out;
}

export interface Source {
  name: string;
  samples: Sample[];
  /** The kind of attack of each sample (`benign` for label 0). */
  kinds: string[];
}

/** Every item once with its catalogue and, where that differs, once alone (see `featuresOf`). */
function labelled(name: string, set: EvalSet, benignKinds: ReadonlySet<string>): Source {
  const samples: Sample[] = [];
  const kinds: string[] = [];
  const withCatalogue = featuresOf(set);
  const alone = set.servers.length > 1 ? featuresOf(set, true) : undefined;
  for (const features of alone ? [withCatalogue, alone] : [withCatalogue]) {
    for (const item of set.items) {
      samples.push({ features: features.get(`${item.server}\0${item.name}`)!, label: benignKinds.has(item.kind) ? 0 : 1 });
      kinds.push(item.kind);
    }
  }
  return { name, samples, kinds };
}

function allTools(servers: readonly ServerTools[]): EvalSet {
  return { servers: [...servers], items: servers.flatMap((s) => s.tools.map((t) => ({ kind: 'benign', server: s.server, name: String(t.name) }))) };
}

/**
 * The sets written by outside authors who never saw the rules, each with its figure at first contact
 * (each server alone, the rules of that commit, before any change for it; docs/supply-chain.md): the
 * difference between that figure and today's is what the rules were tuned on it, which a retrained
 * layer cannot take back.
 */
export const INDEPENDENT_SETS = [
  { name: 'indep-dev', file: INDEP_DEV, firstContact: { commit: '35d3cc3', high: 175, benignHigh: 16 } },
  { name: 'indep-dev2', file: INDEP_DEV2, firstContact: { commit: '76810a0', high: 86, benignHigh: 16 } },
  { name: 'indep-dev3', file: INDEP_DEV3, firstContact: { commit: '76810a0', high: 69, benignHigh: 20 } },
  { name: 'indep-frozen', file: INDEP_FROZEN, firstContact: { commit: 'e565406', high: 97, benignHigh: 5 } },
  { name: 'indep-dev5', file: INDEP_DEV5, firstContact: { commit: 'fec3aa6', high: 91, benignHigh: 5 } },
  { name: 'indep-dev6', file: INDEP_DEV6, firstContact: { commit: 'fec3aa6', high: 85, benignHigh: 7 } },
  { name: 'frozen3-basalt', file: FROZEN3_BASALT, firstContact: { commit: '3f624e8', high: 103, benignHigh: 10 } },
  { name: 'frozen3-lark', file: FROZEN3_LARK, firstContact: { commit: '3f624e8', high: 103, benignHigh: 4 } },
  { name: 'frozen4-cobalt', file: FROZEN4_COBALT, firstContact: { commit: '2006e7f', high: 102, benignHigh: 8 } },
  { name: 'frozen4-flint', file: FROZEN4_FLINT, firstContact: { commit: '2006e7f', high: 108, benignHigh: 11 } },
  { name: 'frozen5-dune', file: FROZEN5_DUNE, firstContact: { commit: '676fdac', high: 113, benignHigh: 14 } },
  { name: 'frozen5-ember', file: FROZEN5_EMBER, firstContact: { commit: '676fdac', high: 118, benignHigh: 18 } },
  { name: 'frozen6-fjord', file: FROZEN6_FJORD, firstContact: { commit: 'c7f9cf0', high: 119, benignHigh: 7 } },
  { name: 'frozen6-garnet', file: FROZEN6_GARNET, firstContact: { commit: 'c7f9cf0', high: 119, benignHigh: 5 } },
  { name: 'frozen7-heron', file: FROZEN7_HERON, firstContact: { commit: 'e02d0cc', high: 107, benignHigh: 10 } },
  { name: 'frozen7-ibis', file: FROZEN7_IBIS, firstContact: { commit: 'e02d0cc', high: 107, benignHigh: 4 } },
  { name: 'frozen8-jade', file: FROZEN8_JADE, firstContact: { commit: 'cb8873c', high: 119, benignHigh: 14 } },
  { name: 'frozen8-kestrel', file: FROZEN8_KESTREL, firstContact: { commit: 'cb8873c', high: 88, benignHigh: 6 } },
  { name: 'frozen9-lumen', file: FROZEN9_LUMEN, firstContact: { commit: '017d29d', high: 110, benignHigh: 5 } },
  { name: 'frozen9-moss', file: FROZEN9_MOSS, firstContact: { commit: '017d29d', high: 114, benignHigh: 8 } },
  { name: 'frozen10-nova', file: FROZEN10_NOVA, firstContact: { commit: '5cce038', high: 109, benignHigh: 11 } },
  { name: 'frozen10-opal', file: FROZEN10_OPAL, firstContact: { commit: '5cce038', high: 102, benignHigh: 8 } },
] as const;

/**
 * Every labelled source (never the held-out set): the project's sets, the earlier corpus, the real
 * benign definitions and every independent set (`INDEPENDENT_SETS`); the weights use `SHIPPED_TRAINING`.
 */
export function trainingSources(): Source[] {
  const benign = benignCorpora();
  const none = new Set(['benign']);
  return [
    labelled('dev', loadSet(DEV), none),
    labelled('dev2', loadSet(DEV2), none),
    labelled('dev3', loadSet(DEV3), none),
    labelled('dev4', loadSet(DEV4), none),
    ...INDEPENDENT_SETS.map((s) => labelled(s.name, loadSet(s.file), none)),
    labelled('own', ownCorpus(['tune', 'holdout']), none),
    labelled('livemcpbench', allTools(benign.livemcpbench), none),
    labelled('docker', allTools(benign.docker), none),
  ];
}

/**
 * The sources the shipped weights are trained on (scripts/train-scan.ts). Adding the other independent sets
 * was measured by bench/scan-loso.ts and lost left-out attacks, so they stay out.
 */
export const SHIPPED_TRAINING = new Set(['dev', 'dev2', 'dev3', 'dev4', 'indep-dev', 'own', 'livemcpbench', 'docker']);
