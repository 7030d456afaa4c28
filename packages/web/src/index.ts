/**
 * @cope/web — CoPe for one user in a browser tab: the page (page/: OPPU training in a Web Worker with a progress bar
 * and loss plot, pseudo-negatives, DPO, and OPPU / OPPU+CD / CoPe side by side), its bundle (esbuild), a server with
 * the cross-origin isolation headers the wasm threads need, and the unattended check in headless Chromium.
 */
export { bundlePage, PAGE_BUNDLE, PAGE_SOURCES } from './bundle.js';
export { servePage, type PageServerOptions } from './server.js';
export { browserCheck, CHROMIUM_PATHS, type BrowserCheckOptions, type BrowserCheckResult } from './check.js';
export { runMethodSettings } from './settings.js';
export { ROUTES, PAGE_METHODS, type PageMethod } from './routes.js';
