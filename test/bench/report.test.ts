import { describe, expect, it } from 'vitest';
import { placeSection } from './report';

const doc = [
  '# Benchmarks',
  '',
  'intro',
  '',
  '## Ingest benchmark — 2026-11-24',
  'old ingest',
  '',
  '## Notes on the ingest results',
  'notes',
  '',
  '## API benchmark — 2026-11-24',
  'old api',
  '',
].join('\n');

describe('placeSection (BENCHMARKS.md)', () => {
  it('replaces the section with the same heading, and only it', () => {
    const out = placeSection(doc, '## Ingest benchmark — 2026-11-24\nnew ingest\n');
    expect(out).toBe(doc.replace('old ingest\n', 'new ingest\n'));
  });

  it('puts a new date before the newest section of its kind, leaving the older ones and the notes', () => {
    const out = placeSection(doc, '## Ingest benchmark — 2026-11-25\nnewer ingest\n');
    expect(out.indexOf('## Ingest benchmark — 2026-11-25')).toBeLessThan(out.indexOf('## Ingest benchmark — 2026-11-24'));
    expect(out.indexOf('intro')).toBeLessThan(out.indexOf('## Ingest benchmark — 2026-11-25'));
    expect(out).toContain('old ingest\n');
    expect(out).toContain('## Notes on the ingest results\nnotes\n');
    const api = placeSection(out, '## API benchmark — 2026-11-25\nnewer api\n');
    expect(api.indexOf('## API benchmark — 2026-11-25')).toBeLessThan(api.indexOf('## API benchmark — 2026-11-24'));
    expect(api.indexOf('## Notes on the ingest results')).toBeLessThan(api.indexOf('## API benchmark — 2026-11-25'));
  });

  it('appends a kind the document does not have yet', () => {
    const out = placeSection('# Benchmarks\n\nintro\n', '## Ingest benchmark — 2026-11-25\nfirst\n');
    expect(out).toBe('# Benchmarks\n\nintro\n\n## Ingest benchmark — 2026-11-25\nfirst\n');
  });

  it('a heading quoted inside a line is not taken for the section', () => {
    const quoting = doc.replace('notes\n', 'notes quote ## Ingest benchmark — 2026-11-25\nmore notes\n');
    const out = placeSection(quoting, '## Ingest benchmark — 2026-11-25\nnewer ingest\n');
    expect(out).toContain('notes quote ## Ingest benchmark — 2026-11-25\nmore notes\n');
    expect(out.indexOf('\n## Ingest benchmark — 2026-11-25\nnewer ingest')).toBeLessThan(out.indexOf('## Ingest benchmark — 2026-11-24'));
  });

  it('a section whose heading ends another heading is not taken for it', () => {
    const withVariant = placeSection(doc, '## Ingest benchmark — 2026-11-24 (CM_BATCH_MAX_EVENTS=10000)\nvariant\n');
    expect(withVariant).toContain('old ingest\n');
    expect(withVariant).toContain('variant\n');
  });
});
