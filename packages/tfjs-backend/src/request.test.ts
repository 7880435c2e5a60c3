import { describe, expect, it } from 'vitest';
import { UnknownBackendError } from './errors.js';
import { resolveBackendRequest } from './request.js';

describe('resolveBackendRequest', () => {
  it('lets the flag win over VLA_BACKEND', () => {
    expect(resolveBackendRequest('cpu', { VLA_BACKEND: 'wasm' })).toEqual({ requested: 'cpu', source: 'flag' });
  });
  it('reads VLA_BACKEND when no flag is given, case-insensitively', () => {
    expect(resolveBackendRequest(undefined, { VLA_BACKEND: ' WASM ' })).toEqual({ requested: 'wasm', source: 'env' });
  });
  it('defaults to auto, treating blank values as unset', () => {
    expect(resolveBackendRequest('', { VLA_BACKEND: '  ' })).toEqual({ requested: 'auto', source: 'default' });
    expect(resolveBackendRequest(undefined, {})).toEqual({ requested: 'auto', source: 'default' });
  });
  it('rejects an unknown flag value and lists the choices', () => {
    expect(() => resolveBackendRequest('cuda', {})).toThrow(UnknownBackendError);
    expect(() => resolveBackendRequest('cuda', {})).toThrow(/auto, wasm, cpu, webgpu, tfjs-node, tfjs-node-gpu/);
  });
  it('rejects an unknown VLA_BACKEND and names the variable', () => {
    expect(() => resolveBackendRequest(undefined, { VLA_BACKEND: 'gpu' })).toThrow(/VLA_BACKEND/);
  });
});
