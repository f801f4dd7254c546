export * from './digest-md5';
export * from './token-authenticator';
export * from './security-layer';
