import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { describe, it } from 'node:test';
import { ALL_SCOPES, DEFAULT_SCOPES, describeScope, scopeItems, unknownScopes } from '../src/scopes';
import { baasCommand } from './support/harness';

/** The Python interpreter of the installed baas-mcp command (from its #! line). */
function pythonOf(command: string): string {
  const first = fs.readFileSync(command, 'utf8').split('\n', 1)[0];
  const interpreter = first.startsWith('#!') ? first.slice(2).trim().split(/\s+/)[0] : '';
  if (!interpreter || !fs.existsSync(interpreter)) {
    throw new Error(`cannot find the Python interpreter of ${command} (first line: ${first})`);
  }
  return interpreter;
}

describe('scopes', () => {
  it('are exactly the scopes the installed baas-mcp accepts', () => {
    const python = pythonOf(baasCommand());
    const installed = execFileSync(python, ['-c', 'from mcp_server.engine.keys import SCOPES; print(" ".join(sorted(SCOPES)))'], {
      encoding: 'utf8',
    })
      .trim()
      .split(' ');
    assert.deepEqual([...ALL_SCOPES].sort(), installed);
  });

  it('have no duplicates and each has a description', () => {
    assert.equal(new Set(ALL_SCOPES).size, ALL_SCOPES.length);
    for (const scope of ALL_SCOPES) {
      assert.match(describeScope(scope), /^(read|create, change and delete) \S/);
    }
    assert.equal(describeScope('rows.write'), 'create, change and delete table rows');
    assert.equal(describeScope('project.policies.read'), 'read project policies');
  });

  it('preselect read and write on databases, tables, columns, indexes and rows', () => {
    assert.deepEqual(
      [...DEFAULT_SCOPES].sort(),
      ['columns', 'databases', 'indexes', 'rows', 'tables'].flatMap((what) => [`${what}.read`, `${what}.write`]).sort(),
    );
    const items = scopeItems();
    assert.equal(items.length, ALL_SCOPES.length);
    assert.deepEqual(
      items.filter((item) => item.picked).map((item) => item.label).sort(),
      [...DEFAULT_SCOPES].sort(),
    );
    assert.equal(items.find((item) => item.label === 'users.write')?.picked, false);
  });

  it('tell unknown scopes apart', () => {
    assert.deepEqual(unknownScopes(['rows.read', 'rows.delete', 'tables.write']), ['rows.delete']);
  });
});
