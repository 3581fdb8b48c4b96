export * from './environment.js';
export * from './state.js';
export * from './plan.js';
export * from './errors.js';
export * from './deployer.js';
export * from './runtime-config.js';
export * from './weights.js';
export * from './io-error.js';
