// The contract between horn's three programs (client, ApplicationMaster, containers): environment,
// staged job, status document and result. Wire messages are in messages.ts.
export * from './env';
export * from './result';
export * from './staged-job';
export * from './status';
export * from './history';
