/**
 * Contract checks against Meta's OpenAPI document of the WhatsApp Business Messaging API
 * (v23.0, MIT licence beside it): `expectOas(operation, status, body)` validates a response
 * body, `expectOasRequest(operation, body)` a request body, against the schema the document
 * gives that operation, with its `$ref`s resolved. An operation is `'METHOD /path/template'`
 * exactly as the document spells it, e.g. `'POST /{Version}/{Phone-Number-ID}/messages'`.
 *
 * The document is OpenAPI 3.1, whose schemas are JSON Schema 2020-12, so Ajv's 2020 dialect
 * validates them; `example`, `discriminator` and other annotations are ignored (strict off),
 * and the numeric formats (int32, int64, …) are accepted as annotations too.
 *
 * One repair: the document composes message types as `allOf: [Base, {additionalProperties:
 * false, …}]`, which in JSON Schema forbids the base's own properties, so no message could
 * pass. Its evident intent (and how OpenAPI tools merge allOf) is "no properties beyond the
 * composed ones": that is `unevaluatedProperties: false` on the composition, which replaces
 * the branch's `additionalProperties: false` when the document is loaded.
 */
import fs from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import formatsModule from 'ajv-formats';
import { expect } from 'vitest';
import { parse } from 'yaml';

// A CommonJS module seen from an ES module: the plugin is its `default` or the module itself.
type FormatsPlugin = typeof formatsModule.default;
const addFormats: FormatsPlugin =
  (formatsModule as unknown as { default?: FormatsPlugin }).default ??
  (formatsModule as unknown as FormatsPlugin);

const FILE = new URL('./whatsapp-business-messaging-openapi-v23.0.yaml', import.meta.url);
const DOC_ID = 'https://parley.test/whatsapp-business-messaging-openapi-v23.0.json';

type Json = Record<string, unknown>;
let doc: Json | undefined;
let ajv: Ajv2020 | undefined;
const compiled = new Map<string, ValidateFunction>();

function load(): { doc: Json; ajv: Ajv2020 } {
  if (!doc || !ajv) {
    doc = closeCompositions(parse(fs.readFileSync(FILE, 'utf8'), { maxAliasCount: -1 }) as Json);
    ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
    addFormats(ajv);
    for (const f of ['int32', 'int64', 'float', 'double', 'byte', 'binary', 'password'])
      ajv.addFormat(f, true);
    ajv.addSchema(doc, DOC_ID);
  }
  return { doc, ajv };
}

/** See the header: `allOf` branches closed with additionalProperties:false close the whole instead. */
function closeCompositions<T>(node: T): T {
  if (Array.isArray(node)) {
    for (const item of node) closeCompositions(item);
  } else if (node && typeof node === 'object') {
    const schema = node as Json;
    if (Array.isArray(schema.allOf)) {
      let closed = false;
      for (const branch of schema.allOf as Json[]) {
        if (branch && branch.additionalProperties === false) {
          delete branch.additionalProperties;
          closed = true;
        }
      }
      if (closed) schema.unevaluatedProperties = false;
    }
    for (const value of Object.values(schema)) closeCompositions(value);
  }
  return node;
}

const pointer = (...parts: string[]) =>
  parts.map((p) => `/${encodeURIComponent(p.replaceAll('~', '~0').replaceAll('/', '~1'))}`).join('');

/** Follows a local `$ref` (`#/components/...`) in the document. */
function deref(node: unknown): Json {
  let current = node as Json;
  for (let i = 0; i < 10 && typeof current?.$ref === 'string'; i++) {
    const path = (current.$ref as string).replace(/^#\//, '').split('/');
    current = path.reduce<Json>(
      (at, p) => at?.[p.replaceAll('~1', '/').replaceAll('~0', '~')] as Json,
      load().doc,
    );
  }
  return current;
}

function operationOf(operation: string): { path: string; method: string; op: Json } {
  const [method, path] = operation.split(' ') as [string, string];
  const paths = load().doc.paths as Json;
  const op = (paths[path] as Json | undefined)?.[method.toLowerCase()] as Json | undefined;
  if (!op) throw new Error(`Meta's document has no operation ${operation}`);
  return { path, method: method.toLowerCase(), op };
}

function validator(key: string, ref: string): ValidateFunction {
  const known = compiled.get(key);
  if (known) return known;
  const fresh: ValidateFunction = load().ajv.compile({ $ref: `${DOC_ID}#${ref}` });
  compiled.set(key, fresh);
  return fresh;
}

function check(v: ValidateFunction, body: unknown, what: string): void {
  const ok = v(body);
  expect(
    ok
      ? []
      : (v.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`),
    what,
  ).toEqual([]);
}

/** Validates a response body against the operation's schema for that status (JSON). */
export function expectOas(
  operation: string,
  status: number,
  body: unknown,
  contentType = 'application/json',
): void {
  const { path, method, op } = operationOf(operation);
  const responses = op.responses as Json;
  const raw = responses[String(status)];
  if (!raw) throw new Error(`${operation} documents no ${status} response`);
  const response = deref(raw);
  const content = (response.content as Json | undefined)?.[contentType] as Json | undefined;
  if (!content?.schema) throw new Error(`${operation} ${status} has no ${contentType} schema`);
  // The schema's location in the document: under the response component when it is a $ref.
  const ref =
    typeof (raw as Json).$ref === 'string'
      ? `${((raw as Json).$ref as string).slice(1)}${pointer('content', contentType, 'schema')}`
      : pointer('paths', path, method, 'responses', String(status), 'content', contentType, 'schema');
  check(validator(`${operation} ${status}`, ref), body, `${operation} → ${status}`);
}

/** Validates a request body against the operation's JSON request schema. */
export function expectOasRequest(operation: string, body: unknown, contentType = 'application/json'): void {
  const { path, method, op } = operationOf(operation);
  const requestBody = op.requestBody as Json | undefined;
  if (!requestBody) throw new Error(`${operation} documents no request body`);
  const raw = requestBody.$ref ? requestBody : undefined;
  const ref = raw
    ? `${(raw.$ref as string).slice(1)}${pointer('content', contentType, 'schema')}`
    : pointer('paths', path, method, 'requestBody', 'content', contentType, 'schema');
  check(validator(`${operation} request`, ref), body, `${operation} request`);
}

/** Validates a body against a named schema of the document (`components/schemas/NAME`). */
export function expectOasSchema(name: string, body: unknown): void {
  check(validator(`schema ${name}`, pointer('components', 'schemas', name)), body, name);
}

/** A Graph error envelope, as Meta's document defines it for every error response. */
export function expectGraphError(body: unknown): void {
  expectOasSchema('GraphAPIError', body);
}
