import { METHODS, METHOD_NAMES, decodeOutputs, methodOf } from '@cope/pipeline';

// CoPe's tables (Bu et al., 2025, Table 1): the five rows and what each decodes with.
test('the methods are CoPe\'s table rows: adapter and decoder of each, and the method of a (decoder, adapter) pair', () => {
  expect(METHOD_NAMES).toEqual(['TAM', 'OPPU', 'OPPU+CD', 'OPPU+DPO', 'CoPe']);
  expect(METHODS.CoPe).toEqual({ adapter: 'dpo', decoder: 'contrastive' });
  expect(methodOf({ adapter: 'sft', decoder: 'contrastive' })).toBe('OPPU+CD');
  expect(methodOf({ adapter: null, decoder: 'greedy' })).toBe('TAM');
  expect(methodOf({ adapter: null, decoder: 'contrastive' })).toBeUndefined();
});

test('predictions files: one per method, or CoPe\'s --is_sampling runs named <method>-sampling-run_<n>', () => {
  expect(decodeOutputs(['OPPU', 'CoPe']).map((o) => o.name)).toEqual(['OPPU', 'CoPe']);
  expect(decodeOutputs(['CoPe'], { runs: 2 })).toEqual([
    { name: 'CoPe-sampling-run_1', method: 'CoPe', run: 1 },
    { name: 'CoPe-sampling-run_2', method: 'CoPe', run: 2 },
  ]);
});
