// Typed errors of the IPC layer. Each carries what a caller needs to act on it or to report it:
// the server address, the call and the Java exception class where the server sent one.

/** Base class so callers can catch everything raised by the IPC layer with one check. */
export class IpcError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Malformed varint in a frame. */
export class VarintError extends IpcError {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at offset ${offset}`);
  }
}

/** A frame that violates the framing rules (bad length, truncated delimited message, trailing bytes). */
export class FrameError extends IpcError {
  constructor(
    message: string,
    readonly offset: number,
    readonly frameLength: number,
  ) {
    super(`${message} (frame of ${frameLength} bytes, offset ${offset})`);
  }
}

/**
 * An exception thrown by the server for one call (status ERROR) or for the whole connection
 * (status FATAL, after which the server closes the socket).
 */
export class RemoteException extends IpcError {
  constructor(
    /** Fully qualified Java class name, e.g. `org.apache.hadoop.yarn.exceptions.InvalidResourceRequestException`. */
    readonly javaClassName: string,
    /** The server's message (Hadoop sends the stack trace without the leading class name). */
    readonly remoteMessage: string,
    readonly fatal: boolean,
    /** `RpcErrorCodeProto` name, e.g. `ERROR_APPLICATION`, `FATAL_UNAUTHORIZED`. */
    readonly errorCode: string | undefined,
    readonly server: string,
    readonly method: string | undefined,
  ) {
    super(`${javaClassName}: ${remoteMessage.split('\n', 1)[0] ?? ''} (${method ? `call ${method}` : 'connection'} to ${server}${fatal ? ', fatal' : ''})`);
  }

  /** The Java message's first line (the rest is the server's stack trace). */
  get firstLine(): string {
    return this.remoteMessage.split('\n', 1)[0] ?? '';
  }

  /** Simple class name, e.g. `InvalidResourceRequestException`. */
  get simpleClassName(): string {
    const i = this.javaClassName.lastIndexOf('.');
    return i >= 0 ? this.javaClassName.slice(i + 1) : this.javaClassName;
  }
}

/** The server (or SASL) refused our credentials. Names the token kind so the operator knows which one is bad. */
export class RpcAuthenticationError extends IpcError {
  constructor(
    readonly server: string,
    readonly tokenKind: string | undefined,
    readonly detail: string,
    readonly javaClassName?: string,
    options?: { cause?: unknown },
  ) {
    super(
      `authentication to ${server} failed${tokenKind ? ` with token of kind ${tokenKind}` : ''}: ${javaClassName ? `${javaClassName}: ` : ''}${detail}`,
      options,
    );
  }
}

/** A call got no response within its timeout. The connection stays usable. */
export class RpcTimeoutError extends IpcError {
  constructor(
    readonly server: string,
    readonly method: string,
    readonly callId: number,
    readonly timeoutMs: number,
  ) {
    super(`call ${method} (id ${callId}) to ${server} got no response within ${timeoutMs} ms`);
  }
}

/** The connection was lost or closed while calls were pending, or could not be established. */
export class ConnectionError extends IpcError {
  constructor(
    readonly server: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${server}: ${message}`, options);
  }
}

/** Every connect attempt failed; `attempts` tells how long the client tried. */
export class ServerUnreachableError extends ConnectionError {
  constructor(
    server: string,
    readonly attempts: number,
    readonly elapsedMs: number,
    readonly lastError: unknown,
  ) {
    super(
      server,
      `server unreachable after ${attempts} attempt(s) over ${elapsedMs} ms: ${lastError instanceof Error ? lastError.message : String(lastError)}`,
      { cause: lastError },
    );
  }
}

/** The connection was closed by `close()`; calls made afterwards fail with this. */
export class ConnectionClosedError extends ConnectionError {}
