/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): self time and inclusive time per function,
 * with dist/*.js locations mapped back to the TypeScript sources through the .js.map files.
 *
 * CLI: node dist/test/bench/cpuprofile-summary.js <file.cpuprofile> [top=25]
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface FunctionTime {
  function: string;
  location: string;
  ms: number;
  /** Share of busy (non-idle) time, %. */
  pct: number;
}

export interface ProfileSummary {
  file: string;
  wallMs: number;
  busyMs: number;
  self: FunctionTime[];
  inclusive: FunctionTime[];
  byLocation: FunctionTime[];
  /**
   * Self time rolled up to the nearest project function (apps/, libs/) on the stack: e.g. the
   * SQLite time inside kysely's executeQuery lands on the repository method that ran the query.
   */
  byProjectCaller: FunctionTime[];
}

// --- minimal source-map lookup (v3, VLQ mappings) -------------------------------------------

interface Segment {
  column: number;
  source: number;
  line: number;
}

interface SourceMap {
  sources: string[];
  lines: Segment[][];
  dir: string;
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function decodeMappings(mappings: string): Segment[][] {
  const lines: Segment[][] = [];
  let source = 0;
  let line = 0;
  for (const lineText of mappings.split(';')) {
    const segs: Segment[] = [];
    let column = 0;
    for (const segText of lineText.split(',')) {
      if (segText === '') continue;
      const values: number[] = [];
      let value = 0;
      let shift = 0;
      for (const ch of segText) {
        const digit = BASE64.indexOf(ch);
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          values.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      column += values[0] ?? 0;
      if (values.length >= 4) {
        source += values[1]!;
        line += values[2]!;
        segs.push({ column, source, line });
      }
    }
    lines.push(segs);
  }
  return lines;
}

const maps = new Map<string, SourceMap | null>();

function loadMap(jsPath: string): SourceMap | null {
  if (maps.has(jsPath)) return maps.get(jsPath)!;
  let map: SourceMap | null = null;
  try {
    if (existsSync(`${jsPath}.map`)) {
      const raw = JSON.parse(readFileSync(`${jsPath}.map`, 'utf8')) as { sources: string[]; mappings: string; sourceRoot?: string };
      map = { sources: raw.sources, lines: decodeMappings(raw.mappings), dir: dirname(jsPath) };
    }
  } catch {
    map = null;
  }
  maps.set(jsPath, map);
  return map;
}

/** "libs/x/y.ts:42" for a dist file location (1-based line), else a shortened url. */
export function sourceLocation(url: string, lineNumber: number, columnNumber: number, root: string): string {
  if (url === '') return '(native)';
  let path = url;
  if (url.startsWith('file://')) path = fileURLToPath(url);
  if (!path.startsWith('/')) return `${url}:${lineNumber + 1}`;
  const map = path.endsWith('.js') ? loadMap(path) : null;
  if (map) {
    const segs = map.lines[lineNumber] ?? [];
    let best: Segment | undefined;
    for (const s of segs) if (s.column <= columnNumber) best = s;
    best ??= segs[0];
    if (best) return `${relative(root, resolve(map.dir, map.sources[best.source] ?? ''))}:${best.line + 1}`;
  }
  const rel = relative(root, path);
  return `${rel.startsWith('..') ? path : rel}:${lineNumber + 1}`;
}

export function summariseCpuProfile(file: string, root: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  for (const n of profile.nodes) byId.set(n.id, n);
  const selfUs = new Map<number, number>();
  // timeDeltas[i] is the time before sample i; attribute each delta to the sample that follows it.
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, profile.timeDeltas[i] ?? 0));
  }
  const key = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'}\u0000${sourceLocation(n.callFrame.url, n.callFrame.lineNumber, n.callFrame.columnNumber, root)}`;
  const keys = new Map<number, string>();
  for (const n of profile.nodes) keys.set(n.id, key(n));

  let wallUs = 0;
  let idleUs = 0;
  const self = new Map<string, number>();
  const byLocation = new Map<string, number>();
  for (const [id, us] of selfUs) {
    wallUs += us;
    const n = byId.get(id)!;
    if (n.callFrame.functionName === '(idle)') idleUs += us;
    const k = keys.get(id)!;
    self.set(k, (self.get(k) ?? 0) + us);
    const loc = k.split('\u0000')[1]!.replace(/:\d+$/, '');
    const file = n.callFrame.url === '' ? n.callFrame.functionName : loc;
    byLocation.set(file, (byLocation.get(file) ?? 0) + us);
  }

  // Inclusive time: subtree totals, counted once per function even when it recurses.
  const inclusive = new Map<string, number>();
  const subtree = new Map<number, number>();
  const rootNode = profile.nodes[0]!;
  const post: number[] = [];
  const stack: Array<{ id: number; visited: boolean }> = [{ id: rootNode.id, visited: false }];
  while (stack.length > 0) {
    const top2 = stack.pop()!;
    if (top2.visited) {
      post.push(top2.id);
      continue;
    }
    stack.push({ id: top2.id, visited: true });
    for (const c of byId.get(top2.id)?.children ?? []) stack.push({ id: c, visited: false });
  }
  for (const id of post) {
    let total = selfUs.get(id) ?? 0;
    for (const c of byId.get(id)?.children ?? []) total += subtree.get(c) ?? 0;
    subtree.set(id, total);
  }
  const walk: Array<{ id: number; ancestors: Set<string> }> = [{ id: rootNode.id, ancestors: new Set() }];
  while (walk.length > 0) {
    const { id, ancestors } = walk.pop()!;
    const k = keys.get(id)!;
    if (!ancestors.has(k)) inclusive.set(k, (inclusive.get(k) ?? 0) + (subtree.get(id) ?? 0));
    const next = ancestors.has(k) ? ancestors : new Set([...ancestors, k]);
    for (const c of byId.get(id)?.children ?? []) walk.push({ id: c, ancestors: next });
  }

  // Roll self time up to the nearest project frame (the node itself or an ancestor).
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const isProject = (id: number) => /\u0000(apps|libs)\//.test(keys.get(id) ?? '');
  const nearest = new Map<number, string>();
  const nearestProject = (id: number): string => {
    const chain: number[] = [];
    let cur: number | undefined = id;
    let found = '(outside project code)\u0000';
    while (cur !== undefined) {
      const known = nearest.get(cur);
      if (known !== undefined) {
        found = known;
        break;
      }
      chain.push(cur);
      if (isProject(cur)) {
        found = keys.get(cur)!;
        break;
      }
      cur = parent.get(cur);
    }
    for (const c of chain) nearest.set(c, found);
    return found;
  };
  const byCaller = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    const name = n.callFrame.functionName;
    // Keep the V8 pseudo-frames apart: they have no meaningful caller.
    const k = name === '(garbage collector)' || name === '(program)' || name === '(idle)' || name === '(root)' ? `${name}\u0000` : nearestProject(id);
    byCaller.set(k, (byCaller.get(k) ?? 0) + us);
  }

  const busyUs = wallUs - idleUs;
  const rows = (m: Map<string, number>, skip: (k: string) => boolean): FunctionTime[] =>
    [...m.entries()]
      .filter(([k]) => !skip(k))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => {
        const [fn, location] = k.split('\u0000');
        return { function: fn ?? k, location: location ?? '', ms: us / 1000, pct: (100 * us) / Math.max(1, busyUs) };
      });
  return {
    file,
    wallMs: wallUs / 1000,
    busyMs: busyUs / 1000,
    self: rows(self, (k) => k.startsWith('(idle)')),
    // Inclusive time of the project's own functions (apps/, libs/): where the time goes, by caller.
    inclusive: rows(inclusive, (k) => !/\u0000(apps|libs)\//.test(k)),
    byProjectCaller: rows(byCaller, (k) => k.startsWith('(idle)')),
    byLocation: [...byLocation.entries()]
      .filter(([k]) => k !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => ({ function: '', location: k, ms: us / 1000, pct: (100 * us) / Math.max(1, busyUs) })),
  };
}

export function formatSummary(s: ProfileSummary, top = 20): string {
  const fmt = (rows: FunctionTime[]) =>
    rows
      .slice(0, top)
      .map((r) => `  ${r.pct.toFixed(1).padStart(5)} %  ${r.ms.toFixed(0).padStart(7)} ms  ${(r.function || '').padEnd(34)} ${r.location}`)
      .join('\n');
  return [
    `profile ${s.file}: ${(s.wallMs / 1000).toFixed(1)} s sampled, ${(s.busyMs / 1000).toFixed(1)} s busy`,
    'top self time (share of busy time):',
    fmt(s.self),
    'top inclusive time (project functions):',
    fmt(s.inclusive),
    'self time rolled up to the nearest project function on the stack:',
    fmt(s.byProjectCaller),
    'self time by file:',
    fmt(s.byLocation),
  ].join('\n');
}

if (require.main === module) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node dist/test/bench/cpuprofile-summary.js <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  const top = Number(process.argv[3] ?? 25);
  process.stdout.write(`${formatSummary(summariseCpuProfile(file, process.cwd(), top), top)}\n`);
}
