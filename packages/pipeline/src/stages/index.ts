export { runTam } from './tam.js';
export * from './user-stages.js';
