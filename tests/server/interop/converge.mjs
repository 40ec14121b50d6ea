// converge.mjs: reference clients against patches-server
//
// SPDX-License-Identifier: GPL-3.0-or-later
//
// Two reference clients (PatchesSync from @dabble/patches, each with its
// own in-memory store) open one document on the server, edit it at the
// same time (JSON fields, a counter and a rich-text field), and must end
// with the same state, at the server's head revision.  A third, fresh
// reference client then loads the document from the server (getDoc) and
// must see that state too.  Prints one JSON line on success:
//
//   {"package":"0.28.1","doc":…,"rev":N,"rounds":R,"state":{…}}
//
// and exits 0; on a failure it explains on standard error and exits 1.
//
//   node converge.mjs --url ws://127.0.0.1:PORT/sync --modules DIR
//        [--doc ID] [--rounds 25] [--seed 1]
//
// DIR holds node_modules/ with @dabble/patches and ws (test-server-interop
// installs them there).  Loopback servers only.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const args = {};
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a.startsWith('--')) {
    const next = process.argv[i + 1];
    args[a.slice(2)] = next !== undefined && !next.startsWith('--') ? (i++, next) : 'true';
  }
}

function fail(message, details) {
  console.error(`converge: ${message}`);
  if (details !== undefined) console.error(typeof details === 'string' ? details : JSON.stringify(details, null, 1));
  process.exit(1);
}

const url = args.url;
const modules = args.modules;
const docId = args.doc || `interop-${Date.now().toString(36)}`;
const rounds = +(args.rounds || 25);
let seed = +(args.seed || 1);
const TIMEOUT_MS = 60000;

if (!url || !modules) fail('usage: converge.mjs --url WS_URL --modules DIR [--doc ID] [--rounds N] [--seed N]');
if (!['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname)) fail('loopback servers only');

setTimeout(() => fail(`no convergence after ${TIMEOUT_MS / 1000} s`, lastProgress), TIMEOUT_MS);
let lastProgress = 'starting';

// A small deterministic generator, so that a failing run can be repeated
function random() {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

// --- The environment the browser-oriented client expects ---------------

// The package is ESM with an "exports" map: resolve its entry points by hand
// (bare imports from this file would look next to it, not in DIR).
const packageDir = path.join(modules, 'node_modules', '@dabble', 'patches');
let packageJson;
try {
  packageJson = JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8'));
} catch (e) {
  fail(`@dabble/patches is not installed under ${modules}: ${e.message}`);
}

function entry(subpath) {
  let target = packageJson.exports?.[subpath];
  while (target && typeof target === 'object') target = target.import ?? target.default ?? target.node;
  if (typeof target !== 'string') fail(`@dabble/patches exports no ${subpath}`);
  return pathToFileURL(path.join(packageDir, target)).href;
}

const require = createRequire(path.join(path.resolve(modules), 'package.json'));
const ws = require('ws');
const WebSocketClass = ws.WebSocket ?? ws;

// The transport dials `new WebSocket(url)` and stays offline unless
// navigator.onLine says otherwise; Node has neither (or not both).
globalThis.WebSocket = WebSocketClass;
if (typeof globalThis.navigator === 'undefined') {
  Object.defineProperty(globalThis, 'navigator', { value: { onLine: true }, configurable: true, writable: true });
} else if (typeof globalThis.navigator.onLine !== 'boolean') {
  Object.defineProperty(globalThis.navigator, 'onLine', { value: true, configurable: true });
}

const clientModule = await import(entry('./client'));
const netModule = await import(entry('./net'));
const { PatchesSync } = netModule;
if (typeof PatchesSync !== 'function') fail('@dabble/patches/net exports no PatchesSync');

// --- Helpers ------------------------------------------------------------

// Reads a plain value, a getter or a read-only store alike
function read(value) {
  if (typeof value === 'function') return value();
  if (value && typeof value === 'object' && 'state' in value && typeof value.subscribe === 'function') return value.state;
  return value;
}

// JSON with sorted keys: states compare whatever the key order
function canonical(value) {
  const sort = v => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map(k => [k, sort(v[k])]));
    return v;
  };
  return JSON.stringify(sort(JSON.parse(JSON.stringify(value ?? null))));
}

function textOf(body) {
  const ops = Array.isArray(body) ? body : body?.ops;
  if (!Array.isArray(ops)) return '';
  return ops.map(op => (typeof op.insert === 'string' ? op.insert : op.insert !== undefined ? '\u0000' : '')).join('');
}

function makePatches() {
  if (typeof clientModule.createOTPatches === 'function') return clientModule.createOTPatches();
  const { Patches, OTAlgorithm, OTInMemoryStore } = clientModule;
  return new Patches({ algorithms: { ot: new OTAlgorithm(new OTInMemoryStore()) } });
}

async function openClient(name) {
  const patches = makePatches();
  const sync = new PatchesSync(patches, url);
  const errors = [];

  if (typeof sync.onError === 'function')
    sync.onError((error, context) => errors.push(`${name}: ${error?.message ?? error}${context?.docId ? ` (${context.docId})` : ''}`));
  await sync.connect();
  await patches.trackDocs([docId]);
  const doc = await patches.openDoc(docId);

  return {
    name, patches, sync, doc, errors,
    get state() { return read(doc.state); },
    get rev() { return read(doc.committedRev); },
    get pending() { return !!read(doc.hasPending); },
  };
}

// A plain JSON-RPC connection to ask the server for its head
function rawConnection() {
  return new Promise((resolve, reject) => {
    const socket = new WebSocketClass(url);
    const calls = new Map();
    let nextId = 1;

    socket.on('error', reject);
    socket.on('message', data => {
      const message = JSON.parse(data.toString());
      const call = calls.get(message.id);
      if (!call) return;
      calls.delete(message.id);
      if (message.error) call.reject(new Error(JSON.stringify(message.error)));
      else call.resolve(message.result);
    });
    socket.on('open', () => resolve({
      call(method, params) {
        const id = nextId++;
        return new Promise((res, rej) => {
          calls.set(id, { resolve: res, reject: rej });
          socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
        });
      },
      close() { socket.close(); },
    }));
  });
}

async function serverHead(raw) {
  const snapshot = await raw.call('getDoc', [docId]);
  const changes = snapshot.changes ?? [];
  return changes.length ? changes[changes.length - 1].rev : snapshot.rev ?? 0;
}

async function waitUntil(what, predicate) {
  for (;;) {
    lastProgress = what;
    if (await predicate()) return;
    await sleep(20);
  }
}

// --- The run ------------------------------------------------------------

const raw = await rawConnection();
const a = await openClient('a');
const b = await openClient('b');

// A creates the document; B sees it arrive
a.doc.change(patch => {
  patch.add('/title', 'start');
  patch.add('/count', 0);
  patch.add('/fields', {});
  patch.text('/body', [{ insert: 'interop' }]);
});
await waitUntil('B receives the first change', () => b.rev >= 1 && b.state?.title !== undefined && !a.pending);

// Both edit at once: each round one change of four ops, sometimes several
// changes back to back (a queue of pending changes), sometimes a pause
async function edit(client, tag) {
  let inserted = 0;

  for (let i = 0; i < rounds; i++) {
    const text = textOf(client.state?.body);
    const at = Math.floor(random() * Math.max(1, text.length));   // before the final "\n"
    const insert = tag.repeat((i % 3) + 1);

    client.doc.change(patch => {
      patch.replace('/title', `${tag}${i}`);
      patch.add(`/fields/${tag}${i}`, i);
      patch.increment('/count', 1);
      patch.text('/body', at > 0 ? [{ retain: at }, { insert }] : [{ insert }]);
    });
    inserted += insert.length;
    if (random() < 0.6) await sleep(Math.floor(random() * 10));
  }

  return inserted;
}

const [insertedA, insertedB] = await Promise.all([edit(a, 'A'), edit(b, 'B')]);

let head = 0;
await waitUntil('both clients at the server head, nothing pending', async () => {
  head = await serverHead(raw);
  return !a.pending && !b.pending && a.rev === head && b.rev === head && canonical(a.state) === canonical(b.state);
});

// A third client knows only what the server's getDoc gives it
const c = await openClient('c');
await waitUntil('a fresh client loads the document', () => c.rev === head && c.state?.title !== undefined);

const state = JSON.parse(canonical(a.state));
const problems = [];

if (canonical(b.state) !== canonical(state)) problems.push('b differs from a');
if (canonical(c.state) !== canonical(state)) problems.push('the fresh client differs from a');
if (state.count !== 2 * rounds) problems.push(`count is ${state.count}, expected ${2 * rounds}`);
if (Object.keys(state.fields ?? {}).length !== 2 * rounds) problems.push(`${Object.keys(state.fields ?? {}).length} fields, expected ${2 * rounds}`);
{
  const text = textOf(state.body);
  const countOf = ch => text.split(ch).length - 1;
  if (countOf('A') !== insertedA || countOf('B') !== insertedB)
    problems.push(`body has ${countOf('A')} A and ${countOf('B')} B, expected ${insertedA} and ${insertedB}`);
  if (text.replace(/[AB]/g, '') !== 'interop\n') problems.push(`body without the inserts is ${JSON.stringify(text.replace(/[AB]/g, ''))}`);
}

const errors = [...a.errors, ...b.errors, ...c.errors];
if (problems.length) fail(problems.join('; '), { head, a: a.state, b: b.state, c: c.state, errors });

console.log(JSON.stringify({ package: packageJson.version, doc: docId, rev: head, rounds, state, errors }));

for (const client of [a, b, c]) client.sync.disconnect();
raw.close();
process.exit(0);
