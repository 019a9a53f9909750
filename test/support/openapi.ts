/**
 * Validates values against the orchestrator's OpenAPI description (spec/openapi.yaml).
 *
 * The runner and state schemas are `oneOf`s with a `type` discriminator whose members overlap
 * (every member has an optional `type` of the shared enum), so plain JSON Schema `oneOf`
 * rejects valid bodies. OpenAPI's rule is: the discriminator value picks the one schema to
 * validate against. This module rewrites each discriminated `oneOf` into exactly that:
 * the property must be one of the mapping's keys, and if it is K the value must match
 * mapping[K]. Everything else is validated by Ajv as written.
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

export const SPEC_PATH = path.join(__dirname, '..', '..', 'spec', 'openapi.yaml');

export interface OpenApiDocument {
  paths: Record<string, Record<string, any>>;
  components: { schemas: Record<string, any>; responses?: Record<string, any>; parameters?: Record<string, any> };
}

let cached: { doc: OpenApiDocument; ajv: Ajv; validators: Map<string, ValidateFunction> } | undefined;

export function loadSpec(): OpenApiDocument {
  return state().doc;
}

function state() {
  if (!cached) {
    const doc = parse(readFileSync(SPEC_PATH, 'utf8')) as OpenApiDocument;
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema({ $id: 'openapi.json', components: { schemas: rewrite(doc.components.schemas) } });
    cached = { doc, ajv, validators: new Map() };
  }
  return cached;
}

/** Rewrites discriminated oneOfs (see the module comment) and OpenAPI 3.0's `nullable`. */
export function rewrite(node: any): any {
  if (Array.isArray(node)) return node.map(rewrite);
  if (node === null || typeof node !== 'object') return node;
  const out: any = {};
  for (const [key, value] of Object.entries(node)) {
    out[key] = rewrite(value);
  }
  if (out.nullable === true && typeof out.type === 'string') {
    out.type = [out.type, 'null'];
  }
  if (out.discriminator && Array.isArray(out.oneOf)) {
    const prop: string = out.discriminator.propertyName;
    const mapping: Record<string, string> = out.discriminator.mapping ?? {};
    const keys = Object.keys(mapping);
    if (keys.length === 0) {
      throw new Error('discriminator without mapping is not supported by this validator');
    }
    delete out.oneOf;
    delete out.discriminator;
    out.type = 'object';
    out.required = [...new Set([...(out.required ?? []), prop])];
    out.properties = { ...(out.properties ?? {}), [prop]: { type: 'string', enum: keys } };
    out.allOf = [
      ...(out.allOf ?? []),
      ...keys.map((k) => ({
        if: { properties: { [prop]: { const: k } }, required: [prop] },
        then: { $ref: mapping[k] },
      })),
    ];
  }
  return out;
}

export interface ValidationResult {
  readonly valid: boolean;
  readonly errors: string[];
}

/** Validate `value` against `#/components/schemas/<schemaName>`. */
export function validateSchema(schemaName: string, value: unknown): ValidationResult {
  const s = state();
  let validate = s.validators.get(schemaName);
  if (!validate) {
    if (!s.doc.components.schemas[schemaName]) throw new Error(`no schema ${schemaName} in ${SPEC_PATH}`);
    validate = s.ajv.getSchema(`openapi.json#/components/schemas/${schemaName}`)!;
    s.validators.set(schemaName, validate);
  }
  const valid = validate(value) as boolean;
  return {
    valid,
    errors: valid
      ? []
      : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`),
  };
}

/** Throws with every schema error when `value` is not a valid `schemaName`. */
export function assertValid(schemaName: string, value: unknown): void {
  const result = validateSchema(schemaName, value);
  if (!result.valid) {
    throw new Error(`not a valid ${schemaName}:\n  ${result.errors.join('\n  ')}\n${JSON.stringify(value, null, 2)}`);
  }
}
