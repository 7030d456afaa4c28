"""
GGUF files of `pnpm bench`'s small and medium shapes (tied embeddings, random N(0, 0.02) weights), float32 and
float16, for llama.cpp's llama-bench: `python3 make_gguf.py <llama.cpp source folder> <out folder>`. Uses the gguf-py
package of that llama.cpp source and numpy. See README.md in this folder.
"""
import sys
import numpy as np
sys.path.insert(0, f'{sys.argv[1]}/gguf-py')
import gguf  # noqa: E402
CONFIGS = {
  'small': dict(V=8000, H=256, L=4, heads=8, kv=2, F=688),
  'medium': dict(V=32000, H=512, L=8, heads=8, kv=2, F=1376),
}
def write(name, dtype):
  c = CONFIGS[name]; V, H, L, nh, nkv, F = c['V'], c['H'], c['L'], c['heads'], c['kv'], c['F']
  hd = H // nh
  path = f'{sys.argv[2]}/{name}-{dtype}.gguf'
  w = gguf.GGUFWriter(path, 'llama')
  w.add_context_length(2048); w.add_embedding_length(H); w.add_block_count(L); w.add_feed_forward_length(F)
  w.add_head_count(nh); w.add_head_count_kv(nkv); w.add_layer_norm_rms_eps(1e-5); w.add_rope_dimension_count(hd)
  w.add_vocab_size(V); w.add_file_type(0 if dtype == 'f32' else 1)
  w.add_tokenizer_model('llama')
  w.add_token_list([f'<t{i}>'.encode() for i in range(V)])
  w.add_token_scores([0.0] * V)
  w.add_token_types([1] * V)
  w.add_bos_token_id(1); w.add_eos_token_id(2)
  rng = np.random.default_rng(1)
  np_dt = np.float32 if dtype == 'f32' else np.float16
  def t(n, shape, norm=False):
    a = np.ones(shape, np.float32) if norm else (rng.standard_normal(shape, dtype=np.float32) * 0.02).astype(np_dt)
    w.add_tensor(n, a)
  t('token_embd.weight', (V, H))
  t('output_norm.weight', (H,), True)
  for l in range(L):
    p = f'blk.{l}.'
    t(p + 'attn_norm.weight', (H,), True); t(p + 'ffn_norm.weight', (H,), True)
    t(p + 'attn_q.weight', (H, H)); t(p + 'attn_k.weight', (nkv * hd, H)); t(p + 'attn_v.weight', (nkv * hd, H)); t(p + 'attn_output.weight', (H, H))
    t(p + 'ffn_gate.weight', (F, H)); t(p + 'ffn_up.weight', (F, H)); t(p + 'ffn_down.weight', (H, F))
  w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
  print(path)
for n in CONFIGS:
  for d in ('f32', 'f16'): write(n, d)
