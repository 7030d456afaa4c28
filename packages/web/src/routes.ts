/** The three methods the page decodes side by side. */
export const PAGE_METHODS = ['OPPU', 'OPPU+CD', 'CoPe'] as const;
export type PageMethod = (typeof PAGE_METHODS)[number];

/** Where the page's server serves each input (one home for the routes: server and page both read it). */
export const ROUTES = {
  /** tfjs-backend-wasm's dist/ folder (its .wasm binaries). */
  wasm: '/wasm/',
  /** The base model folder's files. */
  model: '/model/',
  /** `/tam/<task>/<file>`: the task's trained TAM adapter from the run folder. */
  tam: '/tam/',
  /** `/users/<task>`: the task's target users (validated by the server's reader). */
  users: '/users/',
  /** The method settings of the run folder's last invocation. */
  settings: '/settings.json',
} as const;
