export * from './records';
export * from './ids';
export * from './asks';
export * from './nm-tokens';
export * from './protocols';
export * from './amrm-client';
export * from './nm-client';
export * from './token-identifiers';
