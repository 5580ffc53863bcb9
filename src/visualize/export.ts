/**
 * The statechart exporter: reads a machine's definition (states, parallel regions, invoked actors,
 * `after` delays by name, guards by name, `always` transitions, event names) and writes Mermaid
 * `stateDiagram-v2` source and Graphviz DOT. Written over the machine's own StateNode tree because
 * `xstate/graph`'s `toDirectedGraph` drops `always` transitions and guards.
 *
 * Pure and browser-safe: the inspector page uses the same chart, and `npm run visualize` renders the
 * DOT to SVG with Graphviz compiled to WebAssembly.
 */

/** A state in the chart. */
export interface ChartNode {
  /** Full id, e.g. `connection.session.open`. */
  id: string;
  /** The state's own key, e.g. `open`. */
  key: string;
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  description: string | undefined;
  children: ChartNode[];
  /** Ids (`src`) of the actors the state invokes. */
  invokes: string[];
  /** Id of the initial child (compound states). */
  initial: string | undefined;
  /** Transient: decides and leaves in the same step (has `always` and nothing else to wait for). */
  transient: boolean;
}

/** What kind of trigger an edge has. */
export type EdgeKind = 'event' | 'after' | 'always' | 'done' | 'error';

/** A transition in the chart. */
export interface ChartEdge {
  source: string;
  /** `undefined` for a targetless transition (drawn as a self-loop when it has a description). */
  target: string | undefined;
  kind: EdgeKind;
  /** Event name, delay name, or actor id for done/error. */
  trigger: string;
  guard: string | undefined;
  description: string | undefined;
  /** Drawn as an error path (red, dashed). */
  failure: boolean;
  /** Drawn as the happy path (bold). */
  happy: boolean;
  /** The label shown on the edge. */
  label: string;
}

/** A machine reduced to what a diagram needs. */
export interface Chart {
  id: string;
  root: ChartNode;
  edges: ChartEdge[];
}

interface StateNodeLike {
  id: string;
  key: string;
  type: ChartNode['type'];
  description?: string;
  states: Record<string, StateNodeLike>;
  transitions: Map<string, TransitionLike[]>;
  always?: TransitionLike[];
  invoke: Array<{ id: string; src: unknown }>;
  initial?: { target: Array<{ id: string }> };
}

interface TransitionLike {
  target?: ReadonlyArray<{ id: string }> | undefined;
  guard?: unknown;
  description?: string;
  delay?: unknown;
  eventType: string;
}

/** The name of a guard: `name`, `!name`, `a && b`, `a || b`. */
export function guardName(guard: unknown): string | undefined {
  if (guard === undefined || guard === null) return undefined;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'object' && typeof (guard as { type?: unknown }).type === 'string') {
    return (guard as { type: string }).type;
  }
  if (typeof guard === 'function') {
    // xstate's not()/and()/or() are functions carrying `guards` and a `check` named after them.
    const g = guard as { name?: string; guards?: unknown[]; check?: { name?: string } };
    const parts = (g.guards ?? []).map((x) => guardName(x) ?? '?');
    const kind = g.check?.name ?? g.name ?? '';
    if (/not/i.test(kind)) return `!${parts[0] ?? '?'}`;
    if (/and/i.test(kind)) return parts.join(' && ');
    if (/or/i.test(kind)) return parts.join(' || ');
    return 'inline guard';
  }
  return 'guard';
}

const FAILURE = /closed|error|Timeout|timedOut|missed|offline|silent/i;
const HAPPY = new Set([
  'client.start',
  'socket.opened',
  'done:target',
  'done:openHook',
  'after:reconnectDelay',
]);

function describeTrigger(eventType: string, delay: unknown): { kind: EdgeKind; trigger: string } {
  if (eventType === '') return { kind: 'always', trigger: '' };
  if (eventType.startsWith('xstate.after.')) {
    return { kind: 'after', trigger: typeof delay === 'string' ? delay : `${String(delay)} ms` };
  }
  if (eventType.startsWith('xstate.done.actor.')) return { kind: 'done', trigger: eventType.slice(18) };
  if (eventType.startsWith('xstate.error.actor.')) return { kind: 'error', trigger: eventType.slice(19) };
  if (eventType.startsWith('xstate.done.state.')) return { kind: 'done', trigger: 'final state' };
  return { kind: 'event', trigger: eventType };
}

function labelOf(kind: EdgeKind, trigger: string, guard: string | undefined): string {
  let head: string;
  switch (kind) {
    case 'after':
      head = `after ${trigger}`;
      break;
    case 'always':
      head = guard === undefined ? 'else' : '';
      break;
    case 'done':
      head = trigger === 'final state' ? 'done' : `${trigger} done`;
      break;
    case 'error':
      head = `${trigger} failed`;
      break;
    default:
      head = trigger;
  }
  if (guard === undefined) return head;
  return head === '' ? `[${guard}]` : `${head} [${guard}]`;
}

/**
 * Reduces a machine (anything with a `root` StateNode, e.g. the result of `setup().createMachine()`)
 * to a {@link Chart}.
 *
 * @example
 * ```ts
 * import { connectionMachine } from 'wsmachine/machines';
 * const chart = describeMachine(connectionMachine);
 * console.log(toMermaid(chart));
 * ```
 */
export function describeMachine(machine: { id: string; root: unknown }): Chart {
  const edges: ChartEdge[] = [];
  const walk = (node: StateNodeLike): ChartNode => {
    const children = Object.values(node.states ?? {}).map(walk);
    const push = (t: TransitionLike, eventType: string) => {
      const { kind, trigger } = describeTrigger(eventType, t.delay);
      const guard = guardName(t.guard);
      const targets = t.target ?? [];
      const list = targets.length === 0 ? [undefined] : targets.map((x) => x.id);
      for (const target of list) {
        if (target === undefined && t.description === undefined) continue;
        const key =
          kind === 'done' || kind === 'error'
            ? `${kind}:${trigger}`
            : kind === 'after'
              ? `after:${trigger}`
              : trigger;
        const failure = kind === 'error' || FAILURE.test(trigger);
        edges.push({
          source: node.id,
          target,
          kind,
          trigger,
          guard,
          description: t.description,
          failure,
          happy: !failure && HAPPY.has(key),
          label: labelOf(kind, trigger, guard),
        });
      }
    };
    for (const [eventType, list] of node.transitions) for (const t of list) push(t, eventType);
    for (const t of node.always ?? []) push(t, '');
    const hasOwnWait = node.transitions.size > 0 || node.invoke.length > 0;
    return {
      id: node.id,
      key: node.key,
      type: node.type,
      description: node.description,
      children,
      invokes: node.invoke.map((i) => (typeof i.src === 'string' ? i.src : i.id)),
      initial: node.initial?.target?.[0]?.id,
      transient: (node.always?.length ?? 0) > 0 && !hasOwnWait && children.length === 0,
    };
  };
  const root = walk(machine.root as StateNodeLike);
  return { id: machine.id, root, edges };
}

function mermaidId(id: string): string {
  return id.replace(/[^A-Za-z0-9_]/g, '_');
}

function mermaidText(text: string): string {
  // Mermaid edge labels end at a newline and choke on a few characters.
  return text
    .replace(/[:;#"]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Mermaid `stateDiagram-v2` source: renders on code hosts. Parallel regions are separated by `--`;
 * guards are shown in brackets; transient decision states are drawn as choice points.
 */
export function toMermaid(chart: Chart): string {
  const lines: string[] = ['stateDiagram-v2', '  direction LR'];
  const emit = (node: ChartNode, depth: number) => {
    const pad = '  '.repeat(depth);
    const id = mermaidId(node.id);
    if (node.children.length === 0) {
      if (node.transient) lines.push(`${pad}state ${id} <<choice>>`);
      else lines.push(`${pad}state "${node.key}" as ${id}`);
      return;
    }
    lines.push(`${pad}state "${node.key}" as ${id} {`);
    if (node.type === 'parallel') {
      node.children.forEach((child, i) => {
        if (i > 0) lines.push(`${pad}  --`);
        emit(child, depth + 1);
      });
    } else {
      if (node.initial !== undefined) lines.push(`${pad}  [*] --> ${mermaidId(node.initial)}`);
      for (const child of node.children) emit(child, depth + 1);
    }
    lines.push(`${pad}}`);
  };
  if (chart.root.initial !== undefined) lines.push(`  [*] --> ${mermaidId(chart.root.initial)}`);
  for (const child of chart.root.children) emit(child, 1);
  for (const e of chart.edges) {
    const target = e.target ?? e.source;
    const label = mermaidText(e.label);
    lines.push(`  ${mermaidId(e.source)} --> ${mermaidId(target)}${label ? ` : ${label}` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

function dotString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Wraps a label at word boundaries so long guards do not make edges sprawl. */
function wrap(text: string, width = 26): string {
  const words = text.split(' ');
  const out: string[] = [];
  let line = '';
  for (const w of words) {
    if (line.length > 0 && line.length + 1 + w.length > width) {
      out.push(line);
      line = w;
    } else line = line.length === 0 ? w : `${line} ${w}`;
  }
  if (line.length > 0) out.push(line);
  return out.join('\n');
}

/**
 * Graphviz DOT: compound and parallel states as clusters, the happy path bold and left to right,
 * failure paths red and dashed, invoked actors listed inside their state.
 */
export function toDot(chart: Chart): string {
  const byId = new Map<string, ChartNode>();
  const index = (n: ChartNode) => {
    byId.set(n.id, n);
    for (const c of n.children) index(c);
  };
  index(chart.root);
  /** A leaf to attach edges of a composite state to. */
  const anchor = (id: string): string => {
    let n = byId.get(id);
    while (n !== undefined && n.children.length > 0) {
      n = byId.get(n.initial ?? n.children[0]!.id) ?? n.children[0];
    }
    return n?.id ?? id;
  };
  const isInside = (inner: string, outer: string) => inner === outer || inner.startsWith(`${outer}.`);
  /** Document-order path of a state: [index at depth 1, index at depth 2, ...]. */
  const orderPath = new Map<string, number[]>();
  const number = (n: ChartNode, path: number[]) => {
    orderPath.set(n.id, path);
    n.children.forEach((c, i) => {
      number(c, [...path, i]);
    });
  };
  number(chart.root, []);
  /**
   * An edge is forward when, at the first level where the two paths differ, the target comes later
   * in the definition. The machine is written in lifecycle order, so forward edges laid out left to
   * right give the happy path its direction; backward edges (reconnect loops) do not constrain.
   */
  const forward = (from: string, to: string): boolean => {
    const a = orderPath.get(from) ?? [];
    const b = orderPath.get(to) ?? [];
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return b[i]! > a[i]!;
    return false;
  };
  const lines: string[] = [
    `digraph ${dotString(chart.id)} {`,
    '  compound=true; rankdir=LR; nodesep=0.3; ranksep=0.45;',
    '  graph [fontname="Helvetica", fontsize=12, labeljust=l, penwidth=1.2, color="#7f8c8d", style=rounded];',
    '  node [fontname="Helvetica", fontsize=12, shape=box, style="rounded,filled", fillcolor="#ffffff", color="#34495e", penwidth=1.3];',
    '  edge [fontname="Helvetica", fontsize=10, color="#34495e", arrowsize=0.7];',
    '  __start [shape=point, width=0.15, label="", style=filled, fillcolor="#34495e"];',
  ];
  const emit = (node: ChartNode, depth: number) => {
    const pad = '  '.repeat(depth);
    if (node.children.length === 0) {
      const sub = node.invokes.length > 0 ? `\\ninvoke: ${node.invokes.join(', ')}` : '';
      const attrs: string[] = [`label=${dotString(node.key)}`];
      if (sub !== '') attrs[0] = `label="${node.key}${sub}"`;
      if (node.transient) attrs.push('shape=diamond', 'style=filled', 'fillcolor="#ecf0f1"', 'fontsize=10');
      if (node.type === 'final') attrs.push('shape=doublecircle', 'fontsize=9');
      if (node.description) attrs.push(`tooltip=${dotString(node.description)}`);
      attrs.push(`id=${dotString(`state:${node.id}`)}`);
      lines.push(`${pad}${dotString(node.id)} [${attrs.join(', ')}];`);
      return;
    }
    const parallel = node.type === 'parallel';
    const invoke = node.invokes.length > 0 ? ` (invoke: ${node.invokes.join(', ')})` : '';
    lines.push(`${pad}subgraph ${dotString(`cluster_${node.id}`)} {`);
    lines.push(`${pad}  label=${dotString(`${node.key}${parallel ? ' (parallel)' : ''}${invoke}`)};`);
    lines.push(`${pad}  id=${dotString(`state:${node.id}`)};`);
    if (node.description) lines.push(`${pad}  tooltip=${dotString(node.description)};`);
    if (parallel) lines.push(`${pad}  style="rounded,dashed";`);
    for (const child of node.children) emit(child, depth + 1);
    lines.push(`${pad}}`);
  };
  for (const child of chart.root.children) emit(child, 1);
  if (chart.root.initial !== undefined) lines.push(`  __start -> ${dotString(anchor(chart.root.initial))};`);
  for (const e of chart.edges) {
    const target = e.target ?? e.source;
    const tail = anchor(e.source);
    const head = anchor(target);
    const src = byId.get(e.source);
    // A transition owned by a composite state is drawn from one of its leaves; say whose it is.
    const owner =
      src !== undefined && src.children.length > 0 && isInside(target, e.source) ? `${src.key}: ` : '';
    const attrs: string[] = [`label=${dotString(wrap(`${owner}${e.label}`))}`];
    const dst = byId.get(target);
    if (src !== undefined && src.children.length > 0 && !isInside(target, e.source)) {
      attrs.push(`ltail=${dotString(`cluster_${e.source}`)}`);
    }
    if (dst !== undefined && dst.children.length > 0 && !isInside(e.source, target)) {
      attrs.push(`lhead=${dotString(`cluster_${target}`)}`);
    }
    if (e.failure) attrs.push('color="#c0392b"', 'fontcolor="#c0392b"', 'style=dashed');
    else if (e.happy) attrs.push('color="#1e8449"', 'fontcolor="#1e8449"', 'penwidth=2.2');
    else if (e.kind === 'always') attrs.push('color="#7f8c8d"', 'fontcolor="#7f8c8d"');
    if (!forward(tail, head)) attrs.push('constraint=false');
    if (e.description) attrs.push(`tooltip=${dotString(e.description)}`);
    lines.push(`  ${dotString(tail)} -> ${dotString(head)} [${attrs.join(', ')}];`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
