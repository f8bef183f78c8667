import fs from 'node:fs';
import { ERROR_CODES, renderErrorsMarkdown } from '@parley/protocol';
import { describe, expect, it } from 'vitest';

describe('docs/errors.md', () => {
  it('equals the registry (regenerate with npm run docs:errors)', () => {
    const doc = fs.readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    expect(doc).toBe(renderErrorsMarkdown());
  });

  it('every code has a real HTTP status and a description', () => {
    for (const [code, spec] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^[A-Z][A-Z0-9_]+$/);
      expect(spec.status).toBeGreaterThanOrEqual(400);
      expect(spec.status).toBeLessThan(600);
      expect(spec.description.length).toBeGreaterThan(20);
    }
  });
});
